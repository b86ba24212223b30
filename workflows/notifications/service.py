"""Queue messages for people inside the transaction; adapters deliver them after commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select, update

from workflows import database
from workflows.database import utcnow
from workflows.notifications.models import Notification

# Which messages go first when a backlog builds up (after an outage, a burst of reminders):
# the first pattern matching a notification's kind gives its priority, lower first; within a
# priority, oldest first. A breach's 72-hour clock is the one that cannot wait.
PRIORITIES: tuple[tuple[str, int], ...] = (
    ("breach.*", 0),  # a new breach, and every event on one
    ("reminder.clock", 0),  # a breach's clock nudges: hours, not days, are left
    ("reminder.unfinished", 1),  # a form left unsaved: nothing reached the DPO yet
    ("*.new", 1),  # a new case for the DPO team: its legal clock has started
    ("*.unreachable", 1),  # someone's messages cannot be delivered: tell the team soon
    ("*.undeliverable", 1),
    ("reminder.*", 3),  # routine nudges and the weekly digest
    ("*", 2),  # anything else on a case: decisions, notes, withdrawals
)


def priority(kind: str) -> int:
    """The declared priority of a notification kind (see ``PRIORITIES``)."""
    return next(level for pattern, level in PRIORITIES if fnmatchcase(kind, pattern))


def queue(
    session: Session,
    *,
    school_id: int,
    people: Iterable[int],
    kind: str,
    key: str,
    text: str,
    by: int | None,
    subject_ref: str | None = None,
) -> None:
    """One notification per person; the same key twice for a person is a no-op.

    ``by``: the person whose action this tells of (None: no one's, e.g. the system's). They
    are never told what they themselves just did; their own reply already says it.
    """
    for person_id in dict.fromkeys(p for p in people if p != by):  # one each, in order
        insert_once(
            session,
            Notification(
                school_id=school_id,
                person_id=person_id,
                dedupe_key=f"{key}:{person_id}",
                kind=kind,
                subject_ref=subject_ref,
                text=text,
            ),
        )


def case_event(
    session: Session,
    *,
    subject_type: str,
    case: Any,
    event: str,
    people: Iterable[int],
    text: str,
    by: int | None,
) -> None:
    """Tell people about one event on a case; the same event at the same version is told once.

    The key names the case, the event and the version, so adapters can recognise the copies
    of one alert sent to several people (Slack posts a team alert once to a shared channel).
    """
    queue(
        session,
        school_id=case.school_id,
        people=people,
        kind=f"{subject_type}.{event}",
        key=f"{subject_type}:{case.id}:{event}:v{case.version}",
        text=text,
        by=by,
        subject_ref=case.reference,
    )


def insert_once(session: Session, notification: Notification) -> bool:
    """Insert unless the dedupe key exists; True if this call wrote it."""
    notification.priority = priority(notification.kind)
    return database.insert_once(
        session, Notification, notification.model_dump(exclude={"id"}), "dedupe_key"
    )


_URGENT_FIRST = (col(Notification.priority), col(Notification.created_at), col(Notification.id))


def pending(session: Session, person_id: int) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.person_id == person_id, col(Notification.delivered_at).is_(None))
            .order_by(*_URGENT_FIRST)
        )
    )


def mark_delivered(session: Session, notification_id: int, via: str) -> bool:
    """Compare-and-set, so two adapters never both deliver the same message."""
    result = session.exec(
        update(Notification)
        .where(col(Notification.id) == notification_id, col(Notification.delivered_at).is_(None))
        .values(delivered_at=utcnow(), delivered_via=via)
    )
    return result.rowcount == 1


def claim_where(
    session: Session,
    whose: Any,
    token: str,
    now: datetime,
    *,
    lease: timedelta = timedelta(minutes=2),
    limit: int = 50,
) -> list[Notification]:
    """Undelivered notifications whose recipient matches ``whose`` (a condition on
    ``Notification.person_id``), most urgent then oldest first, leased to ``token``; commits
    the lease. Only rows no one else holds are leased, so two senders never get the same
    notification."""
    free = or_(col(Notification.claimed_until).is_(None), col(Notification.claimed_until) < now)
    candidates = list(
        session.exec(
            select(Notification.id)
            .where(whose, col(Notification.delivered_at).is_(None), free)
            .order_by(*_URGENT_FIRST)
            .limit(limit)
        )
    )
    if not candidates:
        return []
    session.execute(
        update(Notification)
        .where(col(Notification.id).in_(candidates), col(Notification.delivered_at).is_(None),
               free)
        .values(claimed_by=token, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return list(
        session.exec(
            select(Notification)
            .where(col(Notification.claimed_by) == token, col(Notification.delivered_at).is_(None),
                   col(Notification.id).in_(candidates))
            .order_by(*_URGENT_FIRST)
        )
    )


def delivered_by(session: Session, notification_ids: list[int], token: str, via: str) -> int:
    """Mark sent those this sender still holds the lease on (nothing marked that was not
    sent); returns how many were marked."""
    result = session.exec(
        update(Notification)
        .where(col(Notification.id).in_(notification_ids), col(Notification.claimed_by) == token,
               col(Notification.delivered_at).is_(None))
        .values(delivered_at=utcnow(), delivered_via=via)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def given_up(session: Session, notification_id: int, token: str, via: str) -> bool:
    """Close a message its chat refuses for good (Teams' 413 for even its short form), so
    it is not sent again and again: ``delivered_via`` says it was refused, not sent."""
    result = session.exec(
        update(Notification)
        .where(col(Notification.id) == notification_id, col(Notification.claimed_by) == token,
               col(Notification.delivered_at).is_(None))
        .values(delivered_at=utcnow(), delivered_via=f"{via}:refused")
    )
    return result.rowcount == 1


def release(session: Session, notification_ids: list[int], token: str) -> None:
    """Give back this sender's lease on messages that did not go, so the next pass sends them."""
    session.execute(
        update(Notification)
        .where(col(Notification.id).in_(notification_ids), col(Notification.claimed_by) == token,
               col(Notification.delivered_at).is_(None))
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
