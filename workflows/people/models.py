"""People the bot knows, with the role that decides what they may see and do."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class Role(StrEnum):
    STAFF = "staff"
    DPO = "dpo"
    DEPUTY = "deputy"
    HEAD = "head"
    # Read-only: the governors' report (counts and references) and nothing that names anyone.
    GOVERNOR = "governor"


class Person(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("school_id", "name", name="uq_person_school_name"),
        # One person per Slack account, whichever bot process saw them first.
        UniqueConstraint("school_id", "slack_user_id", name="uq_person_school_slack"),
        UniqueConstraint("school_id", "teams_user_id", name="uq_person_school_teams"),
        UniqueConstraint("school_id", "google_chat_user_id", name="uq_person_school_google_chat"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    role: Role = Field(default=Role.STAFF, sa_type=String(16))
    slack_user_id: str | None = Field(default=None, max_length=32, index=True)
    teams_user_id: str | None = Field(default=None, max_length=128, index=True)
    # Google Chat's resource name for the user ("users/1234…"), stable for every app.
    google_chat_user_id: str | None = Field(default=None, max_length=64, index=True)
    active: bool = Field(default=True)
    # Staff who may ask about pupils' photo consent (the DPO, deputies and head always may).
    consent_lookup: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
