"""Messages no chat can deliver: someone with no Slack id, email, Teams account or stored
Teams conversation (a head added by name only, say).

Their messages wait and are never marked sent; nobody would know. The reminder worker, which
every deployment runs, finds them on each sweep, tells the school's DPO team once per person,
and the `dpo-bot remind` output lists them each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from workflows.core.wording import render
from workflows.database import saved_id
from workflows.notifications import service as notifications
from workflows.notifications.addresses import ChatAddress
from workflows.notifications.models import Notification
from workflows.people import service as people
from workflows.people.models import Person


@dataclass(frozen=True)
class Stranded:
    school_id: int
    person_id: int
    name: str
    waiting: int


def _addressed(who: Any = Person) -> ColumnElement[bool]:
    """A person some chat can reach, or find (Slack looks people up by email)."""
    has_address = exists().where(col(ChatAddress.person_id) == who.id)
    return or_(who.slack_user_id.is_not(None), who.email.is_not(None),
               who.teams_user_id.is_not(None), who.google_chat_user_id.is_not(None),
               has_address)


def stranded(session: Session) -> list[Stranded]:
    """Everyone with messages waiting whom no chat can reach, at schools that use a chat.

    A school where nobody has any address uses only the terminal (a trial, a demo): there is
    no one to tell and nothing is missing.
    """
    # The schools as a subquery, not a list: a hosted service's 30,000 school ids, named as
    # parameters at every sweep, kept idle workers busy.
    colleague = aliased(Person)
    in_chat = select(colleague.school_id).where(_addressed(colleague))
    rows = session.exec(
        select(Person.school_id, Person.id, Person.name, func.count(col(Notification.id)))
        .join(Notification, col(Notification.person_id) == col(Person.id))
        .where(col(Notification.delivered_at).is_(None), col(Person.active).is_(True),
               col(Person.school_id).in_(in_chat), ~_addressed())
        .group_by(col(Person.school_id), col(Person.id), col(Person.name))
        .order_by(col(Person.school_id), col(Person.name))
    ).all()
    return [Stranded(*row) for row in rows]


def tell_the_team(session: Session, found: list[Stranded]) -> None:
    """The school's DPO team hears once about each person (the key makes a repeat a no-op)."""
    for person in found:
        team = [saved_id(p) for p in people.decision_makers(session, person.school_id)
                if p.id != person.person_id]
        notifications.queue(
            session, school_id=person.school_id, people=team, by=None,
            kind="person.undeliverable",
            key=f"undeliverable:{person.person_id}",
            text=render("messages/undeliverable.txt.j2", person=person.name,
                        waiting=person.waiting))
