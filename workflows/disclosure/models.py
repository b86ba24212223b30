"""A disclosure request: who asked for whose data, on what authority, and what the DPO decided.

One row is one request and, once decided, one line of the disclosure log (DOMAIN.md 8): the
decision, its lawful basis or exemption, who decided, what was sent, when and how, or the
reason for refusing. The audit trail keeps every step with who and when.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class DisclosureState(StrEnum):
    AWAITING = "awaiting_decision"
    MORE_INFO = "more_info"  # the DPO asked the requester for more (e.g. a signed form)
    DISCLOSED = "disclosed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class DisclosureRequest(SQLModel, table=True):
    __tablename__ = "disclosure_request"
    __table_args__ = (
        UniqueConstraint("school_id", "reference", name="uq_disclosure_request_school_reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    reference: str | None = Field(default=None, max_length=32)
    conversation_id: int | None = Field(default=None, unique=True)  # one case per intake
    state: DisclosureState = Field(sa_type=String(24), index=True)
    version: int = Field(default=1)

    # Who asks, on whose authority, for whose data, what and why (as the requester said).
    organisation: str = Field(max_length=200)
    requester_kind: str = Field(max_length=24)
    requester: str = Field(max_length=200)  # name and role or rank
    contact: str = Field(max_length=300)
    authority: str = Field(max_length=24)
    form_reference: str | None = Field(default=None, max_length=200)
    subjects: str = Field(sa_column=Column(Text, nullable=False))
    data_wanted: str = Field(sa_column=Column(Text, nullable=False))
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    urgency: str = Field(max_length=16)  # urgent (same day) / standard
    channel: str = Field(max_length=16)
    received_at: datetime = Field(sa_type=UTCDateTime)

    # The school's target (no statutory deadline): counted from when the request was
    # complete, which is when it came in unless the DPO had to ask for more.
    complete_at: datetime = Field(sa_type=UTCDateTime)
    target_on: date | None = None  # None: paused while the requester sends what was asked

    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_by_id: int | None = Field(default=None, foreign_key="person.id")
    verified_how: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    asked_for: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    # The decision, once: disclosed (in full or in part) or refused; or withdrawn.
    outcome: str | None = Field(default=None, max_length=24)
    basis: str | None = Field(default=None, max_length=24)
    basis_other: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    what_sent: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_how: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_on: date | None = None  # the day it was decided or withdrawn: retention counts from it

    owner_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    created_by_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
