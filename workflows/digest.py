"""The weekly digest for the DPO: every open case, by deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from workflows.core.cases import cases, column
from workflows.core.declaration import Workflow
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.people.models import Person
from workflows.schools.models import School


def digest_text(session: Session, school: School, now: datetime) -> str:
    return digest_texts(session, [school], now)[saved_id(school)]


def digest_texts(session: Session, schools: Sequence[School], now: datetime) -> dict[int, str]:
    """Each school's digest, by school id, from one query per workflow and one for the owners.

    The Monday sweep writes every school's digest at once: a query per school and workflow,
    and a read per owner, left the workers waiting on the database most of the time.
    """
    from workflows.registry import WORKFLOWS

    school_ids = sorted({saved_id(school) for school in schools})
    found: dict[int, list[tuple[Workflow[Any], Any]]] = {s: [] for s in school_ids}
    for workflow in WORKFLOWS.values():
        query = cases(workflow).where(
            column(workflow, "school_id").in_(school_ids),
            column(workflow, "state").in_(list(workflow.open_states)))
        # By id within a workflow, as a school's own read came back (in the order written).
        for case in sorted(session.exec(query), key=lambda case: case.id):
            found[case.school_id].append((workflow, case))
    owner_ids = {case.owner_id for listed in found.values() for _, case in listed} - {None}
    owners = {saved_id(p): p.name for p in session.exec(
        select(Person).where(col(Person.id).in_(owner_ids)))} if owner_ids else {}
    return {saved_id(school): _text(school, found[saved_id(school)], owners, now)
            for school in schools}


def _text(school: School, listed: list[tuple[Workflow[Any], Any]], owners: dict[int, str],
          now: datetime) -> str:
    local_now = now.astimezone(ZoneInfo(school.timezone))
    rows: list[dict[str, Any]] = []
    for workflow, case in listed:
        left = workflow.time_left(case, local_now)
        rows.append({
            # Running clocks first, most urgent first; then met ones, then stopped ones.
            "sort": (left is None, not left or not left.running,
                     left.sort_key if left else local_now),
            "reference": case.reference,
            "title": workflow.title_of(case),
            "status": workflow.states[case.state],
            "due": left.due if left else "clock stopped",
            "left": "" if left is None else (
                left.left if left.urgency in ("overdue", "met") or left.left == "due today"
                else f"{left.left} left"),
            "owner": owners.get(case.owner_id, "nobody"),
        })
    rows.sort(key=lambda r: r["sort"])
    return render("messages/digest.txt.j2", school=school, today=local_now.date(), rows=rows)
