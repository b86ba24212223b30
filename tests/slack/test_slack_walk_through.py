"""The new user's walk-through in the Slack harness: a SAR, a breach and a software request
from the shortcut or /dpo, one answer changed at the summary ("Change answers", the form
back with every value, one edited), saved; then the DPO decides each from the one message
the alert came in (take, assign to a colleague from a users_select, pause, resume, close;
a colleague the field does not allow refused in the modal), never typing a reference. The
case history records each decision, who made it and when. SQLite and PostgreSQL."""
# ruff: noqa: F811  (the ``ws`` fixture is imported, then asked for by name)

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.slack import blocks
from tests.slack.fake_slack import dm_channel_id
from tests.slack.reading import words
from tests.slack.signing import datepicker, plain_text_input, static_select, users_select
from tests.slack.test_slack_app import (  # noqa: F401  (fixtures used by name)
    DPO,
    STAFF,
    Workspace,
    fake,
    london_today,
    offered,
    sar_values,
    ws,
)
from tests.slack.test_slack_buttons_stay import step
from tests.slack.test_slack_forms import untouched
from tests.slack.test_slack_software import software_values
from workflows.audit.models import AuditEvent
from workflows.breach.models import Breach
from workflows.core.models import Conversation
from workflows.database import session_scope
from workflows.people.models import Person
from workflows.sar.models import RightsRequest, SarState
from workflows.software.models import SoftwareRequest

DEPUTY, KIM = "U0DEPUTY1", "U0KIMTCH1"


def colleagues_on_slack(ws: Workspace) -> None:
    """Vic (a deputy) and Kim (staff) have written to the bot before: linked by Slack id."""
    with session_scope(ws.engine) as session:
        session.get_one(Person, ws.school.people["vic"]).slack_user_id = DEPUTY
        session.get_one(Person, ws.school.people["kim"]).slack_user_id = KIM


def start(ws: Workspace, name: str, via: str) -> dict[str, Any]:
    before = ws.fake.count("views.open")
    request = (ws.slack.shortcut(f"start:{name}", user_id=STAFF) if via == "shortcut"
               else ws.slack.slash_command("/dpo", name, user_id=STAFF))
    assert ws.live.send(request).status == 200
    return ws.fake.filled(ws.fake.wait_for("views.open", before + 1)[-1])


def changed_once(ws: Workspace, modal: dict[str, Any], values: dict[str, Any],
                 field: str, new: str) -> str:
    """Fill the form, reach the summary, "Change answers", edit one answer, save; returns
    what the saved notice says. Only that answer differs from the first summary's."""
    first = ws.submit(modal, values)
    assert first["response_action"] == "update", first
    summary = first["view"]
    updates = ws.fake.count("views.update")
    ws.live.send(ws.slack.block_actions(
        blocks.EDIT_ANSWERS, block_id=blocks.EDIT_ANSWERS, user_id=STAFF,
        view={**summary, "id": modal["id"], "hash": ws.fake.views[modal["id"]]["hash"]}))
    ws.fake.wait_for("views.update", updates + 1)
    form = ws.fake.views[modal["id"]]
    again = untouched(form)
    assert again[field]["value"]["value"] != new
    again[field] = {"value": plain_text_input(new)}
    second = ws.submit(form, again)
    assert second["response_action"] == "update", second
    assert new in words(second["view"]["blocks"])
    with session_scope(ws.engine) as session:
        one, two = [c.answers for c in session.exec(select(Conversation)
                                                    .order_by(col(Conversation.id)))][-2:]
    assert {k for k in one.keys() | two.keys() if one.get(k) != two.get(k)} == {field}
    saved = ws.submit({**second["view"], "id": modal["id"]}, {})
    assert saved["view"]["title"]["text"] == "Saved"
    ws.live.settle()
    return words(saved["view"]["blocks"])


def history(ws: Workspace, subject_type: str, reference: str, since: datetime
            ) -> list[tuple[str, str, str]]:
    """The decisions on the case: (what, who, through which adapter), each at a moment
    between ``since`` and now."""
    with session_scope(ws.engine) as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.subject_type == subject_type, AuditEvent.subject_ref == reference,
            ~col(AuditEvent.action).endswith(".viewed")).order_by(col(AuditEvent.id))).all()
        assert all(since <= e.at <= datetime.now(UTC) + timedelta(seconds=1) for e in events)
        return [(e.action, e.actor_name, e.adapter) for e in events]


