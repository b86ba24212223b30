"""Disclosure requests end to end, through the real chat, on SQLite and PostgreSQL.

The school's clock is Monday 23 November 2026, 10:00 (GMT, so UTC and London agree). The
story is DOMAIN.md 8's: a teacher logs a police request, the DPO verifies the officer by
calling back, then discloses part of what was asked, and the disclosure log keeps it.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bot.cli import app as cli
from tests.conftest import School_
from workflows.archive import REGISTERS, write_archive
from workflows.audit.models import AuditEvent
from workflows.core import engine as core
from workflows.database import session_scope
from workflows.disclosure.export import export_rows
from workflows.disclosure.flows import DISCLOSURE
from workflows.disclosure.models import DisclosureRequest, DisclosureState
from workflows.notifications.models import Notification
from workflows.registry import WORKFLOWS
from workflows.reminders.models import Reminder
from workflows.reminders.service import DeadlineHandler, handlers
from workflows.retention.service import periods, purge
from workflows.schools.models import School

REF = "DR-2026-0001"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CHILD = "Tom Parent (pupil, Year 5)"

# A police request as a teacher would type it, answer by answer.
POLICE = (
    "the police are asking for a pupil's records",
    "Kent Police",
    "police",
    "DC 4321 Jo Bloggs",
    "07700 900123",
    "dp form",
    "2026/123",
    CHILD,
    "Attendance records for October",
    "Investigating an assault outside the school on 3 October",
    "standard",
    "email",
    "today 9:00",
)
URGENT = POLICE[:10] + ("urgent",) + POLICE[11:]
VERIFY = (f"verify {REF}", "Called back via the force switchboard (101), spoke to DC Bloggs",
          "yes")
DISCLOSE = (f"disclose {REF}", "part", "para 2", "October attendance only, no other pupils",
            "secure email to the officer's police.uk address", "now", "yes")


def log(school: School_, answers: tuple[str, ...] = POLICE, who: str = "sam") -> str:
    return school.says(who, *answers, "yes")


def case(school: School_, reference: str = REF) -> DisclosureRequest:
    with Session(school.engine) as session:
        found = session.exec(select(DisclosureRequest).where(
            DisclosureRequest.reference == reference)).one()
        session.expunge(found)
        return found


def cases(school: School_) -> list[DisclosureRequest]:
    with Session(school.engine) as session:
        return list(session.exec(select(DisclosureRequest)))


def notes_for(school: School_, who: str) -> list[str]:
    with Session(school.engine) as session:
        return [n.text for n in session.exec(select(Notification).where(
            Notification.person_id == school.people[who]).order_by(col(Notification.id)))]


def events(school: School_) -> list[tuple[str, str, dict]]:
    with Session(school.engine) as session:
        return [(e.action, e.actor_name, e.detail) for e in session.exec(
            select(AuditEvent).where(col(AuditEvent.action).startswith("disclosure."))
            .order_by(col(AuditEvent.id)))]


def decisions(school: School_) -> list[tuple[str, str]]:
    return [(a, who) for a, who, _ in events(school) if not a.endswith(("viewed", "exported"))]


def pending_reminders(school: School_) -> list[tuple[str, date, str]]:
    """(kind, local day due, whom) for every reminder still to go."""
    names = {v: k for k, v in school.people.items()}
    with Session(school.engine) as session:
        return sorted((r.kind, r.due_at.date(), names[r.person_id]) for r in session.exec(
            select(Reminder).where(Reminder.subject_type == "disclosure",
                                   col(Reminder.sent_at).is_(None),
                                   col(Reminder.cancelled_at).is_(None))))


def test_disclosure_is_registered_with_its_reminders() -> None:
    assert WORKFLOWS["disclosure"] is DISCLOSURE
    assert handlers(WORKFLOWS)["disclosure"] == DeadlineHandler(DISCLOSURE)
    assert REGISTERS["disclosures"][1] is export_rows


# --- logging one ----------------------------------------------------------------------------


def test_staff_log_a_police_request_and_the_team_is_told_without_names(
        school: School_) -> None:
    said = log(school)
    assert f"Saved as {REF}." in said
    found = case(school)
    assert (found.state, found.organisation, found.requester_kind, found.authority,
            found.form_reference, found.subjects, found.urgency, found.channel) == (
        DisclosureState.AWAITING, "Kent Police", "police", "dp_form", "2026/123", CHILD,
        "standard", "email")
    assert found.received_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    # 10 school days from Monday 23 November (no term calendar: the school's working days).
    assert found.target_on == date(2026, 12, 7)
    # The DPO and deputy are told privately: who asks and the target, never whose data.
    (new,) = notes_for(school, "dee")
    assert new.startswith(f"New disclosure request {REF}: Kent Police asks for personal data; "
                          "the school's target is Monday 7 December 2026.")
    assert notes_for(school, "vic") == [new] and not notes_for(school, "hal")
    assert "Tom" not in new and not notes_for(school, "sam")
    # The shared alert channel gets the reference and the countdown only.
    with session_scope(school.engine) as session:
        alert = core.channel_alert(school.context(session, "dee"), DISCLOSURE, case(school))
    assert alert == (f"Disclosure request {REF} logged. School target Monday 7 December 2026 "
                     "(14 days left). The DPO team has the details privately; please do not "
                     "discuss it here.")
    # The audit line outlives the case: it names who asked, not whose data.
    ((action, who, detail),) = events(school)
    assert (action, who) == ("disclosure.created", "Sam Teacher")
    assert detail == {"organisation": "Kent Police", "urgency": "standard",
                      "target": "2026-12-07"}
    # The DPO's card has everything, and reading it is audited.
    card = school.says("dee", REF)
    for row in ("Organisation: Kent Police (Police)", "Requester: DC 4321 Jo Bloggs",
                "Authority: A signed DP / Schedule 2 form, ref 2026/123",
                f"Whose data: {CHILD}", "Urgency: Standard",
                "Verified: Not yet: call back on a known number before sending",
                "The school's target is Monday 7 December 2026 (10 school days)."):
        assert row in card, row
    assert events(school)[-1][:2] == ("disclosure.viewed", "Dee Dpo")


def test_a_wrong_answer_is_asked_again_and_nothing_is_saved(school: School_) -> None:
    said = school.says("sam", *POLICE[:10], "quite")
    assert "“quite” isn't one of the choices: type 1 or 2, or the name." in said
    assert said.endswith("How urgent is it?")  # asked again, with its list
    said = school.says("sam", "standard", "email", "tomorrow 9:00")
    assert "is in the future" in said
    assert cases(school) == []
    assert f"Saved as {REF}." in school.says("sam", "today 9:00", "yes")


def test_cancel_saves_nothing(school: School_) -> None:
    school.says("sam", *POLICE[:6])
    assert "Cancelled. Nothing was saved." in school.says("sam", "cancel")
    assert cases(school) == [] and notes_for(school, "dee") == []


# --- the DPO decides ------------------------------------------------------------------------


def test_verify_then_disclose_in_part_with_its_basis(school: School_) -> None:
    log(school)
    # Nothing is sent to a requester nobody has checked.
    said = school.says("dee", f"disclose {REF}")
    assert said == (f"Verify the requester of {REF} first (“verify {REF}”): call them back "
                    "on a number you know, not the one they gave.")
    assert f"\ndisclose {REF}" not in school.says("dee", REF)
    assert school.says("dee", *VERIFY).startswith(f"Verified: {REF}.")
    school.now = NOW + timedelta(hours=3)
    said = school.says("dee", *DISCLOSE)
    assert said.startswith(f"Disclosed in part: {REF} is in the disclosure log")
    found = case(school)
    assert (found.state, found.outcome, found.basis, found.what_sent, found.closed_on,
            found.target_on) == (DisclosureState.DISCLOSED, "disclosed_part", "crime",
                                 "October attendance only, no other pupils",
                                 date(2026, 11, 23), None)
    assert found.sent_at == NOW + timedelta(hours=3)
    # Who decided, when and why: the engine's audit of each action.
    assert decisions(school) == [("disclosure.created", "Sam Teacher"),
                                 ("disclosure.verify", "Dee Dpo"),
                                 ("disclosure.disclose", "Dee Dpo")]
    detail = next(d for a, _, d in events(school) if a == "disclosure.disclose")
    assert (detail["extent"], detail["basis"], detail["sent_how"]) == (
        "disclosed_part", "crime", "secure email to the officer's police.uk address")
    card = school.says("dee", REF)
    assert "Decision: Disclosed in part by Dee Dpo, Monday 23 November 2026 at 13:00" in card
    assert "Lawful basis or exemption: DPA 2018 Sch 2 para 2: crime and taxation" in card
    # The history's Why is what the action declares explains it: the extent and the basis.
    assert ("| Dee Dpo | disclose | In part; DPA 2018 Sch 2 para 2: crime and taxation |"
            in school.says("dee", f"history {REF}"))
    # Whoever logged it hears the outcome, not what was sent.
    told = notes_for(school, "sam")[-1]
    assert told.startswith(f"Disclosure request {REF} (Kent Police): the DPO (Dee Dpo) has "
                           "disclosed in part.")
    assert "attendance" not in told
    # Nothing is left to nudge about.
    assert pending_reminders(school) == []


def test_other_basis_needs_its_text_and_a_refusal_keeps_its_reason(school: School_) -> None:
    log(school)
    school.says("dee", *VERIFY)
    said = school.says("dee", f"disclose {REF}", "full", "other")
    assert said.endswith("Which basis, and why?")
    school.says("dee", "cancel")
    said = school.says("dee", f"refuse {REF}",
                       "No offence named and no senior officer's signature", "yes")
    assert said.startswith(f"Refused: {REF} is in the disclosure log with your reason.")
    found = case(school)
    assert (found.state, found.outcome, found.reason) == (
        DisclosureState.REFUSED, "refused", "No offence named and no senior officer's signature")
    assert "has refused it" in notes_for(school, "sam")[-1]


def test_asking_for_more_pauses_a_standard_target_until_it_arrives(school: School_) -> None:
    log(school)
    said = school.says("dee", f"ask {REF}", "A DP form signed by an inspector", "yes")
    assert "The target stops until it arrives" in said
    found = case(school)
    assert (found.state, found.target_on) == (DisclosureState.MORE_INFO, None)
    assert pending_reminders(school) == []
    assert "Waiting for the requester" in school.says("dee", REF)
    # The form arrives on Thursday: 10 school days from then.
    school.now = NOW + timedelta(days=3)
    said = school.says("dee", f"received {REF}", "The signed form, ref 2026/124", "yes")
    assert said.startswith(f"Recorded: {REF} is back with the DPO. Target: Thursday 10 "
                           "December 2026.\n")
    assert case(school).target_on == date(2026, 12, 10)
    assert pending_reminders(school)


def test_an_urgent_request_is_due_today_and_asking_does_not_pause_it(
        school: School_) -> None:
    log(school, URGENT)
    assert case(school).target_on == date(2026, 11, 23)
    assert notes_for(school, "dee")[0].startswith(
        f"New disclosure request {REF}: Kent Police asks for personal data. URGENT")
    # Today at once, and tomorrow morning if it is still waiting.
    assert pending_reminders(school) == [
        ("deadline.overdue.2026-11-24", date(2026, 11, 24), "dee"),
        ("deadline.overdue.2026-11-24", date(2026, 11, 24), "vic"),
        ("deadline.today", date(2026, 11, 23), "dee"),
        ("deadline.today", date(2026, 11, 23), "vic")]
    said = school.says("dee", f"ask {REF}", "The officer's collar number in writing", "yes")
    assert "the same-day target stands" in said
    assert case(school).target_on == date(2026, 11, 23)


def test_the_logger_may_record_a_withdrawal(school: School_) -> None:
    log(school)
    said = school.says("sam", f"withdraw {REF}", "The officer rang: no longer needed", "yes")
    assert said.startswith(f"Withdrawn: {REF} is closed")
    assert (case(school).state, case(school).outcome) == (DisclosureState.WITHDRAWN,
                                                          "withdrawn")


# --- one decision wins ----------------------------------------------------------------------


def test_a_double_decision_changes_nothing(school: School_) -> None:
    log(school)
    school.says("dee", *VERIFY)  # version 2
    with session_scope(school.engine) as session:
        first = core.decide(school.context(session, "dee"), DISCLOSURE,
                            DISCLOSURE.action("refuse"), REF, 2, {"reason": "No form"})
    with session_scope(school.engine) as session:
        second = core.decide(school.context(session, "vic"), DISCLOSURE,
                             DISCLOSURE.action("disclose"), REF, 2,
                             {"extent": "full", "basis": "crime", "what_sent": "Everything",
                              "sent_how": "email", "sent_at": "now"})
    assert first.ok and not second.ok
    assert second.message == (f"Dee Dpo already did “refuse” on {REF} (Monday 23 November "
                              "2026 at 10:00). Nothing was changed by this attempt; it is "
                              "now refused.")
    assert (case(school).state, case(school).what_sent) == (DisclosureState.REFUSED, None)
    # In the chat, the decided case offers no second decision.
    said = school.says("vic", f"disclose {REF}")
    assert said == f"{REF} is refused, so “Disclose” is not possible now."
    assert [a for a, _ in decisions(school)] == ["disclosure.created", "disclosure.verify",
                                                 "disclosure.refuse"]


# --- who sees what --------------------------------------------------------------------------


def test_other_staff_cannot_see_it_and_staff_cannot_decide(school: School_) -> None:
    log(school)
    for asked in (REF, f"history {REF}", f"disclose {REF}"):
        said = school.says("kim", asked)
        assert said == f"I can't find a case {REF} that you can see.", asked
        assert "Kent" not in said
    assert REF not in school.says("kim", "cases")
    # The teacher who logged it sees it, but only the DPO team decides.
    assert f"Whose data: {CHILD}" in school.says("sam", REF)
    assert school.says("sam", f"disclose {REF}") == (
        "Only the DPO or a deputy can disclose. Nothing was changed.")
    # The head sees every case, and decides none.
    assert f"\nrefuse {REF}" not in school.says("hal", REF)


# --- reminders, export, retention -----------------------------------------------------------


def test_reminders_are_planned_for_the_target(school: School_) -> None:
    log(school)
    # Two days before (Saturday 5 December rolls back to Friday), on the day, and the
    # morning after if it is still waiting (the head joins a day later).
    assert pending_reminders(school) == [
        ("deadline.in_2_days", date(2026, 12, 4), "dee"),
        ("deadline.in_2_days", date(2026, 12, 4), "vic"),
        ("deadline.overdue.2026-12-08", date(2026, 12, 8), "dee"),
        ("deadline.overdue.2026-12-08", date(2026, 12, 8), "vic"),
        ("deadline.today", date(2026, 12, 7), "dee"),
        ("deadline.today", date(2026, 12, 7), "vic"),
    ]


def test_the_disclosure_log_exports_with_the_other_registers(school: School_,
                                                             tmp_path: Path) -> None:
    log(school)
    school.says("dee", *VERIFY)
    school.says("dee", *DISCLOSE)
    log(school, URGENT)
    school.says("dee", "refuse DR-2026-0002", "Not our pupil", "yes")
    with session_scope(school.engine) as session:
        found = session.get(School, school.school_id)
        counts = write_archive(session, found, tmp_path / "all.zip", actor="Dee Dpo", now=NOW)
    assert counts["disclosures"] == 2
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("disclosures.csv").decode())))
        contents = archive.read("CONTENTS.txt").decode()
        settings = archive.read("settings.csv").decode()
    assert "disclosures.csv / .json: the disclosure log" in contents
    assert "retention.disclosure_log_years,6" in settings
    assert [(r["reference"], r["outcome"], r["basis"], r["decided_by"], r["urgency"])
            for r in rows] == [(REF, "disclosed_part", "crime", "Dee Dpo", "standard"),
                               ("DR-2026-0002", "refused", "", "Dee Dpo", "urgent")]
    assert rows[0]["verified_how"] == VERIFY[1] and rows[1]["reason"] == "Not our pupil"
    # `dpo-bot export disclosures`, as the DPO runs it; the read is audited as them.
    url = school.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["export", "disclosures", "--format", "json", "--as",
                                      "Dee Dpo"], env={"DPO_BOT_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert [r["reference"] for r in json.loads(result.stdout)] == [REF, "DR-2026-0002"]
    assert [who for a, who, _ in events(school) if a == "disclosure.exported"] == [
        "Dee Dpo", "Dee Dpo"]


def test_the_log_is_kept_six_years_after_closing(school: School_) -> None:
    log(school)
    school.says("dee", f"refuse {REF}", "No form", "yes")
    with session_scope(school.engine) as session:
        found = session.get(School, school.school_id)
        assert periods(found)["disclosure_log_years"] == 6
        kept = purge(session, found, datetime(2032, 11, 23, 12, tzinfo=UTC))
        assert not next(r for r in kept if "disclosure" in r.what).count
    with session_scope(school.engine) as session:
        found = session.get(School, school.school_id)
        gone = purge(session, found, datetime(2032, 11, 24, 12, tzinfo=UTC))
        removal = next(r for r in gone if "disclosure" in r.what)
        assert (removal.what, removal.count, removal.references) == (
            "closed disclosure request records", 1, [REF])
    assert cases(school) == []
