"""Slack users as the bot's people.

A Slack user is matched to a person by Slack user id, then by email (the DPO and deputies
are configured by either: ``dpo-bot people add NAME --role dpo --slack-id U123`` or
``--email``); anyone else becomes a staff member named from ``users.info``.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from workflows.people.models import Person, Role


def find(session: Session, school_id: int, slack_user_id: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.school_id == school_id, Person.slack_user_id == slack_user_id)
    ).first()


def link(
    session: Session, school_id: int, slack_user_id: str, name: str, email: str | None
) -> Person:
    """The person for this Slack user, linking by email or creating a staff member."""
    person = find(session, school_id, slack_user_id)
    if person is not None:
        return person
    if email:
        person = session.exec(
            select(Person).where(
                Person.school_id == school_id,
                func.lower(Person.email) == email.lower(),
                col(Person.slack_user_id).is_(None),
            )
        ).first()
    if person is None:
        taken = session.exec(
            select(Person.id).where(Person.school_id == school_id, Person.name == name)
        ).first()
        # Two colleagues can share a name; the Slack id tells them apart.
        person = Person(
            school_id=school_id,
            name=f"{name} ({slack_user_id})" if taken else name,
            email=email,
            role=Role.STAFF,
        )
    person.slack_user_id = slack_user_id
    session.add(person)
    session.flush()
    return person
