"""Inbound events seen once: platforms retry deliveries (Slack's X-Slack-Retry-Num, Teams'
redelivered activities), and a retried message must not answer a question twice."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, Session, SQLModel, col, delete

from workflows.database import UTCDateTime, insert_once, utcnow


class InboundEvent(SQLModel, table=True):
    __tablename__ = "inbound_event"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # adapter and the platform's event id
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def first_time(session: Session, adapter: str, event_id: str) -> bool:
    """Record the event; True only for the first delivery of it."""
    return insert_once(
        session, InboundEvent, {"key": f"{adapter}:{event_id}"[:200], "received_at": utcnow()},
        "key",
    )


def forget(session: Session, adapter: str, event_id: str) -> None:
    """Undo ``first_time`` when what it guarded failed, so the next attempt goes ahead."""
    session.execute(
        delete(InboundEvent).where(col(InboundEvent.key) == f"{adapter}:{event_id}"[:200])
    )
