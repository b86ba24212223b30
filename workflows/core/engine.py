"""Runs workflow declarations: permission, state and version checks, then the effect.

A state change is a compare-and-set on the case's version, so two DPOs clicking at the
same moment, a double click or a retried event change the case once; the loser is told
who got there first. Audit, reminders and notifications are written in the same
transaction, and adapters deliver the notifications only after it commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import update

from workflows.audit import service as audit
from workflows.core import headline, notify
from workflows.core.cases import cases, column, table
from workflows.core.context import Context
from workflows.core.declaration import CREATED, Action, Workflow
from workflows.core.fields import FormErrors, Invalid
from workflows.core.inbound import first_time
from workflows.core.numbering import next_number
from workflows.core.ui import Button, Card
from workflows.core.wording import render
from workflows.people.permissions import PermissionDenied, can, can_view, require
from workflows.reminders.planner import plan_for_case


class Conflict(Exception):
    """Someone else changed the case first; nothing was changed by this attempt."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def assign_reference(ctx: Context, case: Any, prefix: str, year: int) -> None:
    """Give a new case its reference, e.g. SAR-2026-0001 (the form ``chat.REFERENCE`` reads).

    The number is the school's own next one for the prefix and year, taken in the case's
    transaction (see ``numbering``); one place for every workflow. The case is written too,
    so callers have its id for the audit line.
    """
    number = next_number(ctx.session, ctx.school_id, prefix, year)
    case.reference = f"{prefix}-{year}-{number:04d}"
    ctx.session.add(case)
    ctx.session.flush()


def load(ctx: Context, workflow: Workflow[Any], reference: str) -> Any:
    """A case by reference, only if this person may see it (same answer either way)."""
    case = ctx.session.exec(cases(workflow).where(
        column(workflow, "reference") == reference.upper(),
        column(workflow, "school_id") == ctx.school.id)).first()
    if case is None or not can_view(ctx.person, case):
        # Not "forbidden": a staff member must not learn that a reference exists.
        raise NotFound(message("not_found", reference=reference.upper()))
    return case


def view(ctx: Context, workflow: Workflow[Any], case: Any) -> Card:
    """The case as this person may see it; every read is audited."""
    if not can_view(ctx.person, case):
        raise NotFound(message("not_found", reference=case.reference))
    audit.record(ctx, f"{workflow.name}.viewed", workflow.name, case.id, case.reference)
    return card(ctx, workflow, case)


@dataclass(frozen=True)
class Target:
    """What a button carries back: the case, the version the person saw, and the case's
    school, so that one app serving several schools acts at the right one whichever school
    the person is working with now (references repeat from school to school)."""

    reference: str
    version: int | None = None
    school_id: int | None = None

    @property
    def value(self) -> str:
        version = "" if self.version is None else self.version
        return f"{self.reference}|{version}|{self.school_id or ''}"

    @classmethod
    def parse(cls, value: str) -> Target:
        reference, version, school = ([*value.split("|"), "", ""])[:3]
        return cls(reference, int(version) if version.isdigit() else None,
                   int(school) if school.isdigit() else None)


def card(ctx: Context, workflow: Workflow[Any], case: Any) -> Card:
    buttons = tuple(
        Button(
            action=action.name,
            label=action.label,
            command=f"{action.name.replace('_', ' ')} {case.reference}",
            value=Target(case.reference, case.version, case.school_id).value,
            style=action.style,  # type: ignore[arg-type]
            # An action with questions shows its warning above them: a dialog first and
            # then a form would ask twice.
            confirm=None if action.form.fields else action.confirm,
        )
        for action in workflow.actions
        if can(ctx.person, action.permission) and action.available(ctx, case)
    )
    return Card(
        title=workflow.title_of(case),
        reference=case.reference,
        status=workflow.states[case.state],
        rows=tuple(workflow.card_rows(ctx, case)),
        deadline=workflow.deadline_text(ctx, case),
        buttons=buttons,
        headline=headline.of_case(ctx, workflow, case),
    )