def test_a_sar_from_the_shortcut_changed_once_then_decided_from_one_message(
        ws: Workspace) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    colleagues_on_slack(ws)
    modal = start(ws, "sar", "shortcut")
    shown = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    # When it was received is for them to think about: a wrong guess moves a legal deadline.
    assert "initial_date" not in shown["received_at"]
    assert "initial_time" not in shown["received_at" + blocks.TIME]
    said = changed_once(ws, modal, sar_values(), "requester_name", "Jane Parent-Smith")
    with session_scope(ws.engine) as session:
        case = session.exec(select(RightsRequest)).one()
        reference, name = case.reference, case.requester_name
    assert reference in said and name == "Jane Parent-Smith"
    assert ws.live.deliver() >= 1
    alert = ws.alert_for(reference)

    step(ws, alert, "take")
    assert ws.case(reference).owner_id == ws.school.people["dee"]
    shown_blocks = step(ws, alert, "assign", {"person": {"value": users_select(DEPUTY)}})
    assert ws.case(reference).owner_id == ws.school.people["vic"]
    assert "Vic Deputy" in words(shown_blocks)
    step(ws, alert, "take")  # and back: the DPO takes it over again
    step(ws, alert, "pause", {"asked_on": {"value": datepicker(london_today())},
                              "question": {"value": plain_text_input("Which years?")}})
    assert ws.case(reference).state == SarState.PAUSED
    step(ws, alert, "resume", {"answered_on": {"value": datepicker(london_today())}})
    shown_blocks = step(ws, alert, "close", {
        "outcome": {"value": static_select("disclosed_full")},
        "reason": {"value": plain_text_input(None)},
        "responded_on": {"value": datepicker(london_today())},
        "method": {"value": static_select("email")}})
    assert ws.case(reference).state == SarState.CLOSED
    assert set(offered(shown_blocks)) <= {"note"}
    assert history(ws, "sar", reference, since) == [
        ("sar.created", "Sam Teacher", "slack"),
        ("sar.take", "Dee Dpo", "slack"), ("sar.assign", "Dee Dpo", "slack"),
        ("sar.take", "Dee Dpo", "slack"), ("sar.pause", "Dee Dpo", "slack"),
        ("sar.resume", "Dee Dpo", "slack"), ("sar.close", "Dee Dpo", "slack")]
    # Every step was a click on the one alert: nobody typed a reference.
    assert not [c for c in ws.fake.calls("chat.postMessage")
                if c.response.get("channel") == dm_channel_id(DPO) and c is not alert]


def test_a_breach_from_the_command_found_now_by_default_then_decided(ws: Workspace) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    modal = start(ws, "breach", "command")
    shown = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    # Found: now, on the school's clock, already in the pickers.
    assert shown["found_at"]["initial_date"] == london_today()
    clock = shown["found_at" + blocks.TIME]["initial_time"]
    values = untouched(modal)
    assert values["found_at__time"]["value"]["selected_time"] == clock
    values |= {"what_happened": {"value": plain_text_input("Emailed a report to a parent")},
               "ongoing": {"value": static_select("no")}}
    said = changed_once(ws, modal, values, "what_happened",
                        "Emailed Tom's report to the wrong parent")
    with session_scope(ws.engine) as session:
        breach = session.exec(select(Breach)).one()
        reference, found = breach.reference, breach.found_at
    assert reference in said
    assert found.astimezone(UTC) <= datetime.now(UTC) and (
        datetime.now(UTC) - found.astimezone(UTC)) < timedelta(minutes=2)
    assert ws.live.deliver() >= 1
    alert = ws.alert_for(reference)
    step(ws, alert, "not_reportable", {"reason": {"value": plain_text_input("Recalled unread")}})
    step(ws, alert, "tell_people", {
        "tell": {"value": static_select("no")}, "how": {"value": plain_text_input(None)},
        "exemption": {"value": static_select("not_high")},
        "reason": {"value": plain_text_input("Deleted unread; low risk")},
        "override": {"value": plain_text_input(None)}})
    step(ws, alert, "close", {"remedial": {"value": plain_text_input("Recall set up")},
                              "lessons": {"value": plain_text_input("Check the address")}})
    assert [(a, who) for a, who, _ in history(ws, "breach", reference, since)
            if a != "breach.reminded"] == [
        ("breach.created", "Sam Teacher"), ("breach.not_reportable", "Dee Dpo"),
        ("breach.tell_people", "Dee Dpo"), ("breach.close", "Dee Dpo")]


