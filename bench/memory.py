"""Memory of a small school's bot: `dpo-bot slack` (HTTP and Socket Mode) and `dpo-bot teams`
on SQLite, idle and after many conversations.

Each server runs as a real process against the project's local stand-ins (the fake Slack Web
API and Socket Mode server, the local Microsoft with its signing keys), on its own fresh SQLite
database with a few teachers. Its memory is read from /proc for the process and any workers it
started: RSS (what `ps` and `top` show; pages shared between processes are counted in each)
and PSS (shared pages divided between the processes that share them: what the tree really
costs). Read idle after start, then after half and all of the conversations: a steady figure
between the last two means no growth.

A conversation is a teacher starting a subject access request in a DM, answering two
questions and cancelling: each message waits for the bot's reply, several teachers at once.

    python bench/memory.py --conversations 1000
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's test stand-ins (tests/slack, tests/teams)

SECRET, TOKEN = "bench-signing-secret", "xoxb-bench"
CONVERSATION = ("sar", "1", "Jane Parent", "cancel")


def teachers(count: int) -> dict[str, dict[str, str]]:
    return {f"U0STAFF{n:02d}": {"name": f"t{n}", "real_name": f"Teacher {n}",
                                "email": f"t{n}@school.example"} for n in range(count)}


def tree(pid: int) -> list[int]:
    """The process and every process under it (the worker processes it spawned)."""
    found, todo = [], [pid]
    while todo:
        each = todo.pop()
        found.append(each)
        try:
            children = Path(f"/proc/{each}/task/{each}/children").read_text().split()
        except OSError:
            continue
        todo += [int(child) for child in children]
    return found


def memory(pid: int) -> tuple[int, float, float]:
    """Processes, RSS and PSS in MB, summed over the process tree."""
    rss = pss = 0
    pids = tree(pid)
    for each in pids:
        try:
            rollup = Path(f"/proc/{each}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        for line in rollup:
            name, _, value = line.partition(":")
            if name == "Rss":
                rss += int(value.split()[0])
            elif name == "Pss":
                pss += int(value.split()[0])
    return len(pids), rss / 1024, pss / 1024


def prepare(folder: Path, users: dict[str, dict[str, str]], teams: bool) -> str:
    """A fresh SQLite database with the teachers added, as a school's DPO would add them."""
    database = folder / "dpo-bot.db"
    env = os.environ | {"DPO_BOT_DATABASE_URL": f"sqlite:///{database}"}
    run = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*run, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    for user in users.values():
        subprocess.run([*run, "people", "add", user["real_name"], "--email", user["email"]],
                       env=env, cwd=ROOT, check=True, capture_output=True)
    if teams:  # linked to their Teams accounts, as the first message from each would do
        with sqlite3.connect(database) as db:
            for user_id, user in users.items():
                db.execute("UPDATE person SET teams_user_id = ? WHERE name = ?",
                           (f"29:{user_id}", user["real_name"]))
    return f"sqlite:///{database}"


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", *command], env=env, cwd=ROOT,
                                stdout=output, stderr=subprocess.STDOUT)


def wait_for(ready: Callable[[], bool], process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.1)


