"""The new user's walk-through in the Teams harness: a SAR, a breach and a software request
from the card forms, one answer changed at the summary ("Change answers", the card back with
every value, one edited), saved; then the DPO decides each on the one card the alert came
in (take, assign to a colleague chosen from those allowed, pause, resume, close; a colleague
the field does not allow refused on the card), never typing a reference. The case history
records each decision, who made it and when. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.teams import cards
from tests.conftest import School_
from tests.teams.test_teams_buttons_stay import BREACH, SAR, SOFTWARE, alert, inputs
from tests.teams.test_teams_forms import untouched
from workflows.audit.models import AuditEvent
from workflows.breach.models import Breach
from workflows.core.models import Conversation
from workflows.database import session_scope
from workflows.registry import WORKFLOWS

from .harness import Teams, actions, make_teams, run, words

LONDON = ZoneInfo("Europe/London")


def as_controls(values: dict[str, str]) -> dict[str, str]:
    """The test's answers as the card's inputs send them: a date-time in two inputs."""
    yesterday = (datetime.now(LONDON) - timedelta(days=1)).date().isoformat()
    sent = dict(values)
    if sent.get("received_at") == "yesterday 14:00":
        sent |= {"received_at": yesterday, "received_at.time": "14:00"}
    return inputs(sent)


async def changed_once(teams: Teams, name: str, values: dict[str, Any], field: str,
                       new: str) -> str:
    """The workflow's form from "NAME form", filled, "Change answers" at the summary, one
    answer edited, saved; returns the reference. Only that answer differs."""
    opened = await teams.say("sam", f"{name} form")
    summary, _ = await teams.click("sam", actions(opened)["Next"], values)
    assert "Save" in actions(summary), words(summary)
    again, _ = await teams.click("sam", actions(summary)["Change answers"])
    shown = untouched(again)
    assert shown[cards.INPUT + field] != new
    second, _ = await teams.click("sam", actions(again)["Next"],
                                  shown | {cards.INPUT + field: new})
    assert new in words(second)
    with session_scope(teams.school.engine) as session:
        one, two = [c.answers for c in session.exec(select(Conversation)
                                                    .order_by(col(Conversation.id)))][-2:]
    assert {k for k in one.keys() | two.keys() if one.get(k) != two.get(k)} == {field}
    saved, _ = await teams.click("sam", actions(second)["Save"])
    found = re.search(r"Saved as ([A-Z]+-\d{4}-\d{4})", words(saved))
    assert found, words(saved)
    return found.group(1)


def history(school: School_, subject_type: str, reference: str, since: datetime
            ) -> list[tuple[str, str, str]]:
    """The decisions on the case: (what, who, through which adapter), each at a moment
    between ``since`` and now."""
    with session_scope(school.engine) as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.subject_type == subject_type, AuditEvent.subject_ref == reference,
            ~col(AuditEvent.action).endswith(".viewed")).order_by(col(AuditEvent.id))).all()
        assert all(since <= e.at <= datetime.now(UTC) + timedelta(seconds=1) for e in events)
        return [(e.action, e.actor_name, e.adapter) for e in events]


def picker(card: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in card["body"] if e.get("id") == cards.INPUT + "person")


def test_a_sar_from_the_form_changed_once_then_decided_on_one_card(school: School_) -> None:
    teams = make_teams(school)
    since = datetime.now(UTC) - timedelta(seconds=1)
    people = school.people

    async def go() -> str:
        await teams.say("dee", "hello")
        opened = await teams.say("sam", "sar form")
        # When it was received is for them to think about: a wrong guess moves a deadline.
        assert cards.INPUT + "received_at" not in untouched(opened)
        reference = await changed_once(teams, "sar", as_controls(SAR), "requester_name",
                                       "Jane Parent-Smith")
        desk = await alert(teams, reference)
        await desk.look()
        await desk.step("take")
        label = WORKFLOWS["sar"].action("assign").label
        form, _ = await teams.click("dee", actions(desk.mine)[label], on=desk.activity.id)
        assert [c["title"] for c in picker(form)["choices"]] == [
            "Dee Dpo", "Hal Head", "Kim Teacher", "Sam Teacher", "Vic Deputy"]
        await desk.step("assign", {"person": f"person:{people['vic']}"})
        assert "Vic Deputy" in words(desk.mine)
        await desk.step("take")
        await desk.step("pause", {"asked_on": datetime.now(LONDON).date().isoformat(),
                                  "question": "Which years?"})
        await desk.step("resume", {"answered_on": datetime.now(LONDON).date().isoformat()})
        await desk.step("close", {"outcome": "disclosed_full", "method": "email",
                                  "responded_on": datetime.now(LONDON).date().isoformat()})
        assert desk.offered() <= {"Add a note"}
        return reference

    reference = run(go())
    assert history(school, "sar", reference, since) == [
        ("sar.created", "Sam Teacher", "teams"),
        ("sar.take", "Dee Dpo", "teams"), ("sar.assign", "Dee Dpo", "teams"),
        ("sar.take", "Dee Dpo", "teams"), ("sar.pause", "Dee Dpo", "teams"),
        ("sar.resume", "Dee Dpo", "teams"), ("sar.close", "Dee Dpo", "teams")]


def test_a_breach_from_the_form_found_now_by_default_then_decided(school: School_) -> None:
    teams = make_teams(school)
    since = datetime.now(UTC) - timedelta(seconds=1)

    async def go() -> str:
        await teams.say("dee", "hello")
        opened = await teams.say("sam", "breach form")
        shown = untouched(opened)
        now = datetime.now(LONDON)
        # Found: now, on the school's clock, already in the inputs.
        assert shown[cards.INPUT + "found_at"] == now.date().isoformat()
        assert re.fullmatch(r"\d{2}:\d{2}", shown[cards.INPUT + "found_at" + cards.TIME])
        values = shown | inputs({k: v for k, v in BREACH.items() if k != "found_at"})
        reference = await changed_once(teams, "breach", values, "what_happened",
                                       "Emailed a report to the wrong parent, recalled")
        desk = await alert(teams, reference)
        await desk.look()
        await desk.step("not_reportable", {"reason": "Recalled unread"})
        await desk.step("tell_people", {"tell": "no", "exemption": "not_high",
                                        "reason": "Deleted unread; low risk"})
        await desk.step("close", {"remedial": "Recall set up", "lessons": "Check addresses"})
        return reference

    reference = run(go())
    with session_scope(school.engine) as session:
        found = session.exec(select(Breach)).one().found_at.astimezone(UTC)
    assert timedelta(0) <= datetime.now(UTC) - found < timedelta(minutes=2)  # "now", kept
    assert [(a, who) for a, who, _ in history(school, "breach", reference, since)
            if a != "breach.reminded"] == [
        ("breach.created", "Sam Teacher"), ("breach.not_reportable", "Dee Dpo"),
        ("breach.tell_people", "Dee Dpo"), ("breach.close", "Dee Dpo")]


def test_a_software_request_reassigned_asked_and_approved_on_one_card(school: School_) -> None:
    teams = make_teams(school)
    since = datetime.now(UTC) - timedelta(seconds=1)
    people = school.people

    async def go() -> str:
        await teams.say("dee", "hello")
        reference = await changed_once(teams, "software", inputs(SOFTWARE), "users",
                                       "Years 5-6")
        desk = await alert(teams, reference)
        await desk.look()
        label = WORKFLOWS["software"].action("reassign").label
        form, _ = await teams.click("dee", actions(desk.mine)[label], on=desk.activity.id)
        # Only those who may decide are listed; anyone else sent (an old card) is refused,
        # said under the input, with the card kept.
        assert picker(form)["choices"] == [
            {"title": "Dee Dpo", "value": f"person:{people['dee']}"},
            {"title": "Vic Deputy", "value": f"person:{people['vic']}"}]
        refused, _ = await teams.click("dee", actions(form)["Save"],
                                       inputs({"person": f"person:{people['kim']}"}),
                                       on=desk.activity.id)
        assert ("Kim Teacher can't be chosen here: only the DPO and deputies decide cases."
                in words(refused))
        assert picker(refused)["value"] == f"person:{people['kim']}"
        await desk.step("reassign", {"person": f"person:{people['vic']}"})
        await desk.step("ask", {"question": "Which classes?"})
        await desk.step("approve", {"reason": "Fine", "dpia": "done",
                                    "dpia_note": "Done in May"})
        return reference

    reference = run(go())
    assert [(a, who) for a, who, _ in history(school, "software", reference, since)] == [
        ("software.created", "Sam Teacher"), ("software.reassign", "Dee Dpo"),
        ("software.ask", "Dee Dpo"), ("software.approve", "Dee Dpo")]
