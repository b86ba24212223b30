"""The reminder worker: claim due rows with a lease, turn each into a notification, mark sent.

Exactly once, with any number of workers: a row is claimed by a compare-and-set on its
lease (PostgreSQL adds ``FOR UPDATE SKIP LOCKED`` so workers do not queue on each other;
SQLite serialises writers, so the conditional UPDATE alone is the claim). The notification
is written with the reminder's dedupe key and the row is marked sent in the same
transaction, only if this worker still holds the lease. A worker killed mid-sweep leaves
rows claimed until the lease runs out; the next worker then sends them, once.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Engine, Integer, String, or_
from sqlmodel import Session, col, select, update
from sqlmodel.sql.expression import SelectOfScalar

from workflows.core import unfinished
from workflows.core.declaration import DeadlineReminders, Workflow
from workflows.core.timeleft import time_left
from workflows.core.wording import render
from workflows.database import (
    insert_all_once,
    insert_once,
    one_of,
    saved_id,
    session_scope,
    utcnow,
)
from workflows.notifications import service as notifications
from workflows.notifications import undeliverable
from workflows.notifications.models import Notification
from workflows.people import service as people
from workflows.people.models import Person, Role
from workflows.reminders import planner
from workflows.reminders.messages import Handler, Message
from workflows.reminders.models import Reminder
from workflows.schools.models import School
from workflows.schools.service import (
    is_work_day,
    next_urgent_moment,
    next_work_day,
    next_work_moment,
    work_window_start,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


@dataclass
class SweepResult:
    sent: int = 0
    deferred: int = 0  # outside working hours: moved to the next window
    cancelled: int = 0  # the case closed or its deadline moved
    failed: int = 0
    # People with messages waiting that no chat can reach (the DPO team is told once).
    stranded: list[undeliverable.Stranded] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.deferred} deferred to working hours, "
            f"{self.cancelled} no longer needed, {self.failed} failed"
        )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(
    session: Session, token: str, now: datetime, limit: int = 100, lease: timedelta = LEASE
) -> list[int]:
    """Claim up to ``limit`` due rows for ``token``; commits so others see the lease.

    Returns only the rows this call claimed (RETURNING), never ones the token already held:
    a row the sweep gave up on (failed, no longer needed) must not come round again in the
    same sweep, or a batch of them would loop for ever.
    """
    claimable = _claimable(now)
    due = due_query(now, limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.exec(due.with_for_update(skip_locked=True)))
        if not ids:
            session.commit()
            return []
        condition = col(Reminder.id).in_(ids)
    else:
        condition = col(Reminder.id).in_(due.scalar_subquery())
    claimed = session.execute(
        update(Reminder)
        .where(condition, claimable, col(Reminder.sent_at).is_(None))
        .values(claimed_by=token, claimed_until=now + lease, attempts=Reminder.attempts + 1)
        .returning(col(Reminder.id), col(Reminder.due_at))
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return [row.id for row in sorted(claimed, key=lambda row: (row.due_at, row.id))]


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(col(Reminder.claimed_until).is_(None), col(Reminder.claimed_until) < now)


def due_query(now: datetime, limit: int) -> SelectOfScalar[int | None]:
    """The ids ``claim`` takes, oldest due first (a function so a benchmark can EXPLAIN it)."""
    return (
        select(col(Reminder.id))
        .where(
            col(Reminder.sent_at).is_(None),
            col(Reminder.cancelled_at).is_(None),
            col(Reminder.due_at) <= now,
            _claimable(now),
        )
        .order_by(col(Reminder.due_at), col(Reminder.id))
        .limit(limit)
    )


Registry = Mapping[str, Workflow[Any]]


def default_registry() -> Registry:
    """Every workflow the bot runs (imported here: the registry imports the workflows,
    which plan their reminders with this package)."""
    from workflows.registry import WORKFLOWS

    return WORKFLOWS


@dataclass(frozen=True)
class DeadlineHandler:
    """The handler of a workflow's deadline nudges (``Workflow.reminders``)."""

    workflow: Workflow[Any]

    def __call__(self, session: Session, reminder: Reminder, now: datetime) -> Message | None:
        return _deadline_handler(session, self.workflow, reminder, now)


