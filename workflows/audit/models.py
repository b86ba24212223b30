"""The audit trail: who did or read what, when, through which adapter. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_name: str = Field(max_length=200)  # kept as written: people are renamed, the trail is not
    adapter: str = Field(max_length=16)  # terminal, slack, teams, cli, worker
    action: str = Field(max_length=64, index=True)  # e.g. "sar.created", "sar.viewed"
    subject_type: str = Field(max_length=32)
    subject_id: int | None = Field(default=None, index=True)
    subject_ref: str | None = Field(default=None, max_length=32)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
