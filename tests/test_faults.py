"""Faults (issue 7): the database going away at start, mid-sweep and mid-conversation.

The PostgreSQL server is shared with other test runs, so it is never stopped here. A
connection is killed with ``pg_terminate_backend`` (what a server restart does to each
session), and an outage is a real TCP hop (``Outage``) between the bot and the server that
is cut and restored: every connection through it drops, and new ones fail until it is back.
"Unreachable at start" is a URL pointing at a closed port.
"""

from __future__ import annotations

import io
import logging
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from tests.conftest import POSTGRES_URL, fresh_database_url, make_school
from tests.test_reminders import (
    CROWD_NOW,
    REPO,
    any_hour_reminder,
    assert_each_sent_exactly_once,
    child_env,
    crowd,
    dpo_bot,
)
from workflows.database import make_engine
from workflows.notifications.models import Notification
from workflows.reminders.models import Reminder
from workflows.reminders.service import LEASE, sweep
from workflows.sar.models import RightsRequest

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="DPO_BOT_TEST_POSTGRES_URL is not set (CI sets it)")


class Outage:
    """A TCP hop to PostgreSQL that can be cut (every connection through it drops, new ones
    are closed at once) and restored, as a network failure or a server restart looks."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self.lock:
                if not self.up:
                    client.close()
                    continue
                server = socket.create_connection(self.target)
                self.open += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self.lock:
            self.up = False
            for end in self.open:
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.open.clear()

    def restore(self) -> None:
        with self.lock:
            self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[Outage, str]]:
    """A fresh, migrated test database reached through an Outage; yields it and its URL."""
    if not POSTGRES_URL:
        pytest.skip("DPO_BOT_TEST_POSTGRES_URL is not set (CI sets it)")
    url = make_url(fresh_database_url("postgresql", tmp_path))
    hop = Outage(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(host="127.0.0.1", port=hop.port).render_as_string(hide_password=False)
    yield hop, through
    hop.close()


# --- the database cut mid-turn, for the adapters' tests ---------------------------------------


class Cut:
    """A school's database that can be made unreachable and brought back: PostgreSQL through
    a TCP hop that drops every connection (tests/test_faults.py), SQLite by putting a folder
    where the file was (the bot's pooled connections are dropped, and new ones fail)."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        if kind == "postgresql":
            if not POSTGRES_URL:
                pytest.skip("DPO_BOT_TEST_POSTGRES_URL is not set (CI sets it)")
            url = make_url(fresh_database_url(kind, tmp_path))
            self.hop = Outage(url.host or "127.0.0.1", url.port or 5432)
            self.url = url.set(host="127.0.0.1", port=self.hop.port).render_as_string(
                hide_password=False)
        else:
            self.file = tmp_path / "dpo-bot.db"
            self.url = fresh_database_url(kind, tmp_path)
        self.engine = make_engine(self.url)

    def cut(self) -> None:
        if self.kind == "postgresql":
            self.hop.cut()
        else:
            self.engine.dispose()
            self.file.rename(self.file.with_name("away.db"))
            self.file.mkdir()
        self.engine.dispose()

    def restore(self) -> None:
        if self.kind == "postgresql":
            self.hop.restore()
        elif self.file.is_dir():
            self.file.rmdir()
            self.file.with_name("away.db").rename(self.file)
        self.engine.dispose()

    def close(self) -> None:
        self.restore()
        self.engine.dispose()
        if self.kind == "postgresql":
            self.hop.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def cut(request, tmp_path: Path) -> Iterator[Cut]:
    database = Cut(request.param, tmp_path)
    yield database
    database.close()


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def sent_and_noted(engine: Engine) -> tuple[set[str], set[str]]:
    """Dedupe keys of reminders marked sent, and of reminders with a notification written."""
    with Session(engine) as session:
        # From CROWD_NOW: the crowd's earlier nudges were sent the day before.
        sent = set(session.exec(select(Reminder.dedupe_key).where(
            col(Reminder.sent_at) >= CROWD_NOW, Reminder.subject_type == "sar")))
        keys = session.exec(select(Notification.dedupe_key).where(
            Notification.kind == "reminder.deadline")).all()
    noted = [key.removeprefix("reminder:").rsplit(":", 1)[0] for key in keys]
    assert len(noted) == len(set(noted)), "a reminder was written twice"
    return sent, set(noted)


# --- (a) the database lost mid-sweep -----------------------------------------------------------


@needs_postgres
def test_connections_killed_between_claim_and_send_lose_and_duplicate_nothing(
        tmp_path: Path) -> None:
    """pg_terminate_backend on the worker's pooled connection, as a server restart does:
    the next checkout notices (pre-ping), reconnects, and every claimed row still goes once."""
    url = make_url(fresh_database_url("postgresql", tmp_path))
    engine = make_engine(url.render_as_string(hide_password=False))
    url = url.update_query_dict({"application_name": "faults-worker"})
    worker = make_engine(url.render_as_string(hide_password=False))
    try:
        school = make_school(worker)
        keys = crowd(school, rows=30)  # 30 due
        killed: list[int] = []

        def kill_my_connections(ids: list[int]) -> None:
            with engine.connect() as admin:
                killed.extend(admin.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'faults-worker' AND datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )).scalars())

        result = sweep(worker, now=CROWD_NOW, batch=10, on_claimed=kill_my_connections)
        assert killed and all(killed)  # connections really were cut, each time
        assert (result.sent, result.failed) == (30, 0)
        assert_each_sent_exactly_once(worker, keys)
    finally:
        worker.dispose()
        engine.dispose()


