"""The Slack adapter end to end: a real Bolt app fed signed, real-shaped requests, talking to
a local fake Slack Web API that records every call (tests/slack/fake_slack.py).

A. `dpo-bot slack --http` as a subprocess, from a signed shortcut and `/dpo sar` to a stored
   case, the DPO's alert, and the DPO's decisions (SQLite file).
B. The same SlackBot in-process (on its own event loop thread, as the aiohttp server runs it),
   against SQLite and PostgreSQL: permissions, idempotency, escaping, App Home, delivery.
C. Start-up refusals: the missing or wrong setting named, with where to get it.
D. manifest.yml against Slack's manifest schema, the registry and the code's own API calls.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.slack.app import SlackBot
from bot.slack.delivery import deliver_forever, deliver_once
from bot.slack.listeners.commands import workflow_for_text
from bot.slack.settings import SlackSettings
from tests.conftest import PARENT_SAR, School_, make_school
from tests.test_consent import export as consent_export
from tests.test_consent import restrict_lookups, run_import
from workflows.audit.models import AuditEvent
from workflows.core.dates import describe_date
from workflows.core.engine import Target
from workflows.core.models import Conversation, ConversationStatus
from workflows.database import session_scope
from workflows.notifications import service as notifications
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.registry import WORKFLOWS
from workflows.sar.models import RightsRequest, SarState

from .fake_slack import Call, FakeSlack, dm_channel_id
from .limits import check_api_call, check_blocks
from .reading import (
    ephemeral_texts,
    field_errors,
    lines,
    literal_texts,
    read_as_markup,
    said,
    words,
)
from .signing import SignedRequest, SlackRequests, datepicker, plain_text_input, static_select

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT.parent / "shared" / "schemas" / "slack-app-manifest.schema.json"
SECRET = "slack-app-test-signing-secret"
TOKEN = "xoxb-slack-app-test"
STAFF, NEWCOMER, DPO = "U0STAFF01", "U0STAFF02", "U0DPO0001"
USERS: dict[str, dict[str, Any]] = {
    STAFF: {"name": "sam", "real_name": "Sam Teacher", "email": "sam@school.example"},
    NEWCOMER: {"name": "kit", "real_name": "Kit Newcomer", "email": "kit@school.example"},
    DPO: {"name": "dee", "real_name": "Dee Dpo", "email": "dee@school.example"},
}
SLACK_ENV = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL",
             "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_VERIFICATION_TOKEN")
INJECTION = "Jane <!channel> Parent <http://evil.example|click>"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bolt reads SLACK_* variables (SLACK_CLIENT_ID switches it to OAuth); keep them out."""
    for name in SLACK_ENV:
        monkeypatch.delenv(name, raising=False)


def london_today() -> str:
    return datetime.now(ZoneInfo("Europe/London")).date().isoformat()


def sar_values(**changes: Any) -> dict[str, dict[str, Any]]:
    """view.state.values for the SAR intake modal, every input block present as Slack sends."""
    answers: dict[str, Any] = {
        "request_type": static_select("access"),
        "requester_name": plain_text_input("Jane Parent"),
        "relationship": static_select("parent"),
        "about_requester": static_select("no"),
        "subject_name": plain_text_input("Tom Parent"),
        "authority_needed": static_select(None),
        "requester_email": plain_text_input("jane@example.org"),
        "requester_phone": plain_text_input(None),
        "requester_address": plain_text_input(None),
        "channel": static_select("email"),
        "received_at": f"{london_day(-1)} 14:00",
        "details": plain_text_input("All behaviour records for Tom held by the class teacher"),
        "id_needed": static_select("no"),
    }
    answers.update(changes)
    # A date-time is two pickers: "YYYY-MM-DD HH:MM" (or a date alone) as each sends it.
    day, _, clock = str(answers.pop("received_at")).partition(" ")
    answers |= {"received_at": datepicker(day),
                "received_at__time": {"type": "timepicker", "selected_time": clock or None}}
    return {name: {"value": value if isinstance(value, dict) else plain_text_input(value)}
            for name, value in answers.items()}


def london_day(days: int = 0) -> str:
    """Today in the school's zone, moved by ``days``, as a date picker sends it."""
    return (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=days)).isoformat()


def intake_fields() -> list[str]:
    """The modal's input blocks: a date-time has a date's and a time's."""
    return [name for field in WORKFLOWS["sar"].intake.fields
            for name in (field.name, field.name + "__time")[:1 + (field.kind.value == "datetime")]]


def actions_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def button_for(blocks: list[dict[str, Any]], action: str) -> dict[str, Any]:
    found = [e for e in actions_of(blocks) if e["action_id"] == f"act:{action}"]
    assert len(found) == 1, f"no single act:{action} button in {actions_of(blocks)}"
    return found[0]


def assert_decided(blocks: list[dict[str, Any]], label: str, who: str = "Dee Dpo") -> None:
    """A decided message: a last line saying who did what, and when (the buttons still
    offered are the core's, checked where it matters)."""
    footer = blocks[-1]
    assert footer["type"] == "context", footer
    assert re.fullmatch(rf"{re.escape(label)}: {who}, \w+day \d{{1,2}} \w+ \d{{4}} at "
                        r"\d{2}:\d{2}\.", words([footer])), footer


def offered(blocks: list[dict[str, Any]]) -> list[str]:
    """The actions a message's buttons take, in order."""
    return [e["action_id"].removeprefix("act:") for e in actions_of(blocks)]


def ack_body(body: str) -> dict[str, Any]:
    """An ack's JSON; a view in it (response_action update) must be within Slack's limits."""
    answer = json.loads(body) if body else {}
    if "view" in answer:
        check_blocks(answer["view"], surface="modal")
    return answer


SAVING = "Saving…"


def view_updates(fake: FakeSlack, view_id: str) -> int:
    return sum(1 for c in fake.calls("views.update") if c.args.get("view_id") == view_id)


def as_answered(fake: FakeSlack, view: Mapping[str, Any], ack: dict[str, Any],
                updates_before: int, timeout: float = 60) -> dict[str, Any]:
    """What a submission was answered, in an ack's terms: the ack itself, or, where a busy
    database made it say "Saving…", what ``views.update`` brought the modal later (errors
    under their fields, the next view, or a decision's notice for a modal that closes), so a
    test reads the same on a loaded machine."""
    if ack.get("response_action") == "update":
        fake.acked_update(view["id"], ack["view"], updates_before)
    if ack.get("response_action") != "update" or words(ack["view"]["blocks"]) != SAVING:
        return ack
    deadline = time.monotonic() + timeout
    while view_updates(fake, view["id"]) == updates_before:
        assert time.monotonic() < deadline, "the modal said “Saving…” and was never updated"
        time.sleep(0.02)
    shown = fake.views[view["id"]]
    errors = field_errors(shown)
    if errors:
        return {"response_action": "errors", "errors": errors}
    if view.get("callback_id") == "decide" and shown["callback_id"] == "notice":
        return {}  # decided: answered in time, the modal would have closed
    return {"response_action": "update", "view": shown}


def check_every_call(fake: FakeSlack, allowed_errors: set[str] = frozenset()) -> None:
    """Every recorded payload within Block Kit limits, and no call Slack would refuse."""
    for call in fake.calls():
        check_api_call(call.method, call.args)
        assert not call.args.get("link_names") and call.args.get("parse") != "full", call
        if isinstance(call.response, dict) and not call.response.get("ok"):
            assert call.response.get("error") in allowed_errors, (call.method, call.response)


# -- an in-process SlackBot ------------------------------------------------------------------


