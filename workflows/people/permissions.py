"""What each role may do, declared once and checked in the core, never only in an adapter."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from workflows.core.wording import render
from workflows.people.models import Person, Role


class Permission(StrEnum):
    START_CASE = "start_case"  # log a request, report a breach
    VIEW_OWN = "view_own"  # cases one logged or owns
    VIEW_ALL = "view_all"
    DECIDE = "decide"  # take, assign, extend, close...
    NOTE = "note"  # append to a case one can see
    CONSENT_LOOKUP = "consent_lookup"
    SETTINGS = "settings"
    REPORT = "report"  # the governors' report: counts and references, no names


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset({Permission.START_CASE, Permission.VIEW_OWN, Permission.NOTE}),
    Role.DEPUTY: frozenset(
        {Permission.START_CASE, Permission.VIEW_OWN, Permission.VIEW_ALL, Permission.DECIDE,
         Permission.NOTE, Permission.CONSENT_LOOKUP, Permission.REPORT}
    ),
    Role.DPO: frozenset(Permission),
    # The head is the escalation point: sees everything and is nudged when a deadline is
    # missed, but decisions stay with the DPO and deputies.
    Role.HEAD: frozenset(
        {Permission.START_CASE, Permission.VIEW_OWN, Permission.VIEW_ALL, Permission.NOTE,
         Permission.CONSENT_LOOKUP, Permission.REPORT}
    ),
    # Governors hold the school to account from counts: they start no case and see none.
    Role.GOVERNOR: frozenset({Permission.REPORT}),
}


class PermissionDenied(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def can(person: Person, permission: Permission) -> bool:
    if not person.active:
        return False
    granted = ROLE_PERMISSIONS[Role(person.role)]
    if permission is Permission.CONSENT_LOOKUP and person.consent_lookup \
            and Permission.START_CASE in granted:
        return True  # granted to one member of staff (`dpo-bot people add NAME --consent`)
    return permission in granted


def require(person: Person, permission: Permission, what: str) -> None:
    if not can(person, permission):
        raise PermissionDenied(render("people/denied.txt.j2", what=what,
                                      decide=permission is Permission.DECIDE,
                                      role=Role(person.role).value))


class Viewed(Protocol):
    """What deciding who may see a case reads of it."""

    @property
    def school_id(self) -> int: ...
    @property
    def created_by_id(self) -> int: ...
    @property
    def owner_id(self) -> int | None: ...


def can_view(person: Person, case: Viewed) -> bool:
    """Staff see the cases they logged or own; the DPO, deputies and head see all."""
    if can(person, Permission.VIEW_ALL):
        return person.school_id == case.school_id
    return can(person, Permission.VIEW_OWN) and person.id in (case.created_by_id, case.owner_id)
