"""What a person sees on their home screen (Slack App Home, a Teams tab, `cases`).

Staff: their own open requests and a way to start each workflow. The DPO team: every open
case with the time left, most urgent first. References and deadlines only: no names, so a
home screen glimpsed over a shoulder gives nothing away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workflows.core.cases import of_school
from workflows.core.context import Context
from workflows.people.permissions import Permission, can, can_view


@dataclass(frozen=True)
class CaseLine:
    reference: str
    title: str
    status: str
    due: str
    urgency: str  # "overdue", "soon", "ok", "met", "stopped"
    order: tuple[Any, ...] = ()  # sorts lines by urgency across lists (a trust's schools)


@dataclass(frozen=True)
class Dashboard:
    heading: str
    starts: tuple[tuple[str, str], ...]  # (workflow name, its title)
    cases: tuple[CaseLine, ...]
    everyone: bool  # the DPO team's view of every case


def dashboard(ctx: Context) -> Dashboard:
    from workflows.registry import WORKFLOWS

    everyone = can(ctx.person, Permission.VIEW_ALL)
    lines: list[tuple[tuple[Any, ...], CaseLine]] = []
    for workflow in WORKFLOWS.values():
        for case in ctx.session.exec(of_school(workflow, ctx.school.id)):
            if not can_view(ctx.person, case):
                continue
            left = workflow.time_left(case, ctx.local_now)
            if left is None:
                text, urgency, key = "clock stopped", "stopped", (2, datetime.max.replace(
                    tzinfo=UTC))
            else:
                urgency = left.urgency
                text = (left.left if left.urgency == "overdue" or left.left == "due today"
                        else f"{left.left} ({left.short_due})" if not left.running
                        else f"{left.left} left ({left.short_due})")
                key = (0 if left.running else 1, left.sort_key)
            lines.append((key, CaseLine(case.reference, workflow.title_of(case),
                                        workflow.states[case.state], text, urgency, key)))
    lines.sort(key=lambda pair: pair[0])
    heading = (f"Every open case at {ctx.school.name}" if everyone
               else "Your open requests")
    starts = tuple(
        (w.name, w.title) for w in WORKFLOWS.values() if can(ctx.person, w.start_permission)
    )
    return Dashboard(heading, starts, tuple(line for _, line in lines), everyone)