class LiveBot:
    """A SlackBot on its own event loop thread, as `dpo-bot slack` runs it.

    Bolt acks and then runs listeners as tasks on that loop, so a test dispatches, then waits
    for the Web API calls (fake.wait_for) or for the loop to fall idle (settle).
    """

    def __init__(self, engine: Engine, fake: FakeSlack, workers: int = 0) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner: Any = None
        self.resident: set[asyncio.Task] = set()  # the server's own, long-lived tasks
        settings = SlackSettings(bot_token=TOKEN, app_token=None, signing_secret=SECRET,
                                 api_url=fake.url)

        async def build() -> SlackBot:
            return SlackBot(engine, settings, workers=workers)

        self.bot = self.run(build())

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def send(self, request: SignedRequest) -> Any:
        """Dispatch; returns Bolt's response (the ack) while listeners may still be running."""
        return self.run(request.async_dispatch(self.bot.app))

    def send_all(self, *requests: SignedRequest) -> list[Any]:
        """Dispatch at the same moment, as a double click or a quick retry arrives."""

        async def together() -> list[Any]:
            return list(await asyncio.gather(*(r.async_dispatch(self.bot.app)
                                               for r in requests)))

        return self.run(together())

    def settle(self, timeout: float = 15) -> None:
        """Wait until every listener started by the requests so far has finished."""

        async def idle() -> None:
            me = asyncio.current_task()
            deadline = self.loop.time() + timeout
            while [t for t in asyncio.all_tasks()
                   if t is not me and not t.done() and t not in self.resident]:
                assert self.loop.time() < deadline, "the bot is still busy"
                await asyncio.sleep(0.02)

        self.run(idle(), timeout + 5)

    def deliver(self) -> int:
        """One pass of the notification worker."""
        return self.run(deliver_once(self.bot))

    def serve(self) -> str:
        """Serve bot.slack.server.http_app (the production HTTP mode) on 127.0.0.1."""
        from aiohttp import web

        from bot.slack.server import http_app

        async def start() -> str:
            self.runner = web.AppRunner(http_app(self.bot), access_log=None)
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", 0).start()
            await asyncio.sleep(0)  # let the delivery loop start, then leave it be
            self.resident.update(asyncio.all_tasks() - {asyncio.current_task()})
            return f"http://127.0.0.1:{self.runner.addresses[0][1]}/slack/events"

        return self.run(start())

    def close(self) -> None:
        if self.runner is not None:
            self.run(self.runner.cleanup())
        self.run(self.bot.close())
        self.run(self.loop.shutdown_default_executor())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class Workspace:
    """A school in Slack: the fake Web API, the bot, signed requests, and the database."""

    def __init__(self, school: School_, fake: FakeSlack, workers: int = 0) -> None:
        self.school, self.fake, self.engine = school, fake, school.engine
        self.slack = SlackRequests.for_fake(SECRET, fake)
        self.live = LiveBot(school.engine, fake, workers)
        self.allowed_errors: set[str] = set()

    # Forms

    def open_intake(self, user: str = STAFF, *, via: str = "shortcut") -> dict[str, Any]:
        """Open the SAR modal by the shortcut, /dpo sar or the App Home button; returns it."""
        before = self.fake.count("views.open")
        if via == "shortcut":
            request = self.slack.shortcut("start:sar", user_id=user)
        elif via == "command":
            request = self.slack.slash_command("/dpo", "sar", user_id=user)
        else:
            home = self.fake.views[self.fake.home_views[user]]
            request = self.slack.block_actions("start:sar", block_id="start", view=home,
                                               user_id=user)
        assert self.live.send(request).status == 200
        opened = self.fake.wait_for("views.open", before + 1)[-1]
        assert opened.args["view"]["callback_id"] == "intake:sar"
        return self.fake.filled(opened)

    def submit(self, view: Mapping[str, Any], values: Mapping[str, Any],
               user: str = STAFF) -> dict[str, Any]:
        """Submit a modal; returns the ack body ({} for a plain ack)."""
        before = view_updates(self.fake, view["id"])
        response = self.live.send(self.slack.view_submission(view=view, values=values,
                                                             user_id=user))
        assert response.status == 200, response.body
        return as_answered(self.fake, view, ack_body(response.body), before)

    def log_sar(self, user: str = STAFF, *, via: str = "shortcut", **changes: Any) -> str:
        """A SAR from the modal to the stored case; returns its reference."""
        modal = self.open_intake(user, via=via)
        ack = self.submit(modal, sar_values(**changes), user)
        assert ack["response_action"] == "update", ack
        summary = {**ack["view"], "id": modal["id"]}  # an update keeps the view's id
        saved = self.submit(summary, {}, user)
        assert saved["response_action"] == "update"
        assert saved["view"]["title"]["text"] == "Saved"
        found = re.search(r"SAR-\d{4}-\d{4}", words(saved["view"]["blocks"]))
        assert found, saved
        self.live.settle()  # the receipt DM goes after the ack
        return found.group(0)

    # What the DPO got

    def alert_for(self, reference: str, user: str = DPO) -> Call:
        """The delivered DM about a case (alert and card), to one person."""
        channel = dm_channel_id(user)
        found = [c for c in self.fake.calls("chat.postMessage")
                 if c.response.get("channel") == channel and reference in json.dumps(c.args)]
        assert found, f"no DM to {user} about {reference}"
        return found[-1]

    def message(self, call: Call) -> dict[str, Any]:
        """The message as Slack now holds it (after any chat.update)."""
        return self.fake.messages[(call.response["channel"], call.response["ts"])]

    def click(self, call: Call, action: str, user: str = DPO) -> SignedRequest:
        """A click on a button of a message the bot posted (as Slack now shows it)."""
        message = self.message(call)
        element = button_for(message["blocks"], action)
        return self.slack.block_actions(
            element["action_id"], value=element["value"],
            block_id=next(b["block_id"] for b in message["blocks"]
                          if element in b.get("elements", [])),
            text=element["text"]["text"], user_id=user, channel_id=call.response["channel"],
            message=message)

    # The database

    def cases(self) -> list[RightsRequest]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(RightsRequest).order_by(col(RightsRequest.id))))

    def case(self, reference: str) -> RightsRequest:
        with session_scope(self.engine) as session:
            return session.exec(select(RightsRequest).where(
                RightsRequest.school_id == self.school.school_id,
                RightsRequest.reference == reference)).one()

    def person(self, slack_user_id: str) -> Person:
        with session_scope(self.engine) as session:
            return session.exec(select(Person)
                                .where(Person.slack_user_id == slack_user_id)).one()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(users=USERS) as server:
        yield server


@pytest.fixture
def ws(school: School_, fake: FakeSlack) -> Iterator[Workspace]:
    yield from workspace(school, fake)


def workspace(school: School_, fake: FakeSlack, workers: int = 0) -> Iterator[Workspace]:
    """Sam is linked by Slack id, Dee (the DPO) only by email, Kit is unknown to the bot."""
    with session_scope(school.engine) as session:
        session.get(Person, school.people["sam"]).slack_user_id = STAFF
        session.get(Person, school.people["dee"]).email = USERS[DPO]["email"]
    workspace = Workspace(school, fake, workers)
    try:
        yield workspace
        workspace.live.settle()
    finally:
        workspace.live.close()
    check_every_call(fake, workspace.allowed_errors)


# -- B. in-process, SQLite and PostgreSQL ----------------------------------------------------


def test_shortcut_to_case_to_dpo_decision(ws: Workspace) -> None:
    reference = ws.log_sar(STAFF)

    (case,) = ws.cases()
    assert (case.reference, case.state, case.requester_name) == (
        reference, SarState.OPEN, "Jane Parent")
    assert case.created_by_id == ws.school.people["sam"] and case.owner_id is None
    receipt = ws.fake.wait_for("chat.postMessage")[0]
    assert receipt.response["channel"] == dm_channel_id(STAFF)
    # What a phone shows before it is opened: what the message is, never whose data.
    assert re.fullmatch(rf"{reference} subject access request: \d+ days left",
                        receipt.args["text"]), receipt.args["text"]
    assert f"Saved as {reference}." in said(receipt)
    # Staff get their card with the one action their role allows: adding a note.
    assert [e["action_id"] for e in actions_of(receipt.args["blocks"])] == ["act:note"]

    assert ws.live.deliver() == 1
    assert [c.args["email"] for c in ws.fake.calls("users.lookupByEmail")] == [USERS[DPO]["email"]]
    alert = ws.alert_for(reference)
    assert alert.args["text"].startswith(f"New: {reference} subject access request: ")
    assert "Jane" not in alert.args["text"] and "Sam" not in alert.args["text"]
    assert f"New subject access request {reference}, logged by Sam Teacher." in said(alert)
    take = button_for(alert.args["blocks"], "take")
    assert take["value"] == f"{reference}|1|{ws.school.school_id}"

    assert ws.live.send(ws.click(alert, "take")).status == 200
    (update,) = ws.fake.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (alert.response["channel"],
                                                           alert.response["ts"])
    shown = ws.message(alert)
    assert_decided(shown["blocks"], "Take the case")
    # The next steps stay on the message: taken, it may be paused or closed, not taken again.
    assert "take" not in offered(shown["blocks"])
    assert {"pause", "close", "note"} <= set(offered(shown["blocks"]))
    assert "*Owner*: Dee Dpo" in words(shown["blocks"])
    assert f":white_check_mark: {reference} is yours now." in words(shown["blocks"])
    taken = ws.case(reference)
    assert (taken.owner_id, taken.version) == (ws.school.people["dee"], 2)


