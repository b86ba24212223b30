"""Declared notices sent: the engine calls ``send`` after an event, in the case's transaction.

What a notice says is its template's; whom it reaches is ``audience.recipients``'; adapters deliver
the queued notifications after the transaction commits (a rolled-back change tells no one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.audit import service as audit
from workflows.core.audience import one, recipients
from workflows.core.context import Context
from workflows.core.declaration import Notice, Workflow
from workflows.core.wording import render
from workflows.notifications import service as notifications


def send(ctx: Context, workflow: Workflow[Any], event: str, case: Any,
         values: Mapping[str, Any]) -> str:
    """Queue every notice declared on ``event`` (``CREATED`` or an action's name) for
    ``case``; returns what the person who acted is told of their reach ("" if nothing)."""
    told = ""
    for notice in workflow.notices_on(event):
        if notice.when is not None and not notice.when(ctx, case):
            continue
        told += _send_one(ctx, workflow, notice, case, values)
    return told


def _send_one(ctx: Context, workflow: Workflow[Any], notice: Notice[Any], case: Any,
              values: Mapping[str, Any]) -> str:
    facts = dict(notice.facts(ctx, case, values)) if notice.facts else {}
    text = render(notice.template, event=notice.event, case=case, actor=ctx.person, **facts)
    person = None
    if notice.confirm:
        (who,) = notice.to  # a reach is confirmed for one person only
        person = one(ctx.session, case, who)
        if person is None or not person.active:
            audit.record(ctx, f"{workflow.name}.{who}_unreachable", workflow.name, case.id,
                         case.reference, event=notice.event)
            return " " + render("messages/told.txt.j2", reached=False, person=person)
        if person.id == ctx.person.id:
            return ""
    notifications.case_event(ctx.session, subject_type=workflow.name, case=case,
                             event=notice.event, text=text, by=ctx.person.id,
                             people=recipients(ctx.session, case, notice.to))
    return " " + render("messages/told.txt.j2", reached=True, person=person) if notice.confirm \
        else ""
