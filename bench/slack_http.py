"""Slack HTTP mode under load: `dpo-bot slack --http` against a bare Bolt app that only acks.

Both get the same signed `block_actions` requests: the DPO's "Take the case" click on each
new-case alert the bot itself posted. The cases are real: logged through the core (the form
path the Slack modal uses) on PostgreSQL, their alerts delivered by the running bot to a local
fake Slack Web API (the project's test fake, which also answers the bot's `chat.update`). The
bare app is an AsyncApp served by the same aiohttp stack, whose only listener acks the same
action id. The load generator (aiohttp) keeps a fixed number of requests in flight.

Printed: requests per second and ack latency (p50, p99) for both, and their ratio; then how
many decisions were fully processed (the case taken in the database) per second.

    python bench/slack_http.py --database postgresql+psycopg://postgres@127.0.0.1/bench_slack

The database given is EMPTIED (its public schema dropped): use a scratch one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's test tools (tests/slack) and the checkout

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
STAFF, DPO = "U0STAFF01", "U0DPO0001"
USERS = {STAFF: {"name": "sam", "real_name": "Sam Teacher", "email": "sam@school.example"},
         DPO: {"name": "dee", "real_name": "Dee Dpo", "email": "dee@school.example"}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_bare(port: int) -> None:
    """The baseline: Bolt's AsyncApp on aiohttp, verifying signatures, acking `act:` only."""
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=os.environ["SLACK_API_URL"]),
                   signing_secret=SECRET)

    @app.action(re.compile(r"^act:"))
    async def acked(ack) -> None:
        await ack()

    web.run_app(app.web_app(path="/slack/events"), host="127.0.0.1", port=port,
                access_log=None, print=None)


def wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            sys.exit(f"server exited:\n{log.read_text()}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers (the bare app has no health route)
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"no answer from {url}:\n{log.read_text()}")
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_cases(url: str, count: int) -> tuple[int, list[str]]:
    """``count`` SARs logged by a teacher through the core's form path (prepare, confirm),
    each in its own transaction, as a Slack modal submission does; the DPO's person id."""

    from workflows.core import conversation
    from workflows.core.context import Context
    from workflows.database import make_engine, session_scope
    from workflows.people.models import Person, Role
    from workflows.people.service import find_or_create
    from workflows.registry import WORKFLOWS
    from workflows.schools.service import get_default

    engine = make_engine(url)
    sar = WORKFLOWS["sar"]
    references = []
    with session_scope(engine) as session:
        school = get_default(session)
        staff = find_or_create(session, school.id, "Sam Teacher", Role.STAFF)
        dpo = find_or_create(session, school.id, "Dee Dpo", Role.DPO)
        dpo.email = USERS[DPO]["email"]  # how the bot finds her in Slack
        staff_id, dpo_id = staff.id, dpo.id

    def as_teacher(session) -> Context:
        return Context.of(session, session.get(Person, staff_id), "slack")

    for n in range(count):
        with session_scope(engine) as session:
            prepared = conversation.prepare(as_teacher(session), f"bench:{n}", sar, {
                "request_type": "access", "requester_name": f"Jane Parent {n}",
                "relationship": "parent", "about_requester": "no",
                "subject_name": f"Tom Parent {n}", "requester_email": "jane@example.org",
                "channel": "email", "received_at": "yesterday 14:00",
                "details": "All behaviour records", "id_needed": "no"})
            if prepared.errors:
                sys.exit(f"the form was refused: {prepared.errors}")
        with session_scope(engine) as session:
            confirmed = conversation.confirm(as_teacher(session), prepared.conversation_id)
            if not confirmed.ok:
                sys.exit(f"the case was not saved: {confirmed.message}")
            references.append(confirmed.reference)
    engine.dispose()
    return dpo_id, references


def taken(url: str, dpo_id: int) -> int:
    from sqlalchemy import func, select

    from workflows.database import make_engine
    from workflows.sar.models import RightsRequest

    engine = make_engine(url)
    with engine.connect() as connection:
        found = connection.execute(select(func.count()).select_from(RightsRequest).where(
            RightsRequest.owner_id == dpo_id)).scalar_one()
    engine.dispose()
    return found


