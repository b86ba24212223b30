"""One person across a trust's schools: a trust DPO sees every school's open cases in one list.

A person has a record at each school they work with (their role can differ: DPO at one,
deputy at another), tied together by their email address. Each school's list is built as
that school sees it, with that school's role, so a trust view never shows a case the person
could not open at its own school.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from workflows.core.context import Context
from workflows.core.dashboard import dashboard
from workflows.core.ui import Reply, Table, Text
from workflows.core.wording import render
from workflows.people.models import Person
from workflows.people.permissions import Permission, can
from workflows.schools.models import School


def schools_of(session: Session, person: Person) -> list[tuple[School, Person]]:
    """Every school where this person (by email) has an active record, theirs first."""
    if not person.email:
        school = session.get(School, person.school_id)
        return [(school, person)] if school else []
    rows = session.exec(
        select(School, Person).join(Person, col(Person.school_id) == School.id)
        .where(func.lower(Person.email) == person.email.lower(), col(Person.active))
        .order_by(col(School.name))
    ).all()
    return sorted(rows, key=lambda pair: pair[1].id != person.id)


def trust_cases(ctx: Context) -> list[Reply]:
    """Open cases at every school where this person is on the DPO team, most urgent first."""
    rows: list[tuple[tuple[Any, ...], tuple[str, ...]]] = []
    seen: list[str] = []
    for school, person in schools_of(ctx.session, ctx.person):
        if not can(person, Permission.VIEW_ALL):
            continue
        seen.append(school.name)
        board = dashboard(Context.of(ctx.session, person, ctx.adapter, school=school,
                                     now=ctx.now))
        rows += [(line.order, (school.name, line.reference, line.title, line.status, line.due))
                 for line in board.cases]
    if not seen:
        return [Text(_say("refused"), "warning")]
    rows.sort(key=lambda pair: pair[0])
    return [Table(title=_say("title", schools=seen),
                  columns=("School", "Reference", "What", "Status", "Due"),
                  rows=tuple(row for _, row in rows),
                  empty=_say("empty")),
            Text(_say("opening", served=bool(ctx.served)))]


def _say(event: str, **facts: Any) -> str:
    return render("schools/trust.txt.j2", event=event, **facts)
