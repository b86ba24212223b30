"""A conversation in progress, saved after every answer so a restart resumes it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class ConversationStatus(StrEnum):
    ASKING = "asking"
    CONFIRMING = "confirming"
    DONE = "done"
    CANCELLED = "cancelled"


class Conversation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    adapter: str = Field(max_length=16)
    channel_key: str = Field(max_length=128, index=True)  # a DM, a thread, a terminal
    workflow: str = Field(max_length=32)
    action: str | None = Field(default=None, max_length=32)  # None: the intake form
    target_id: int | None = Field(default=None)  # the case an action applies to
    target_version: int | None = Field(default=None)  # the case as the person saw it
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    position: str | None = Field(default=None, max_length=64)  # the field being asked
    status: ConversationStatus = Field(default=ConversationStatus.ASKING, sa_type=String(16))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