def answers(url: str) -> Callable[[], bool]:
    def up() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            return False
    return up


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def converse(users: list[str], count: int, say: Callable[[str, str], None]) -> None:
    """``count`` conversations shared among ``users``, each user one message at a time."""
    share = [count // len(users) + (n < count % len(users)) for n in range(len(users))]

    def one(user: str, times: int) -> None:
        for _ in range(times):
            for line in CONVERSATION:
                say(user, line)

    with ThreadPoolExecutor(len(users)) as pool:
        for done in [pool.submit(one, u, n) for u, n in zip(users, share, strict=True)]:
            done.result()


@contextmanager
def slack(folder: Path, users: dict[str, dict[str, str]], socket_mode: bool,
          workers: list[str]) -> Iterator[tuple[subprocess.Popen, Callable[[str, str], None]]]:
    from tests.slack.fake_slack import FakeSlack, dm_channel_id
    from tests.slack.signing import SlackRequests
    from tests.slack.socket_mode import SocketModeSlack

    url = prepare(folder, users, teams=False)
    log = folder / "slack.log"
    with FakeSlack(users=users) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env |= {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.url,
                "DPO_BOT_DATABASE_URL": url}
        requests = SlackRequests.for_fake(SECRET, fake)
        replies: dict[str, int] = dict.fromkeys(users, 0)
        changed = threading.Condition()
        seen = 0

        def count_replies() -> None:
            nonlocal seen
            calls = fake.calls("chat.postMessage")
            with changed:
                for call in calls[seen:]:
                    for user in users:
                        if call.args.get("channel") == dm_channel_id(user):
                            replies[user] += 1
                seen = len(calls)
                changed.notify_all()

        if socket_mode:
            end = SocketModeSlack(fake)
            process = start(["slack", *workers], env | {"SLACK_APP_TOKEN": "xapp-1-bench"}, log)
            wait_for(end.connected.is_set, process, log)
            numbers = iter(range(10**9))
            lock = threading.Lock()

            def send(user: str, text: str) -> None:
                with lock:
                    envelope = f"E{next(numbers)}"
                end.send(envelope, requests.message_im(text, user_id=user).payload)
        else:
            port = free_port()
            process = start(["slack", "--http", "--host", "127.0.0.1", "--port", str(port),
                             *workers],
                            env | {"SLACK_SIGNING_SECRET": SECRET}, log)
            wait_for(answers(f"http://127.0.0.1:{port}/healthz"), process, log)

            def send(user: str, text: str) -> None:
                answer = requests.message_im(text, user_id=user).post(
                    f"http://127.0.0.1:{port}/slack/events", timeout=30)
                if answer.status != 200:
                    sys.exit(f"Slack event answered {answer.status}:\n{log.read_text()}")

        def say(user: str, text: str) -> None:
            with changed:
                before = replies[user]
            send(user, text)
            deadline = time.monotonic() + 60
            while True:
                count_replies()
                with changed:
                    if replies[user] > before:
                        return
                    if time.monotonic() > deadline:
                        sys.exit(f"no reply to {text!r}:\n{log.read_text()[-3000:]}")
                    changed.wait(0.02)

        try:
            yield process, say
        finally:
            stop(process)
            if socket_mode:
                end.close()


@contextmanager
def teams(folder: Path, users: dict[str, dict[str, str]]
          ) -> Iterator[tuple[subprocess.Popen, Callable[[str, str], None]]]:
    import json

    from tests.teams.microsoft import Microsoft

    url = prepare(folder, users, teams=True)
    log = folder / "teams.log"
    members = {f"29:{u}": {"email": user["email"], "name": user["real_name"]}
               for u, user in users.items()}
    with Microsoft(folder, members=members) as microsoft:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTIONS__")}
        env |= microsoft.env() | {"DPO_BOT_DATABASE_URL": url}
        port = free_port()
        process = start(["teams", "--host", "127.0.0.1", "--port", str(port)], env, log)
        wait_for(answers(f"http://127.0.0.1:{port}/healthz"), process, log)

        def say(user: str, text: str) -> None:
            # Teams is answered once the turn is done, its reply already sent.
            body = json.dumps(microsoft.activity(user, text=text)).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/messages", data=body, method="POST",
                headers={"Content-Type": "application/json",
                         "Authorization": f"Bearer {microsoft.token()}"})
            with urllib.request.urlopen(request, timeout=60) as answer:
                if not 200 <= answer.status < 300:
                    sys.exit(f"Teams answered {answer.status}:\n{log.read_text()}")

        try:
            yield process, say
        finally:
            stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--users", type=int, default=8, help="teachers talking at once")
    parser.add_argument("--only", choices=("slack-http", "slack-socket", "teams"))
    parser.add_argument("--slack-workers", type=int,
                        help="worker processes for Slack (default: the bot's own choice)")
    args = parser.parse_args()
    workers = [] if args.slack_workers is None else ["--workers", str(args.slack_workers)]
    console = Console(width=max(Console().width, 120))
    users = teachers(args.users)
    servers = {
        "slack-http": ("dpo-bot slack --http", lambda f: slack(f, users, False, workers)),
        "slack-socket": ("dpo-bot slack (Socket Mode)", lambda f: slack(f, users, True, workers)),
        "teams": ("dpo-bot teams", lambda f: teams(f, users)),
    }
    table = Table(title=f"One school on SQLite: memory idle and after {args.conversations:,} "
                        f"conversations ({len(CONVERSATION)} messages each, {args.users} "
                        f"teachers at once)")
    for column in ("server", "processes", "idle RSS", "idle PSS",
                   f"after {args.conversations // 2:,} PSS",
                   f"after {args.conversations:,} RSS", f"after {args.conversations:,} PSS",
                   "messages/s"):
        table.add_column(column, justify="right")
    total_idle = total_after = 0.0
    for name, (label, serve) in servers.items():
        if args.only and name != args.only:
            continue
        with tempfile.TemporaryDirectory() as scratch, serve(Path(scratch)) as (process, say):
            converse(list(users), args.users, say)  # each teacher linked, the code loaded
            time.sleep(5)
            count, idle_rss, idle_pss = memory(process.pid)
            started = time.perf_counter()
            converse(list(users), args.conversations // 2, say)
            _, _, half_pss = memory(process.pid)
            converse(list(users), args.conversations - args.conversations // 2, say)
            took = time.perf_counter() - started
            _, after_rss, after_pss = memory(process.pid)
        total_idle += idle_pss
        total_after += after_pss
        table.add_row(label, str(count), f"{idle_rss:.0f} MB", f"{idle_pss:.0f} MB",
                      f"{half_pss:.0f} MB", f"{after_rss:.0f} MB", f"{after_pss:.0f} MB",
                      f"{args.conversations * len(CONVERSATION) / took:.0f}")
        console.print(f"{label}: done")
    average = os.getloadavg()
    table.caption = (f"PSS in all: {total_idle:.0f} MB idle, {total_after:.0f} MB after; "
                     f"{os.cpu_count()} CPUs, load average {average[0]:.2f} {average[1]:.2f} "
                     f"{average[2]:.2f} at the end")
    console.print(table)


if __name__ == "__main__":
    main()
