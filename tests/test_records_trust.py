"""Records and letters a DPO can rely on (issue 13), through the real chat, on SQLite and
PostgreSQL: dates that cannot be true are refused or read back, every date a deadline hangs on
can be corrected with a reason, letters carry only the DPO's own words, and decisions the
record contradicts are stopped or explained."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from tests.conftest import PARENT_SAR, School_, text_of
from workflows.audit.models import AuditEvent
from workflows.breach.models import Breach
from workflows.core.ui import Document, Question
from workflows.reminders.models import Reminder
from workflows.sar.models import RightsRequest
from workflows.schools.models import School

SAR = "SAR-2026-0001"
BRE = "BRE-2026-0001"
# Up to "When did the school receive it?", as a teacher answers.
BEFORE_RECEIVED = PARENT_SAR[:-3]
STORY = "I emailed Oliver Brown's end-of-term report to Amelia Smith's mum instead of " \
        "Oliver's dad. Sent 8:40 this morning."


def sar(school: School_) -> RightsRequest:
    with Session(school.engine) as session:
        found = session.exec(select(RightsRequest)).one()
        session.expunge(found)
        return found


def breach(school: School_) -> Breach:
    with Session(school.engine) as session:
        found = session.exec(select(Breach)).one()
        session.expunge(found)
        return found


def audit(school: School_, action: str) -> list[AuditEvent]:
    with Session(school.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(col(AuditEvent.id))))


def letter(school: School_, reference: str, kind: str) -> str:
    replies = school.say("dee", f"letter {reference} {kind}")
    (document,) = [r for r in replies if isinstance(r, Document)]
    return document.body


def began(school: School_, when: datetime) -> None:
    """The school started using the bot at ``when``."""
    with Session(school.engine) as session:
        session.get(School, school.school_id).created_at = when
        session.commit()


def log_sar(school: School_, received: str = "yesterday 14:00", id_needed: str = "no") -> str:
    said = school.says("sam", *BEFORE_RECEIVED, received)
    if "is that right?" in said:
        school.says("sam", "yes")
    return school.says("sam", "All behaviour records for Tom", id_needed, "yes")


def report_breach(school: School_, what: str = STORY, found: str = "today 8:40",
                  **details: str) -> str:
    """The three questions that start the clock, then the follow-ups by what each asks
    (the follow-ups asked depend on the answers), "skip" for the rest."""
    for message in ("report a breach", what, found, "no", "yes"):
        replies = school.say("sam", message)
    answers = {"incident": "1", "data_kinds": "contact", "whose": "1 pupil"} | details
    for _ in range(20):
        if not isinstance(replies[-1], Question):
            return text_of(school.say("sam", "yes"))
        replies = school.say("sam", answers.get(replies[-1].field, "skip"))
    raise AssertionError("the follow-up questions did not end")


# --- dates that cannot be true ---------------------------------------------------------------


def test_an_absurd_received_date_is_refused_with_the_reason(school: School_) -> None:
    said = school.says("sam", *BEFORE_RECEIVED, "1/1/1900")
    assert "Monday 1 January 1900 can't be right" in said
    assert "more than a year before the school began using dpo-bot" in said
    assert said.endswith("When did the school receive it? (e.g. “today 9:30”, “yesterday”, “3/9”)")
    school.says("sam", "today 9:00", "All behaviour records for Tom", "no")
    assert "Saved as SAR-2026-0001." in school.says("sam", "yes")


def test_a_request_months_ago_is_read_back_and_must_be_confirmed(school: School_) -> None:
    began(school, datetime(2024, 9, 1, tzinfo=UTC))  # in use for two years
    said = school.says("sam", *BEFORE_RECEIVED, "23/9/2025")
    assert "Received: Tuesday 23 September 2025. That is 14 months ago: is that right?" in said
    # "no" asks again; another date replaces it; "yes" takes it.
    assert school.says("sam", "no").endswith("When did the school receive it? (e.g. “today "
                                             "9:30”, “yesterday”, “3/9”)")
    assert "14 months ago" in school.says("sam", "23/9/2025")
    assert "What exactly are they asking for?" in school.says("sam", "yes")
    said = school.says("sam", "All behaviour records for Tom", "no")
    assert "That was" in said and "the request is already late" in said
    assert "Saved as SAR-2025-0001." in school.says("sam", "yes")
    # Six years is the bound whatever the school's history.
    began(school, datetime(2010, 9, 1, tzinfo=UTC))
    said = school.says("sam", *BEFORE_RECEIVED, "1/9/2019")
    assert "more than six years ago" in said


def test_id_cannot_arrive_before_it_was_asked_for(school: School_) -> None:
    log_sar(school, id_needed="yes")  # received Sunday, ID asked for on Monday
    assert sar(school).id_requested_on == date(2026, 11, 23)
    said = school.says("dee", f"record id {SAR}", "id", "yesterday")
    assert "That is before the school asked for it (Monday 23 November 2026)." in said
    said = school.says("dee", "20/11/2026")
    assert "That is before the request arrived (Sunday 22 November 2026)." in said
    assert sar(school).id_received_on is None
    said = school.says("dee", "today", "yes")
    assert "The clock started on Monday 23 November 2026." in said


def test_the_time_found_is_required_and_a_late_find_is_read_back(school: School_) -> None:
    said = school.says("sam", "report a breach", "A laptop was left on a train", "skip")
    assert "This one is needed, so it can't be skipped." in said
    said = school.says("sam", "5 days ago")
    assert "That is 5 days ago: is that right?" in said
    school.says("sam", "yes", "no")
    said = school.says("sam", "yes")
    assert f"Saved as {BRE}." in said
    case = breach(school)
    assert case.found_at == datetime(2026, 11, 18, 0, 0, tzinfo=UTC)
    # A date typed without a time reads as the date, never "at 00:00".
    shown = school.says("dee", BRE)
    assert "Found: Wednesday 18 November 2026\n" in shown and "at 00:00" not in shown.split(
        "ICO deadline")[0]


def test_no_breach_event_before_the_one_it_follows(school: School_) -> None:
    report_breach(school)
    said = school.says("dee", f"report to ico {BRE}", "IC-1", "yesterday 9:00")
    assert "That is before the school became aware of it (Monday 23 November 2026 at 08:40)" \
        in said
    school.says("dee", "cancel")
    school.says("dee", f"more details {BRE}")
    said = school.says("dee", "today 9:00")
    assert "That is after it was found (Monday 23 November 2026 at 08:40)." in said


# --- corrections -----------------------------------------------------------------------------


def test_the_dpo_corrects_the_received_date_with_a_reason(school: School_) -> None:
    log_sar(school)  # received Sunday 22 November: due Tuesday 22 December
    assert sar(school).due_on == date(2026, 12, 22)
    letter(school, SAR, "acknowledgement")
    said = school.says("sam", f"correct {SAR}")
    assert "Only the DPO or a deputy" in said
    school.says("sam", "cancel")
    said = school.says("dee", f"correct {SAR}", "received", "20/11/2026", "skip")
    assert "This one is needed, so it can't be skipped." in said
    said = school.says("dee", "It was in the office post tray on Friday.", "yes")
    assert ("Corrected: the day the request was received is Friday 20 November 2026, not "
            "Sunday 22 November 2026. The deadline is now Monday 21 December 2026 (it was "
            "Tuesday 22 December 2026).") in said
    assert "Letters drafted before now (acknowledgement) give the old date" in said
    case = sar(school)
    assert (case.received_on, case.due_on) == (date(2026, 11, 20), date(2026, 12, 21))
    assert case.received_at.astimezone(UTC) == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    (event,) = audit(school, "sar.correct")
    assert (event.actor_name, event.detail) == ("Dee Dpo", {
        "which": "received", "on": "2026-11-20", "reason": "It was in the office post tray on "
        "Friday.", "was": "2026-11-22", "now": "2026-11-20", "due_was": "2026-12-22"})
    history = school.says("dee", f"history {SAR}")
    assert ("correct | Friday 20 November 2026 (was Sunday 22 November 2026); It was in the "
            "office post tray on Friday.") in history
    with Session(school.engine) as session:
        targets = {r.target for r in session.exec(select(Reminder).where(
            Reminder.subject_type == "sar", col(Reminder.cancelled_at).is_(None),
            col(Reminder.sent_at).is_(None)))}
    assert "2026-12-21" in targets and "2026-12-22" not in targets
    assert "Monday 21 December 2026" in letter(school, SAR, "acknowledgement")


def test_a_correction_that_breaks_the_order_of_events_is_refused(school: School_) -> None:
    log_sar(school, id_needed="yes")  # ID asked for on Monday 23 November
    said = school.says("dee", f"correct {SAR}", "id arrived")
    said = school.says("dee", "today", "typo", "yes")
    assert "there is no such date on SAR-2026-0001 yet" in said
    school.says("dee", "cancel")
    said = school.says("dee", f"correct {SAR}", "id asked", "21/11/2026", "typo", "yes")
    assert ("ID can't have been asked for (Saturday 21 November 2026) before the request "
            "arrived (Sunday 22 November 2026).") in said
    assert sar(school).id_requested_on == date(2026, 11, 23)


def test_correcting_when_a_breach_was_found_moves_the_clock(school: School_) -> None:
    report_breach(school)
    said = school.says("dee", f"correct found {BRE}", "yesterday 16:00",
                       "The head saw the parent's email at 16:00.", "yes")
    assert "Found Sunday 22 November 2026 at 16:00." in said
    assert "The ICO deadline is now Wednesday 25 November 2026 at 16:00 (it was Thursday 26 " \
           "November 2026 at 08:40)" in said
    case = breach(school)
    assert case.aware_at == case.found_at == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    (event,) = audit(school, "breach.correct_found_at")
    assert event.detail["was"] == "2026-11-23T08:40:00+00:00"


# --- letters that leave the school -----------------------------------------------------------


def test_outward_letters_never_carry_the_reporters_words(school: School_) -> None:
    report_breach(school)
    school.now += timedelta(hours=1)
    school.says("dee", f"report to ico {BRE}", "IC-77", "now", "skip", "yes")
    school.says("dee", f"tell people {BRE}", "yes", "by letter on Tuesday 24 November", "yes")
    for kind in ("affected_letter", "ico_report"):
        body = letter(school, BRE, kind)
        for leak in ("Amelia", "Smith", "Oliver", "this morning", "8:40 this"):
            assert leak not in body, (kind, leak)
        assert "[TO WRITE:" in body
    # The DPO writes the accounts; the reporter's words are shown for reference only.
    replies = school.say("dee", f"account {BRE}")
    assert f"For reference only (internal; it is not copied into any letter): “{STORY}”" in \
        text_of(replies)
    said = school.says("dee", "Oliver Brown's report went to another parent at 8:40 this "
                              "morning.")
    assert "“this morning” will be wrong by the time this is read" in said
    said = school.says("dee", "Oliver Brown's report went to another parent on Monday 23 "
                              "November 2026 at 08:40.")
    assert "It names someone (“Oliver Brown's report”)" in said
    said = school.says("dee", "I sent a pupil's report to another parent on Monday 23 November "
                              "2026 at 08:40.")
    assert "Please write it in the third person" in said
    said = school.says("dee", "On Monday 23 November 2026 at 08:40 a member of staff emailed a "
                              "pupil's end-of-term report to another pupil's parent, who "
                              "deleted it.")
    said = school.says("dee", "Sam Teacher sent your child's report to another parent.")
    assert "It names “Sam Teacher”" in said
    said = school.says("dee", "On Monday 23 November 2026 your child's end-of-term report was "
                              "emailed to another parent by mistake. They have deleted it.",
                       "skip", "yes")
    assert "The drafts use your words" in said
    affected = letter(school, BRE, "affected_letter")
    assert ("held by Hillside Primary.\n\nWhat happened: On Monday 23 November 2026 your "
            "child's end-of-term report was emailed to another parent by mistake") in affected
    assert "Amelia" not in affected and "Oliver" not in affected
    ico = letter(school, BRE, "ico_report")
    assert "a member of staff emailed a pupil's end-of-term report" in ico
    assert "Amelia" not in ico and "Oliver" not in ico
    # The internal log keeps the reporter's own account, as the record must.
    assert STORY in letter(school, BRE, "log_entry")


def test_sar_letter_text_written_by_the_dpo_gives_absolute_dates(school: School_) -> None:
    log_sar(school)
    said = school.says("dee", f"extend {SAR}", "Thousands of emails found yesterday")
    assert "“yesterday” will be wrong by the time this is read" in said


# --- decisions that contradict the record ----------------------------------------------------


def test_an_exemption_the_record_contradicts_needs_a_recorded_reason(school: School_) -> None:
    report_breach(school, "A laptop was stolen from a car", "now", incident="laptop",
                  data_kinds="names, SEN", whose="30 pupils", encrypted="no")
    assert breach(school).encrypted is False
    said = school.says("dee", f"tell people {BRE}", "no", "unintelligible",
                       "It was encrypted", "skip", "yes")
    assert ("The record says Unreadable to others: No, so “the data was unintelligible” does "
            "not fit it.") in said
    assert breach(school).people_decision is None
    said = school.says("dee", "The IT firm confirmed BitLocker was on; the reporter was wrong.",
                       "yes")
    assert "will not be told" in said
    assert "The IT firm confirmed BitLocker" in letter(school, BRE, "log_entry")
    assert "Despite the record: The IT firm confirmed BitLocker" in school.says("dee", BRE)


def test_a_request_is_not_closed_as_disclosed_before_the_id_arrived(school: School_) -> None:
    log_sar(school, id_needed="yes")
    said = school.says("dee", f"close {SAR}", "full", "today", "email", "yes")
    assert "The school asked for ID and it has not arrived" in said
    assert sar(school).state == "awaiting_id"
    said = school.says("dee", "withdrawn", "yes")
    assert sar(school).state == "closed"


def test_the_question_asked_of_a_long_ago_date_keeps_its_count(school: School_) -> None:
    began(school, datetime(2024, 9, 1, tzinfo=UTC))
    replies: list = []
    for answer in BEFORE_RECEIVED:
        replies = school.say("sam", answer)
    step = replies[-1].step
    replies = school.say("sam", "1/9/2025")
    question = replies[-1]
    assert isinstance(question, Question)
    assert (question.field, question.step, question.total) == ("received_at", step,
                                                                replies[-1].total)