def handlers(registry: Registry) -> dict[str, Handler]:
    """What every reminder subject's rows say, derived from the declarations: each
    workflow's deadline nudges, the reminders it declares beside them, and the digest."""
    found: dict[str, Handler] = {"digest": Digests(),
                                 unfinished.SUBJECT: unfinished.Remind(registry)}
    for workflow in registry.values():
        if workflow.reminders is not None:
            found[workflow.name] = DeadlineHandler(workflow)
        found.update(workflow.reminder_handlers)
    return found


def sweep(
    engine: Engine,
    *,
    now: datetime | None = None,
    token: str | None = None,
    batch: int = 100,
    lease: timedelta = LEASE,
    on_claimed: Callable[[list[int]], None] | None = None,
    registry: Registry | None = None,
) -> SweepResult:
    """One pass over every due reminder. Safe to run from any number of processes.

    ``registry``: the workflows whose reminders it sends (by default every one the bot
    runs); their declarations say what each reminder says.
    """
    registry = default_registry() if registry is None else registry
    sweeper = _Sweeper(registry, handlers(registry))
    now = now or utcnow()
    token = token or worker_name()
    result = SweepResult()
    with session_scope(engine) as session:
        ensure_digests(session, now)
        result.stranded = undeliverable.stranded(session)
        undeliverable.tell_the_team(session, result.stranded)
    # Until nothing is left, not until a short batch: rows written during this sweep and due
    # now (today's overdue nudge, after an outage) go out in this sweep, not the next.
    while True:
        with Session(engine, expire_on_commit=False) as session:
            ids = claim(session, token, now, batch, lease)
        if not ids:
            return result
        if on_claimed is not None:  # tests stop a worker here, holding its claims
            on_claimed(ids)
        # SQLite has one writer at a time and fails, rather than waits for, a transaction that
        # read before another's commit and then writes: there, a row per transaction.
        if engine.dialect.name != "sqlite" and _send_together(
                sweeper, engine, ids, token, now, result):
            continue
        for reminder_id in ids:
            _send_one(sweeper, engine, reminder_id, token, now, lease, result)


@dataclass(frozen=True)
class _Sweeper:
    """What one sweep sends with: the workflows, and the handlers derived from them."""

    registry: Registry
    handlers: Mapping[str, Handler]


class _LeaseLost(Exception):
    """A row of the batch was taken over by another worker: go row by row instead."""


def _send_together(sweeper: _Sweeper, engine: Engine, ids: list[int], token: str, now: datetime,
                   result: SweepResult) -> bool:
    """The claimed rows in one transaction, their messages in one insert; False if it failed.

    A row's own work is a few statements, and a transaction and a round trip each was most of
    a sweep's time. If anything goes wrong (a row's handler fails, another worker took a row
    over) the whole batch rolls back and ``sweep`` sends its rows one by one, so one bad row
    still cannot stop the others. Nothing counts until the batch commits.
    """
    done = SweepResult()
    digests = sweeper.handlers.get("digest")
    try:
        with session_scope(engine) as session:
            loaded = _prefetch(session, sweeper.registry, ids)  # referenced while we work
            if isinstance(digests, Digests):
                digests.prepare(session, [r for r in loaded if isinstance(r, Reminder)], now)
            messages: list[dict[str, Any]] = []
            sending: list[int] = []
            for reminder_id in ids:
                outcome, rows = _prepare(sweeper, session, reminder_id, token, now)
                if outcome == "send":
                    messages += rows
                    sending.append(reminder_id)
                    outcome = "sent"
                setattr(done, outcome, getattr(done, outcome) + 1)
            if messages:
                insert_all_once(session, Notification, messages, "dedupe_key")
            if _mark_sent(session, sending, token, now) != len(sending):
                raise _LeaseLost
    except Exception:  # the rows are retried one by one, where each error is kept
        log.info("reminder batch rolled back; sending its rows one by one", exc_info=True)
        return False
    finally:
        if isinstance(digests, Digests):
            digests.forget()  # written in this batch's transaction: not for any other
    for outcome in ("sent", "deferred", "cancelled"):
        setattr(result, outcome, getattr(result, outcome) + getattr(done, outcome))
    return True