def dpo_alert(ws: Workspace, user: str = STAFF, **changes: Any) -> tuple[str, Call]:
    """A case logged by ``user`` and its alert delivered to the DPO; (reference, that DM)."""
    reference = ws.log_sar(user, **changes)
    assert ws.live.deliver() == 1
    return reference, ws.alert_for(reference)


def test_with_a_dpo_channel_a_new_case_is_posted_there_once(ws: Workspace) -> None:
    """SLACK_DPO_CHANNEL: the team's alert goes once to their private channel, not to DMs."""
    team = "G0DPOTEAM"
    ws.live.bot.settings = replace(ws.live.bot.settings, dpo_channel=team)
    with session_scope(ws.engine) as session:  # the deputy is in Slack too
        session.get(Person, ws.school.people["vic"]).slack_user_id = "U0DEPUTY1"
    reference = ws.log_sar(STAFF)
    assert ws.live.deliver() == 1

    posts = [c for c in ws.fake.calls("chat.postMessage") if reference in json.dumps(c.args)
             and "New subject access request" in said(c)]
    assert [c.args["channel"] for c in posts] == [team]
    # A channel never gets the details: no requester, pupil or what was asked for.
    shown = words(posts[0].args["blocks"])
    for private in ("Jane", "Tom", "behaviour", "@"):
        assert private not in shown, private
    assert f"Details go privately to whoever opens it: type {reference} in my DM." in shown
    with session_scope(ws.engine) as session:
        alerts = session.exec(select(Notification).where(Notification.kind == "sar.new")).all()
        assert sorted(n.person_id for n in alerts) == sorted(
            [ws.school.people["dee"], ws.school.people["vic"]])
        assert all(n.delivered_at is not None and n.delivered_via == "slack" for n in alerts)
    assert ws.live.deliver() == 0  # nothing left to send: no copy in anyone's DM

    # A decision from the channel updates that one message for the whole team.
    assert ws.live.send(ws.click(posts[0], "take")).status == 200
    (update,) = ws.fake.wait_for("chat.update")
    assert update.args["channel"] == team
    assert_decided(ws.message(posts[0])["blocks"], "Take the case")
    for private in ("Jane", "Tom", "behaviour"):
        assert private not in words(ws.message(posts[0])["blocks"]), private


@pytest.mark.parametrize("action", ["take", "extend"])
def test_a_staff_click_on_a_dpo_button_is_refused_privately(ws: Workspace, action: str) -> None:
    reference, alert = dpo_alert(ws)
    ws.live.settle()
    before = {m: ws.fake.count(m) for m in ("chat.update", "views.open", "chat.postMessage")}

    # Sam sends the DPO's button (a forged payload: Slack never shows it to him).
    click = ws.click(alert, action, user=STAFF)
    assert ws.live.send(click).status == 200
    ws.live.settle()

    said = (f"Only the DPO or a deputy can {WORKFLOWS['sar'].action(action).label.lower()}. "
            "Nothing was changed.")
    if WORKFLOWS["sar"].action(action).form.fields:
        # A decision asked in a modal: opened at once (Slack allows 3 s), then it says why not.
        (opened,) = ws.fake.calls("views.open")[before["views.open"]:]
        shown = ws.fake.filled(opened)
        assert words(shown["blocks"]) == ":no_entry: " + said and "submit" not in shown, shown
        before["views.open"] += 1
    else:
        assert ephemeral_texts(ws.fake, STAFF) == [":no_entry: " + said]
        refusal = ws.fake.last("response_url")
        assert refusal.path == "/response/" + click.payload["response_url"].rsplit("/", 1)[1]
        assert refusal.args["response_type"] == "ephemeral"
    assert {m: ws.fake.count(m) for m in before} == before  # no update, no other modal, post
    case = ws.case(reference)
    assert (case.version, case.owner_id, case.extended) == (1, None, False)


def test_double_click_decides_once_and_tells_the_second_who_did(ws: Workspace) -> None:
    reference, alert = dpo_alert(ws)
    first, second = ws.click(alert, "take"), ws.click(alert, "take")
    assert [r.status for r in ws.live.send_all(first, second)] == [200, 200]
    ws.live.settle()

    case = ws.case(reference)
    assert (case.owner_id, case.version) == (ws.school.people["dee"], 2)
    # Both clicks redraw the DM as the case now stands: the winner with who did what, the
    # other with why nothing changed; either way the next steps, not "take" again.
    updates = ws.fake.calls("chat.update")
    assert len(updates) == 2 and ephemeral_texts(ws.fake, DPO) == []
    won, lost = sorted(updates, key=lambda c: "already did" in words(c.args["blocks"]))
    assert_decided(won.args["blocks"], "Take the case")
    told = lines(lost.args["blocks"])[0]
    assert re.fullmatch(
        rf":warning: You already did “take” on {reference} \(.+\)\. Nothing was changed by "
        r"this attempt; it is now open\.", told), told
    for update in updates:
        assert offered(update.args["blocks"])[:1] == ["assign"]
        assert all(b["value"].startswith(f"{reference}|2|") for b in actions_of(
            update.args["blocks"]))
    with session_scope(ws.engine) as session:
        takes = session.exec(select(AuditEvent).where(AuditEvent.action == "sar.take")).all()
    assert len(takes) == 1


def test_extend_asks_reasons_in_a_modal_and_updates_the_message(ws: Workspace) -> None:
    reference, alert = dpo_alert(ws)
    extend = button_for(alert.args["blocks"], "extend")
    assert "confirm" not in extend  # the modal carries the warning: no dialog before it

    assert ws.live.send(ws.click(alert, "extend")).status == 200
    opened = ws.fake.wait_for("views.open", 2)[-1]  # after the intake modal
    modal = ws.fake.filled(opened)
    assert modal["callback_id"] == "decide"
    assert lines(modal["blocks"])[0] == (
        "The requester must be told, with reasons, within the first month.")
    assert [b.get("block_id") for b in modal["blocks"] if b["type"] == "input"] == [
        "reason", "notice_on"]
    assert modal["blocks"][1]["element"]["type"] == "plain_text_input"
    assert modal["blocks"][2]["element"]["type"] == "datepicker"

    # A notice date before the request arrived: the error comes back on that field.
    ack = ws.submit(modal, {"reason": {"value": plain_text_input("Thousands of emails")},
                            "notice_on": {"value": datepicker("2020-01-06")}}, DPO)
    received = describe_date(ws.case(reference).received_on)  # "yesterday" when it was logged
    assert ack == {"response_action": "errors",
                   "errors": {"notice_on": f"That is before the request arrived ({received})."}}
    assert ws.case(reference).extended is False and ws.fake.count("chat.update") == 0

    ack = ws.submit(modal, {"reason": {"value": plain_text_input("Thousands of emails")},
                            "notice_on": {"value": datepicker(london_today())}}, DPO)
    assert ack == {}
    case = ws.case(reference)
    assert (case.extended, case.extension_reason, case.version) == (
        True, "Thousands of emails", 2)
    assert case.extension_notice_on.isoformat() == london_today()
    (update,) = ws.fake.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (alert.response["channel"],
                                                           alert.response["ts"])
    shown = ws.message(alert)["blocks"]
    assert_decided(shown, "Extend by two months")
    assert "*Extension*: Thousands of emails (requester told " in words(shown)
    assert f"Extended. Draft the notice with “letter {reference} extension”" in words(shown)


def test_intake_errors_come_back_on_the_right_block(ws: Workspace) -> None:
    modal = ws.open_intake(STAFF, via="command")
    assert [b["block_id"] for b in modal["blocks"]] == intake_fields()
    assert modal["submit"]["text"] == "Next"

    ack = ws.submit(modal, sar_values(received_at=f"{london_day(1)} 09:00",
                                      requester_email="not an email"))
    assert ack["response_action"] == "errors"
    assert sorted(ack["errors"]) == ["received_at", "requester_email"]
    assert "is in the future" in ack["errors"]["received_at"]
    assert ws.cases() == []

    # No way to reply to them: what Save would refuse comes back at once, on the answer that
    # fixes it, with every other answer still in the form (no summary to refuse later).
    ack = ws.submit(modal, sar_values(requester_email=None))
    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == ["requester_email"]
    assert ack["errors"]["requester_email"].startswith("We need at least one way to reply")
    assert ws.cases() == [] and ws.fake.count("chat.postMessage") == 0


