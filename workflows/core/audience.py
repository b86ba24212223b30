"""Whom a declared notice about a case reaches (``Notice.to``), for the engine's ``notify``.

The DPO team is ``people.decision_makers``: the roles that hold ``Permission.DECIDE``, the
same answer adapters get from ``core.recipients.deciders``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from workflows.core.declaration import OWNER, REQUESTER, TEAM
from workflows.database import saved_id
from workflows.people import service as people
from workflows.people.models import Person, Role


def recipients(session: Session, case: Any, to: Iterable[str]) -> list[int]:
    """The ids ``to`` names for ``case`` (``TEAM``, ``OWNER``, ``REQUESTER`` or roles), in
    that order; the owner and requester only while they are active."""
    found: list[int] = []
    for who in to:
        if who == TEAM:
            found += [saved_id(p) for p in people.decision_makers(session, case.school_id)]
        elif who in (OWNER, REQUESTER):
            person = people.get(session, case.owner_id if who == OWNER else case.created_by_id)
            if person is not None and person.active:
                found.append(saved_id(person))
        else:
            found += [saved_id(p) for p in people.by_role(session, case.school_id, Role(who))]
    return list(dict.fromkeys(found))


def one(session: Session, case: Any, who: str) -> Person | None:
    """The single person ``OWNER`` or ``REQUESTER`` names on ``case``, active or not."""
    return people.get(session, case.owner_id if who == OWNER else case.created_by_id)
