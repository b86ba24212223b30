"""The retention purge (DOMAIN.md 6): the bot's own records kept no longer than the school says.

Each school's periods are settings (``School.retention``, defaults in
``workflows.schools.models``). A finished case goes with everything hung on it (its notes,
pauses, reminders, messages and chats); its audit lines stay, emptied of detail, until the
audit period ends, so who did what remains provable. Every purge records what it removed,
by reference and count, never by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Column, ColumnElement, Table, delete, update
from sqlalchemy.orm import Mapped
from sqlmodel import Session, SQLModel, col, select

from workflows.audit.models import AuditEvent
from workflows.consent.models import Consent, ConsentChange, Pupil
from workflows.core.cases import of_school
from workflows.core.declaration import Workflow
from workflows.core.models import Conversation
from workflows.database import saved_id, table_of
from workflows.notifications.models import Notification
from workflows.registry import WORKFLOWS
from workflows.reminders.models import Reminder
from workflows.schools.models import DEFAULT_RETENTION, School
from workflows.tables import metadata


@dataclass
class Removal:
    """One kind of record past its period: how many, which (by reference), and the rule."""

    what: str
    rule: str
    count: int = 0
    references: list[str] = field(default_factory=list)


def periods(school: School) -> dict[str, int]:
    """The school's periods, with the defaults for any it has not set."""
    declared = {w.retention.setting: w.retention.default_years
                for w in WORKFLOWS.values() if w.retention is not None}
    return {**declared, **DEFAULT_RETENTION, **(school.retention or {})}


def academic_year_end(day: date) -> date:
    """31 August of the academic year ``day`` falls in (September to August)."""
    return date(day.year if day.month <= 8 else day.year + 1, 8, 31)


def keep_until(workflow: Workflow[Any], case: Any, years: int) -> date | None:
    """The last day a finished case is kept, or None while it is open."""
    rule = workflow.retention
    if rule is None or workflow.is_open(case):
        return None
    ended = rule.ended(case)
    if ended is None:
        return None
    start = academic_year_end(ended) if rule.to_academic_year_end else ended
    return start + relativedelta(years=years)


def purge(session: Session, school: School, now: datetime, *, dry_run: bool = False,
          by_name: str = "purge") -> list[Removal]:
    """Remove (or, dry, only list) what is past its period; returns what, with the rules."""
    years = periods(school)
    today = now.date()
    removals = [_cases(session, school, w, years[w.retention.setting], today, dry_run)
                for w in WORKFLOWS.values() if w.retention is not None]
    removals += [
        _leavers(session, school, years["pupil_left_years"], today, dry_run),
        _older(session, school, Conversation, col(Conversation.updated_at),
               now - timedelta(days=years["conversation_days"]), dry_run,
               "chats (finished or left unfinished)",
               f"last touched more than {years['conversation_days']} days ago"),
        _older(session, school, Notification, col(Notification.delivered_at),
               now - timedelta(days=years["message_days"]), dry_run, "delivered messages",
               f"delivered more than {years['message_days']} days ago"),
        _older(session, school, Reminder, col(Reminder.created_at),
               now - timedelta(days=years["message_days"]), dry_run,
               "finished reminders", f"sent or cancelled, made more than "
               f"{years['message_days']} days ago",
               finished=(col(Reminder.sent_at).is_not(None)
                         | col(Reminder.cancelled_at).is_not(None))),
        _older(session, school, AuditEvent, col(AuditEvent.at),
               now - relativedelta(years=years["audit_years"]), dry_run, "audit lines",
               f"older than {years['audit_years']} years"),
    ]
    if not dry_run:
        # Recorded after the old audit lines went, so the purge's own line is never among them.
        session.add(AuditEvent(
            school_id=saved_id(school), at=now, actor_name=by_name, adapter="cli",
            action="retention.purged", subject_type="school", subject_id=school.id,
            subject_ref=None,
            detail={r.what: {"count": r.count, "references": r.references, "rule": r.rule}
                    for r in removals if r.count}))
        session.flush()
    return removals