def test_a_confirm_sent_twice_creates_one_case(ws: Workspace) -> None:
    modal = ws.open_intake(STAFF)
    ack = ws.submit(modal, sar_values())
    summary = ws.slack.view_submission(view={**ack["view"], "id": modal["id"]}, values={},
                                       user_id=STAFF)
    first, again = ws.live.send_all(summary, ws.slack.retry(summary))
    ws.live.settle()

    assert len(ws.cases()) == 1
    (case,) = ws.cases()
    bodies = {words(json.loads(r.body)["view"]["blocks"]).split("\n")[0] for r in (first, again)}
    assert bodies == {f":white_check_mark: Saved as {case.reference}.",
                      ":warning: That was already saved."}
    assert ws.fake.count("chat.postMessage") == 1  # one receipt
    assert ws.live.deliver() == 1  # one alert to the DPO


def test_a_retried_dm_is_answered_once_and_advances_once(ws: Workspace) -> None:
    first = ws.slack.message_im("I need to log a SAR", user_id=STAFF)
    ws.live.send(first)
    ws.fake.wait_for("chat.postMessage")
    ws.live.send(ws.slack.retry(first, num=1))
    ws.live.settle()
    assert ws.fake.count("chat.postMessage") == 1

    answer = ws.slack.message_im("1", user_id=STAFF)  # subject access
    ws.live.send_all(answer, ws.slack.retry(answer, num=1, reason="http_error"))
    ws.live.settle()
    replies = ws.fake.calls("chat.postMessage")
    assert len(replies) == 2
    assert replies[1].args["text"] == "Question 2 of 13"
    assert said(replies[1]).startswith("*Who made the request? (their full name)*")
    with session_scope(ws.engine) as session:
        (talk,) = session.exec(select(Conversation)).all()
    assert (talk.channel_key, talk.status, talk.position) == (
        f"slack:{dm_channel_id(STAFF)}", ConversationStatus.ASKING, "requester_name")
    assert talk.answers == {"request_type": "access"}


def test_a_dm_conversation_logs_exactly_one_case(ws: Workspace) -> None:
    for n, line in enumerate((*PARENT_SAR, "yes"), 1):
        ws.live.send(ws.slack.message_im(line, user_id=STAFF))
        ws.fake.wait_for("chat.postMessage", n)
    ws.live.send(ws.slack.message_im("yes", user_id=STAFF))  # a second "yes"
    ws.live.settle()

    (case,) = ws.cases()
    assert (case.requester_name, case.subject_name, case.requester_email) == (
        "Jane Parent", "Tom Parent", "jane@example.org")
    said = [c.args for c in ws.fake.calls("chat.postMessage")]
    assert {a["channel"] for a in said} == {dm_channel_id(STAFF)}  # all in the bot's DM
    assert f"Saved as {case.reference}." in words(said[-2]["blocks"])
    assert words(said[-1]["blocks"]).endswith(f"That was already saved as {case.reference}; "
                                              "nothing more to do.")


def test_user_text_arrives_escaped_everywhere(ws: Workspace) -> None:
    ws.fake.add_user(NEWCOMER, name="kit", real_name="Kit <!here> Newcomer",
                     email="kit@school.example")
    limit = min(WORKFLOWS["sar"].intake.field("details").limit, 3000)
    details = ("Tom & Jerry's records <@U0DPO0001> " * 200)[:limit]
    modal = ws.open_intake(NEWCOMER)
    ack = ws.submit(modal, sar_values(requester_name=INJECTION, details=details), NEWCOMER)
    summary = ack["view"]
    saved = ws.submit({**summary, "id": modal["id"]}, {}, NEWCOMER)
    reference = re.search(r"SAR-\d{4}-\d{4}", json.dumps(saved)).group(0)
    ws.fake.wait_for("chat.postMessage")
    assert ws.live.deliver() == 1
    alert = ws.alert_for(reference)
    ws.live.send(ws.click(alert, "take"))
    ws.fake.wait_for("chat.update")
    ws.live.send(ws.slack.slash_command("/dpo", reference, user_id=DPO))
    ws.fake.wait_for("response_url")
    ws.live.send(ws.slack.app_home_opened(DPO))
    ws.fake.wait_for("views.publish")
    ws.live.settle()

    assert ws.case(reference).requester_name == INJECTION  # stored as typed
    with session_scope(ws.engine) as session:
        assert session.get(Person, ws.person(NEWCOMER).id).name == "Kit <!here> Newcomer"
    payloads = {"summary ack": summary, "saved ack": saved["view"]}
    payloads |= {f"{c.method} #{i}": c.args for i, c in enumerate(ws.fake.calls())}
    for raw in ("<!channel>", "<http://evil.example|click>", "<!here>", "<@U0DPO0001>",
                "Tom & Jerry"):
        # Never where Slack reads markup (mrkdwn, a message's own text); shown literally in
        # rich text and plain text only.
        leaks = [name for name, args in payloads.items()
                 if any(raw in text for text in read_as_markup(args))]
        assert leaks == [], f"{raw} unescaped in {leaks}"
    carrying = sorted(name.split(" #")[0] for name, args in payloads.items()
                      if any(INJECTION in text for text in literal_texts(args)))
    assert carrying == ["chat.postMessage", "chat.postMessage", "chat.update", "response_url",
                        "saved ack", "summary ack"]  # receipt, DPO alert, decision, /dpo REF
    assert any(details in text for text in literal_texts(alert.args))
    assert f"New subject access request {reference}, logged by Kit <!here> Newcomer." in (
        said(alert))
    assert "Jane" not in json.dumps(ws.fake.last("views.publish").args)  # no names at Home


def test_app_home_for_staff_and_for_the_dpo(ws: Workspace) -> None:
    mine = ws.log_sar(STAFF)
    theirs = ws.log_sar(NEWCOMER, requester_name="Someone Else")
    ws.live.send(ws.slack.app_home_opened(STAFF))
    ws.live.send(ws.slack.app_home_opened(DPO))
    ws.live.send(ws.slack.app_home_opened(STAFF, tab="messages"))  # not the Home tab
    ws.live.settle()

    published = {c.args["user_id"]: c.args["view"] for c in ws.fake.calls("views.publish")}
    assert sorted(published) == [DPO, STAFF] and ws.fake.count("views.publish") == 2
    staff = published[STAFF]
    assert staff["type"] == "home"
    assert [e["action_id"] for e in actions_of(staff["blocks"][:2])] == [
        f"start:{name}" for name in WORKFLOWS]
    assert "Your open requests" in words(staff["blocks"])
    lines = [b for b in staff["blocks"] if b.get("accessory", {}).get("action_id") == "open"]
    # Not Kit's case.
    assert [Target.parse(b["accessory"]["value"]).reference for b in lines] == [mine]

    dpo = published[DPO]
    assert "Every open case at Hillside Primary" in words(dpo["blocks"])
    lines = [b for b in dpo["blocks"] if b.get("accessory", {}).get("action_id") == "open"]
    opened = sorted(Target.parse(b["accessory"]["value"]).reference for b in lines)
    assert opened == sorted([mine, theirs])
    today = datetime.now(ZoneInfo("Europe/London")).date()
    for line in lines:
        due = ws.case(Target.parse(line["accessory"]["value"]).reference).due_on
        assert f"· Open\n{(due - today).days} days left (" in words([line])
    text = json.dumps(published)
    assert "Jane" not in text and "Someone Else" not in text and "Tom" not in text

    # Open a case from Home: the card comes to the DM, with the DPO's buttons.
    posted = ws.fake.count("chat.postMessage")
    home = ws.fake.views[ws.fake.home_views[DPO]]
    ws.live.send(ws.slack.block_actions("open", value=mine, view=home, user_id=DPO))
    card = ws.fake.wait_for("chat.postMessage", posted + 1)[-1]
    assert card.response["channel"] == dm_channel_id(DPO)
    assert button_for(card.args["blocks"], "take")["value"] == f"{mine}|1|{ws.school.school_id}"
    # And start a new request from Home.
    assert ws.open_intake(STAFF, via="home")["callback_id"] == "intake:sar"


