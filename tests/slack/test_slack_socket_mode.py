"""`dpo-bot slack` in Socket Mode, as the README runs it, end to end (issue 17).

The real process (its worker processes too) gets ``apps.connections.open`` from the fake Web
API, which hands it the address of a local Socket Mode server (tests/slack/socket_mode.py);
every request then arrives as Slack sends it there: an envelope, acked over the same socket.
A member of staff logs a subject access request through the modal (a wrong date first), the
DPO takes it from the alert the bot delivered, a DM and /dpo are answered; Slack then moves
the connection (``disconnect``) and later loses it (the socket dropped), and the app opens a
new one each time and goes on. Every envelope is acked once for each time it was sent, a
redelivered one does nothing twice, and the log holds no personal data. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from tests.conftest import School_
from workflows.database import session_scope
from workflows.people.models import Person
from workflows.sar.models import RightsRequest

from .fake_slack import FakeSlack, dm_channel_id
from .reading import words
from .signing import SlackRequests
from .socket_mode import SocketModeSlack
from .test_slack_app import (
    DPO,
    ROOT,
    SECRET,
    STAFF,
    TOKEN,
    USERS,
    as_answered,
    assert_decided,
    button_for,
    check_every_call,
    dpo_bot,
    intake_fields,
    london_day,
    sar_values,
    view_updates,
)

PERSONAL = ("Jane Parent", "jane@example.org", "Tom Parent", "behaviour records")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(users=USERS) as server:
        yield server


class SocketModeBot:
    """`dpo-bot slack` connected to the local Socket Mode server, and how to talk to it."""

    def __init__(self, engine: Engine, fake: FakeSlack, log: Path) -> None:
        self.fake, self.log = fake, log
        self.slack = SlackRequests.for_fake(SECRET, fake)
        self.end = SocketModeSlack(fake)
        self.sent = 0
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xapp-1-socket-mode-test",
               "SLACK_API_URL": fake.url, "COLUMNS": "200",
               "DPO_BOT_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SLACK_") and k != "DPO_BOT_DATABASE_URL"} | env
        self.output = log.open("w")
        self.process = subprocess.Popen(dpo_bot("slack"), env=env, cwd=ROOT,
                                        stdout=self.output, stderr=subprocess.STDOUT)
        assert self.end.connected.wait(90), self.log.read_text()

    def send(self, payload: dict[str, Any], kind: str = "interactive",
             envelope_id: str | None = None) -> tuple[str, dict[str, Any]]:
        """One envelope; returns its id and what its ack carried back (a view's answer)."""
        if envelope_id is None:
            self.sent += 1
            envelope_id = f"env-{self.sent:03d}-{kind}"
        acks = len(self.end.acks.get(envelope_id, []))
        self.end.send(envelope_id, payload, kind)
        deadline = time.monotonic() + 60
        while len(self.end.acks.get(envelope_id, [])) == acks:
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"{envelope_id} never acked\n{self.log.read_text()}"
            time.sleep(0.02)
        return envelope_id, self.end.acks[envelope_id][-1].get("payload") or {}

    def submit(self, view: dict[str, Any], values: dict[str, Any], user: str = STAFF
               ) -> tuple[str, dict[str, Any]]:
        before = view_updates(self.fake, view["id"])
        envelope_id, ack = self.send(self.slack.view_submission(
            view=view, values=values, user_id=user).payload)
        return envelope_id, as_answered(self.fake, view, ack, before)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output.close()
        self.end.close()
        return self.log.read_text()


def test_dpo_bot_slack_in_socket_mode_from_shortcut_to_decision_through_reconnects(
    school: School_, fake: FakeSlack, tmp_path: Path
) -> None:
    with session_scope(school.engine) as session:
        session.get(Person, school.people["sam"]).slack_user_id = STAFF
        session.get(Person, school.people["dee"]).slack_user_id = DPO
    bot = SocketModeBot(school.engine, fake, tmp_path / "dpo-bot-slack.log")
    slack = bot.slack
    try:
        # The shortcut: acked empty, and the form opens (light first, then filled).
        _, ack = bot.send(slack.shortcut("start:sar", user_id=STAFF).payload)
        assert ack == {}
        modal = fake.filled(fake.wait_for("views.open")[0], timeout=60)
        assert [b["block_id"] for b in modal["blocks"]] == intake_fields()

        # A date not yet come: the error on its own field, nothing stored.
        _, errors = bot.submit(modal, sar_values(received_at=f"{london_day(1)} 10:00"))
        assert errors["response_action"] == "errors" and list(errors["errors"]) == [
            "received_at"], errors
        assert stored_cases(school) == []
        _, summary = bot.submit(modal, sar_values())
        assert summary["response_action"] == "update", summary
        assert summary["view"]["callback_id"] == "confirm"
        saving, saved = bot.submit({**summary["view"], "id": modal["id"]}, {})
        assert saved["view"]["title"]["text"] == "Saved", saved
        (case,) = stored_cases(school)
        assert case.reference in words(saved["view"]["blocks"])
        receipt = fake.wait_for("chat.postMessage", timeout=30)[0]
        assert receipt.response["channel"] == dm_channel_id(STAFF)
        # Slack's retry of the Save (the same envelope again): acked again, no second case.
        bot.send(slack.view_submission(view={**summary["view"], "id": modal["id"]}, values={},
                                       user_id=STAFF).payload, envelope_id=saving)
        assert len(stored_cases(school)) == 1

        # The delivery loop alerts the DPO in her DM; she takes the case from that message.
        deadline = time.monotonic() + 60
        while not (alerts := [c for c in fake.calls("chat.postMessage")
                              if c.response["channel"] == dm_channel_id(DPO)]):
            assert time.monotonic() < deadline, bot.log.read_text()
            time.sleep(0.1)
        message = fake.messages[(alerts[0].response["channel"], alerts[0].response["ts"])]
        take = button_for(message["blocks"], "take")
        click = slack.block_actions("act:take", value=take["value"],
                                    block_id=f"case:{case.reference}", user_id=DPO,
                                    channel_id=dm_channel_id(DPO), message=message)
        clicked, ack = bot.send(click.payload)
        assert ack == {}
        (update,) = fake.wait_for("chat.update", timeout=30)
        assert update.args["ts"] == alerts[0].response["ts"]
        assert_decided(fake.messages[(update.args["channel"], update.args["ts"])]["blocks"],
                       "Take the case")
        assert stored_cases(school)[0].owner_id == school.people["dee"]
        # The click delivered again decides nothing twice: the message says it was done.
        bot.send(click.payload, envelope_id=clicked)
        again = fake.wait_for("chat.update", 2, timeout=30)[-1]
        assert words(again.args["blocks"]).startswith(":warning: "), again.args
        assert stored_cases(school)[0].version == 2  # taken once

        # A DM (events_api, message.im) is answered in that DM; /dpo privately.
        dm = slack.message_im("help", user_id=STAFF).payload
        answered = replies_to(fake, STAFF)
        dm_envelope, ack = bot.send(dm, kind="events_api")
        assert ack == {}
        wait_until(lambda: replies_to(fake, STAFF) == answered + 1, bot)
        bot.send(dm, kind="events_api", envelope_id=dm_envelope)  # redelivered: no reply
        command = slack.slash_command("/dpo", "help", user_id=DPO)
        _, ack = bot.send(command.payload, kind="slash_commands")
        fake.wait_for("response_url", timeout=30)
        assert "/" + command.payload["response_url"].split("/", 3)[3] in {
            c.path for c in fake.calls("response_url")}

        # Slack moves the connection: the app asks for a new one and goes on there.
        opened = fake.count("apps.connections.open")
        bot.end.disconnect()
        bot.end.wait_for_connections(2)
        assert fake.count("apps.connections.open") == opened + 1
        answered = replies_to(fake, STAFF)
        bot.send(slack.message_im("what can you do", user_id=STAFF).payload, kind="events_api")
        wait_until(lambda: replies_to(fake, STAFF) == answered + 1, bot)

        # The socket is lost with no notice: the same.
        bot.end.drop()
        bot.end.wait_for_connections(3)
        assert fake.count("apps.connections.open") == opened + 2
        _, ack = bot.send(slack.shortcut("start:sar", user_id=STAFF).payload)
        assert ack == {}
        fake.filled(fake.wait_for("views.open", 2)[-1], timeout=60)

        time.sleep(1)  # time enough for a second answer to anything answered twice
        assert replies_to(fake, STAFF) == answered + 1
        assert fake.count("chat.update") == 2 and len(stored_cases(school)) == 1
        assert fake.count("views.open") == 2  # the shortcut after the drop opened one form
        assert len([c for c in fake.calls("chat.postMessage")
                    if c.response["channel"] == dm_channel_id(STAFF)
                    and f"Saved as {case.reference}." in words(c.args.get("blocks") or [])]
                   ) == 1  # one receipt, though Save came twice
    finally:
        log = bot.stop()
    # Every envelope acked once each time it was sent (the three sent twice, twice).
    twice = {saving, clicked, dm_envelope}
    assert {e: len(a) for e, a in bot.end.acks.items()} == {
        e: 2 if e in twice else 1 for e in bot.end.acks}
    assert len(bot.end.acks) == bot.sent
    assert "connected to Slack in Socket Mode" in log, log  # the log read is the real one
    assert "Traceback" not in log and " ERROR " not in log, log
    for private in PERSONAL:
        assert private not in log, private
    check_every_call(fake)


def stored_cases(school: School_) -> list[RightsRequest]:
    with session_scope(school.engine) as session:
        return list(session.exec(select(RightsRequest).order_by(col(RightsRequest.id))))


def replies_to(fake: FakeSlack, user: str) -> int:
    return sum(1 for c in fake.calls("chat.postMessage")
               if c.status == 200 and c.response["channel"] == dm_channel_id(user))


def wait_until(condition: Any, bot: SocketModeBot, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, bot.log.read_text()
        time.sleep(0.05)

