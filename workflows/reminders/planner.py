"""Which reminders a case should have, written in the same transaction as the case.

Planning is idempotent: the dedupe key names the case, the deadline it is about, the
kind and the person, so re-planning after any change adds only what is new and cancels
what no longer applies (a moved deadline cancels the nudges for the old one).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import true
from sqlmodel import Session, col, select, update

from workflows import database
from workflows.core.declaration import ClockReminders, DeadlineReminders, Workflow
from workflows.database import saved_id
from workflows.people import service as people
from workflows.people.models import Person, Role
from workflows.reminders.models import Reminder
from workflows.schools.models import School
from workflows.schools.service import (
    next_work_day,
    next_work_moment,
    previous_work_day,
    work_window_start,
)


def plan_for_case(
    session: Session, school: School, workflow: Workflow[Any], case: Any, now: datetime
) -> None:
    desired = {r.dedupe_key: r for r in _desired(session, school, workflow, case, now)}
    # One read of the case's rows decides which of the three writes are needed at all: a
    # decision that leaves the deadline and the recipients as they were (most) writes none.
    existing = session.execute(
        select(Reminder.dedupe_key, Reminder.sent_at, Reminder.cancelled_at).where(
            col(Reminder.subject_type) == workflow.name, col(Reminder.subject_id) == case.id)
    ).all()
    keys = set(desired)
    if any(sent is None and cancelled is None and key not in keys
           for key, sent, cancelled in existing):
        session.execute(
            update(Reminder)
            .where(
                col(Reminder.subject_type) == workflow.name,
                col(Reminder.subject_id) == case.id,
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled_at).is_(None),
                col(Reminder.dedupe_key).not_in(keys) if keys else true(),
            )
            .values(cancelled_at=now)
        )
    if any(sent is None and cancelled is not None and key in keys
           for key, sent, cancelled in existing):
        # a deadline that moved back again revives the nudges it had
        session.execute(
            update(Reminder)
            .where(
                col(Reminder.dedupe_key).in_(keys),
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled_at).is_not(None),
            )
            .values(cancelled_at=None)
        )
    known = {key for key, _, _ in existing}
    insert_all_once(session, [r for key, r in desired.items() if key not in known])


def _desired(
    session: Session, school: School, workflow: Workflow[Any], case: Any, now: datetime
) -> Iterable[Reminder]:
    policy = workflow.reminders
    due = workflow.due(case)
    if policy is None or due is None or not workflow.clock_running(case):
        return
    if isinstance(policy, ClockReminders):
        if isinstance(due, datetime):  # a clock runs to a moment, never to a bare day
            yield from _clock(session, school, workflow, case, due, policy, now)
        return
    team = _team(session, case, policy)
    recipients = recipients_for(session, case, policy, overdue_days=0, team=team)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    for days in (*policy.days_before, *((0,) if policy.on_the_day else ())):
        moment = work_window_start(school, previous_work_day(school, due - timedelta(days=days)))
        if days and moment < now:
            continue  # a nudge for "14 days left" is no use once fewer are left
        if due < today:
            continue  # "due today" for a day gone by: the overdue nudge says it instead
        kind = "deadline.today" if days == 0 else f"deadline.in_{days}_days"
        for person in recipients:
            yield _reminder(school, workflow, case, due, kind, person, max(moment, now))
    if policy.overdue_daily:
        # The next overdue day from today, not from the deadline: a case logged or re-planned
        # once overdue gets one nudge now, not one per day missed.
        first = next_work_day(school, max(due + timedelta(days=1), today))
        yield from overdue_reminders(
            session, school, workflow, case, due, first, policy, now, team=team
        )
        if first == today:
            # Today's may have gone already; tomorrow's, which the chain wrote when it did,
            # must stay planned, or re-planning (a new owner, say) would end the chain.
            following = next_work_day(school, today + timedelta(days=1))
            yield from overdue_reminders(
                session, school, workflow, case, due, following, policy, now, team=team
            )


def _clock(
    session: Session,
    school: School,
    workflow: Workflow[Any],
    case: Any,
    due: datetime,
    policy: ClockReminders[Any],
    now: datetime,
) -> Iterable[Reminder]:
    """Nudges N hours before a moment; those already past are dropped, the last one kept."""
    moments = [(hours, due - timedelta(hours=hours)) for hours in policy.hours_before]
    upcoming = [(h, m) for h, m in moments if m >= now]
    if not upcoming:  # past the deadline: one nudge now says so
        upcoming = [(0, now)]
    recipients = _people(session, case, policy.recipients)
    escalated = (people.by_role(session, case.school_id, *policy.escalate_to)
                 if policy.escalate_hours_before is not None else [])
    for hours, moment in upcoming:
        people_now = list(recipients)
        if policy.escalate_hours_before is not None and hours <= policy.escalate_hours_before:
            people_now += escalated
        kind = f"clock.{hours}h"
        for person in {p.id: p for p in people_now}.values():
            yield _reminder(school, workflow, case, due, kind, person, max(moment, now))


def _people(session: Session, case: Any, recipients: tuple[str, ...]) -> list[Person]:
    found: list[Person] = []
    for who in recipients:
        if who == "owner":
            owner = people.get(session, case.owner_id)
            if owner is not None and owner.active:
                found.append(owner)
        else:
            found += people.by_role(session, case.school_id, Role(who))
    return found


def overdue_reminders(
    session: Session,
    school: School,
    workflow: Workflow[Any],
    case: Any,
    due: date,
    day: date,
    policy: DeadlineReminders,
    now: datetime,
    team: list[Person] | None = None,
) -> Iterable[Reminder]:
    overdue_days = working_days_between(school, due, day)
    moment = max(work_window_start(school, day), next_work_moment(school, now))
    for person in recipients_for(session, case, policy, overdue_days, team):
        yield _reminder(
            school, workflow, case, due, f"deadline.overdue.{day.isoformat()}", person, moment
        )


def recipients_for(
    session: Session,
    case: Any,
    policy: DeadlineReminders,
    overdue_days: int,
    team: list[Person] | None = None,
) -> list[Person]:
    """The owner, the policy's roles and, once overdue long enough, the escalation roles.

    ``team`` is ``_team``'s read, for a caller that asks more than once in one planning.
    """
    if team is None:
        team = _team(session, case, policy)

    def having(roles: set[Role]) -> list[Person]:
        return [p for p in team if Role(p.role) in roles]

    found: dict[int, Person] = {}
    for who in policy.recipients:
        if who == "owner":
            owner = people.get(session, case.owner_id)
            if owner is not None and owner.active:
                found[saved_id(owner)] = owner
        else:
            for person in having({Role(who)}):
                found[saved_id(person)] = person
    if overdue_days > policy.escalate_after_overdue_days:
        for person in having(set(policy.escalate_to)):
            found[saved_id(person)] = person
    return list(found.values())


def _team(session: Session, case: Any, policy: DeadlineReminders) -> list[Person]:
    """Everyone active in a role the policy names (recipients or escalation), in one read."""
    roles = {Role(w) for w in policy.recipients if w != "owner"} | set(policy.escalate_to)
    return people.by_role(session, case.school_id, *roles) if roles else []


def working_days_between(school: School, start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if next_work_day(school, day) == day:
            count += 1
    return count


def _reminder(
    school: School,
    workflow: Workflow[Any],
    case: Any,
    due: date,
    kind: str,
    person: Person,
    due_at: datetime,
) -> Reminder:
    return Reminder(
        school_id=saved_id(school),
        subject_type=workflow.name,
        subject_id=case.id,
        person_id=person.id,
        kind=kind,
        target=due.isoformat(),
        due_at=due_at,
        working_hours=workflow.reminders is None or workflow.reminders.working_hours_only,
        dedupe_key=f"{workflow.name}:{case.id}:{due.isoformat()}:{kind}:{person.id}",
    )


def insert_all_once(session: Session, reminders: list[Reminder]) -> None:
    """Insert each unless its dedupe key is already there, in one statement."""
    if reminders:
        database.insert_all_once(
            session, Reminder, [r.model_dump(exclude={"id"}) for r in reminders], "dedupe_key"
        )


def insert_once(session: Session, reminder: Reminder) -> bool:
    """Insert unless the dedupe key is already there (sent, cancelled or pending)."""
    return database.insert_once(
        session, Reminder, reminder.model_dump(exclude={"id"}), "dedupe_key"
    )


def pending_for(session: Session, subject_type: str, subject_id: int) -> list[Reminder]:
    return list(
        session.exec(
            select(Reminder)
            .where(
                Reminder.subject_type == subject_type,
                Reminder.subject_id == subject_id,
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled_at).is_(None),
            )
            .order_by(col(Reminder.due_at), col(Reminder.id))
        )
    )