def test_dpo_help_is_private_and_lists_the_workflows(ws: Workspace) -> None:
    ws.live.send(ws.slack.slash_command("/dpo", "help", user_id=STAFF, channel_id="C0GENERAL"))
    (answer,) = ws.fake.wait_for("response_url")
    ws.live.settle()
    assert answer.args["response_type"] == "ephemeral"
    assert answer.args["text"] == "A message from the DPO bot"  # it may hold names: not here
    assert words(answer.args["blocks"]).startswith("Hello Sam Teacher. I help Hillside Primary "
                                                   "look after personal data.")
    for workflow in WORKFLOWS.values():
        assert f"“{workflow.triggers[0]}”: {workflow.summary[0].lower()}" in words(
            answer.args["blocks"])
    assert [c.method for c in ws.fake.calls() if c.method.startswith("chat.")] == []


def test_dpo_with_a_reference_shows_the_card_only_to_the_asker(ws: Workspace) -> None:
    reference = ws.log_sar(STAFF)
    ws.fake.clear()
    ws.live.send(ws.slack.slash_command("/dpo", reference.lower(), user_id=NEWCOMER,
                                        channel_id="C0GENERAL"))
    ws.live.send(ws.slack.slash_command("/dpo", reference, user_id=DPO,
                                        channel_id="C0GENERAL"))
    ws.live.settle()
    # Each command is answered by its own task after the ack: either may finish first.
    refused, shown = sorted(ws.fake.calls("response_url"),
                            key=lambda call: "I can't find" not in words(call.args["blocks"]))
    assert refused.args == {"text": "Not done: open this message to see why",
                            "response_type": "ephemeral", "blocks": refused.args["blocks"]}
    assert words(refused.args["blocks"]) == (
        f":no_entry: I can't find a case {reference} that you can see.")
    assert shown.args["response_type"] == "ephemeral"
    assert lines(shown.args["blocks"])[0] == f"{reference} · Subject access request"
    assert [c.method for c in ws.fake.calls() if c.method.startswith("chat.")] == []

    # Extend from the ephemeral card: the modal's decision replaces that card, privately.
    click = ws.slack.block_actions(
        "act:extend", value=button_for(shown.args["blocks"], "extend")["value"],
        block_id=f"case:{reference}", user_id=DPO, channel_id="C0GENERAL", ephemeral=True)
    ws.live.send(click)
    opened = ws.fake.wait_for("views.open")[-1]
    ws.submit(ws.fake.filled(opened),
              {"reason": {"value": plain_text_input("Complex")},
               "notice_on": {"value": datepicker(london_today())}}, DPO)
    ws.live.settle()
    replaced = ws.fake.last("response_url")
    assert replaced.path == "/response/" + click.payload["response_url"].rsplit("/", 1)[1]
    assert replaced.args["replace_original"] is True
    assert_decided(replaced.args["blocks"], "Extend by two months")
    assert ws.case(reference).extended is True
    assert [c.method for c in ws.fake.calls() if c.method.startswith("chat.")] == []


def test_a_pass_posts_to_several_dms_at_once_and_each_dm_in_order(ws: Workspace) -> None:
    """A Monday's digests go several chats at a time, never two at once into one chat, and
    a person's messages arrive in the order they were queued."""
    ids = {name: f"U0PASS{n:03d}" for n, name in enumerate(("kim", "vic", "hal"))} | {
        "sam": STAFF}
    with session_scope(ws.engine) as session:
        for name, slack_id in ids.items():
            session.get_one(Person, ws.school.people[name]).slack_user_id = slack_id
        for n in range(3):
            notifications.queue(session, school_id=ws.school.school_id,
                                people=[ws.school.people[name] for name in ids],
                                kind="bench.note", key=f"pass-order:{n}", text=f"Note {n}",
                                by=None)
    ws.fake.slow("chat.postMessage", 1.0)
    assert ws.live.deliver() == 12
    posts = ws.fake.calls("chat.postMessage")
    for slack_id in ids.values():
        assert [said(c) for c in posts if c.args["channel"] == slack_id] == [
            "Note 0", "Note 1", "Note 2"]
    # The fake answers each post a second after it came: one post after another would be
    # answered a second apart, so answers within a second of the first were sent together.
    first = min(c.at for c in posts)
    assert sum(c.at < first + 0.9 for c in posts) >= 3


def test_a_ratelimited_dm_is_retried_and_delivered(ws: Workspace) -> None:
    reference = ws.log_sar(STAFF)
    ws.fake.ratelimit("chat.postMessage", times=1, retry_after=0)
    assert ws.live.deliver() == 1
    statuses = [c.status for c in ws.fake.calls("chat.postMessage")[1:]]
    assert statuses == [429, 200]
    assert ws.alert_for(reference).status == 200
    ws.allowed_errors.add("ratelimited")
    with session_scope(ws.engine) as session:
        (note,) = session.exec(select(Notification).where(
            Notification.person_id == ws.school.people["dee"])).all()
    assert note.delivered_via == "slack" and note.delivered_at is not None


@pytest.mark.parametrize(("error", "next_pass"), [("internal_error", 1),
                                                  ("account_inactive", 0)])
def test_a_dm_slack_refused_is_not_marked_delivered(ws: Workspace, error: str,
                                                     next_pass: int) -> None:
    ws.log_sar(STAFF)
    ws.allowed_errors.add(error)
    ws.fake.fail("chat.postMessage", error)
    assert ws.live.deliver() == 0
    with session_scope(ws.engine) as session:
        (note,) = session.exec(select(Notification).where(
            Notification.person_id == ws.school.people["dee"])).all()
    assert note.delivered_at is None
    # Slack's own trouble is tried again on the next pass; a refusal about the person waits
    # for the lease to run out rather than being retried every few seconds.
    assert ws.live.deliver() == next_pass
    with session_scope(ws.engine) as session:
        (note,) = session.exec(select(Notification).where(
            Notification.person_id == ws.school.people["dee"])).all()
    assert (note.delivered_at is not None) is bool(next_pass)
    assert ws.fake.count("chat.postMessage") == 2 + next_pass


@pytest.mark.parametrize("tamper", [{"bad_signature": True}, {"age": 301}])
def test_bad_signature_or_old_timestamp_gets_401_over_http(ws: Workspace,
                                                           tamper: dict[str, Any]) -> None:
    url = ws.live.serve()
    refused = ws.slack.slash_command("/dpo", "sar", user_id=STAFF, **tamper).post(url)
    event = ws.slack.message_im("I need to log a SAR", user_id=STAFF, **tamper).post(url)
    assert (refused.status, refused.json()) == (401, {"error": "invalid request"})
    assert event.status == 401
    ws.live.settle()
    assert [c.method for c in ws.fake.calls()] == []  # not even auth.test
    fresh = ws.slack.slash_command("/dpo", "sar", user_id=STAFF).post(url)
    assert fresh.status == 200 and ws.fake.wait_for("views.open")
    with urllib.request.urlopen(url.replace("/slack/events", "/healthz"), timeout=5) as health:
        assert health.read() == b"ok"


def test_someone_who_may_not_start_is_told_privately(ws: Workspace) -> None:
    with session_scope(ws.engine) as session:
        session.get(Person, ws.school.people["sam"]).active = False
    ws.live.send(ws.slack.shortcut("start:sar", user_id=STAFF))
    ws.live.send(ws.slack.slash_command("/dpo", "sar", user_id=STAFF))
    ws.live.settle()
    # In the modal each opened at once, seen by them alone, with nothing to submit.
    refusal = "Your role does not allow you to start a subject access request."
    for opened in ws.fake.wait_for("views.open", 2):
        shown = ws.fake.filled(opened)
        assert words(shown["blocks"]) == ":no_entry: " + refusal and "submit" not in shown, shown
    assert ws.fake.count("chat.postMessage") == ws.fake.count("response_url") == 0


def test_slack_users_become_the_bots_people(ws: Workspace) -> None:
    # Dee was configured by email: her first command links her, it does not add a stranger.
    ws.live.send(ws.slack.slash_command("/dpo", "cases", user_id=DPO))
    (answer,) = ws.fake.wait_for("response_url")
    assert ws.person(DPO).id == ws.school.people["dee"]
    assert answer.args["text"] == "A message from the DPO bot"
    # One section per registered workflow, in the registry's order (SAR, breach, software...).
    assert words(answer.args["blocks"]) == "\n".join(
        f"*All open {w.title.lower()}s*: None open." for w in WORKFLOWS.values())
    assert words(answer.args["blocks"]).startswith(
        "*All open subject access requests*: None open.\n*All open breach reports*: None open."
        "\n*All open software requests*: None open.")
    # A newcomer's first DM, Slack's retry of it and a shortcut, all at once: one person,
    # named and mailed as users.info says, one answer, one modal.
    first = ws.slack.message_im("hello", user_id=NEWCOMER)
    ws.live.send_all(first, ws.slack.retry(first), ws.slack.shortcut("start:sar",
                                                                       user_id=NEWCOMER))
    ws.live.settle()
    with session_scope(ws.engine) as session:
        known = session.exec(select(Person).where(Person.slack_user_id == NEWCOMER)).all()
    assert [(p.name, p.email, p.role) for p in known] == [
        ("Kit Newcomer", "kit@school.example", "staff")]
    (hello,) = ws.fake.calls("chat.postMessage")
    assert said(hello).startswith("Hello Kit Newcomer. I help Hillside Primary")
    assert ws.fake.count("views.open") == 1