def _send_one(sweeper: _Sweeper, engine: Engine, reminder_id: int, token: str, now: datetime,
              lease: timedelta, result: SweepResult) -> None:
    """One row in its own transaction; a failure is recorded on the row, which waits out
    its lease before another try."""
    try:
        with session_scope(engine) as session:
            outcome, rows = _prepare(sweeper, session, reminder_id, token, now)
            if outcome == "send":
                for row in rows:
                    insert_once(session, Notification, row, "dedupe_key")
                outcome = "sent"
                if _mark_sent(session, [reminder_id], token, now) != 1:
                    # Another worker took the row over after our lease ran out: it sends.
                    session.rollback()
                    outcome = "cancelled"
        setattr(result, outcome, getattr(result, outcome) + 1)
    except Exception as error:  # one bad row must not stop the others
        log.exception("reminder %s failed", reminder_id)
        result.failed += 1
        with session_scope(engine) as session:
            session.execute(
                update(Reminder)
                .where(col(Reminder.id) == reminder_id, col(Reminder.claimed_by) == token)
                .values(last_error=str(error)[:500], claimed_until=now + lease)
            )


def _prefetch(session: Session, registry: Registry, ids: list[int]) -> list[object]:
    """The batch's reminders, schools, people and cases, each kind in one query.

    The handlers look each up by id (``session.get``); with them already in the session that
    is no round trip. Returned so they stay referenced: the session only holds them weakly.
    """
    reminders = list(session.exec(select(Reminder).where(col(Reminder.id).in_(ids))))
    loaded: list[object] = [*reminders]
    loaded += session.exec(select(School).where(
        col(School.id).in_({r.school_id for r in reminders}))).all()
    loaded += session.exec(select(Person).where(
        col(Person.id).in_({r.person_id for r in reminders if r.person_id}))).all()
    cases: dict[str, set[int]] = {}
    for r in reminders:
        if r.subject_id is not None and r.subject_type in registry:
            cases.setdefault(r.subject_type, set()).add(r.subject_id)
    for subject_type, case_ids in cases.items():
        model = registry[subject_type].model
        loaded += session.exec(select(model).where(col(model.id).in_(case_ids))).all()
    return loaded