def check_may_start(ctx: Context, workflow: Workflow[Any], action: Action[Any], case: Any) -> None:
    """Refuse early, before asking any question, if the action cannot be taken."""
    require(ctx.person, action.permission, action.label.lower())
    if not can_view(ctx.person, case):
        raise NotFound(message("not_found", reference=case.reference))
    if case.state not in action.from_states:
        raise Conflict(message("not_now", reference=case.reference,
                               status=workflow.states[case.state], action=action.label))
    reason = action.refusal(ctx, case)
    if reason:
        raise Conflict(reason)


def perform(
    ctx: Context,
    workflow: Workflow[Any],
    action: Action[Any],
    case: Any,
    values: Mapping[str, Any],
    expected_version: int,
) -> str | None:
    """Take ``action`` on ``case`` as the person in ``ctx``; returns what to tell them."""
    try:
        check_may_start(ctx, workflow, action, case)
    except Conflict:
        if case.version != expected_version:
            raise Conflict(_who_was_first(ctx, workflow, case)) from None
        raise
    if action.changes_case:
        # The claimed row comes back in the same statement, refreshing ``case`` with what
        # is stored now (a refresh after it was a second round trip).
        claimed = ctx.session.execute(
            update(table(workflow))
            .where(column(workflow, "id") == case.id,
                   column(workflow, "version") == expected_version)
            .values(version=expected_version + 1)
            .returning(table(workflow)),
            execution_options={"populate_existing": True},
        ).first()
        if claimed is None:
            ctx.session.refresh(case)
            raise Conflict(_who_was_first(ctx, workflow, case))
    if not action.changes_case and not _first_append(ctx, workflow, action, case, values):
        return message("repeated")
    was = action.was(ctx, case, values) if action.was else {}
    said = action.apply(ctx, case, values) if action.apply else None
    target = action.target(case)
    if target is not None:
        case.state = target
    # Only a change to the case moves its deadline: a note on a closed case must never
    # re-run the rules and rewrite what the case was closed with.
    if action.changes_case and workflow.recompute is not None:
        workflow.recompute(ctx, case)
    audit.record(
        ctx,
        f"{workflow.name}.{action.name}",
        workflow.name,
        case.id,
        case.reference,
        **{k: v for k, v in values.items() if v is not None},
        **was,
    )
    ctx.session.add(case)
    ctx.session.flush()
    told = notify.send(ctx, workflow, action.name, case, values)
    if action.changes_case:
        plan_for_case(ctx.session, ctx.school, workflow, case, ctx.now)
    return f"{said}{told}" if said and told else said


def create(ctx: Context, workflow: Workflow[Any], values: Mapping[str, Any]) -> Any:
    """A new case from a confirmed intake, the same way for every workflow: the workflow's
    own ``build`` (checks across answers, the case), then its deadline, its reference, the
    ``<name>.created`` audit event, the declared notices and its reminders. Raises Invalid
    (naming the question to reopen) and writes nothing the caller's savepoint keeps."""
    case = workflow.build(ctx, values)
    if workflow.recompute is not None:
        try:
            workflow.recompute(ctx, case)
        except Invalid as error:
            # At intake the only way to fix a deadline that can't be worked out (a term
            # calendar that ends too soon) is another answer: reopen there.
            raise Invalid(error.message, error.field or workflow.deadline_question) from None
    assign_reference(ctx, case, workflow.prefix, workflow.reference_year(ctx, case))
    audit.record(ctx, f"{workflow.name}.{CREATED}", workflow.name, case.id, case.reference,
                 **workflow.created_facts(case))
    notify.send(ctx, workflow, CREATED, case, values)
    plan_for_case(ctx.session, ctx.school, workflow, case, ctx.now)
    return case


def message(event: str, **facts: Any) -> str:
    """What the engine tells the person acting, worded in ``templates/engine``."""
    return render("engine/message.txt.j2", event=event, **facts)



def _first_append(ctx: Context, workflow: Workflow[Any], action: Action[Any], case: Any,
                  values: Mapping[str, Any]) -> bool:
    """Whether this append (a note, an update) is new. An append bumps no version, so a
    retried modal (X-Slack-Retry-Num), a repeated Teams invoke or a double click would add
    it twice: the same words by the same person on the same case and day count once."""
    said = json.dumps({k: v for k, v in values.items() if v is not None}, sort_keys=True,
                      default=str)
    digest = hashlib.sha256(said.encode()).hexdigest()[:24]
    return first_time(ctx.session, "case", f"{workflow.name}.{action.name}:{case.school_id}:"
                      f"{case.id}:{ctx.person.id}:{ctx.today}:{digest}")