def test_socket_mode_envelopes_reach_the_same_listeners(ws: Workspace) -> None:
    """`dpo-bot slack` (Socket Mode): unsigned envelopes, retries as retry_attempt."""
    ws.live.run(ws.slack.slash_command("/dpo", "sar", user_id=STAFF)
                .async_dispatch_socket_mode(ws.live.bot.app))
    assert ws.fake.wait_for("views.open")[0].args["view"]["callback_id"] == "intake:sar"
    hello = ws.slack.message_im("hello", user_id=STAFF)
    for envelope in (hello, ws.slack.retry(hello, num=1)):
        ws.live.run(envelope.async_dispatch_socket_mode(ws.live.bot.app))
    ws.live.settle()
    assert [said(c)[:18] for c in ws.fake.calls("chat.postMessage")] == [
        "Hello Sam Teacher."]


# -- A. `dpo-bot slack --http` as a subprocess -----------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli_env(fake: FakeSlack, database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SLACK_") and k != "DPO_BOT_DATABASE_URL"}
    return env | {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                  "SLACK_API_URL": fake.url, "DPO_BOT_DATABASE_URL": f"sqlite:///{database}",
                  "COLUMNS": "200"}


def dpo_bot(*args: str) -> list[str]:
    """The `dpo-bot` command, from this checkout or an installed wheel alike."""
    return [sys.executable, "-m", "bot.cli", *args]


