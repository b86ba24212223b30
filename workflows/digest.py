"""The weekly digest for the DPO: every open case, by deadline."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from workflows.core.dates import describe_date
from workflows.core.wording import render
from workflows.people import service as people
from workflows.schools.models import School


def digest_text(session: Session, school: School, now: datetime) -> str:
    from workflows.registry import WORKFLOWS

    today = now.astimezone(ZoneInfo(school.timezone)).date()
    rows = []
    for workflow in WORKFLOWS.values():
        model = workflow.model
        for case in session.exec(
            select(model).where(
                model.school_id == school.id, col(model.state).in_(list(workflow.open_states))
            )
        ):
            due = workflow.due(case)
            owner = people.get(session, case.owner_id)
            left = "" if due is None else (
                f"{(due - today).days} days left" if due >= today
                else f"overdue {(today - due).days} days")
            rows.append({
                "sort": (due is None, due or today),
                "reference": case.reference,
                "title": workflow.title,
                "status": workflow.states[case.state],
                "due": describe_date(due) if due else "clock stopped",
                "left": left,
                "owner": owner.name if owner else "nobody",
            })
    rows.sort(key=lambda r: r["sort"])
    return render("messages/digest.txt.j2", school=school, today=today, rows=rows)
