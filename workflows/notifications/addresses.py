"""Where a chat platform can reach a person on its own initiative (a stored conversation).

Teams only lets a bot message someone first through a conversation reference it saved when
that person talked to it or installed it. The reference is the platform's JSON, kept as is:
the core never reads inside it. A person the platform refuses to reach is marked once, so
their messages wait (never marked sent) and the DPO team is told once, not on every pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Select, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select, update

from workflows.database import UTCDateTime, utcnow
from workflows.schools.service import among


class ChatAddress(SQLModel, table=True):
    __tablename__ = "chat_address"
    __table_args__ = (UniqueConstraint("person_id", "platform", name="uq_chat_address_person"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str = Field(max_length=16)  # "teams"
    reference: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set when the platform said this person cannot be reached (the bot was removed or
    # blocked, the account left); cleared when they next talk to the bot.
    unreachable_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def remember(session: Session, school_id: int, person_id: int, platform: str,
             reference: dict[str, Any]) -> None:
    """Store (or refresh) where to reach the person; talking again makes them reachable."""
    found = session.exec(
        select(ChatAddress).where(ChatAddress.person_id == person_id,
                                  ChatAddress.platform == platform)
    ).first()
    if found is None:
        try:
            with session.begin_nested():  # a second bot process may store it at the same time
                session.add(ChatAddress(school_id=school_id, person_id=person_id,
                                        platform=platform, reference=reference))
                session.flush()
            return
        except IntegrityError:
            found = session.exec(
                select(ChatAddress).where(ChatAddress.person_id == person_id,
                                          ChatAddress.platform == platform)
            ).one()
    if found.reference != reference or found.unreachable_at is not None:
        found.reference = reference
        found.unreachable_at = None
        found.updated_at = utcnow()
        session.add(found)


def reachable(session: Session, platform: str, served: tuple[int, ...]) -> Select[Any]:
    """The ids of the people at the served schools whom ``platform`` can reach now: the
    subquery a delivery pass claims through (``outbox.claim``)."""
    return select(ChatAddress.person_id).where(
        col(ChatAddress.platform) == platform, col(ChatAddress.unreachable_at).is_(None),
        among(session, ChatAddress.school_id, served))


def of_people(session: Session, person_ids: Iterable[int], platform: str
              ) -> dict[int, ChatAddress]:
    """Person id to address on ``platform``, for these people only (those just claimed for)."""
    wanted = list(person_ids)
    if not wanted:
        return {}
    return {a.person_id: a for a in session.exec(
        select(ChatAddress).where(col(ChatAddress.person_id).in_(wanted),
                                  ChatAddress.platform == platform))}


def mark_unreachable(session: Session, address_id: int, at: datetime) -> bool:
    """Compare-and-set: True only for the first refusal since the person was last reachable."""
    result = session.exec(
        update(ChatAddress)
        .where(col(ChatAddress.id) == address_id, col(ChatAddress.unreachable_at).is_(None))
        .values(unreachable_at=at)
    )
    return result.rowcount == 1