class Server:
    """`dpo-bot slack --http` running; its log goes to a file (read on failure)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port, self.log = free_port(), log
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        self.output = log.open("w")
        self.process = subprocess.Popen(
            dpo_bot("slack", "--http", "--host", "127.0.0.1", "--port", str(self.port)),
            env=env, cwd=ROOT, stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, f"dpo-bot slack exited:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                assert time.monotonic() < deadline, f"no /healthz:\n{log.read_text()}"
                time.sleep(0.1)

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.output.close()
        return self.log.read_text()


def test_dpo_bot_slack_http_runs_a_sar_from_command_to_decision(
    tmp_path: Path, fake: FakeSlack
) -> None:
    database = tmp_path / "dpo-bot.db"
    env = cli_env(fake, database)
    added = subprocess.run(dpo_bot("people", "add", "Dee Dpo", "--role", "dpo", "--email",
                                   USERS[DPO]["email"]), env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    server = Server(env, tmp_path / "dpo-bot-slack.log")
    slack = SlackRequests.for_fake(SECRET, fake)

    def post(request: SignedRequest) -> dict[str, Any]:
        view = request.payload.get("view") if request.payload.get(
            "type") == "view_submission" else None
        before = view_updates(fake, view["id"]) if view else 0
        result = request.post(server.url)
        assert result.status == 200, result.body
        ack = ack_body(result.body)
        # Worker processes just started may answer a submission too late for its ack.
        return as_answered(fake, view, ack, before) if view else ack

    def modal(opened: int) -> dict[str, Any]:
        return fake.filled(fake.wait_for("views.open", opened, timeout=10)[-1], timeout=60)

    def save(view: dict[str, Any], values: dict[str, Any]) -> str:
        summary = post(slack.view_submission(view=view, values=values, user_id=STAFF))
        assert summary["response_action"] == "update", summary
        assert summary["view"]["submit"]["text"] == "Save"
        saved = post(slack.view_submission(view={**summary["view"], "id": view["id"]},
                                           values={}, user_id=STAFF))
        return re.search(r"Saved as (SAR-\d{4}-\d{4})\.", json.dumps(saved)).group(1)

    try:
        # The global shortcut: a modal built from the SAR declaration; a bad answer comes
        # back on its own block; then the summary, and Save.
        assert post(slack.shortcut("start:sar", user_id=STAFF)) == {}
        first = modal(1)
        assert first["title"]["text"] == "Subject access request"
        assert [b["block_id"] for b in first["blocks"]] == intake_fields()
        errors = post(slack.view_submission(view=first, values=sar_values(
            received_at=f"{london_day(1)} 10:00"), user_id=STAFF))
        assert errors["response_action"] == "errors"
        assert list(errors["errors"]) == ["received_at"]
        one = save(first, sar_values())

        # /dpo sar: the same modal.
        assert post(slack.slash_command("/dpo", "sar", user_id=STAFF)) == {}
        two = save(modal(2), sar_values(requester_name="John Other", about_requester=
                                        static_select("yes"), subject_name=None))
        assert (one[-4:], two[-4:]) == ("0001", "0002")

        with sqlite3.connect(database) as db:
            rows = db.execute(
                "SELECT r.reference, r.state, r.requester_name, p.name, p.slack_user_id "
                "FROM rights_request r JOIN person p ON p.id = r.created_by_id "
                "ORDER BY r.id").fetchall()
        assert rows == [(one, "open", "Jane Parent", "Sam Teacher", STAFF),
                        (two, "open", "John Other", "Sam Teacher", STAFF)]

        # Sam gets each case as a receipt; Dee, configured by email, is found in Slack and
        # gets an alert with the case and her buttons (the worker runs every 3 seconds).
        receipts = [c for c in fake.wait_for("chat.postMessage", 4, timeout=15)
                    if c.response["channel"] == dm_channel_id(STAFF)]
        assert [said(c).split("\n")[0] for c in receipts] == [
            f":white_check_mark: Saved as {one}.", f":white_check_mark: Saved as {two}."]
        assert lines(receipts[0].args["blocks"])[1] == (
            f"{one} · Subject access request")  # the case card, after "Saved as"
        assert [c.args["email"] for c in fake.calls("users.lookupByEmail")] == [
            USERS[DPO]["email"]]
        alerts = [c for c in fake.calls("chat.postMessage")
                  if c.response["channel"] == dm_channel_id(DPO)]
        assert [c.args["text"].split(" request:")[0] for c in alerts] == [
            f"New: {one} subject access", f"New: {two} subject access"]
        take = button_for(alerts[0].args["blocks"], "take")
        with sqlite3.connect(database) as db:
            (school_id,) = db.execute("SELECT id FROM school").fetchone()
        assert take["value"] == f"{one}|1|{school_id}"

        # Dee takes case one on that very message: it now says who did what, and when.
        message = fake.messages[(alerts[0].response["channel"], alerts[0].response["ts"])]
        post(slack.block_actions("act:take", value=take["value"], block_id=f"case:{one}",
                                 user_id=DPO, channel_id=dm_channel_id(DPO), message=message))
        (update,) = fake.wait_for("chat.update", timeout=10)
        assert update.args["ts"] == alerts[0].response["ts"]
        assert_decided(update.args["blocks"], "Take the case")

        # From App Home, Dee opens case one again and extends it.
        post(slack.app_home_opened(DPO))
        home = fake.wait_for("views.publish", timeout=10)[-1].args["view"]
        assert re.search(rf"\*{one}\* · Subject access request · Open\n\d+ days left",
                         words(home["blocks"]))
        posted = fake.count("chat.postMessage")
        post(slack.block_actions("open", value=one, view=fake.views[fake.home_views[DPO]],
                                 user_id=DPO))
        card = fake.wait_for("chat.postMessage", posted + 1, timeout=10)[-1]
        extend = button_for(card.args["blocks"], "extend")
        assert extend["value"] == f"{one}|2|{school_id}" and "confirm" not in extend
        message = fake.messages[(card.response["channel"], card.response["ts"])]
        post(slack.block_actions("act:extend", value=extend["value"], block_id=f"case:{one}",
                                 user_id=DPO, channel_id=dm_channel_id(DPO), message=message))
        form = modal(3)
        assert [b["block_id"] for b in form["blocks"] if b["type"] == "input"] == [
            "reason", "notice_on"]
        assert post(slack.view_submission(view=form, user_id=DPO, values={
            "reason": {"value": plain_text_input("Several thousand emails to review")},
            "notice_on": {"value": datepicker(london_today())}})) == {}
        updated = fake.wait_for("chat.update", 2, timeout=10)[-1]
        assert updated.args["ts"] == card.response["ts"]
        assert_decided(updated.args["blocks"], "Extend by two months")

        with sqlite3.connect(database) as db:
            extended = db.execute(
                "SELECT r.extended, r.extension_reason, r.extension_notice_on, p.name "
                "FROM rights_request r JOIN person p ON p.id = r.owner_id "
                "WHERE r.reference = ?", (one,)).fetchone()
        assert extended == (1, "Several thousand emails to review", london_today(), "Dee Dpo")
    finally:
        log = server.stop()
    assert "Traceback" not in log and " ERROR " not in log, log
    assert "Connected to Slack workspace DPO Test School as dpo-bot." in log
    check_every_call(fake)


# -- C. start-up refusals --------------------------------------------------------------------


def start(*args: str, **env: str | None) -> tuple[int, str]:
    """`dpo-bot slack ...` with these settings; (exit code, what it said, on one line)."""
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, ["slack", *args], env={n: None for n in SLACK_ENV} | env)
    return result.exit_code, " ".join(result.output.split())


def test_socket_mode_without_the_app_token_names_it(tmp_path: Path) -> None:
    assert start(SLACK_BOT_TOKEN=TOKEN) == (2, (
        "Error: SLACK_APP_TOKEN is not set. Find it at Basic Information > App-Level Tokens: "
        "create one with the connections:write scope (starts xapp-)."))


def test_a_user_token_in_place_of_the_bot_token_is_refused() -> None:
    assert start(SLACK_BOT_TOKEN="xoxp-123-456", SLACK_APP_TOKEN="xapp-1-A-1-x") == (2, (
        "Error: SLACK_BOT_TOKEN should start with xoxb- but does not. Find it at your app's "
        "page at api.slack.com/apps > OAuth & Permissions > Bot User OAuth Token "
        "(starts xoxb-)."))


def test_http_mode_without_the_signing_secret_names_it() -> None:
    assert start("--http", SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN="xapp-1-A-1-x") == (2, (
        "Error: SLACK_SIGNING_SECRET is not set. Find it at Basic Information > App "
        "Credentials > Signing Secret."))


def test_a_token_slack_refuses_stops_the_start(tmp_path: Path, fake: FakeSlack) -> None:
    fake.reject_token("xoxb-revoked")
    code, said = start("--http", SLACK_BOT_TOKEN="xoxb-revoked", SLACK_SIGNING_SECRET=SECRET,
                       SLACK_API_URL=fake.url,
                       DPO_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'dpo-bot.db'}")
    assert (code, said) == (2, (
        "Error: Slack refused SLACK_BOT_TOKEN (invalid_auth). Check it at your app's page at "
        "api.slack.com/apps > OAuth & Permissions > Bot User OAuth Token (starts xoxb-)."))
    assert [c.method for c in fake.calls()] == ["auth.test"]


# -- D. the manifest -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    import yaml

    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def test_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} is absent (the shared schemas live beside the checkout)")
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema).check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)
    assert [e.message for e in errors] == []


def test_manifest_matches_what_the_app_does(manifest: dict[str, Any]) -> None:
    features, settings = manifest["features"], manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["app_home"]["messages_tab_read_only_enabled"] is False  # people write
    assert [c["command"] for c in features["slash_commands"]] == ["/dpo"]
    # The hint names every form /dpo opens, a case reference, and the core's other words.
    hint = features["slash_commands"][0]["usage_hint"].split(" | ")
    assert [w for w in hint if workflow_for_text(w)] == list(WORKFLOWS)
    assert any(re.search(r"\bSAR-\d{4}-\d{4}\b", w) for w in hint), hint
    assert {"cases", "help"} <= set(hint)
    shortcuts = features["shortcuts"]
    # One per workflow that declares a shortcut, under its declared name.
    assert sorted((s["callback_id"], s["name"]) for s in shortcuts) == sorted(
        [(f"start:{w.name}", w.shortcut) for w in WORKFLOWS.values() if w.shortcut]
        + [("ask:consent", "Check photo consent")])
    assert {"start:sar", "start:breach", "start:software"} <= {
        s["callback_id"] for s in shortcuts}
    assert {s["type"] for s in shortcuts} == {"global"}
    assert sorted(settings["event_subscriptions"]["bot_events"]) == [
        "app_home_opened", "message.im", "user_change"]


# The scope each Web API method and event needs (api.slack.com/methods, /events).
METHOD_SCOPES = {
    "auth_test": None, "views_open": None, "views_publish": None, "views_update": None,
    "chat_postMessage": "chat:write", "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write", "users_info": "users:read",
    "users_lookupByEmail": "users:read.email", "files_upload_v2": "files:write",
}
EVENT_SCOPES = {"app_home_opened": None, "message.im": "im:history",
                "user_change": "users:read"}


def test_manifest_asks_for_exactly_the_scopes_the_code_uses(manifest: dict[str, Any]) -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "slack").rglob(
        "*.py"))
    used = set(re.findall(r"\bclient\.(\w+)\(", source))
    assert used <= METHOD_SCOPES.keys(), f"add the scope of {used - METHOD_SCOPES.keys()}"
    needed = {METHOD_SCOPES[m] for m in used} | {
        EVENT_SCOPES[e] for e in manifest["settings"]["event_subscriptions"]["bot_events"]}
    needed |= {"commands"}  # the /dpo command and the global shortcuts
    needed |= {"chat:write"}  # say() and respond() post as the bot
    needed |= {"users:read.email"}  # users.info's email links the DPO configured by email
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(needed - {None})


# -- Breach reporting in Slack ----------------------------------------------------------------


def test_a_breach_from_the_shortcut_starts_the_clock_and_asks_the_rest_in_the_dm(
    ws: Workspace,
) -> None:
    """Three answers in the modal start the clock; the details follow in the reporter's DM;
    the shared alert channel gets the reference and the countdown, and nothing else."""
    alerts = "C0ALERTS1"
    ws.live.bot.settings = replace(ws.live.bot.settings, alert_channel=alerts)
    assert ws.live.send(ws.slack.shortcut("start:breach", user_id=STAFF)).status == 200
    opened = ws.fake.wait_for("views.open")[-1]
    assert opened.args["view"]["callback_id"] == "intake:breach"
    modal = ws.fake.filled(opened)
    assert [b["block_id"] for b in modal["blocks"]] == [
        "what_happened", "found_at", "found_at__time", "ongoing"]
    assert [b["element"]["type"] for b in modal["blocks"]][1:3] == ["datepicker", "timepicker"]
    what = "Emailed Tom's SEN report to the wrong parent"
    now = datetime.now(ZoneInfo("Europe/London"))
    ack = ws.submit(modal, {
        "what_happened": {"value": plain_text_input(what)},
        "found_at": {"value": datepicker(now.date().isoformat())},
        "found_at__time": {"value": {"type": "timepicker", "selected_time": f"{now:%H:%M}"}},
        "ongoing": {"value": static_select("no")},
    })
    assert ack["response_action"] == "update", ack
    saved = ws.submit({**ack["view"], "id": modal["id"]}, {})
    assert saved["view"]["title"]["text"] == "Saved"
    ws.live.settle()

    with session_scope(ws.engine) as session:
        from workflows.breach.models import Breach

        (breach,) = session.exec(select(Breach)).all()
        reference = breach.reference
        assert breach.aware_at is not None and breach.created_by_id == ws.school.people["sam"]
    # The receipt, then the first follow-up question, in Sam's DM.
    to_sam = [c for c in ws.fake.calls("chat.postMessage")
              if c.response.get("channel") == dm_channel_id(STAFF)]
    assert said(to_sam[0]).startswith(f":white_check_mark: Saved as {reference}.")
    question = words(to_sam[-1].args["blocks"])
    assert question.startswith(f"Add details — {reference}.\n*What kind of incident was it?")
    # ...and Sam's answer there goes on with the same report, not a new one.
    assert ws.live.send(ws.slack.message_im("wrong person", user_id=STAFF)).status == 200
    ws.live.settle()
    answer = [c for c in ws.fake.calls("chat.postMessage")
              if c.response.get("channel") == dm_channel_id(STAFF)][-1]
    assert "*What kinds of data? e.g." in words(answer.args["blocks"])

    assert ws.live.deliver() >= 1
    shared = [c for c in ws.fake.calls("chat.postMessage") if c.args["channel"] == alerts]
    assert len(shared) == 1
    text = shared[0].args["text"] + words(shared[0].args.get("blocks", []))
    assert reference in text and "ICO deadline" in text and "left" in text
    for private in ("Tom", "SEN", "wrong parent", "Sam Teacher", "Jane"):
        assert private not in text
    assert ws.live.deliver() == 0  # posted once, not again on the next pass
    assert len([c for c in ws.fake.calls("chat.postMessage") if c.args["channel"] == alerts]) == 1

    # The DPO decides from her private alert: the reason in a modal, the message updated.
    alert = ws.alert_for(reference)
    assert ws.live.send(ws.click(alert, "not_reportable")).status == 200
    opened = ws.fake.wait_for("views.open", 2)[-1]  # after the intake modal
    modal = ws.fake.filled(opened)
    assert modal["callback_id"] == "decide"
    reason = "Recalled; the parent confirmed deletion unread"
    assert ws.submit(modal, {"reason": {"value": plain_text_input(reason)}}, DPO) == {}
    with session_scope(ws.engine) as session:
        decided = session.get(Breach, breach.id)
        assert (decided.ico_decision, decided.ico_reason) == ("not_reportable", reason)
        assert decided.ico_decided_by_id == ws.school.people["dee"]
    (update,) = ws.fake.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (alert.response["channel"],
                                                           alert.response["ts"])
    assert_decided(ws.message(alert)["blocks"], "Not reportable")
    # The ICO decision is taken: it is offered no more; what is left to decide still is.
    left = offered(ws.message(alert)["blocks"])
    assert "not_reportable" not in left and "report_to_ico" not in left
    assert "tell_people" in left



def test_each_school_alerts_its_own_channel_about_its_own_first_breach(ws: Workspace) -> None:
    """Two schools' apps on one database: each has a BRE-2026-0001, and one school's alert
    having gone out must not stop the other's."""
    oakwood = make_school(ws.engine, slug="oakwood", name="Oakwood Academy")
    with session_scope(ws.engine) as session:
        session.get(Person, oakwood.people["dee"]).slack_user_id = DPO
    ws.live.bot.settings = replace(ws.live.bot.settings, alert_channel="C0ALERTS1")
    oak_settings = replace(ws.live.bot.settings, alert_channel="C0OAKALERTS")

    async def oakwood_app() -> SlackBot:
        return SlackBot(ws.engine, oak_settings, "oakwood")

    oak_bot = ws.live.run(oakwood_app())
    breach = ("report a breach", "Lost a USB stick with the class list", "now", "no", "yes")
    assert "BRE-2026-0001" in oakwood.says("sam", *breach)
    assert ws.live.run(deliver_once(oak_bot)) >= 1
    assert "BRE-2026-0001" in ws.school.says("sam", *breach)
    assert ws.live.deliver() >= 1
    alerted = {c.args["channel"]: c.args["text"] for c in ws.fake.calls("chat.postMessage")
               if c.args["channel"] in ("C0ALERTS1", "C0OAKALERTS")}
    assert sorted(alerted) == ["C0ALERTS1", "C0OAKALERTS"]
    assert all("BRE-2026-0001" in text for text in alerted.values())


