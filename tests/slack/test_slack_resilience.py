"""The Slack adapter when things go wrong (issue 14): a restart under load, the database cut
mid-turn, logs holding no personal data, signed but unreadable payloads, slow clients.

The restart test runs `dpo-bot slack --http` as a real subprocess (SQLite file, two worker
processes) fed signed requests, against the fake Slack Web API answering slowly, as a busy
Slack does; the rest use the in-process SlackBot of test_slack_app.py on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.slack.server import http_app
from tests.conftest import PARENT_SAR, School_, make_school
from tests.http_limits import serving, trickle
from tests.test_faults import Cut
from workflows.database import make_engine, session_scope, upgrade
from workflows.people.models import Person
from workflows.sar.models import RightsRequest

from .fake_slack import FakeSlack, dm_channel_id
from .reading import first_line, words
from .signing import SignedRequest, SlackRequests
from .socket_mode import SocketModeSlack
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
    """80 DMs, /dpo commands and the DPO's clicks at once; SIGTERM after the 30th ack. Every
    request answered 200 gets its reply or decision before the process exits; every other one
    was refused (Slack retries those), none is left half-way."""
    database = tmp_path / "dpo-bot.db"
    env = cli_env(fake, database)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    school = make_school(engine)
    with session_scope(engine) as session:
        for who, user in (("sam", STAFF), ("kim", NEWCOMER), ("dee", DPO)):
            session.get(Person, school.people[who]).slack_user_id = user
    references = [re.search(r"SAR-\d{4}-\d{4}", school.says("sam", *PARENT_SAR, "yes")).group(0)
                  for _ in range(10)]
    engine.dispose()
    server = Server(env, tmp_path / "dpo-bot-slack.log")
    slack = SlackRequests.for_fake(SECRET, fake)
    fake.slow("chat.postMessage", 0.5)  # a busy Slack: each reply takes half a second

    requests: list[tuple[str, SignedRequest]] = []
    for index in range(80):
        user = (STAFF, NEWCOMER)[index % 2]
        if index % 8 == 5:
            reference = references[index // 8]
            requests.append(("click", slack.block_actions(
                "act:take", value=f"{reference}|1|{school.school_id}",
                block_id=f"case:{reference}", user_id=DPO, channel_id=dm_channel_id(DPO),
                message={"ts": f"1700000000.{index:06d}", "text": reference})))
        elif index % 4 == 3:
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
    clicks = {r.payload["actions"][0]["value"].split("|")[0] for kind, r in acked
              if kind == "click"}
    print(f"\nrestart under load: {len(requests)} sent, {len(acked)} acked ({at_term} before "
          f"SIGTERM, {replies_at_term} of them answered by then), {len(refused)} refused; "
          f"acked: {len(dms)} DMs, {len(commands)} /dpo, {len(clicks)} clicks; answered: "
          f"{fake.count('response_url')} /dpo, {fake.count('chat.update')} decisions")
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
    # Every acknowledged click decided its case, and its message says so; no other case moved.
    engine = make_engine(f"sqlite:///{database}")
    with session_scope(engine) as session:
        taken = {c.reference for c in session.exec(select(RightsRequest)) if c.owner_id}
    engine.dispose()
    assert taken == clicks
    assert {c.args["ts"] for c in fake.calls("chat.update")} == {
        r.payload["container"]["message_ts"] for kind, r in acked if kind == "click"}
    assert "every acknowledged request finished" in log, log
    assert "Traceback" not in log, log


def replies(fake: FakeSlack) -> list:
    return [c for c in fake.calls("chat.postMessage") if c.status == 200]


# -- the database cut mid-turn ---------------------------------------------------------------


@pytest.fixture
def cws(cut: Cut, fake: FakeSlack) -> Iterator[Workspace]:
    for each in workspace(make_school(cut.engine), fake):
        yield each
        cut.restore()


PERSONAL = ("Jane Parent", "jane@example.org", "Tom Parent", "All behaviour records")


def assert_no_personal_data(text: str) -> None:
    for each in PERSONAL:
        assert each not in text, each
    assert "Traceback" not in text


def dm_texts(fake: FakeSlack, user: str) -> list[str]:
    return [first_line(c.args) for c in replies(fake)
            if c.response["channel"] == dm_channel_id(user)]


def test_a_dm_mid_conversation_is_told_nothing_was_saved_and_carries_on_after(
    cws: Workspace, cut: Cut, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    def dm(text: str) -> str:
        before = len(dm_texts(cws.fake, STAFF))
        assert cws.live.send(cws.slack.message_im(text, user_id=STAFF)).status == 200
        cws.live.settle()
        said = dm_texts(cws.fake, STAFF)
        assert len(said) == before + 1, said
        return said[-1]

    for text in ("I need to log a subject access request", "1", "Jane Parent"):
        dm(text)
    cut.cut()
    for _ in range(2):  # down: told each time, in the DM, with no database to ask
        assert dm("parent") == UNSAVED
    cut.restore()
    # The answer that was not saved, typed again, and the conversation goes on.
    assert dm("parent").startswith("Is the request about their own data?")
    assert_no_personal_data(caplog.text)
    assert "could not answer a DM (nothing saved): database unreachable" in caplog.text


def test_a_dpo_command_and_a_click_in_an_outage_are_acked_and_answered_privately(
    cws: Workspace, cut: Cut, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    reference, alert = dpo_alert(cws, requester_name="Jane Parent",
                                 requester_email="jane@example.org")
    cut.cut()
    started = time.monotonic()
    command = cws.slack.slash_command("/dpo", reference, user_id=DPO)
    assert cws.live.send(command).status == 200
    click = cws.click(alert, "take")
    assert cws.live.send(click).status == 200
    assert time.monotonic() - started < 3  # acked at once, not "unhandled" after 3 s
    cws.fake.wait_for("response_url", 2, timeout=20)
    cws.live.settle()
    answers = {c.path: c.args for c in cws.fake.calls("response_url")}
    for request in (command, click):
        answer = answers["/" + request.payload["response_url"].split("/", 3)[3]]
        assert first_line(answer) == UNSAVED and answer["response_type"] == "ephemeral", answer
        assert answer["text"] == "Not done: open this message to see why"
    cut.restore()
    assert cws.case(reference).owner_id is None  # nothing was decided
    assert_no_personal_data(caplog.text)


def test_a_modal_submitted_in_an_outage_keeps_what_was_typed(
    cws: Workspace, cut: Cut, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    modal = cws.open_intake(STAFF)
    cut.cut()
    ack = cws.submit(modal, sar_values())
    # A notice pushed on top of the form: closing it goes back to the form as typed.
    assert ack["response_action"] == "push", ack
    assert ack["view"]["title"]["text"] == "Not saved"
    assert UNSAVED in words(ack["view"]["blocks"])
    cut.restore()
    again = cws.submit(modal, sar_values())
    assert again["response_action"] == "update", again
    assert_no_personal_data(caplog.text)


# -- signed but unreadable payloads ----------------------------------------------------------


def signed_post(url: str, body: bytes, content_type: str) -> tuple[int, str]:
    """POST raw bytes with a valid Slack signature over exactly those bytes."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(("body", "content_type"), [
    (b'{"type": "event_callback", "event": ', "application/json"),  # cut-off JSON
    (b"[1, 2, 3]", "application/json"),  # JSON, but not an object
    (b"payload=%7Bnot+json", FORM),  # an interaction whose payload is not JSON
    (b"payload=%5B%5D", FORM),  # ... or not an object
    (b'{"type": "event_callback", "event": {"user": []}, "authorizations": 5}',
     "application/json"),  # fields of the wrong type
    (b"payload=%7B%22type%22%3A%22block_actions%22\xff\xfe%7D", FORM),  # not UTF-8
    ('{"type": "event_callback", "x": "\udcff"}'.encode("utf-8", "surrogatepass"),
     "application/json"),
])
def test_a_signed_body_that_cannot_be_read_gets_400_and_no_traceback(
    ws: Workspace, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = ws.live.serve()
    status, text = signed_post(url, body, content_type)
    assert (status, text) == (400, "unreadable request body")
    assert "Traceback" not in caplog.text
    assert "refused a request to /slack/events whose body could not be read" in caplog.text


def pushed_notice(ack: dict[str, Any]) -> str:
    assert ack["response_action"] == "push", ack
    assert ack["view"]["title"]["text"] == "Not saved"
    return words(ack["view"]["blocks"])


@pytest.mark.parametrize(("callback", "metadata"), [
    ("confirm", "{garbled"),
    ("confirm", "[]"),
    ("confirm", '{"conversation": "1; drop table", "workflow": "sar"}'),
    ("confirm", '{"conversation": 1, "workflow": "nonsense"}'),
    ("decide", '{"ref": 5, "action": "take", "version": 1}'),
    ("decide", '{"ref": "SAR-2026-0001", "action": "nonsense", "version": 1}'),
    ("decide", '{"ref": "SAR-2026-0001", "action": "extend", "version": true}'),
    ("intake:nonsense", "{}"),
])
def test_a_modal_with_garbled_metadata_is_answered_in_the_modal(
    ws: Workspace, callback: str, metadata: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = ws.live.send(ws.slack.view_submission(
        view={"callback_id": callback, "private_metadata": metadata}, values={},
        user_id=STAFF))
    assert response.status == 200, response.body
    assert UNREADABLE in pushed_notice(ack_body(response.body))
    assert "Traceback" not in caplog.text and "refused a Slack request" in caplog.text
    assert ws.cases() == []


@pytest.mark.parametrize("value", ["", "garbage", "XYZ-1|1|1", "|||"])
def test_a_button_with_a_garbled_value_is_told_privately(
    ws: Workspace, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    click = ws.slack.block_actions("act:take", value=value, block_id="case:x", user_id=DPO,
                                   channel_id=dm_channel_id(DPO))
    assert ws.live.send(click).status == 200
    ws.live.settle()
    (answer,) = ws.fake.calls("response_url")
    assert first_line(answer.args).startswith(UNREADABLE), answer.args
    assert answer.args["response_type"] == "ephemeral"
    assert "Traceback" not in caplog.text


# -- slow clients ----------------------------------------------------------------------------


SLOW_HEAD = [b"POST /slack/events HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n"] + [
    f"X-Slow-{n}: {'a' * 20}\r\n".encode() for n in range(30)]


def test_a_client_sending_its_headers_slowly_is_cut_off(ws: Workspace) -> None:
    """One header line every 0.3 s: closed at the 1 s limit given, not 9 s later."""
    with serving(http_app(ws.live.bot), header_seconds=1.0, loop=ws.live.loop) as port:
        took, _ = trickle(port, SLOW_HEAD, every=0.3)
        assert took < 4, took
        # A client that sends its request at once is served as before.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as ok:
            assert ok.read() == b"ok"


def test_a_client_sending_its_body_slowly_gets_408(ws: Workspace) -> None:
    head = (b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            b"\r\nContent-Length: 400\r\n\r\n")
    with serving(http_app(ws.live.bot), header_seconds=1.0, body_seconds=1.0,
                 loop=ws.live.loop) as port:
        took, heard = trickle(port, [head] + [b"{" * 10] * 30, every=0.3)
    assert took < 4, took
    assert heard.startswith(b"HTTP/1.1 408 "), heard[:100]


def test_sigterm_in_socket_mode_finishes_every_acknowledged_event(
    tmp_path: Path, fake: FakeSlack
) -> None:
    """40 DMs over the WebSocket; SIGTERM after the 15th ack. Every event acknowledged gets
    its reply before exit; events arriving after the signal are left unacknowledged, for
    Slack to send again."""
    database = tmp_path / "dpo-bot.db"
    env = cli_env(fake, database) | {"SLACK_APP_TOKEN": "xapp-1-test"}
    env.pop("SLACK_SIGNING_SECRET")
    added = subprocess.run(dpo_bot("people", "add", "Sam Teacher", "--email",
                                   USERS[STAFF]["email"]), env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    slack_end = SocketModeSlack(fake)
    fake.slow("chat.postMessage", 0.5)
    log_path = tmp_path / "dpo-bot-slack.log"
    with log_path.open("w") as output:
        process = subprocess.Popen(dpo_bot("slack"), env=env, cwd=ROOT, stdout=output,
                                   stderr=subprocess.STDOUT)
    try:
        assert slack_end.connected.wait(60), log_path.read_text()
        slack = SlackRequests.for_fake(SECRET, fake)
        sent = {f"E{n:03d}": slack.message_im("help", user_id=STAFF).payload
                for n in range(40)}
        for envelope_id, payload in sent.items():
            slack_end.send(envelope_id, payload)
        deadline = time.monotonic() + 60
        while len(slack_end.acked) < 15:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.01)
        at_term, replies_at_term = len(slack_end.acked), len(replies(fake))
        process.send_signal(signal.SIGTERM)
        while "SIGTERM: taking no new requests" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.01)
        late = {f"L{n:03d}": slack.message_im("help", user_id=STAFF).payload for n in range(5)}
        for envelope_id, payload in late.items():  # arriving while it stops
            slack_end.send(envelope_id, payload)
        code = process.wait(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
        slack_end.close()
    log = log_path.read_text()
    assert code == 0, log
    acked = set(slack_end.acked)
    print(f"\nsocket mode restart: {len(sent)} sent, {len(acked)} acked ({at_term} before "
          f"SIGTERM, {replies_at_term} answered by then), {len(replies(fake))} replies")
    assert replies_at_term < at_term
    with sqlite3.connect(database) as db:
        seen = {key for (key,) in db.execute("SELECT key FROM inbound_event")}
    # Every event acknowledged was answered; so were some whose ack the closing connection
    # never carried (Slack sends those again, and the event id makes that a no-op).
    assert {f"slack:{sent[e]['event_id']}" for e in acked} <= seen
    assert len(replies(fake)) == len(seen) >= len(acked)
    # Those that came while it stopped were neither acknowledged nor worked on: Slack sends
    # them again, to another connection or once the service is back.
    assert not acked & late.keys()
    assert not {f"slack:{p['event_id']}" for p in late.values()} & seen
    assert "every acknowledged request finished" in log and "Traceback" not in log, log
