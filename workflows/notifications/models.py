"""Messages waiting for a person: the outbox between the core and the chat adapters.

Written in the same transaction as the change that causes them, so a rolled-back
change tells nobody; adapters deliver them after commit. The unique dedupe key makes
writing one twice (a retried worker, a double click) a no-op.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    __table_args__ = (
        # Senders claim undelivered rows most urgent first, then oldest first.
        Index("ix_notification_waiting", "delivered_at", "priority", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=64)
    subject_ref: str | None = Field(default=None, max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # Lower goes first when messages back up: see ``service.PRIORITIES``.
    priority: int = Field(default=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # An adapter sending it holds a lease, so two bot processes never both send it;
    # a process that dies mid-send leaves it to be sent again when the lease runs out.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    delivered_via: str | None = Field(default=None, max_length=16)