async def drive(url: str, requests: list, concurrency: int) -> tuple[float, list[float], int]:
    """Every request once, ``concurrency`` in flight; (seconds, latencies, non-200 count)."""
    import aiohttp

    queue: asyncio.Queue = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                request = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(url, data=request.body.encode(),
                                        headers=request.headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                failures += response.status != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, failures


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="PostgreSQL URL of a SCRATCH database (emptied)")
    parser.add_argument("--cases", type=int, default=2000, help="decisions to send")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=50,
                        help="extra clicks sent to each server first, untimed")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    if not args.database:
        parser.error("--database is required (a scratch PostgreSQL database)")

    from sqlalchemy import text

    from tests.slack.fake_slack import FakeSlack, dm_channel_id
    from tests.slack.signing import SlackRequests
    from workflows.database import make_engine, upgrade

    console = Console(width=max(Console().width, 110))
    engine = make_engine(args.database)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    started = time.perf_counter()
    dpo_id, references = log_cases(args.database, args.cases + args.warmup)
    console.print(f"{len(references)} SARs logged through the core in "
                  f"{time.perf_counter() - started:.1f} s")

    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    with FakeSlack(users=USERS) as fake:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SLACK_") and k != "DPO_BOT_DATABASE_URL"}
        env |= {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.url, "DPO_BOT_DATABASE_URL": args.database,
                "PYTHONPATH": str(ROOT)}
        real_port, bare_port = free_port(), free_port()
        real_log, bare_log = logs / "bench-slack-real.log", logs / "bench-slack-bare.log"
        real = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "slack", "--http", "--host", "127.0.0.1",
             "--port", str(real_port)], env=env, cwd=ROOT,
            stdout=real_log.open("w"), stderr=subprocess.STDOUT)
        bare = subprocess.Popen(
            [sys.executable, __file__, "--serve-bare", str(bare_port)], env=env, cwd=ROOT,
            stdout=bare_log.open("w"), stderr=subprocess.STDOUT)
        try:
            wait_until_up(real, f"http://127.0.0.1:{real_port}/healthz", real_log)
            wait_until_up(bare, f"http://127.0.0.1:{bare_port}/", bare_log)
            # The bot delivers each new case to the DPO's DM (its worker runs every 3 s).
            total = args.cases + args.warmup
            alerts = [c for c in fake.wait_for("chat.postMessage", total, timeout=600)
                      if c.response.get("channel") == dm_channel_id(DPO)]
            slack = SlackRequests.for_fake(SECRET, fake)
            clicks = []
            for call in alerts:
                message = fake.messages[(call.response["channel"], call.response["ts"])]
                (take,) = [element for block in call.args["blocks"]
                           if block["type"] == "actions" for element in block["elements"]
                           if element["action_id"] == "act:take"]
                reference = take["value"].split("|")[0]
                clicks.append(slack.block_actions(
                    "act:take", value=take["value"], block_id=f"case:{reference}",
                    user_id=DPO, channel_id=dm_channel_id(DPO), message=message))
            if len(clicks) != total or taken(args.database, dpo_id) != 0:
                sys.exit(f"expected {total} untaken alerts, got {len(clicks)}")
            warm, timed = clicks[:args.warmup], clicks[args.warmup:]

            results = {}
            for label, port in (("bare Bolt (ack only)", bare_port),
                                ("dpo-bot slack --http", real_port)):
                url = f"http://127.0.0.1:{port}/slack/events"
                asyncio.run(drive(url, warm, args.concurrency))  # first requests: auth.test
                while port == real_port and taken(args.database, dpo_id) < args.warmup:
                    time.sleep(0.05)  # dpo-bot's warm-up decisions done before timing
                first_sent = time.perf_counter()  # the last one run is dpo-bot's
                results[label] = asyncio.run(drive(url, timed, args.concurrency))
            # Fully processed: each case taken in the database (the ack comes first).
            deadline = time.monotonic() + 300
            while (done := taken(args.database, dpo_id) - args.warmup) < args.cases:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            processing = time.perf_counter() - first_sent
            updates = fake.count("chat.update")
        finally:
            stop(real)
            stop(bare)

    table = Table(title=f"Slack HTTP: {args.cases:,} signed 'Take the case' clicks, "
                        f"{args.concurrency} in flight")
    for column in ("server", "requests/s", "ack p50", "ack p99", "non-200"):
        table.add_column(column, justify="right")
    for label, (seconds, latencies, failures) in results.items():
        table.add_row(label, f"{len(latencies) / seconds:,.0f}",
                      f"{statistics.median(latencies) * 1000:.1f} ms",
                      f"{percentile(latencies, 0.99) * 1000:.1f} ms", str(failures))
    (bare_s, bare_l, _), (real_s, real_l, _) = results.values()
    table.add_row("ratio (dpo-bot / bare)",
                  f"{(len(real_l) / real_s) / (len(bare_l) / bare_s):.2f}",
                  f"{statistics.median(real_l) / statistics.median(bare_l):.2f}x",
                  f"{percentile(real_l, 0.99) / percentile(bare_l, 0.99):.2f}x", "")
    average = os.getloadavg()
    table.caption = (f"fully processed: {done:,} of {args.cases:,} cases taken in "
                     f"{processing:.1f} s = {done / processing:,.0f} decisions/s "
                     f"({updates:,} alert messages updated); PostgreSQL; {os.cpu_count()} "
                     f"CPUs shared by the load generator, both servers, PostgreSQL and the "
                     f"fake Slack; load average {average[0]:.2f} {average[1]:.2f} "
                     f"{average[2]:.2f} at the end")
    console.print(table)


if __name__ == "__main__":
    main()