def test_outage_hop_really_cuts_and_restores(outage: tuple[Outage, str]) -> None:
    """The tool the next tests stand on: cut means unreachable, restore means back."""
    hop, url = outage
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    hop.cut()
    with pytest.raises(DBAPIError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    hop.restore()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()


def test_an_outage_mid_sweep_marks_nothing_unsent_as_sent_and_the_next_sweep_sends_the_rest(
    outage: tuple[Outage, str],
) -> None:
    hop, url = outage
    engine = make_engine(url)
    school = make_school(engine)
    keys = crowd(school, rows=30)  # 30 due
    batches: list[list[int]] = []

    def cut_on_second_batch(ids: list[int]) -> None:
        batches.append(ids)
        if len(batches) == 2:
            hop.cut()  # the first batch went out; this one is claimed but never sent

    with pytest.raises(DBAPIError):  # the sweep stops and says why; the worker loop reports it
        sweep(engine, now=CROWD_NOW, batch=10, on_claimed=cut_on_second_batch)
    hop.restore()
    sent, noted = sent_and_noted(engine)
    assert len(sent) == 10 and sent == noted  # sent means written, and only those
    # The claimed batch waits for its lease (this worker is gone as far as anyone knows) ...
    assert sweep(engine, now=CROWD_NOW + timedelta(minutes=1)).sent == 10
    # ... then goes, once.
    assert sweep(engine, now=CROWD_NOW + LEASE + timedelta(seconds=1)).sent == 10
    sent, noted = sent_and_noted(engine)
    assert sent == noted == keys
    engine.dispose()


def test_the_remind_worker_reports_an_outage_and_carries_on_afterwards(
    outage: tuple[Outage, str],
) -> None:
    hop, url = outage
    # The test's own way in, not through the hop.
    direct = make_engine(make_url(url).set(host=hop.target[0], port=hop.target[1])
                         .render_as_string(hide_password=False))
    proc = subprocess.Popen([dpo_bot(), "remind", "--interval", "0.2"], cwd=REPO,
                            env=child_env(url), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("Reminder sweep: "), proc.stderr.read()
        hop.cut()
        failure = proc.stderr.readline()
        assert failure.startswith("Reminder sweep failed: can't reach the database "), failure
        assert "Traceback" not in failure
        time.sleep(0.5)
        assert proc.poll() is None  # still running: it tries again at the next interval
        school = make_school(direct)
        ref = any_hour_reminder(school)  # due now, written while the worker can't see it
        hop.restore()
        line = ""
        while "1 sent" not in line:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
    finally:
        proc.terminate()
        _, rest = proc.communicate(timeout=30)
        hop.restore()
    assert "Traceback" not in rest
    with Session(direct) as session:
        sent = session.exec(select(Notification.subject_ref).where(
            Notification.kind == "reminder.deadline")).all()
    assert sent == [ref]
    direct.dispose()


# --- (b) the database unreachable at start -----------------------------------------------------


@pytest.mark.parametrize("command", [["chat"], ["remind", "--once"], ["digest"]])
def test_an_unreachable_database_at_start_is_one_clear_line(command: list[str]) -> None:
    url = f"postgresql+psycopg://dpo:s3cret@127.0.0.1:{closed_port()}/dpo"
    done = subprocess.run([dpo_bot(), *command], cwd=REPO, env=child_env(url),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        "Error: Can't open the database postgresql+psycopg://dpo:***@127.0.0.1:"), lines
    assert "Connection refused" in lines[0] and "DPO_BOT_DATABASE_URL" in lines[0]
    assert "s3cret" not in done.stderr


def test_an_unopenable_sqlite_file_at_start_is_one_clear_line(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'dpo-bot.db'}"
    done = subprocess.run([dpo_bot(), "chat"], cwd=REPO, env=child_env(url),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"Error: Can't open the database {url}: unable to open "
                                   "database file (is it running? DPO_BOT_DATABASE_URL says "
                                   "which database to use)")


# --- (c) the database lost mid-conversation ----------------------------------------------------


class Terminal:
    """`dpo-bot chat` in a real subprocess, typed at line by line, its output read as it comes."""

    def __init__(self, url: str, *args: str) -> None:
        env = dict(child_env(url), COLUMNS="300")  # no wrapping inside the words we look for
        self.proc = subprocess.Popen([dpo_bot(), "chat", *args], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.output = ""
        self.seen = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while chunk := self.proc.stdout.read(1):
            with self.lock:
                self.output += chunk

    def type(self, line: str) -> str:
        """Type a line; returns everything printed until the next prompt."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.until_prompt()

    def until_prompt(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = self.output.find("you> ", self.seen)
                if found >= 0:
                    said, self.seen = self.output[self.seen:found], found + len("you> ")
                    return said
            assert self.proc.poll() is None, self.output + self.proc.stderr.read()
            time.sleep(0.02)
        raise AssertionError(f"no prompt within {timeout} s: {self.output[self.seen:]}")

    def close(self) -> tuple[int, str]:
        """End of input (Ctrl-D); the exit code and everything written to stderr."""
        with suppress(OSError):
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return code, self.proc.stderr.read()


def test_the_terminal_chat_survives_an_outage_and_resumes_at_the_same_question(cut: Cut) -> None:
    """PostgreSQL's connections dropped; SQLite's file moved away mid-conversation (a folder
    left in its place), which the chat's open connections would otherwise follow."""
    url = cut.url
    chat = Terminal(url, "--user", "Sam Teacher", "--role", "staff")
    try:
        chat.until_prompt()
        for line in ("I need to log a subject access request", "1", "Jane Parent"):
            chat.type(line)
        question = chat.type("parent").strip().splitlines()[-1]
        assert question.startswith("(4/"), question
        cut.cut()
        for _ in range(2):  # down: a clear message each time, and the chat stays open
            said = chat.type("no")
            assert said.strip() == ("Sorry, I can't reach the database just now, so that was "
                                    "not saved. Your earlier answers are safe: try again in a "
                                    "moment."), said
        cut.restore()
        said = chat.type("no")  # the answer that was not saved, typed again
        assert said.strip().splitlines()[-1].startswith("(5/"), said
        rest = ["Tom Parent", "jane@example.org", "skip", "skip", "email", "yesterday 14:00",
                "All behaviour records for Tom held by the class teacher", "no"]
        for line in rest:
            said = chat.type(line)
        said = chat.type("yes")
        assert "Saved as SAR-" in said, said
    finally:
        cut.restore()
        code, err = chat.close()
    assert code == 0 and "Traceback" not in err, err
    assert "Jane Parent" not in err and "Tom Parent" not in err, err
    with Session(cut.engine) as session:
        case = session.exec(select(RightsRequest)).one()  # one case: nothing half-saved
    assert (case.requester_name, case.relationship, case.subject_name) == (
        "Jane Parent", "parent", "Tom Parent")


# --- (d) error output holds no personal data, and the worker stops cleanly -----------------------


SECRET_NAME = "Zoe Secretname"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_write_the_database_refuses_is_one_line_without_the_data(kind: str,
                                                                   tmp_path: Path) -> None:
    """SQLite opened read-only, PostgreSQL refusing a name longer than its column: the
    command stops with one line naming the kind of failure, not a traceback quoting the SQL
    parameters (the name typed)."""
    if kind == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("DPO_BOT_TEST_POSTGRES_URL is not set (CI sets it)")
        url, name = fresh_database_url(kind, tmp_path), SECRET_NAME * 30
        expected = "database refused the change: StringDataRightTruncation (22001)"
    else:
        file = tmp_path / "dpo-bot.db"
        fresh_database_url(kind, tmp_path)
        url, name = f"sqlite:///file:{file}?mode=ro&uri=true", SECRET_NAME
        expected = "database unreachable: OperationalError: attempt to write a readonly database"
    done = subprocess.run([dpo_bot(), "people", "add", name, "--email", "zoe@example.org"],
                          cwd=REPO, env=dict(child_env(url), COLUMNS="300"),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: dpo-bot stopped: {expected}. For the full traceback (it may hold personal "
        "data) run the command again with DPO_BOT_DEBUG=1."]
    assert SECRET_NAME not in done.stderr + done.stdout and "zoe@" not in done.stderr


def test_sigterm_lets_the_remind_worker_finish_its_sweep_and_exit(tmp_path: Path) -> None:
    """`systemctl stop` on the worker: the sweep under way ends (what went is marked sent),
    then it exits 0 instead of dying mid-send."""
    url = f"sqlite:///{tmp_path / 'dpo-bot.db'}"
    proc = subprocess.Popen([dpo_bot(), "remind", "--interval", "30"], cwd=REPO,
                            env=child_env(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().startswith("Reminder sweep: "), proc.stderr.read()
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.strip() == "Stopped." and err == ""
    assert time.monotonic() - started < 10  # not the 30 s interval: the wait is cut short


def test_libraries_log_lines_lose_their_text_at_the_default_level() -> None:
    """Bolt quotes a whole request in its warnings, and a library's error may carry what was
    typed: the serving commands' log keeps only which library, and the kind of error."""
    from bot.logs import LibraryLines

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(LibraryLines())
    for name in ("slack_bolt.AsyncApp", "aiohttp.server", "bot.slack.app"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False
    try:
        logging.getLogger("slack_bolt.AsyncApp").warning(
            "Unhandled request ({'text': 'Jane Parent withdrew consent'})")
        try:
            raise ValueError("bad value 'Jane Parent'")
        except ValueError:
            logging.getLogger("aiohttp.server").exception("Error handling request")
        logging.getLogger("bot.slack.app").warning("could not answer a DM: OperationalError")
    finally:
        for name in ("slack_bolt.AsyncApp", "aiohttp.server", "bot.slack.app"):
            logging.getLogger(name).removeHandler(handler)
            logging.getLogger(name).propagate = True
    assert out.getvalue().splitlines() == [
        "aiohttp.server reported an error: ValueError (--debug shows it, with personal data)",
        "could not answer a DM: OperationalError"]


def test_debug_says_loudly_that_the_log_holds_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from typer.testing import CliRunner

    from bot.cli import app
    from bot.logs import DEBUG_WARNING

    caplog.set_level(logging.WARNING)
    result = CliRunner().invoke(app, ["teams", "--debug"], env={
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": None})
    assert result.exit_code == 2  # no Teams settings: it stops, after the warning
    assert DEBUG_WARNING in caplog.text
