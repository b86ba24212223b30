"""Finding people and the DPO team of a school; adding them and changing their roles.

A role decides what a person may see and do, so it changes only through `dpo-bot people`
(or `setup`), each change audited with who made it. A chat never changes a stored role.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from workflows.audit import service as audit
from workflows.audit.models import AuditEvent
from workflows.core.context import Context
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.people.models import Person, Role
from workflows.people.permissions import ROLE_PERMISSIONS, Permission, require
from workflows.schools.models import School

# One of each at a school: naming a new one hands the role over (letters are signed by the
# DPO; the head is the one escalation point).
SINGLE_ROLES = frozenset({Role.DPO, Role.HEAD})


class PeopleRefused(ValueError):
    """A change to the people list that cannot be made; the message says why."""


def _refused(reason: str, **facts: Any) -> PeopleRefused:
    return PeopleRefused(render("people/refused.txt.j2", reason=reason, **facts))


def by_role(session: Session, school_id: int, *roles: Role) -> list[Person]:
    return by_role_at(session, [school_id], *roles)


def by_role_at(session: Session, school_ids: list[int], *roles: Role) -> list[Person]:
    """``by_role`` at many schools in one read (a batch of weekly digests), by person id."""
    return list(
        session.exec(
            select(Person)
            .where(
                col(Person.school_id).in_(school_ids),
                col(Person.role).in_([r.value for r in roles]),
                col(Person.active).is_(True),
            )
            .order_by(col(Person.id))
        )
    )


# The roles that decide on cases (the DPO and deputies), as the permissions declare them.
DECIDING_ROLES: tuple[Role, ...] = tuple(
    role for role, allowed in ROLE_PERMISSIONS.items() if Permission.DECIDE in allowed)


def decision_makers(session: Session, school_id: int) -> list[Person]:
    """The active people whose role decides (the DPO and deputies): told of every new case."""
    return by_role(session, school_id, *DECIDING_ROLES)


def decision_makers_at(session: Session, school_ids: Iterable[int]) -> dict[int, list[Person]]:
    """``decision_makers`` of several schools in one query (a delivery pass's schools)."""
    found: dict[int, list[Person]] = {school_id: [] for school_id in school_ids}
    for person in by_role_at(session, list(found), *DECIDING_ROLES):
        found[person.school_id].append(person)
    return found


def colleagues(ctx: Context) -> list[Person]:
    """Everyone active at the school, by name: a SAR's owner gathers the data and is nudged
    about its deadline, and need not decide it."""
    return list(ctx.session.exec(select(Person).where(
        Person.school_id == ctx.school_id, col(Person.active).is_(True)).order_by(
        col(Person.name))))


def deciders(ctx: Context) -> list[Person]:
    """Whom a case may be given to: those who decide it, in the order they were set up."""
    return decision_makers(ctx.session, ctx.school_id)


def named(session: Session, school_id: int, name: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.school_id == school_id, Person.name == name)
    ).first()


def find_or_create(
    session: Session, school_id: int, name: str, role: Role | None = None, email: str | None = None
) -> Person:
    """The person called ``name``, created with ``role`` if new; an existing person's role is
    left as it is (``change_role`` changes it, audited)."""
    person = named(session, school_id, name)
    if person is None:
        person = Person(school_id=school_id, name=name, role=role or Role.STAFF, email=email)
        session.add(person)
        session.flush()
    return person


def get(session: Session, person_id: int | None) -> Person | None:
    return session.get(Person, person_id) if person_id is not None else None


# Who is at the command line


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def command_line_person(session: Session, school: School, as_name: str | None) -> Person:
    """Whom a command run from the shell acts as: ``--as NAME`` (someone on the people list,
    with that person's permissions), else the operating-system user who ran it.

    The shell user runs the installation and can read the database itself, so they may read
    and change what the command line offers; they are named by their login, never taken for
    the DPO. Their record is not saved: it exists only to be written into the audit trail.
    """
    school_id = saved_id(school)
    if as_name is not None:
        person = named(session, school_id, as_name)
        if person is None or not person.active:
            raise _refused("not_on_list", who=as_name, school=school.name)
        return person
    return Person(school_id=school_id, name=f"{login_name()} (command line)", role=Role.STAFF,
                  consent_lookup=True)


def _may_manage(ctx: Context) -> None:
    # The shell user (no saved record) administers the installation; a named person must be
    # allowed to change settings, i.e. be the DPO.
    if ctx.person.id is not None:
        require(ctx.person, Permission.SETTINGS, "change who is on the people list or their role")


def _single(ctx: Context, person: Person, role: Role) -> list[str]:
    """Hand a one-of role over: the former holder becomes staff, audited. What was done."""
    said = []
    if role in SINGLE_ROLES:
        for former in by_role(ctx.session, ctx.school_id, role):
            if former.id != person.id:
                former.role = Role.STAFF
                audit.record(ctx, "person.role_changed", "person", former.id, None,
                             name=former.name, old=role.value, new=Role.STAFF.value,
                             why=f"{person.name} is now {role.value}")
                said.append(render("people/handed_over.txt.j2", who=former.name,
                                   role=role.value))
    return said