def _cases(session: Session, school: School, workflow: Workflow[Any], years: int, today: date,
           dry_run: bool) -> Removal:
    rule = workflow.retention
    assert rule is not None
    school_id = saved_id(school)
    removal = Removal(
        f"closed {workflow.title.lower()} records",
        f"kept {years} year{'s' if years != 1 else ''} after "
        + ("the academic year they closed in" if rule.to_academic_year_end else "closing"))
    finished = [case for case in session.exec(of_school(workflow, school_id, open_only=False))
        if (last := keep_until(workflow, case, years)) is not None and last < today]
    removal.count = len(finished)
    removal.references = sorted(ref for case in finished if (ref := case.reference))
    if dry_run or not finished:
        return removal
    ids = [case.id for case in finished]
    for child, column in _children(table_of(workflow.model)):
        session.execute(delete(child).where(column.in_(ids)))
    session.execute(delete(Reminder).where(col(Reminder.subject_type) == workflow.name,
                                           col(Reminder.subject_id).in_(ids)))
    session.execute(delete(Notification).where(
        col(Notification.school_id) == school_id,
        col(Notification.subject_ref).in_(removal.references)))
    session.execute(delete(Conversation).where(
        col(Conversation.workflow) == workflow.name, col(Conversation.target_id).in_(ids)))
    # Who did what stays (until the audit period ends); what they typed goes with the case.
    session.execute(update(AuditEvent).where(
        col(AuditEvent.school_id) == school_id, col(AuditEvent.subject_type) == workflow.name,
        col(AuditEvent.subject_id).in_(ids)).values(detail={"purged": today.isoformat()}))
    for case in finished:
        session.delete(case)
    session.flush()
    return removal


def _children(table: Table) -> list[tuple[Table, Column[Any]]]:
    """Every table with a foreign key to ``table``, and that key's column (notes, pauses...).

    Found from the schema, so a workflow that adds a table hung on its cases is purged too.
    """
    return [(child, fk.parent) for child in metadata.sorted_tables
            for fk in child.foreign_keys if fk.column.table is table]


def _leavers(session: Session, school: School, years: int, today: date,
             dry_run: bool) -> Removal:
    removal = Removal("leavers' consent records",
                      f"kept {years} year{'s' if years != 1 else ''} after the academic year "
                      "they left in")
    school_id = saved_id(school)
    leavers = [p for p in session.exec(select(Pupil).where(
        Pupil.school_id == school_id, col(Pupil.left_at).is_not(None)))
        if p.left_at is not None
        and academic_year_end(p.left_at.date()) + relativedelta(years=years) < today]
    removal.count = len(leavers)
    removal.references = sorted(f"MIS {p.mis_id}" for p in leavers)
    if dry_run or not leavers:
        return removal
    ids = [p.id for p in leavers]
    for model in (ConsentChange, Consent):
        session.execute(delete(model).where(col(model.pupil_id).in_(ids)))
    session.execute(update(AuditEvent).where(
        col(AuditEvent.school_id) == school_id, col(AuditEvent.subject_type) == "pupil",
        col(AuditEvent.subject_id).in_(ids)).values(detail={"purged": today.isoformat()}))
    session.execute(delete(Pupil).where(col(Pupil.id).in_(ids)))
    return removal


def _older(session: Session, school: School, model: type[SQLModel], when: Mapped[Any],
           before: datetime, dry_run: bool, what: str, rule: str,
           finished: ColumnElement[bool] | None = None) -> Removal:
    table = table_of(model)
    query = select(table.c.id).where(table.c.school_id == saved_id(school), when.is_not(None),
                                     when < before)
    if finished is not None:
        query = query.where(finished)
    ids = list(session.exec(query))
    if ids and not dry_run:
        session.execute(delete(model).where(table.c.id.in_(ids)))
    return Removal(what, rule, count=len(ids))

