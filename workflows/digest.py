"""The weekly digest for the DPO: every open case, by deadline."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from workflows.core.cases import of_school
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.people import service as people
from workflows.schools.models import School


def digest_text(session: Session, school: School, now: datetime) -> str:
    from workflows.registry import WORKFLOWS

    local_now = now.astimezone(ZoneInfo(school.timezone))
    today = local_now.date()
    school_id = saved_id(school)
    rows: list[dict[str, Any]] = []
    for workflow in WORKFLOWS.values():
        for case in session.exec(of_school(workflow, school_id)):
            owner = people.get(session, case.owner_id)
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
                "owner": owner.name if owner else "nobody",
            })
    rows.sort(key=lambda r: r["sort"])
    return render("messages/digest.txt.j2", school=school, today=today, rows=rows)
