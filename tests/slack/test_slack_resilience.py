"""The Slack adapter when things go wrong (issue 14): a restart under load, the database cut
mid-turn, logs holding no personal data, signed but unreadable payloads, slow clients.

The restart test runs `dpo-bot slack --http` as a real subprocess (SQLite file, two worker
processes) fed signed requests, against the fake Slack Web API answering slowly, as a busy
Slack does; the rest use the in-process SlackBot of test_slack_app.py on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from tests.conftest import School_, make_school
from workflows.database import make_engine

from .fake_slack import FakeSlack, dm_channel_id
from .signing import SignedRequest, SlackRequests, plain_text_input
from .test_slack_app import (
    DPO,
    NEWCOMER,
    ROOT,
    SECRET,
    STAFF,
    USERS,
    Server,
    Workspace,
    ack_body,
    cli_env,
    dpo_alert,
    dpo_bot,
    sar_values,
    words,
    workspace,
)

UNSAVED = ("Sorry, I can't reach the database just now, so that was not saved. Your earlier "
           "answers are safe: try again in a moment.")
UNREADABLE = "That button or form is out of date, or could not be read, so nothing was done."


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(users=USERS) as server:
        yield server


@pytest.fixture
def ws(school: School_, fake: FakeSlack) -> Iterator[Workspace]:
    yield from workspace(school, fake)


# -- a restart under load --------------------------------------------------------------------


def test_sigterm_under_load_finishes_every_acknowledged_request(
    tmp_path: Path, fake: FakeSlack
) -> None:
    """80 DMs and /dpo commands at once; SIGTERM after the 30th ack. Every request answered
    200 gets its reply before the process exits; every other one was refused (Slack retries
    those), none is left half-way."""
    database = tmp_path / "dpo-bot.db"
    env = cli_env(fake, database)
    for name, user in (("Sam Teacher", STAFF), ("Kit Newcomer", NEWCOMER)):
        added = subprocess.run(dpo_bot("people", "add", name, "--email",
                                       USERS[user]["email"]), env=env,
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert added.returncode == 0, added.stderr
    server = Server(env, tmp_path / "dpo-bot-slack.log")
    slack = SlackRequests.for_fake(SECRET, fake)
    fake.slow("chat.postMessage", 0.5)  # a busy Slack: each reply takes half a second

    requests: list[tuple[str, SignedRequest]] = []
    for index in range(80):
        user = (STAFF, NEWCOMER)[index % 2]
        if index % 4 == 3:
            requests.append(("command", slack.slash_command("/dpo", "help", user_id=user)))
        else:
            requests.append(("dm", slack.message_im("help", user_id=user)))
    acked: list[tuple[str, SignedRequest]] = []
    refused: list[str] = []
    lock, thirty = threading.Lock(), threading.Event()

    def send(item: tuple[str, SignedRequest]) -> None:
        try:
            result = item[1].post(server.url, timeout=30)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            with lock:
                refused.append(type(error).__name__)
            return
        assert result.status == 200, result  # nothing is half-answered: 200 or no answer
        with lock:
            acked.append(item)
            if len(acked) == 30:
                thirty.set()

    with ThreadPoolExecutor(8) as pool:
        sending = [pool.submit(send, item) for item in requests]
        assert thirty.wait(60), server.log.read_text()
        with lock:
            at_term = len(acked)
        replies_at_term = len(replies(fake))
        server.process.send_signal(signal.SIGTERM)
        for each in sending:
            each.result()
    code = server.process.wait(timeout=90)
    server.output.close()
    log = server.log.read_text()
    assert code == 0, log

    dms = [r for kind, r in acked if kind == "dm"]
    commands = [r for kind, r in acked if kind == "command"]
    print(f"\nrestart under load: {len(requests)} sent, {len(acked)} acked ({at_term} before "
          f"SIGTERM, {replies_at_term} of them answered by then), {len(refused)} refused; "
          f"replies: {len(replies(fake))} DMs, {fake.count('response_url')} command answers")
    assert replies_at_term < at_term  # work was in flight when the signal came
    assert len(acked) + len(refused) == len(requests)
    # Every acknowledged DM got its reply in that person's DM, and was recorded as seen.
    for user in (STAFF, NEWCOMER):
        sent = sum(1 for r in dms if r.payload["event"]["user"] == user)
        got = [c for c in replies(fake) if c.response["channel"] == dm_channel_id(user)]
        assert len(got) == sent, (user, len(got), sent)
    with sqlite3.connect(database) as db:
        seen = {key for (key,) in db.execute("SELECT key FROM inbound_event")}
    assert {f"slack:{r.payload['event_id']}" for r in dms} <= seen
    # Every acknowledged /dpo got its private answer, at its own response_url.
    answered = {c.path for c in fake.calls("response_url")}
    assert {"/" + r.payload["response_url"].split("/", 3)[3] for r in commands} == answered
    assert "every acknowledged request finished" in log, log
    assert "Traceback" not in log, log


def replies(fake: FakeSlack) -> list:
    return [c for c in fake.calls("chat.postMessage") if c.status == 200]
