"""Personal data breaches: the breach log (UK GDPR Art 33(5); DOMAIN.md 3)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class BreachState(StrEnum):
    AWAITING = "awaiting_decision"  # the 72-hour clock runs until the ICO decision
    DECIDED = "decided"  # ICO decision taken; open until remedial action is recorded
    CLOSED = "closed"


class IcoDecision(StrEnum):
    REPORTED = "reported"
    NOT_REPORTABLE = "not_reportable"


class PeopleDecision(StrEnum):
    TELL = "tell"
    NOT_TELL = "not_tell"


class Breach(SQLModel, table=True):
    __tablename__ = "breach"
    # Each school numbers its own cases (workflows.core.numbering): a reference is unique
    # within its school, and another school has its own BRE-2026-0001.
    __table_args__ = (
        UniqueConstraint("school_id", "reference", name="uq_breach_school_reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    reference: str | None = Field(default=None, max_length=32)
    conversation_id: int | None = Field(default=None, unique=True)  # one case per intake
    state: BreachState = Field(sa_type=String(24), index=True)
    version: int = Field(default=1)

    # The minimum that starts the clock.
    what_happened: str = Field(sa_column=Column(Text, nullable=False))
    found_at: datetime = Field(sa_type=UTCDateTime)
    ongoing: bool = Field(default=False)
    # Kept apart from found_at and reported_at: the DPO may correct it, with a reason.
    aware_at: datetime = Field(sa_type=UTCDateTime, index=True)
    aware_at_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reported_at: datetime = Field(sa_type=UTCDateTime)  # when staff told the bot

    # Details, given at once or later, by the reporter or the DPO team.
    incident: str | None = Field(default=None, max_length=32)
    data_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    whose: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    approx_people: int | None = None
    approx_records: int | None = None
    encrypted: bool | None = None  # unreadable to whoever has it; None: not known
    cyber: bool | None = None
    exfiltrated: bool | None = None  # cyber: was data copied out or seen?
    # The facts that decide the risk (workflows.breach.triage); None: not known, the worse case.
    unavailable: str | None = Field(default=None, max_length=16)  # triage.UNAVAILABLE
    recipient: str | None = Field(default=None, max_length=16)  # triage.RECIPIENTS
    deleted: bool | None = None  # the recipient confirmed they deleted or returned it
    deliberate: bool | None = None  # someone did it on purpose
    recipients: int | None = None  # roughly how many people received or saw it
    happened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    how_found: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    containment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    # Art 33: the ICO decision, taken once.
    ico_decision: IcoDecision | None = Field(default=None, sa_type=String(24))
    ico_decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ico_decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    ico_reference: str | None = Field(default=None, max_length=100)
    ico_reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ico_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delay_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The bot's recommendation when the decision was taken, kept as the DPO saw it.
    recommendation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))

    # Art 34: whether to tell the people affected, taken once.
    people_decision: PeopleDecision | None = Field(default=None, sa_type=String(24))
    people_decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    people_decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    people_how: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    people_exemption: str | None = Field(default=None, max_length=32)
    people_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # An exemption the record contradicts stands only with the DPO's reason, kept and shown.
    people_override: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    # What the letters may say: written by the DPO for them, never the reporter's own words.
    ico_account: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    people_account: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    people_advice: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    remedial: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lessons: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    owner_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    created_by_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BreachUpdate(SQLModel, table=True):
    """The timeline: every update appended with who and when, never rewritten."""

    __tablename__ = "breach_update"

    id: int | None = Field(default=None, primary_key=True)
    breach_id: int = Field(foreign_key="breach.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    text: str = Field(sa_column=Column(Text, nullable=False))
