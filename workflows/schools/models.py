"""A school and its settings. Every other record belongs to one."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow

# DOMAIN.md 6: defaults to be confirmed by the DPO, shown to them in `dpo-bot setup`. Each
# workflow declares its own log's default (``Retention.default_years``) beside these.
DEFAULT_RETENTION: dict[str, int] = {
    "conversation_days": 30,  # chats hold typed personal data: keep them briefly
    "message_days": 90,  # delivered notifications and finished reminders
    "pupil_left_years": 1,  # a leaver's consent record, after the academic year they left
    "audit_years": 6,  # who did and saw what, as long as the breach log
}


class School(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)
    region: str = Field(default="ENG", max_length=3)
    timezone: str = Field(default="Europe/London", max_length=64)
    maintained: bool = Field(
        default=True,
        description="LA-maintained: parents have the 15-school-day educational record right",
    )
    working_days: str = Field(default="0,1,2,3,4", max_length=20)  # Monday=0
    work_start: time = Field(default=time(8, 0))
    work_end: time = Field(default=time(18, 0))
    # Breach nudges go out at any hour unless the school confines them (e.g. 07:00-22:00).
    urgent_start: time | None = Field(default=None)
    urgent_end: time | None = Field(default=None)
    term_calendar_csv: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    retention: dict[str, Any] = Field(
        default_factory=lambda: dict(DEFAULT_RETENTION), sa_column=Column(JSON, nullable=False)
    )
    configured: bool = Field(default=False)
    # Where newcomers from a shared Slack workspace or Teams tenant belong: their email's
    # domain (comma-separated, e.g. "oakwood.sch.uk"). A trust-wide domain may name several.
    email_domains: str | None = Field(default=None, max_length=500)
    # The postal address at the top of every letter, one line per line.
    address: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # A .docx the DPO supplies: its header and first page are kept, the letter appended.
    letterhead: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def weekday_set(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.working_days.split(",") if d.strip())


class SchoolCreate(SQLModel):
    slug: str
    name: str
    region: str = "ENG"
    timezone: str = "Europe/London"
    maintained: bool = True


class ChosenSchool(SQLModel, table=True):
    """The school a person works in now, when one chat account reaches several (a trust DPO).

    Keyed by the account (a Slack or Teams user id, a terminal user name) rather than a
    person, because a person is one record per school: this says which of them is speaking.
    """

    __tablename__ = "chosen_school"

    adapter: str = Field(primary_key=True, max_length=16)
    account: str = Field(primary_key=True, max_length=200)
    school_id: int = Field(foreign_key="school.id")
    chosen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