def add(ctx: Context, name: str, role: Role | None = None, email: str | None = None,
        slack_id: str | None = None, consent: bool = False) -> tuple[Person, list[str]]:
    """Add someone (as staff unless ``role`` says), or add details to someone already here.

    A different role for someone already here is refused: that is ``change_role``, so that a
    role never changes as a side effect of adding details.
    """
    _may_manage(ctx)
    name = name.strip()
    if not name:
        raise _refused("no_name")
    person = named(ctx.session, ctx.school_id, name)
    if person is not None and ((role is not None and person.role != role)
                               or not person.active):
        role = role or Role(person.role)
        raise _refused("already_listed", who=name, school=ctx.school.name,
                       role=role.value, active=person.active, **{"is": _described(person)})
    if slack_id:
        holder = ctx.session.exec(select(Person).where(
            Person.school_id == ctx.school_id, Person.slack_user_id == slack_id)).first()
        if holder is not None and (person is None or holder.id != person.id):
            raise _refused("slack_taken", slack_id=slack_id, holder=holder.name)
    new = person is None
    role = role or (Role(person.role) if person else Role.STAFF)
    if person is None:
        person = Person(school_id=ctx.school_id, name=name, role=role)
        ctx.session.add(person)
        ctx.session.flush()
    changed = {}
    for field, value in (("email", email), ("slack_user_id", slack_id),
                         ("consent_lookup", consent or None)):
        if value is not None and getattr(person, field) != value:
            changed[field] = value
            setattr(person, field, value)
    said = _single(ctx, person, role) if new else []
    if new:
        audit.record(ctx, "person.added", "person", person.id, None, name=name,
                     role=role.value, **changed)
    elif changed:
        audit.record(ctx, "person.updated", "person", person.id, None, name=name, **changed)
    return person, said


def change_role(ctx: Context, name: str, role: Role) -> tuple[Person, list[str]]:
    """Give someone on the list a new role (or bring back someone removed), audited."""
    _may_manage(ctx)
    person = _on_list(ctx, name)
    if person.role == role and person.active:
        raise _refused("same_role", who=person.name, role=role.value)
    old = _described(person)
    person.role, person.active = role, True
    said = _single(ctx, person, role)
    audit.record(ctx, "person.role_changed", "person", person.id, None, name=person.name,
                 old=old, new=role.value)
    return person, said


def remove(ctx: Context, name: str) -> Person:
    """Someone who has left: they may no longer do or see anything. Their record stays, so
    who did what stays provable."""
    _may_manage(ctx)
    person = _on_list(ctx, name)
    if not person.active:
        raise _refused("already_removed", who=person.name)
    if ctx.person.id == person.id:
        raise _refused("self")
    person.active = False
    audit.record(ctx, "person.removed", "person", person.id, None, name=person.name,
                 old=Role(person.role).value)
    return person


def _on_list(ctx: Context, name: str) -> Person:
    person = named(ctx.session, ctx.school_id, name.strip())
    if person is None:
        raise _refused("not_at_school", who=name, school=ctx.school.name)
    return person


def _described(person: Person) -> str:
    return Role(person.role).value if person.active else "removed"


def listed(ctx: Context) -> list[Person]:
    """Everyone the school's list has held, removed people too, oldest first (the read is
    audited)."""
    everyone = list(ctx.session.exec(select(Person).where(Person.school_id == ctx.school_id)
                                     .order_by(col(Person.id))))
    audit.record(ctx, "person.listed", "person", count=len(everyone))
    return everyone


def person_history(ctx: Context, person: Person) -> list[AuditEvent]:
    """Every change to this person's place on the list (the read is itself audited)."""
    events = audit.history(ctx.session, "person", saved_id(person))
    audit.record(ctx, "person.viewed", "person", person.id, None, name=person.name,
                 what="history")
    return events


# Who a terminal chat speaks as


def arriving(session: Session, school: School, name: str, role: Role | None,
             adapter: str, now: datetime) -> Person:
    """The record a terminal chat as ``name`` uses, at ``school`` (where a new name starts).

    ``--role`` never changes a stored person: a different one is refused. A new name joins
    as staff, as a newcomer does in Slack or Teams; with another role only while the school
    is a demo (not set up, and no DPO yet), so that `dpo-bot chat --user "Dee Dpo" --role dpo`
    works on a fresh database but no one can make themselves the DPO of a real school.
    """
    school_id = saved_id(school)
    person = named(session, school_id, name)
    if person is not None and not person.active:
        raise _refused("removed", who=name, school=school.name)
    if person is not None:
        if role is not None and person.role != role:
            raise _refused("other_role", who=name, school=school.name, role=role.value,
                           **{"is": _described(person)})
        return person
    role = role or Role.STAFF
    if role is not Role.STAFF and not demo(session, school):
        raise _refused("not_demo", who=name, school=school.name, role=role.value)
    person = Person(school_id=school_id, name=name, role=role)
    session.add(person)
    session.flush()
    audit.record(Context.of(session, person, adapter, school=school, now=now),
                 "person.joined", "person", person.id, None, name=name,
                 role=role.value, why="first chat" if role is Role.STAFF
                 else "first chat, on a school not yet set up (a demo)")
    return person


def demo(session: Session, school: School) -> bool:
    """A fresh database being tried out: the school not set up, and no DPO named yet."""
    return not school.configured and not by_role(session, saved_id(school), Role.DPO)