def test_consent_shortcut_answers_in_the_modal_to_the_asker_only(ws: Workspace) -> None:
    run_import(ws.school, consent_export("sims"))

    def shortcut(user: str) -> dict[str, Any]:
        before = ws.fake.count("views.open")
        assert ws.live.send(ws.slack.shortcut("ask:consent", user_id=user)).status == 200
        opened = ws.fake.wait_for("views.open", before + 1)[-1]
        return ws.fake.filled(opened)

    modal = shortcut(DPO)
    assert modal["callback_id"] == "consent"
    use = next(b for b in modal["blocks"] if b.get("block_id") == "use")
    assert [o["value"] for o in use["element"]["options"]][:4] == [
        "all", "displays", "print", "website"]

    # Two Amelias: the bot asks which, keeping what was typed so it can be narrowed.
    ack = ws.submit(modal, {"who": {"value": plain_text_input("Amelia")},
                            "use": {"value": static_select("website")}}, DPO)
    assert ack["response_action"] == "update"
    said = words(ack["view"]["blocks"])
    assert "Amelia Smith" in said and "Amelia Khan" in said and "4B" in said
    who = next(b for b in ack["view"]["blocks"] if b.get("block_id") == "who")
    assert who["element"]["initial_value"] == "Amelia"
    check_blocks(ack["view"], "modal")

    answer = ws.submit({**ack["view"], "id": modal["id"]},
                       {"who": {"value": plain_text_input("Amelia in 4B")},
                        "use": {"value": static_select("website")}}, DPO)
    assert ":white_check_mark: Yes: Amelia Smith (4B, Year 4)" in words(answer["view"]["blocks"])

    whole = ws.submit(modal, {"who": {"value": plain_text_input("4b")},
                              "use": {"value": static_select("social_media")}}, DPO)
    said = words(whole["view"]["blocks"])
    assert "4B: leave out of social media (4 of 5 pupils)" in said
    assert said.index("Grace Taylor") < said.index("Harry Patel")  # safeguarding first

    empty = ws.submit(modal, {"who": {"value": plain_text_input("   ")},
                              "use": {"value": static_select("website")}}, DPO)
    assert empty["response_action"] == "errors" and "who" in empty["errors"]

    # Nothing was posted anywhere: the answers lived in the asker's own modal.
    assert ws.fake.count("chat.postMessage") == 0
    with session_scope(ws.engine) as session:
        seen = session.exec(select(AuditEvent.action).where(
            col(AuditEvent.action).startswith("consent."))).all()
    assert seen.count("consent.viewed") == 1 and "consent.class_viewed" in seen

    # Sam (staff) may ask too, by default (DOMAIN.md 4): the teachers take the photos.
    before = ws.fake.count("views.open")
    assert ws.live.send(ws.slack.shortcut("ask:consent", user_id=STAFF)).status == 200
    ws.fake.wait_for("views.open", before + 1)
    # Where the school restricts lookups, Sam is told in the modal the shortcut opened (which
    # asks nothing) what the DPO runs to add her.
    restrict_lookups(ws.school)
    before = ws.fake.count("views.open")
    assert ws.live.send(ws.slack.shortcut("ask:consent", user_id=STAFF)).status == 200
    refusal = ws.fake.filled(ws.fake.wait_for("views.open", before + 1)[-1])
    assert 'runs: dpo-bot people add "Sam Teacher" --consent' in words(refusal["blocks"])
    assert "submit" not in refusal, refusal


def test_a_received_date_long_ago_is_read_back_on_the_confirm_view(ws: Workspace) -> None:
    """A modal has no turn to ask "is that right?": the confirm view reads the date back, and
    an absurd one comes back on its field."""
    modal = ws.open_intake(STAFF)
    ack = ws.submit(modal, sar_values(received_at="1900-01-01"))
    assert ack["response_action"] == "errors"
    assert "Monday 1 January 1900 can't be right" in ack["errors"]["received_at"]
    weeks_ago = datetime.now(ZoneInfo("Europe/London")).date() - timedelta(days=35)
    ack = ws.submit(modal, sar_values(received_at=weeks_ago.isoformat()))
    assert ack["response_action"] == "update" and ack["view"]["callback_id"] == "confirm"
    assert "That is 5 weeks ago: is that right?" in words(ack["view"]["blocks"])
    assert ws.cases() == []


def test_a_backlog_goes_out_pass_after_pass_without_waiting(ws: Workspace) -> None:
    """The Monday digests: more than a pass's worth waiting is all sent, each pass straight
    after the last, not one pass per interval (here an hour)."""
    sam = ws.school.people["sam"]
    with session_scope(ws.engine) as session:
        for n in range(120):
            notifications.queue(session, school_id=ws.school.school_id, people=[sam],
                                kind="reminder.deadline", key=f"backlog:{n}",
                                text=f"Nudge {n}", by=None)
    stop = asyncio.Event()
    running = asyncio.run_coroutine_threadsafe(
        deliver_forever(ws.live.bot, stop, interval=3600), ws.live.loop)
    try:
        ws.fake.wait_for("chat.postMessage", 120, timeout=60)
    finally:
        ws.live.loop.call_soon_threadsafe(stop.set)
        running.result(timeout=30)
    with session_scope(ws.engine) as session:
        assert notifications.pending(session, sam) == []
    assert ws.fake.count("chat.postMessage") == 120  # each once
