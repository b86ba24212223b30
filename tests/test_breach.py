"""The breach workflow end to end, through the real chat, on SQLite and PostgreSQL.

Every deadline is worked out by hand: 72 real hours from awareness, in UTC, shown in
Europe/London time (DOMAIN.md 3), including across both 2026 clock changes.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from tests.conftest import School_, make_school, run_cli, text_of
from workflows.breach.flows import BREACH
from workflows.breach.models import Breach, BreachUpdate
from workflows.breach.triage import assess
from workflows.core.ui import Document
from workflows.database import make_engine, upgrade
from workflows.deadlines.breach import breach_deadline
from workflows.notifications.models import Notification
from workflows.registry import WORKFLOWS
from workflows.reminders.models import Reminder
from workflows.reminders.service import DeadlineHandler, handlers, sweep
from workflows.schools.models import School

REF = "BRE-2026-0001"


def test_breach_is_registered_with_its_reminders() -> None:
    assert WORKFLOWS[BREACH.name] is BREACH
    assert handlers(WORKFLOWS)[BREACH.name] == DeadlineHandler(BREACH)


LONDON = ZoneInfo("Europe/London")

# The story: a teacher emailed a pupil's SEN report to the wrong parent.
WRONG_PARENT = (
    "I emailed a pupil's SEN report to the wrong parent",  # what happened
    "now",  # found
    "no",  # not still happening
    "yes",  # confirm: the clock starts, the DPO is alerted
    "1",  # sent to the wrong person
    "SEN",  # kinds of data
    "1 pupil",  # whose, how many
    "no",  # not unreadable: an ordinary email
    "2",  # someone we know: a parent
    "don't know",  # deletion not confirmed yet: the worse case
    "1",  # one person received it
    "yes",  # confirm the details
)


def report(school: School_, who: str = "sam", answers: tuple[str, ...] = WRONG_PARENT) -> str:
    return school.says(who, "report a breach", *answers)


def breach(school: School_, reference: str = REF) -> Breach:
    with Session(school.engine) as session:
        found = session.exec(select(Breach).where(Breach.reference == reference)).one()
        session.expunge(found)
        return found


def notes_for(school: School_, who: str) -> list[Notification]:
    with Session(school.engine) as session:
        return list(session.exec(select(Notification).where(
            Notification.person_id == school.people[who]).order_by(col(Notification.id))))


def reminders(school: School_, pending: bool = True) -> list[Reminder]:
    with Session(school.engine) as session:
        query = select(Reminder).where(Reminder.subject_type == "breach")
        if pending:
            query = query.where(col(Reminder.sent_at).is_(None),
                                col(Reminder.cancelled_at).is_(None))
        return list(session.exec(query.order_by(col(Reminder.due_at), col(Reminder.id))))


def act(school: School_, who: str, command: str, *answers: str) -> str:
    return school.says(who, f"{command} {REF}", *answers, "yes")


def letter(school: School_, kind: str, who: str = "dee") -> str:
    replies = school.say(who, f"letter {REF} {kind}")
    documents = [r for r in replies if isinstance(r, Document)]
    assert len(documents) == 1, text_of(replies)
    return documents[0].body


# ---------------------------------------------------------------------------------------------
# The story
# ---------------------------------------------------------------------------------------------


def test_wrong_parent_story_in_twelve_answers(school: School_) -> None:
    """Monday 23 November 2026 10:00 GMT: twelve typed answers after “report a breach”, the
    clock started after the first four."""
    assert len(WRONG_PARENT) <= 12
    said = report(school)
    assert "Saved as" not in said  # the last reply is the details' thanks
    assert "BRE-2026-0001 is updated and the DPO has it" in said
    case = breach(school)
    assert case.aware_at == case.found_at == case.reported_at == school.now
    assert (case.data_kinds, case.whose, case.approx_people, case.incident, case.ongoing) == (
        ["sen"], ["pupils"], 1, "wrong_recipient", False)
    assert case.state == "awaiting_decision" and case.ico_decision is None

    # The DPO and the deputy are told at once, privately, with the countdown and no names.
    for who in ("dee", "vic"):
        alert = notes_for(school, who)[0]
        assert alert.kind == "breach.new"
        assert ("decide by Thursday 26 November 2026 at 10:00 (72 hours left)" in alert.text)
        assert REF in alert.text
        for secret in ("Sam", "SEN report", "wrong parent", "Teacher"):
            assert secret not in alert.text
    assert notes_for(school, "sam") == [] and notes_for(school, "hal") == []
    # Adding details tells them the new assessment, still without names.
    details = notes_for(school, "dee")[1]
    assert details.kind == "breach.details" and "High risk" in details.text
    assert "Sam" not in details.text

    # As DPO: the card with the deadline and the recommendation with its reasons.
    shown = school.says("dee", REF)
    assert "ICO deadline Thursday 26 November 2026 at 10:00: 72 hours left." in shown
    assert "Recommendation: High risk: report to the ICO; tell the people affected." in shown
    assert "Pupil information emailed to the wrong parent" in shown
    assert "Severity: High. Special category data can lead to distress" in shown
    assert "Children's (or vulnerable people's) data: they are less able" in shown
    assert "Not known, so the worse case was assumed: whether they deleted it" in shown
    assert "report to ico BRE-2026-0001" in shown

    # Decide: reported to the ICO two hours later, then the family is told.
    school.now += timedelta(hours=2)
    said = act(school, "dee", "report to ico", "IC-123456", "now", "skip")
    assert "Recorded: reported to the ICO (reference IC-123456)" in said
    said = school.says("dee", "tell people BRE-2026-0001", "yes", "phone call and letter today")
    assert "“today” will be wrong by the time this is read" in said  # it goes to the ICO
    said = school.says("dee", "phone call and letter on Monday 23 November", "yes")
    assert "the people affected will be told" in said
    case = breach(school)
    assert (case.ico_decision, case.ico_reference, case.ico_reported_at, case.delay_reason) == (
        "reported", "IC-123456", school.now, None)
    assert case.recommendation["risk"] == "high"
    assert reminders(school) == []  # decided: the clock's nudges stop

    log = letter(school, "log_entry")
    for fact in ("I emailed a pupil's SEN report to the wrong parent",
                 "School aware from: Monday 23 November 2026 at 10:00",
                 "SEN (special educational needs, EHCP)", "Pupils",
                 "Reported to the ICO on Monday 23 November 2026 at 12:00, ICO reference "
                 "IC-123456", "Decided by Dee Dpo", "phone call and letter on Monday 23 November",
                 "high risk"):
        assert fact in log, fact
    ico = letter(school, "ico_report")
    order = ["1. What happened?", "2. When did it happen?", "3. When and how did you find out?",
             "4. Staff involved", "5. Categories of personal data", "6. People affected",
             "7. Likely consequences", "8. Was it a cyber incident?",
             "9. Containment and recovery", "10. Have the people affected been told?",
             "11. Who else has been told?"]
    assert [ico.index(h) for h in order] == sorted(ico.index(h) for h in order)
    assert "Deadline: Thursday 26 November 2026 at 10:00." in ico
    assert "ICO reference IC-123456" in ico and "No." in ico
    affected = letter(school, "affected_letter")
    assert "about your child" in affected and "IC-123456" in affected
    # The reporter's own words stay in the log: outward drafts wait for the DPO's account.
    for draft in (ico, affected):
        assert "I emailed a pupil's SEN report" not in draft
        assert "[TO WRITE:" in draft


def test_stopping_after_the_minimum_still_starts_the_clock(school: School_) -> None:
    """Three answers and “yes” create the case; walking away from the details loses nothing."""
    said = report(school, answers=WRONG_PARENT[:4])
    assert "Saved as BRE-2026-0001." in said and "What kind of incident was it?" in said
    case = breach(school)
    assert case.aware_at == school.now
    assert [n.kind for n in notes_for(school, "dee")] == ["breach.new"]
    assert len(reminders(school)) > 0
    # The reporter (or the DPO) adds the rest later; a skip keeps what is known.
    school.says("sam", "cancel")
    said = act(school, "sam", "more details", "yesterday 15:00", "the parent replied",
               "skip", "skip", "no", "asked the parent to delete it")
    case = breach(school)
    assert case.happened_at == datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    assert (case.how_found, case.cyber, case.containment) == (
        "the parent replied", False, "asked the parent to delete it")


def test_before_confirming_nothing_is_saved(school: School_) -> None:
    """Decision: the clock starts at the confirmed minimum (3 answers + yes), not before."""
    school.says("sam", "report a breach", "I lost a USB stick", "now")
    with Session(school.engine) as session:
        assert list(session.exec(select(Breach))) == []


def test_bad_input_is_refused_and_nothing_lost(school: School_) -> None:
    said = school.says("sam", "report a breach", "A laptop was stolen", "tomorrow 9:00")
    assert "is in the future" in said
    said = school.says("sam", "yesterday 9:00", "no", "yes", "3", "health", "3 staff", "no",
                       "no", "yes")
    case = breach(school)
    assert case.found_at == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert (case.incident, case.encrypted) == ("lost_device", False)
    # Happened after it was found: refused as it is typed, and asked again.
    said = school.says("sam", f"more details {REF}", "today 9:00")
    assert "That is after it was found (Sunday 22 November 2026 at 09:00)." in said
    assert "When did it happen?" in said
    assert breach(school).happened_at is None
    said = school.says("sam", "yesterday 8:00", "skip", "skip", "skip", "skip",
                       "locked the account", "yes")
    case = breach(school)
    assert case.happened_at == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert case.containment == "locked the account"


# ---------------------------------------------------------------------------------------------
# Decisions and permissions
# ---------------------------------------------------------------------------------------------


def test_staff_cannot_decide_and_a_decision_is_taken_once(school: School_) -> None:
    report(school)
    said = school.says("sam", f"not reportable {REF}")
    assert "Only the DPO or a deputy" in said
    said = school.says("hal", f"report to ico {REF}")
    assert "Only the DPO or a deputy" in said
    said = act(school, "vic", "not reportable", "Recalled unread within a minute.")
    assert "not reportable to the ICO" in said
    said = school.says("dee", f"report to ico {REF}")
    assert "Vic Deputy (Monday 23 November 2026 at 10:00) already decided it is not reportable" \
        in said
    case = breach(school)
    assert (case.ico_decision, case.ico_reason) == (
        "not_reportable", "Recalled unread within a minute.")
    # "Not high risk" against a record that says high risk needs the DPO's reason for it.
    said = act(school, "dee", "tell people", "no", "4", "Recalled unread; no risk to them.",
               "skip")
    assert "The assessment on the record is high risk" in said
    said = school.says("dee", "The parent deleted it unread and confirmed in writing.", "yes")
    assert "will not be told" in said
    assert breach(school).people_override == (
        "The parent deleted it unread and confirmed in writing.")
    assert "The record speaks against this exemption" in letter(school, "log_entry")
    said = school.says("vic", f"tell people {REF}")
    assert "already decided not to tell the people affected" in said


def test_a_decision_needs_a_reason(school: School_) -> None:
    report(school)
    said = school.says("dee", f"not reportable {REF}", "skip")
    assert "can't be skipped" in said
    school.says("dee", "cancel")
    said = school.says("dee", f"tell people {REF}", "no", "skip")
    assert "can't be skipped" in said
    assert breach(school).ico_decision is None


def test_two_dpos_at_once_one_decision(school: School_) -> None:
    report(school)
    school.says("dee", f"report to ico {REF}", "IC-1", "now", "skip")
    school.says("vic", f"not reportable {REF}", "Nothing sensitive")
    assert "Recorded" in school.says("dee", "yes")
    said = school.says("vic", "yes")
    assert "Dee Dpo already did “report to ico”" in said
    assert breach(school).ico_decision == "reported"


def test_a_late_report_needs_the_reasons_for_the_delay(school: School_) -> None:
    report(school)
    school.now += timedelta(hours=73)
    said = act(school, "dee", "report to ico", "IC-9", "now", "skip")
    assert "after the 72-hour deadline (Thursday 26 November 2026 at 10:00)" in said
    assert breach(school).ico_decision is None
    said = school.says("dee", "The DPO was ill; the deputy was not told.", "yes")
    assert "reported to the ICO late, with the reasons" in said
    case = breach(school)
    assert case.delay_reason == "The DPO was ill; the deputy was not told."
    assert "This report is LATE" in letter(school, "ico_report")
    assert "Reasons for the delay: The DPO was ill" in letter(school, "log_entry")


def test_close_needs_both_decisions_and_remedial_and_lessons(school: School_) -> None:
    report(school)
    said = school.says("dee", f"close {REF}")
    assert "can't be closed yet: first decide whether to report it to the ICO and whether " \
           "to tell the people affected" in said
    act(school, "dee", "not reportable", "Low risk.")
    assert "whether to tell the people affected" in school.says("dee", f"close {REF}")
    act(school, "dee", "tell people", "no", "not high", "Low risk.",
        "Deleted unread by the recipient, confirmed in writing.")
    said = school.says("dee", f"close {REF}", "skip")
    assert "can't be skipped" in said
    said = school.says("dee", "Resent to the right parent; autocomplete turned off.",
                       "Check the recipient before sending.", "yes")
    assert "Closed." in said
    school.now += timedelta(hours=1)
    assert "Update added" in act(school, "sam", "update", "Parent confirmed deletion.")
    with Session(school.engine) as session:
        (entry,) = session.exec(select(BreachUpdate)).all()
        assert (entry.author_id, entry.at) == (school.people["sam"], school.now)
    log = letter(school, "log_entry")
    assert "autocomplete turned off" in log and "Check the recipient" in log
    assert "Sam Teacher: Parent confirmed deletion." in log


def test_correcting_aware_at_moves_the_deadline_and_the_nudges(school: School_) -> None:
    report(school)
    assert "Only the DPO or a deputy" in school.says("sam", f"correct aware at {REF}")
    school.says("sam", "cancel")
    said = act(school, "dee", "correct aware at", "today 8:00", "Head saw it at 8:00.")
    assert "The ICO deadline is now Thursday 26 November 2026 at 08:00" in said
    case = breach(school)
    assert (case.aware_at, case.aware_at_reason) == (
        datetime(2026, 11, 23, 8, 0, tzinfo=UTC), "Head saw it at 8:00.")
    targets = {r.target for r in reminders(school)}
    assert targets == {"2026-11-26T08:00:00+00:00"}


# ---------------------------------------------------------------------------------------------
# The clock
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("aware", "due", "change"), [
    # Found Friday before the clocks go back: 72 real hours end at 16:00 GMT, not 17:00.
    (datetime(2026, 10, 23, 17, 0, tzinfo=LONDON), datetime(2026, 10, 26, 16, 0, tzinfo=LONDON),
     "The clocks go back on Sunday 25 October 2026"),
    # Found Friday before they go forward: due 10:00 BST on the Monday.
    (datetime(2026, 3, 27, 9, 0, tzinfo=LONDON), datetime(2026, 3, 30, 10, 0, tzinfo=LONDON),
     "The clocks go forward on Sunday 29 March 2026"),
    # The repeated hour: 01:30 BST (the first of the two) on 25 October.
    (datetime(2026, 10, 25, 1, 30, tzinfo=LONDON), datetime(2026, 10, 28, 0, 30, tzinfo=LONDON),
     "The clocks go back"),
    # No change inside the window: same wall time.
    (datetime(2026, 11, 23, 10, 0, tzinfo=LONDON), datetime(2026, 11, 26, 10, 0, tzinfo=LONDON),
     None),
])
def test_breach_deadline_in_real_hours(aware: datetime, due: datetime, change: str | None
                                       ) -> None:
    result = breach_deadline(aware, LONDON)
    assert result.due == due.astimezone(UTC)
    assert result.due - aware.astimezone(UTC) == timedelta(hours=72)
    assert result.local_due.replace(tzinfo=None) == due.replace(tzinfo=None)
    text = " ".join(result.explanation)
    if change:
        assert change in text and "exactly 72 real hours" in text
    else:
        assert "clocks" not in text


def test_naive_aware_at_is_refused() -> None:
    with pytest.raises(ValueError):
        breach_deadline(datetime(2026, 10, 23, 17, 0), LONDON)


def test_nudge_schedule_any_hour_with_escalation_and_stop(school: School_) -> None:
    """Found Friday 23 Oct 2026 17:00 BST: nudges at 24, 48, 60, 69 and 72 hours, UTC-exact."""
    school.now = datetime(2026, 10, 23, 16, 0, tzinfo=UTC)
    report(school, answers=WRONG_PARENT[:4])
    school.says("sam", "cancel")
    aware = datetime(2026, 10, 23, 16, 0, tzinfo=UTC)
    rows = reminders(school)
    by_time: dict[datetime, set[int]] = {}
    for r in rows:
        by_time.setdefault(r.due_at, set()).add(r.person_id)
        assert r.working_hours is False
        assert r.target == "2026-10-26T16:00:00+00:00"
    team = {school.people["dee"], school.people["vic"]}
    head = school.people["hal"]
    assert by_time == {
        aware + timedelta(hours=24): team,
        aware + timedelta(hours=48): team | {head},
        aware + timedelta(hours=60): team | {head},
        aware + timedelta(hours=69): team | {head},
        aware + timedelta(hours=72): team | {head},
    }
    # 69 hours is 13:00 UTC on Monday; 60 hours is 04:00 UTC on Monday: any hour, not deferred.
    night = aware + timedelta(hours=60)
    assert night.astimezone(LONDON).hour == 4
    result = sweep(school.engine, now=night)
    assert result.deferred == 0
    with Session(school.engine) as session:
        sent = list(session.exec(select(Notification).where(
            col(Notification.kind) == "reminder.clock")))
    assert {n.person_id for n in sent} == team | {head}
    assert all("12 hours left, until Monday 26 October 2026 at 16:00" in n.text for n in sent)
    assert any(n.text.startswith("Escalation:") for n in sent if n.person_id == head)

    # The ICO decision cancels what is left.
    school.now = night + timedelta(minutes=10)
    act(school, "dee", "not reportable", "Recalled unread.")
    assert reminders(school) == []
    sweep(school.engine, now=aware + timedelta(hours=73))
    with Session(school.engine) as session:
        assert len(list(session.exec(select(Notification).where(
            col(Notification.kind) == "reminder.clock")))) == len(sent)


def test_a_school_may_confine_breach_nudges_to_set_hours(school: School_) -> None:
    """07:00-22:00: the 04:00 nudge waits for 07:00 that morning, then goes once."""
    with Session(school.engine) as session, session.begin():
        found = session.get(School, school.school_id)
        found.urgent_start, found.urgent_end = time(7, 0), time(22, 0)
    school.now = datetime(2026, 10, 23, 16, 0, tzinfo=UTC)
    report(school, answers=WRONG_PARENT[:4])
    school.says("sam", "cancel")
    night = datetime(2026, 10, 26, 4, 0, tzinfo=UTC)  # 60 hours: 04:00 GMT on Monday
    # Nobody swept since Friday: the 24, 48 and 60-hour nudges (2 + 3 + 3) all wait for 07:00.
    assert sweep(school.engine, now=night).deferred == 8
    assert clock_notes(school) == []
    seven = datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    sweep(school.engine, now=seven)
    # Then only the latest of the missed ones goes, once to each person.
    notes = clock_notes(school)
    assert sorted(n.person_id for n in notes) == sorted(
        school.people[p] for p in ("dee", "vic", "hal"))
    assert all("9 hours left, until Monday 26 October 2026 at 16:00" in n.text for n in notes)
    sweep(school.engine, now=seven + timedelta(minutes=5))
    assert len(clock_notes(school)) == 3


def test_after_downtime_only_the_latest_missed_nudge_goes(school: School_) -> None:
    """A worker down from 23 to 70 hours sends the 69-hour nudge, not four stale ones."""
    school.now = datetime(2026, 10, 23, 16, 0, tzinfo=UTC)
    report(school, answers=WRONG_PARENT[:4])
    school.says("sam", "cancel")
    back = datetime(2026, 10, 23, 16, 0, tzinfo=UTC) + timedelta(hours=70)
    sweep(school.engine, now=back)
    sent = clock_notes(school)
    team_and_head = {school.people["dee"], school.people["vic"], school.people["hal"]}
    assert sorted(n.person_id for n in sent) == sorted(team_and_head)  # one each
    assert all("2 hours left" in n.text for n in sent)


def clock_notes(school: School_) -> list[Notification]:
    with Session(school.engine) as session:
        return list(session.exec(select(Notification).where(
            col(Notification.kind) == "reminder.clock")))


# ---------------------------------------------------------------------------------------------
# Triage: the typical school cases of DOMAIN.md 3
# ---------------------------------------------------------------------------------------------


def facts(**values: object) -> SimpleNamespace:
    base = dict(incident=None, data_kinds=[], whose=[], approx_people=None, encrypted=None,
                cyber=None, exfiltrated=None, ongoing=False, unavailable=None, recipient=None,
                deleted=None, deliberate=None, recipients=None)
    return SimpleNamespace(**(base | values))


@pytest.mark.parametrize(("case", "risk", "ico", "tell", "like"), [
    (facts(incident="wrong_recipient", data_kinds=["sen"], whose=["pupils"], approx_people=1),
     "high", True, True, "wrong parent"),
    (facts(incident="cc_not_bcc", data_kinds=["contact"], whose=["parents"], approx_people=12),
     "low", False, False, "BCC"),
    # Many recipients make it reportable; email addresses alone are not a high risk to them.
    (facts(incident="cc_not_bcc", data_kinds=["contact"], whose=["parents"], approx_people=200),
     "medium", True, False, "BCC"),
    (facts(incident="lost_device", data_kinds=["identifiers", "health"], whose=["pupils"],
           approx_people=30, encrypted=False), "high", True, True, "unencrypted"),
    (facts(incident="lost_device", data_kinds=["identifiers", "health"], whose=["pupils"],
           approx_people=30, encrypted=True, unavailable="no"), "low", False, False,
     "encrypted device"),
    (facts(incident="cyber", cyber=True, data_kinds=["identifiers"], whose=["pupils", "staff"],
           approx_people=400, exfiltrated=False, unavailable="hours"), "low", False, False,
     "Ransomware"),
    (facts(incident="shown", data_kinds=["safeguarding"], whose=["pupils"], approx_people=1),
     "high", True, True, "whiteboard"),
    (facts(incident="wrong_recipient", data_kinds=["contact"], whose=["staff"], approx_people=1,
           encrypted=False, recipient="known", deleted=True), "low", False, False, "wrong parent"),
    # A child's contact details to one wrong parent who deleted them: logged, not reported.
    (facts(incident="wrong_recipient", data_kinds=["contact"], whose=["pupils"], approx_people=1,
           encrypted=False, recipient="known", deleted=True), "low", False, False,
     "wrong parent"),
    # The same with health data: reported, and the family told.
    (facts(incident="wrong_recipient", data_kinds=["health"], whose=["pupils"], approx_people=1),
     "high", True, True, "wrong parent"),
])
def test_triage_typical_cases(case: SimpleNamespace, risk: str, ico: bool, tell: bool,
                              like: str) -> None:
    found = assess(case)
    assert (found.risk, found.report_to_ico, found.tell_people) == (risk, ico, tell), found
    assert found.like and like in found.like
    assert found.reasons


def test_triage_children_raise_severity_and_nothing_known_is_cautious() -> None:
    adults = assess(facts(incident="wrong_recipient", data_kinds=["contact"], whose=["parents"]))
    children = assess(facts(incident="wrong_recipient", data_kinds=["contact"], whose=["pupils"]))
    assert (adults.severity, children.severity) == ("low", "medium")
    unknown = assess(facts())
    assert unknown.report_to_ico and "not known yet" in " ".join(unknown.reasons)


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_cli_deadline_breach(cli_env: dict[str, str]) -> None:
    done = run_cli("deadline", "breach", "2026-10-23T17:00", "--json", env=cli_env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["due"] == "2026-10-26T16:00:00+00:00"
    assert "The clocks go back on Sunday 25 October 2026" in " ".join(result["explanation"])
    done = run_cli("deadline", "breach", "2026-03-27T09:00", env=cli_env)
    assert "Monday 30 March 2026 at 10:00" in done.stdout
    done = run_cli("deadline", "breach", "2026-03-27T09:00+00:00", "--json", env=cli_env)
    assert json.loads(done.stdout)["due"] == "2026-03-30T10:00:00+01:00"
    done = run_cli("deadline", "breach", "next friday", env=cli_env)
    assert done.returncode == 2 and "ISO date-time" in done.stderr
    done = run_cli("deadline", "breach", "2026-03-29T01:30", env=cli_env)
    assert done.returncode == 2 and "clocks skipped it" in done.stderr


def test_cli_export_breaches(cli_env: dict[str, str]) -> None:
    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    school = make_school(engine)
    report(school)
    act(school, "dee", "report to ico", "IC-77", "now", "skip")
    done = run_cli("export", "breaches", "--format", "csv", env=cli_env)
    assert done.returncode == 0, done.stderr
    (row,) = list(csv.DictReader(io.StringIO(done.stdout)))
    assert (row["reference"], row["ico_reference"], row["data_kinds"], row["risk"]) == (
        REF, "IC-77", "sen", "high")
    assert row["ico_due"] == "2026-11-26T10:00:00+00:00"
    done = run_cli("export", "breaches", "--format", "json", env=cli_env)
    (item,) = json.loads(done.stdout)
    assert item["ico_decision"] == "reported" and item["ico_late"] is False
    engine.dispose()


def test_cancelling_the_follow_up_says_the_report_stands(school: School_) -> None:
    assert "Saved as BRE-2026-0001." in school.says("sam", "report a breach", *WRONG_PARENT[:4])
    assert school.says("sam", "cancel") == (
        "Cancelled. BRE-2026-0001 stays as it was; nothing was added to it.")
    with Session(school.engine) as session:
        assert session.exec(select(Breach)).one().state == "awaiting_decision"


def test_reported_by_phone_the_ico_reference_comes_later(school: School_) -> None:
    """Monday 23 November 2026: the DPO rings the ICO at 12:00 and has no reference yet. The
    report is recorded then (the 72 hours care about that moment), the DPO is reminded the
    next working day and a week on, and the breach cannot close until the reference is in."""
    report(school)
    school.now += timedelta(hours=2)
    said = act(school, "dee", "report to ico", "skip", "now", "skip")
    assert "Recorded: reported to the ICO, with no ICO reference yet: when it comes, type " \
           f"“ico reference {REF}”" in said
    case = breach(school)
    assert (case.ico_decision, case.ico_reference) == ("reported", None)
    assert case.ico_reported_at == school.now
    assert f"no ICO reference yet (add it: “ico reference {REF}”)" in school.says("dee", REF)
    assert "no ICO reference recorded yet" in letter(school, "log_entry")
    assert "(reference" not in letter(school, "affected_letter")
    act(school, "dee", "tell people", "no", "not high", "Low risk.", "Recalled unread.")
    assert f"the ICO's reference for the report is not recorded. Add it with “ico reference " \
           f"{REF}”" in school.says("dee", f"close {REF}")
    with Session(school.engine) as session:
        asks = sorted((r.due_at, r.person_id) for r in session.exec(select(Reminder).where(
            Reminder.subject_type == "breach_ico_reference")))
    dee = school.people["dee"]
    assert asks == [(datetime(2026, 11, 24, 8, 0, tzinfo=UTC), dee),
                    (datetime(2026, 11, 30, 8, 0, tzinfo=UTC), dee)]
    sweep(school.engine, now=datetime(2026, 11, 24, 8, 5, tzinfo=UTC))
    (nudge,) = [n for n in notes_for(school, "dee") if "with no reference yet" in n.text]
    assert nudge.text.startswith(f"{REF} was reported to the ICO Monday 23 November 2026 at "
                                 "12:00 with no reference yet.")
    # Only the DPO team adds it, once; then the next nudge is not sent.
    assert school.says("sam", f"ico reference {REF}") == (
        "Only the DPO or a deputy can add the ico reference. Nothing was changed.")
    said = act(school, "dee", "ico reference", "IC-2026-4411")
    assert f"Recorded: ICO reference IC-2026-4411 for {REF}." in said
    assert "reference IC-2026-4411" in school.says("dee", REF)
    assert "already has the ICO reference IC-2026-4411" in school.says(
        "dee", f"ico reference {REF}")
    sweep(school.engine, now=datetime(2026, 11, 30, 8, 5, tzinfo=UTC))
    assert len([n for n in notes_for(school, "dee") if "with no reference yet" in n.text]) == 1


def test_kinds_of_data_typed_as_numbers_read_back_as_names(school: School_) -> None:
    answers = list(WRONG_PARENT)
    answers[5] = "1, 12"
    summary = school.says("sam", "report a breach", *answers[:-1])
    assert "Kinds of data: Names or other basic identifiers, A minor health detail" in summary
    assert "1, 12" not in summary
