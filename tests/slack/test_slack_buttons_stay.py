"""Tried as a new user would, in the Slack harness: a SAR, a breach and a software request
from the shortcut, saved, then decided step by step by the DPO from the one message the
alert came in, never typing a reference. Each decision redraws that message with the
buttons the core now offers (pause after take, resume after pause...), a double click
decides once, and a new app instance on the same database carries on from the same
message. SQLite and PostgreSQL."""
# ruff: noqa: F811  (the ``ws`` fixture is imported, then asked for by name)

from __future__ import annotations

import re
from typing import Any

from sqlmodel import select

from tests.slack.fake_slack import Call, dm_channel_id
from tests.slack.reading import words
from tests.slack.signing import datepicker, plain_text_input, static_select
from tests.slack.test_slack_app import (  # noqa: F401  (fixtures used by name)
    DPO,
    STAFF,
    LiveBot,
    Workspace,
    _no_slack_env,
    actions_of,
    assert_decided,
    fake,
    london_today,
    offered,
    ws,
)
from tests.slack.test_slack_software import software_values
from workflows.audit.models import AuditEvent
from workflows.breach.models import Breach
from workflows.database import session_scope
from workflows.registry import WORKFLOWS
from workflows.sar.models import SarState
from workflows.software.models import SoftwareRequest


def step(ws: Workspace, alert: Call, action: str, values: dict[str, Any] | None = None
         ) -> list[dict[str, Any]]:
    """Click ``action`` on the message as Slack now shows it, answer its modal if it asks,
    and return the message as it is redrawn."""
    updates, modals = ws.fake.count("chat.update"), ws.fake.count("views.open")
    assert ws.live.send(ws.click(alert, action)).status == 200
    if values is not None:
        opened = ws.fake.wait_for("views.open", modals + 1)[-1]
        modal = ws.fake.filled(opened)
        assert modal["callback_id"] == "decide"
        assert ws.submit(modal, values, DPO) == {}
    ws.fake.wait_for("chat.update", updates + 1)
    ws.live.settle()
    blocks = ws.message(alert)["blocks"]
    assert_decided(blocks, WORKFLOWS[_workflow(alert)].action(action).label)
    # What a phone shows for the message: the case and its clock, never whose data.
    assert ws.fake.last("chat.update").args["text"].startswith(_reference(alert))
    return blocks


def _reference(alert: Call) -> str:
    found = re.search(r"[A-Z]+-\d{4}-\d{4}", alert.args["text"])
    assert found, alert.args["text"]
    return found.group(0)


def _workflow(alert: Call) -> str:
    prefix = _reference(alert).split("-")[0]
    return next(name for name, w in WORKFLOWS.items() if w.prefix == prefix)


def restart(ws: Workspace) -> None:
    """A new app instance on the same database (a redeploy, a crash): nothing in memory."""
    ws.live.settle()
    ws.live.close()
    ws.live = LiveBot(ws.engine, ws.fake)


