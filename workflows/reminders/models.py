"""A reminder due at a moment, for one person, about one case.

Rows are written with the case that causes them; workers claim due rows with a
lease (``claimed_until``), so any number of workers send each exactly once and a
worker that dies mid-sweep only delays its rows until the lease runs out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class Reminder(SQLModel, table=True):
    __table_args__ = (
        # The sweep reads only unsent rows by due time: cost follows the due count.
        Index("ix_reminder_pending_due", "sent_at", "cancelled_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    subject_type: str = Field(max_length=32)
    subject_id: int | None = Field(default=None, index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    kind: str = Field(max_length=64)
    target: str = Field(default="", max_length=32)  # the deadline it is about, ISO date
    due_at: datetime = Field(sa_type=UTCDateTime)
    working_hours: bool = Field(default=True)  # False: may go out at any hour (breaches)
    dedupe_key: str = Field(max_length=200, unique=True)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
