"""Who decides, and who a notice about a case reaches: one answer for the engine and adapters.

Roles are decided here, never in ``bot/``: an adapter asks ``deciders`` whom a case's
buttons are for, and the engine asks ``recipients`` whom a declared notice goes to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from workflows.core.declaration import OWNER, REQUESTER, TEAM
from workflows.people import service as people
from workflows.people.models import Person, Role
from workflows.people.permissions import ROLE_PERMISSIONS, Permission

# The roles that may decide on a case (the DPO and deputies), read from the permissions.
DECIDING_ROLES: tuple[Role, ...] = tuple(
    role for role, allowed in ROLE_PERMISSIONS.items() if Permission.DECIDE in allowed)


def deciders(session: Session, school_id: int) -> list[Person]:
    """The active people who decide at ``school_id``: told of every new case, and the only
    ones a case's buttons are refreshed for."""
    return people.by_role(session, school_id, *DECIDING_ROLES)


def recipients(session: Session, case: Any, to: Iterable[str]) -> list[int]:
    """The ids ``to`` names for ``case`` (``TEAM``, ``OWNER``, ``REQUESTER`` or roles), in
    that order; the owner and requester only while they are active."""
    found: list[int] = []
    for who in to:
        if who == TEAM:
            found += [p.id for p in deciders(session, case.school_id)]
        elif who in (OWNER, REQUESTER):
            person = people.get(session, case.owner_id if who == OWNER else case.created_by_id)
            if person is not None and person.active:
                found.append(person.id)
        else:
            found += [p.id for p in people.by_role(session, case.school_id, Role(who))]
    return list(dict.fromkeys(found))


def one(session: Session, case: Any, who: str) -> Person | None:
    """The single person ``OWNER`` or ``REQUESTER`` names on ``case``, active or not."""
    return people.get(session, case.owner_id if who == OWNER else case.created_by_id)
