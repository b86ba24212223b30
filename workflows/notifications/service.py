"""Queue messages for people inside the transaction; adapters deliver them after commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select, update

from workflows import database
from workflows.database import utcnow
from workflows.notifications.models import Notification


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
    return database.insert_once(
        session, Notification, notification.model_dump(exclude={"id"}), "dedupe_key"
    )


def pending(session: Session, person_id: int) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.person_id == person_id, col(Notification.delivered_at).is_(None))
            .order_by(col(Notification.id))
        )
    )


def mark_delivered(session: Session, notification_id: int, via: str) -> bool:
    """Compare-and-set, so two adapters never both deliver the same message."""
    result = session.execute(
        update(Notification)
        .where(col(Notification.id) == notification_id, col(Notification.delivered_at).is_(None))
        .values(delivered_at=utcnow(), delivered_via=via)
    )
    return result.rowcount == 1


def claim_for(
    session: Session,
    person_ids: list[int],
    token: str,
    now: datetime,
    lease: timedelta = timedelta(minutes=2),
    limit: int = 50,
) -> list[Notification]:
    """Undelivered notifications for these people, leased to ``token``; commits the lease."""
    if not person_ids:
        return []
    free = or_(col(Notification.claimed_until).is_(None), col(Notification.claimed_until) < now)
    candidates = list(
        session.exec(
            select(Notification.id)
            .where(col(Notification.person_id).in_(person_ids),
                   col(Notification.delivered_at).is_(None), free)
            .order_by(col(Notification.id))
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
            .where(Notification.claimed_by == token, col(Notification.delivered_at).is_(None),
                   col(Notification.id).in_(candidates))
            .order_by(col(Notification.id))
        )
    )


def delivered_by(session: Session, notification_id: int, token: str, via: str) -> bool:
    """Mark sent, only if this sender still holds the lease (nothing marked that was not sent)."""
    result = session.execute(
        update(Notification)
        .where(col(Notification.id) == notification_id, Notification.claimed_by == token,
               col(Notification.delivered_at).is_(None))
        .values(delivered_at=utcnow(), delivered_via=via)
    )
    return result.rowcount == 1


def release(session: Session, notification_ids: list[int], token: str) -> None:
    """Give back this sender's lease on messages that did not go, so the next pass sends them."""
    session.execute(
        update(Notification)
        .where(col(Notification.id).in_(notification_ids), Notification.claimed_by == token,
               col(Notification.delivered_at).is_(None))
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