def _who_was_first(ctx: Context, workflow: Workflow[Any], case: Any) -> str:
    # Only what moves the case counts: a note or a drafted letter written since is not
    # the decision that beat this one.
    decisive = {f"{workflow.name}.created"} | {
        f"{workflow.name}.{a.name}" for a in workflow.actions if a.changes_case
    }
    events = audit.history(ctx.session, workflow.name, case.id)
    last = next((e for e in reversed(events) if e.action in decisive), None)
    if last is None:
        return message("changed", reference=case.reference)
    return message("beaten", mine=last.actor_id == ctx.person.id, who=last.actor_name,
                   what=last.action.split(".", 1)[1].replace("_", " "),
                   reference=case.reference, at=last.at.astimezone(ctx.tz),
                   status=workflow.states[case.state])


__all__ = [
    "Conflict",
    "Decision",
    "Invalid",
    "NotFound",
    "PermissionDenied",
    "card",
    "check_may_start",
    "create",
    "decide",
    "may_start",
    "preflight",
    "load",
    "perform",
    "view",
]


@dataclass(frozen=True)
class Decision:
    """The outcome of a button or a submitted action form, for any adapter to show."""

    ok: bool
    message: str
    card: Card | None = None  # the case as the person may see it now (None: leave it be)
    footer: str | None = None  # who decided what and when, for the updated message
    errors: dict[str, str] | None = None  # per field, for a form that must be corrected


def may_start(ctx: Context, workflow: Workflow[Any]) -> str | None:
    """Why this person cannot start ``workflow``, or None."""
    if can(ctx.person, workflow.start_permission):
        return None
    return message("may_not_start", title=workflow.title)


def preflight(ctx: Context, workflow: Workflow[Any], action: Action[Any],
              reference: str) -> str | None:
    """Refuse before a form is shown: a staff click on a DPO button changes nothing."""
    try:
        check_may_start(ctx, workflow, action, load(ctx, workflow, reference))
    except (PermissionDenied, NotFound, Conflict) as error:
        return error.message
    return None


def decide(
    ctx: Context,
    workflow: Workflow[Any],
    action: Action[Any],
    reference: str,
    expected_version: int,
    raw: Mapping[str, str],
) -> Decision:
    """Take ``action`` from a button or a submitted form; nothing changes unless it succeeds."""
    try:
        case = load(ctx, workflow, reference)
        values = action.form.parse_all(raw, ctx, case) if action.form.fields else {}
    except NotFound as error:
        return Decision(False, error.message)
    except FormErrors as error:
        return Decision(False, message("correct_the_form"), errors=error.errors)
    savepoint = ctx.session.begin_nested()
    try:
        said = perform(ctx, workflow, action, case, values, expected_version)
        savepoint.commit()
    except Invalid as error:
        savepoint.rollback()
        if error.field and error.field in {f.name for f in action.form.fields}:
            return Decision(False, error.message, errors={error.field: error.message})
        return Decision(False, error.message)
    except PermissionDenied as error:
        savepoint.rollback()
        return Decision(False, error.message)
    except Conflict as error:
        savepoint.rollback()
        ctx.session.refresh(case)
        return Decision(False, error.message, card=card(ctx, workflow, case))
    return Decision(
        True,
        said or message("done", action=action.label),
        card=card(ctx, workflow, case),
        footer=message("footer", action=action.label, who=ctx.person.name,
                       at=ctx.local_now.replace(second=0, microsecond=0)),
    )


def channel_alert(ctx: Context, workflow: Workflow[Any], case: Any) -> str | None:
    """What a shared alert channel may be told about ``case``: reference and countdown only."""
    if workflow.channel_alert is None:
        return None
    left = workflow.time_left(case, ctx.local_now)
    return render(workflow.channel_alert, reference=case.reference, title=workflow.title_of(case),
                  due=left.due if left else None, left=left.left if left else None)