def audited(ws: Workspace, action: str) -> int:
    with session_scope(ws.engine) as session:
        return len(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_a_sar_taken_paused_resumed_and_closed_from_one_message(ws: Workspace) -> None:
    reference = ws.log_sar(STAFF)
    receipt = ws.fake.calls("chat.postMessage")[0]
    # Staff see what their role allows on their own case, and no decision.
    assert offered(receipt.args["blocks"]) == ["note"]
    assert ws.live.deliver() == 1
    alert = ws.alert_for(reference)
    assert alert.args["text"].startswith(f"New: {reference} subject access request: ")
    assert "Jane" not in alert.args["text"] and "Tom" not in alert.args["text"]
    assert "take" in offered(alert.args["blocks"])

    # A double click on "Take the case": one decision; the second is told why, with the case
    # as it now stands, and both leave the next steps on the message.
    first, second = ws.click(alert, "take"), ws.click(alert, "take")
    ws.live.send_all(first, second)
    ws.live.settle()
    assert audited(ws, "sar.take") == 1
    texts = [words(c.args["blocks"]) for c in ws.fake.calls("chat.update")]
    assert len(texts) == 2 and sum("You already did “take”" in t for t in texts) == 1
    shown = ws.message(alert)["blocks"]
    assert "take" not in offered(shown) and "pause" in offered(shown)
    assert all(b["value"] == f"{reference}|2|{ws.school.school_id}" for b in actions_of(shown))

    shown = step(ws, alert, "pause", {"asked_on": {"value": datepicker(london_today())},
                                      "question": {"value": plain_text_input("Which years?")}})
    assert ws.case(reference).state == SarState.PAUSED
    assert "resume" in offered(shown) and "pause" not in offered(shown)

    restart(ws)  # halfway: the message's buttons still work against a new instance

    shown = step(ws, alert, "resume", {"answered_on": {"value": datepicker(london_today())}})
    assert ws.case(reference).state == SarState.OPEN
    assert "pause" in offered(shown) and "resume" not in offered(shown)
    shown = step(ws, alert, "close", {
        "outcome": {"value": static_select("disclosed_full")},
        "reason": {"value": plain_text_input(None)},
        "responded_on": {"value": datepicker(london_today())},
        "method": {"value": static_select("email")}})
    assert ws.case(reference).state == SarState.CLOSED
    # Closed: no decision is left; only what may still be added to a closed record.
    assert set(offered(shown)) <= {"note"}
    # Nobody typed a reference: every step was a click on the one alert message.
    assert ws.fake.count("chat.postMessage") == 2  # Sam's receipt and Dee's alert
    assert not [c for c in ws.fake.calls("chat.postMessage")
                if c.response.get("channel") == dm_channel_id(DPO) and c is not alert]


def test_a_breach_decided_and_closed_from_one_message(ws: Workspace) -> None:
    assert ws.live.send(ws.slack.shortcut("start:breach", user_id=STAFF)).status == 200
    opened = ws.fake.wait_for("views.open")[-1]
    modal = ws.fake.filled(opened)
    ack = ws.submit(modal, {
        "what_happened": {"value": plain_text_input("Emailed Tom's report to the wrong parent")},
        "found_at": {"value": plain_text_input("now")},
        "ongoing": {"value": static_select("no")}})
    assert ws.submit({**ack["view"], "id": modal["id"]}, {})["view"]["title"]["text"] == "Saved"
    ws.live.settle()
    with session_scope(ws.engine) as session:
        reference = session.exec(select(Breach)).one().reference
    assert ws.live.deliver() >= 1
    alert = ws.alert_for(reference)
    assert re.fullmatch(rf"New: {reference} breach: \d+ hours left to tell the ICO",
                        alert.args["text"]), alert.args["text"]

    shown = step(ws, alert, "not_reportable",
                 {"reason": {"value": plain_text_input("Recalled unread")}})
    assert "not_reportable" not in offered(shown) and "tell_people" in offered(shown)
    assert "close" not in offered(shown)  # not until telling people is decided too
    restart(ws)
    shown = step(ws, alert, "tell_people", {
        "tell": {"value": static_select("no")},
        "how": {"value": plain_text_input(None)},
        "exemption": {"value": static_select("not_high")},
        "reason": {"value": plain_text_input("Deleted unread; low risk")},
        "override": {"value": plain_text_input(None)}})
    assert "tell_people" not in offered(shown) and "close" in offered(shown)
    shown = step(ws, alert, "close", {
        "remedial": {"value": plain_text_input("Recall set up on email")},
        "lessons": {"value": plain_text_input("Check the address")}})
    assert set(offered(shown)) <= {"update"}
    with session_scope(ws.engine) as session:
        assert session.exec(select(Breach)).one().state == "closed"


def test_a_software_request_asked_about_then_approved_from_one_message(ws: Workspace) -> None:
    assert ws.live.send(ws.slack.shortcut("start:software", user_id=STAFF)).status == 200
    opened = ws.fake.wait_for("views.open")[-1]
    modal = ws.fake.filled(opened)
    ack = ws.submit(modal, software_values(dpa=static_select("yes")))
    assert ws.submit({**ack["view"], "id": modal["id"]}, {})["view"]["title"]["text"] == "Saved"
    ws.live.settle()
    with session_scope(ws.engine) as session:
        reference = session.exec(select(SoftwareRequest)).one().reference
    assert ws.live.deliver() == 1
    alert = ws.alert_for(reference)
    assert alert.args["text"].startswith(f"New: {reference} software request")
    assert "Maths" not in alert.args["text"]

    shown = step(ws, alert, "ask", {"question": {"value": plain_text_input("Which classes?")}})
    assert "approve" in offered(shown)  # asking decides nothing: the decisions stay
    restart(ws)
    shown = step(ws, alert, "approve", {"reason": {"value": plain_text_input("Fine")},
                                        "dpia": {"value": static_select("done")},
                                        "dpia_note": {"value": plain_text_input("Done in May")}})
    assert not {"approve", "reject", "approve_with_conditions"} & set(offered(shown))
    with session_scope(ws.engine) as session:
        assert session.exec(select(SoftwareRequest)).one().state == "approved"
