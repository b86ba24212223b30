"""Inbound events seen once: platforms retry deliveries (Slack's X-Slack-Retry-Num, Teams'
redelivered activities), and a retried message must not answer a question twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

from workflows.database import UTCDateTime, utcnow


class InboundEvent(SQLModel, table=True):
    __tablename__ = "inbound_event"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # adapter and the platform's event id
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def first_time(session: Session, adapter: str, event_id: str) -> bool:
    """Record the event; True only for the first delivery of it."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(InboundEvent).values(
        key=f"{adapter}:{event_id}"[:200], received_at=utcnow()
    ).on_conflict_do_nothing(index_elements=["key"])
    return session.execute(stmt).rowcount == 1
