"""Teams users as the bot's people.

A Teams user is matched by their Teams user id (kept in ``Person.teams_user_id``, and used
for a card's ``refresh.userIds``), then by email (the DPO and deputies are set up by email
before they ever open Teams), else they join as staff, named as Teams names them. Someone
Teams cannot vouch for (no Microsoft Entra account, or another organisation's) is turned
away with an answer that says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from workflows.people.models import Person, Role


@dataclass(frozen=True)
class TeamsUser:
    """Who sent an activity, as Teams says."""

    user_id: str  # "29:…", stable for this bot
    aad_object_id: str | None
    name: str
    tenant_id: str | None
    email: str | None = None


def refusal(user: TeamsUser, tenant_id: str, school_name: str) -> str | None:
    """Why this sender may not use the bot, or None."""
    if user.tenant_id and user.tenant_id.lower() != tenant_id.lower():
        return (f"I only work for {school_name}: your Microsoft 365 account belongs to another "
                "organisation, so I can't help you here.")
    if not user.aad_object_id:
        return (f"I only work for staff of {school_name} signed in with their school Microsoft "
                "365 account, and Teams did not tell me who you are. Please sign in to Teams "
                "with your school account and message me again.")
    return None


def find(session: Session, school_id: int, teams_user_id: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.school_id == school_id, Person.teams_user_id == teams_user_id)
    ).first()


def link(session: Session, school_id: int, user: TeamsUser) -> Person:
    """The person for this Teams user, linking by email or creating a staff member."""
    person = find(session, school_id, user.user_id)
    if person is not None:
        return person
    if user.email:
        person = session.exec(
            select(Person).where(
                Person.school_id == school_id,
                func.lower(Person.email) == user.email.lower(),
                col(Person.teams_user_id).is_(None),
            )
        ).first()
    if person is None:
        taken = session.exec(
            select(Person.id).where(Person.school_id == school_id, Person.name == user.name)
        ).first()
        # Two colleagues can share a name; the Teams id tells them apart.
        person = Person(
            school_id=school_id,
            name=f"{user.name} ({user.user_id[-8:]})" if taken else user.name,
            email=user.email,
            role=Role.STAFF,
        )
    person.teams_user_id = user.user_id
    session.add(person)
    session.flush()
    return person
