"""Case references as people type them: “SAR-2026-0002”, “sar-2026-2”, “sar 2”, “#2”.

A reference with its year is exact; without it, the number is looked for among the cases
this person may see (a member of staff: their own), so “#2” never reveals another's case.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import col, select

from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.engine import NotFound
from workflows.core.wording import render
from workflows.people.permissions import can_view
from workflows.registry import WORKFLOWS

# A workflow's prefix or name, an optional year, a number; or “#2” alone.
_NAMES = "|".join(sorted({n for w in WORKFLOWS.values() for n in (w.prefix, w.name)},
                         key=len, reverse=True))
TYPED = rf"(?P<ref>(?:(?:{_NAMES})[\s_-]*(?:\d{{4}}[\s_/-]+)?#?\d{{1,6}})|#\d{{1,6}})"
_PARTS = re.compile(rf"^(?:(?P<prefix>{_NAMES})[\s_-]*(?:(?P<year>\d{{4}})[\s_/-]+)?)?"
                    r"#?(?P<number>\d{1,6})$", re.IGNORECASE)


class Ambiguous(NotFound):
    """Several cases this person may see answer to the number typed."""


def workflow_named(word: str) -> Workflow[Any] | None:
    word = word.lower()
    return next((w for w in WORKFLOWS.values() if word in (w.prefix.lower(), w.name)), None)


def looks_like(typed: str) -> bool:
    """Whether ``typed`` is a reference (its prefix a workflow's), whether or not it exists."""
    parts = _PARTS.match(" ".join(typed.split()))
    return parts is not None and (parts["prefix"] is None
                                  or workflow_named(parts["prefix"]) is not None)


def resolve(ctx: Context, typed: str) -> tuple[Workflow[Any], str]:
    """The workflow and the full reference ``typed`` means, or NotFound saying why."""
    parts = _PARTS.match(" ".join(typed.split()))
    workflow = workflow_named(parts["prefix"]) if parts and parts["prefix"] else None
    if parts is None or (parts["prefix"] and workflow is None):
        raise NotFound(render("engine/message.txt.j2", event="not_found",
                              reference=typed.upper()))
    number = int(parts["number"])
    if workflow is not None and parts["year"]:
        return workflow, f"{workflow.prefix}-{parts['year']}-{number:04d}"
    found: list[tuple[Workflow[Any], str]] = []
    for each in ([workflow] if workflow else WORKFLOWS.values()):
        model: Any = each.model
        for case in ctx.session.exec(
            select(model).where(model.school_id == ctx.school_id,
                                col(model.reference).like(f"{each.prefix}-%-{number:04d}"))
            .order_by(col(model.id).desc())
        ):
            if can_view(ctx.person, case):
                found.append((each, case.reference))
    if len(found) == 1:
        return found[0]
    shown = f"{workflow.prefix} {number}" if workflow else f"#{number}"
    if not found:
        raise NotFound(render("chat/message.txt.j2", event="no_such_number", typed=shown))
    raise Ambiguous(render("chat/message.txt.j2", event="which_number", typed=shown,
                           references=[reference for _, reference in found]))
