"""Subject access and other rights requests: the SAR log (DOMAIN.md 1 and 2)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class RequestType(StrEnum):
    ACCESS = "access"
    ERASURE = "erasure"
    RECTIFICATION = "rectification"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"
    EDUCATIONAL_RECORD = "educational_record"


class SarState(StrEnum):
    AWAITING_ID = "awaiting_id"  # the clock has not started
    OPEN = "open"
    PAUSED = "paused"  # waiting for clarification: the clock is stopped
    CLOSED = "closed"


class Outcome(StrEnum):
    DISCLOSED_FULL = "disclosed_full"
    DISCLOSED_PART = "disclosed_part"
    NOTHING_HELD = "nothing_held"
    REFUSED = "refused"
    COMPLETED = "completed"  # erasure, rectification and the other rights: done as asked
    WITHDRAWN = "withdrawn"


class RightsRequest(SQLModel, table=True):
    __tablename__ = "rights_request"
    # Each school numbers its own cases (workflows.core.numbering): a reference is unique
    # within its school, and another school has its own SAR-2026-0001.
    __table_args__ = (
        UniqueConstraint("school_id", "reference", name="uq_rights_request_school_reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    reference: str | None = Field(default=None, max_length=32)
    conversation_id: int | None = Field(default=None, unique=True)  # one case per confirmed intake
    request_type: RequestType = Field(sa_type=String(24))
    state: SarState = Field(sa_type=String(16), index=True)
    version: int = Field(default=1)

    requester_name: str = Field(max_length=200)
    relationship: str = Field(max_length=32)
    requester_email: str | None = Field(default=None, max_length=320)
    requester_phone: str | None = Field(default=None, max_length=40)
    requester_address: str | None = Field(default=None, max_length=500)
    subject_name: str | None = Field(default=None, max_length=200)  # None: the requester
    channel: str = Field(max_length=32)
    received_at: datetime = Field(sa_type=UTCDateTime)
    received_on: date
    details: str = Field(sa_column=Column(Text, nullable=False))

    id_required: bool = Field(default=False)
    id_requested_on: date | None = None
    id_received_on: date | None = None
    authority_requested_on: date | None = None
    authority_received_on: date | None = None
    fee_requested_on: date | None = None
    fee_received_on: date | None = None

    extended: bool = Field(default=False)
    extension_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    extension_notice_on: date | None = None

    due_on: date | None = Field(default=None, index=True)  # cached from the deadline engine
    deadline_rule: str | None = Field(default=None, max_length=64)
    deadline_explanation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    owner_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    created_by_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    closed_on: date | None = None
    outcome: Outcome | None = Field(default=None, sa_type=String(24))
    outcome_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response_method: str | None = Field(default=None, max_length=32)


class ClarificationPause(SQLModel, table=True):
    """The clock stops from the day the school asks to the day the answer arrives (s.54(3C))."""

    __tablename__ = "sar_pause"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="rights_request.id", index=True)
    asked_on: date
    answered_on: date | None = None
    question: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CaseNote(SQLModel, table=True):
    """Anything added to a case after the fact; closed cases are only ever appended to."""

    __tablename__ = "sar_note"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="rights_request.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    text: str = Field(sa_column=Column(Text, nullable=False))