def _prepare(sweeper: _Sweeper, session: Session, reminder_id: int, token: str,
             now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """What to do with one claimed row: "send" (with its messages), "deferred" to working
    hours or "cancelled" (both already applied to the row)."""
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.claimed_by != token or reminder.sent_at is not None:
        return "cancelled", []
    school = session.get_one(School, reminder.school_id)
    moment = (next_work_moment(school, now) if reminder.working_hours
              else next_urgent_moment(school, now))
    if moment > now:
        reminder.due_at, reminder.claimed_by, reminder.claimed_until = moment, None, None
        return "deferred", []
    message = sweeper.handlers[reminder.subject_type](session, reminder, now)
    if message is None:
        reminder.cancelled_at = now
        return "cancelled", []
    written = utcnow()
    kind = f"reminder.{reminder.kind.split('.')[0]}"
    return "send", [
        {"school_id": reminder.school_id, "person_id": person.id,
         "dedupe_key": f"reminder:{reminder.dedupe_key}:{person.id}",
         "kind": kind, "priority": notifications.priority(kind),
         "subject_ref": message.subject_ref,
         "text": message.text, "created_at": written, "claimed_by": None,
         "claimed_until": None, "delivered_at": None, "delivered_via": None}
        for person in message.recipients]


def _mark_sent(session: Session, ids: list[int], token: str, now: datetime) -> int:
    """Marks the rows sent if this worker still holds them; how many it marked."""
    if not ids:
        return 0
    return session.exec(
        update(Reminder)
        .where(col(Reminder.id).in_(ids), col(Reminder.claimed_by) == token,
               col(Reminder.sent_at).is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def _deadline_handler(session: Session, workflow: Workflow[Any], reminder: Reminder,
                      now: datetime) -> Message | None:
    case = session.get(workflow.model, reminder.subject_id)
    if case is None or not workflow.clock_running(case):
        return None
    due = workflow.due(case)
    if due is None or due.isoformat() != reminder.target:
        return None  # the deadline moved: the plan for the new one has its own rows
    person = people.get(session, reminder.person_id)
    if person is None or not person.active:
        return None
    school = session.get_one(School, reminder.school_id)
    if _superseded(session, reminder, now):
        return None  # back after downtime: only the latest missed nudge goes out
    if reminder.kind.startswith("clock."):
        left = time_left(due, now.astimezone(ZoneInfo(school.timezone)))
        text = render("messages/clock_reminder.txt.j2", title=workflow.title_of(case),
                      reference=case.reference, due=left.due, left=left.left,
                      overdue=left.urgency == "overdue",
                      escalated=Role(person.role) is Role.HEAD)
        return Message([person], text, case.reference)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    if reminder.kind.startswith("deadline.overdue.") and isinstance(workflow.reminders,
                                                               DeadlineReminders):
        day = date.fromisoformat(reminder.kind.rsplit(".", 1)[1])
        # The chain goes on from today, not from the row's own day: after an outage (or a
        # row deferred over a weekend) one nudge a day follows, not the backlog one a sweep.
        stale = day < today and is_work_day(school, today)
        days = [next_work_day(school, max(day, today) + timedelta(days=1))]
        if stale:
            days.insert(0, today)  # today's nudge, to today's recipients (escalation too)
        for chained in days:
            for row in planner.overdue_reminders(
                session, school, workflow, case, due, chained, workflow.reminders, now
            ):
                planner.insert_once(session, row)
        if stale:
            return None  # today's row says it instead, once
    text = render(
        "messages/reminder.txt.j2",
        title=workflow.title_of(case),
        reference=case.reference,
        due=due,
        days_left=(due - today).days,
        overdue_days=planner.working_days_between(school, due, today) if today > due else 0,
        escalated=Role(person.role) in (Role.DEPUTY, Role.HEAD)
        and person.id != case.owner_id
        and today > due,
    )
    return Message([person], text, case.reference)


def _superseded(session: Session, reminder: Reminder, now: datetime) -> bool:
    """A later nudge about the same deadline, to the same person, is also due already.

    "Later" by what it says, not by due time: nudges held for a school's quiet hours or by a
    stopped worker all fall due at the same moment (``clock.3h`` comes after ``clock.12h``,
    ``deadline.today`` after ``deadline.in_3_days``, an overdue nudge after both).
    """
    mine = _stage(reminder.kind)
    due = session.exec(
        select(Reminder.kind).where(
            Reminder.subject_type == reminder.subject_type,
            Reminder.subject_id == reminder.subject_id,
            Reminder.person_id == reminder.person_id,
            Reminder.target == reminder.target,
            Reminder.id != reminder.id,
            # Sent counts too: another worker may have sent the later one a moment ago.
            col(Reminder.cancelled_at).is_(None),
            col(Reminder.due_at) <= now,
        )
    ).all()
    return any(_stage(kind) > mine for kind in due)


def _stage(kind: str) -> tuple[int, int]:
    """Where a nudge falls on its way to the deadline and past it: later is larger."""
    if kind.startswith("clock."):
        return 0, -int(kind.removeprefix("clock.").removesuffix("h"))
    if kind.startswith("deadline.in_"):
        return 0, -int(kind.removeprefix("deadline.in_").removesuffix("_days"))
    if kind == "deadline.today":
        return 0, 0
    if kind.startswith("deadline.overdue."):
        return 1, date.fromisoformat(kind.rsplit(".", 1)[1]).toordinal()
    return 0, 0


@dataclass
class Digests:
    """The weekly digest's handler. A batch's digests are written together beforehand
    (``prepare``): on a Monday every school's is due at once, and a few queries for the
    batch replace a few for each school."""

    # Reminder id -> its message, for the batch under way only.
    prepared: dict[int, Message | None] = field(default_factory=dict)

    def prepare(self, session: Session, reminders: list[Reminder], now: datetime) -> None:
        from workflows.digest import digest_texts

        due = [r for r in reminders if r.subject_type == "digest"]
        if not due:
            return
        dpos: dict[int, list[Person]] = {}
        for person in people.by_role_at(session, sorted({r.school_id for r in due}), Role.DPO):
            dpos.setdefault(person.school_id, []).append(person)
        texts = digest_texts(session, [session.get_one(School, s) for s in dpos], now)
        self.prepared = {saved_id(r): Message(dpos[r.school_id], texts[r.school_id])
                         if r.school_id in dpos else None for r in due}

    def forget(self) -> None:
        self.prepared = {}

    def __call__(self, session: Session, reminder: Reminder, now: datetime) -> Message | None:
        if saved_id(reminder) in self.prepared:
            return self.prepared.pop(saved_id(reminder))
        from workflows.digest import digest_text

        school = session.get_one(School, reminder.school_id)
        recipients = people.by_role(session, saved_id(school), Role.DPO)
        if not recipients:
            return None
        return Message(recipients, digest_text(session, school, now))


def ensure_digests(session: Session, now: datetime) -> None:
    """Each school has its next Monday-morning digest for the DPO queued, once.

    Every sweep asks, for every school: the schools are read as plain rows and the keys
    already queued in one query, and only the missing ones written. A hosted service has
    30,000 schools and its workers sweep every few seconds: loading each school as an
    object and naming 30,000 keys as parameters kept four idle workers busy on a core.
    """
    wanted: dict[str, tuple[int, date]] = {}
    for school_id, timezone in session.exec(select(School.id, School.timezone)):
        local = now.astimezone(ZoneInfo(timezone)).date()
        monday = local + timedelta(days=(7 - local.weekday()) % 7)
        wanted[f"digest:{school_id}:{monday.isoformat()}"] = (int(school_id or 0), monday)
    queued = set(session.exec(select(Reminder.dedupe_key).where(
        one_of(session, Reminder.dedupe_key, list(wanted), String())))) if wanted else set()
    missing = {key: value for key, value in wanted.items() if key not in queued}
    schools = {saved_id(school): school for school in session.exec(select(School).where(
        one_of(session, School.id, [school_id for school_id, _ in missing.values()],
               Integer())))} if missing else {}
    for key, (school_id, monday) in missing.items():
        school = schools[school_id]
        moment = next_work_moment(school, work_window_start(school, monday))
        planner.insert_once(session, Reminder(  # another worker may write it meanwhile
            school_id=school_id, subject_type="digest", subject_id=school_id,
            kind="digest.weekly", target=monday.isoformat(), due_at=moment,
            dedupe_key=key))


def pending_count(session: Session) -> int:
    return len(
        list(
            session.exec(
                select(Reminder.id).where(
                    col(Reminder.sent_at).is_(None), col(Reminder.cancelled_at).is_(None)
                )
            )
        )
    )


__all__ = ["LEASE", "DeadlineHandler", "Digests", "Handler", "Message", "SweepResult", "claim",
           "due_query", "ensure_digests", "handlers", "pending_count", "sweep"]
