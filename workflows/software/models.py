"""New software approval: the request, its questions and answers, and the school's register.

DOMAIN.md 5. A request is a case (it has a reference, a state and a version, so the DPO's
decision is one compare-and-set); the register is the school's list of products and what
was decided about each, which outlives any one request.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class RequestState(StrEnum):
    AWAITING = "awaiting_decision"
    MORE_INFO = "more_info"  # the DPO asked the requester something; waiting for the answer
    APPROVED = "approved"
    REJECTED = "rejected"


class Status(StrEnum):
    """Where a product stands in the register."""

    APPROVED = "approved"
    CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"
    # Only from an imported register: a request under way before the bot was used.
    PENDING = "pending"


class Dpia(StrEnum):
    REQUIRED = "required"
    NOT_REQUIRED = "not_required"
    DONE = "done"
    UNKNOWN = "unknown"


class SoftwareRequest(SQLModel, table=True):
    __tablename__ = "software_request"
    # Each school numbers its own cases (workflows.core.numbering): a reference is unique
    # within its school, and another school has its own SW-2026-0001.
    __table_args__ = (
        UniqueConstraint("school_id", "reference", name="uq_software_request_school_reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    reference: str | None = Field(default=None, max_length=32)
    conversation_id: int | None = Field(default=None, unique=True)  # one case per intake
    state: RequestState = Field(sa_type=String(24), index=True)
    version: int = Field(default=1)

    # What the DPO needs to decide (DOMAIN.md 5); "unknown" is an open question.
    product: str = Field(max_length=200)
    website: str | None = Field(default=None, max_length=300)
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    users: str = Field(sa_column=Column(Text, nullable=False))
    pupils_use: str = Field(max_length=16)  # yes / no / unknown: pupils log in themselves
    data_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    accounts_by: str = Field(max_length=200)
    privacy_notice: str = Field(max_length=500)
    storage: str = Field(max_length=200)
    min_age: str = Field(max_length=50)
    dpa: str = Field(max_length=16)
    ads_ai: str = Field(max_length=16)
    cost: str = Field(max_length=200)

    # When the wait for a decision began (reset when the requester answers a question).
    waiting_since: datetime = Field(sa_type=UTCDateTime)
    # The school day the DPO is nudged if still undecided (None: not waiting on the DPO).
    decide_by: date | None = None
    # The screening as the DPO saw it when deciding; worked out afresh until then.
    screening: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    decision: str | None = Field(default=None, max_length=32)
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    conditions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Approving what the screening says needs a DPIA records its outcome: done (with its
    # date or reference) or not needed (with the DPO's reason).
    dpia_outcome: str | None = Field(default=None, max_length=16)
    dpia_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    owner_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    created_by_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SoftwareMessage(SQLModel, table=True):
    """A question from the DPO or an answer from the requester: appended, never rewritten."""

    __tablename__ = "software_message"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="software_request.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=16)  # question / answer
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    text: str = Field(sa_column=Column(Text, nullable=False))


class Software(SQLModel, table=True):
    """One product in the school's software register."""

    __tablename__ = "software"
    __table_args__ = (UniqueConstraint("school_id", "name_key", name="uq_software_name"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)  # the name folded for matching: one row per product
    website: str | None = Field(default=None, max_length=300)
    status: Status = Field(sa_type=String(32), index=True)
    purpose: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # What a privacy notice says about it (its “Programs used by pupils” list): from the
    # request that approved it, or the school's own register; None is for the DPO to add.
    year_groups: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    storage: str | None = Field(default=None, max_length=200)
    privacy_notice: str | None = Field(default=None, max_length=500)
    conditions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    dpia: Dpia = Field(default=Dpia.UNKNOWN, sa_type=String(16))
    dpia_link: str | None = Field(default=None, max_length=500)
    decided_by: str | None = Field(default=None, max_length=200)  # a name: imports have no ids
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    decided_on: date | None = None
    review_on: date | None = Field(default=None, index=True)
    request_id: int | None = Field(default=None, foreign_key="software_request.id")
    source: str = Field(default="request", max_length=16)  # request / import
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