def test_a_software_request_reassigned_asked_answered_and_approved_from_one_message(
        ws: Workspace) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    colleagues_on_slack(ws)
    modal = start(ws, "software", "shortcut")
    changed_once(ws, modal, software_values(dpa=static_select("yes")), "users", "Years 5-6")
    with session_scope(ws.engine) as session:
        request = session.exec(select(SoftwareRequest)).one()
        reference = request.reference
    assert ws.live.deliver() >= 1
    alert = ws.alert_for(reference)

    # Slack's users_select lists the whole workspace: Kim (staff) is refused in the modal,
    # the modal stays, and Vic (a deputy) is taken.
    modals = ws.fake.count("views.open")
    assert ws.live.send(ws.click(alert, "reassign")).status == 200
    form = ws.fake.filled(ws.fake.wait_for("views.open", modals + 1)[-1])
    picker = next(b["element"] for b in form["blocks"] if b.get("block_id") == "person")
    assert picker["type"] == "users_select"
    refused = ws.submit(form, {"person": {"value": users_select(KIM)}}, DPO)
    assert refused == {"response_action": "errors", "errors": {"person": (
        "Kim Teacher can't be chosen here: only the DPO and deputies decide cases. Choose "
        "Dee Dpo or Vic Deputy.")}}
    updates = ws.fake.count("chat.update")
    assert ws.submit(form, {"person": {"value": users_select(DEPUTY)}}, DPO) == {}
    ws.fake.wait_for("chat.update", updates + 1)
    ws.live.settle()
    with session_scope(ws.engine) as session:
        assert session.exec(select(SoftwareRequest)).one().owner_id == ws.school.people["vic"]

    step(ws, alert, "ask", {"question": {"value": plain_text_input("Which classes?")}})
    step(ws, alert, "approve", {"reason": {"value": plain_text_input("Fine")},
                                "dpia": {"value": static_select("done")},
                                "dpia_note": {"value": plain_text_input("Done in May")}})
    with session_scope(ws.engine) as session:
        assert session.exec(select(SoftwareRequest)).one().state == "approved"
    assert [(a, who) for a, who, _ in history(ws, "software", reference, since)] == [
        ("software.created", "Sam Teacher"), ("software.reassign", "Dee Dpo"),
        ("software.ask", "Dee Dpo"), ("software.approve", "Dee Dpo")]


def test_a_colleague_set_up_by_email_can_be_picked_before_they_have_written(
        ws: Workspace) -> None:
    """Kit was added by the DPO with her email and has never used the bot: picking her in
    Slack links her as her first message would; a deactivated account with a set-up email
    is not."""
    from tests.slack.test_slack_app import NEWCOMER, USERS, dpo_alert

    with session_scope(ws.engine) as session:
        session.add(Person(school_id=ws.school.school_id, name="Kit Newcomer",
                           email=USERS[NEWCOMER]["email"]))
    reference, alert = dpo_alert(ws)
    step(ws, alert, "take")
    step(ws, alert, "assign", {"person": {"value": users_select(NEWCOMER)}})
    with session_scope(ws.engine) as session:
        kit = session.exec(select(Person).where(Person.name == "Kit Newcomer")).one()
        assert (kit.slack_user_id, ws.case(reference).owner_id) == (NEWCOMER, kit.id)

    gone = "U0GONE001"
    ws.fake.add_user(gone, name="gus", real_name="Gus Gone", email="gus@school.example",
                     deleted=True)
    with session_scope(ws.engine) as session:
        session.add(Person(school_id=ws.school.school_id, name="Gus Gone",
                           email="gus@school.example"))
    modals = ws.fake.count("views.open")
    assert ws.live.send(ws.click(alert, "assign")).status == 200
    modal = ws.fake.filled(ws.fake.wait_for("views.open", modals + 1)[-1])
    ack = ws.submit(modal, {"person": {"value": users_select(gone)}}, DPO)
    assert ack["response_action"] == "errors" and "Nobody set up" in ack["errors"]["person"]
    with session_scope(ws.engine) as session:
        gus = session.exec(select(Person).where(Person.name == "Gus Gone")).one()
        assert gus.slack_user_id is None
