"""The ICO's reference for a breach reported by phone before the ICO gave one.

The report is recorded when it is made (the 72 hours care about that moment); the reference
follows. Until it is added, the DPO who reported it is reminded, the card says it is missing
and the breach cannot be closed, so the log never keeps a report with no way to trace it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from workflows.breach.models import Breach, IcoDecision
from workflows.core.context import Context
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.people import service as people
from workflows.reminders.messages import Message
from workflows.reminders.models import Reminder
from workflows.reminders.planner import insert_once
from workflows.schools.models import School
from workflows.schools.service import next_work_day, work_window_start

SUBJECT = "breach_ico_reference"
# Asked again the next working day, then a week later: the ICO usually emails it within days.
REMIND_AFTER_DAYS = (1, 7)


def missing(case: Breach) -> bool:
    return case.ico_decision == IcoDecision.REPORTED and not case.ico_reference


def plan(ctx: Context, case: Breach) -> None:
    """Reminders to the person who reported it, until the reference is added."""
    for days in REMIND_AFTER_DAYS:
        day = next_work_day(ctx.school, ctx.today + timedelta(days=days))
        insert_once(ctx.session, Reminder(
            school_id=ctx.school_id, subject_type=SUBJECT, subject_id=saved_id(case),
            person_id=ctx.person.id, kind=f"ico_reference.{days}", target=day.isoformat(),
            due_at=work_window_start(ctx.school, day),
            dedupe_key=f"{SUBJECT}:{case.id}:{days}:{ctx.person.id}"))


def reminder(session: Session, due: Reminder, now: datetime) -> Message | None:
    """The reminder worker's handler: None once the reference is in, or nobody to ask."""
    case = session.get(Breach, due.subject_id)
    person = people.get(session, due.person_id)
    if case is None or not missing(case) or person is None or not person.active:
        return None
    school = session.get_one(School, due.school_id)
    reported = case.ico_reported_at.astimezone(ZoneInfo(school.timezone)) if (
        case.ico_reported_at) else None
    return Message([person], render("breach/result.txt.j2", event="reference_reminder",
                                    case=case, at=reported), case.reference)


def guard(ctx: Context, case: Breach) -> str | None:
    if missing(case):
        return None
    return render("breach/refusal.txt.j2", reason="reference_not_missing", case=case)


def add(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    case.ico_reference = values["ico_reference"]
    return render("breach/result.txt.j2", event="reference_added", case=case)
