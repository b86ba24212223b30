"""What a person types, routed: continue a conversation, start a workflow, show or act on a case.

Adapters that only have text (a DM, a terminal) call ``respond``; adapters with forms and
buttons (modals, cards) call the engine directly with the same declarations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import col, select

from workflows.audit import service as audit
from workflows.core import conversation as conversations
from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.engine import Conflict, NotFound, check_may_start, load, view
from workflows.core.ui import Document, Reply, Table, Text
from workflows.core.wording import render
from workflows.people.permissions import Permission, PermissionDenied, can, can_view
from workflows.registry import WORKFLOWS, by_prefix

REFERENCE = r"(?P<ref>[A-Za-z]{2,5}-\d{4}-\d{3,})"


@dataclass(frozen=True)
class Intent:
    pattern: re.Pattern[str]
    handler: Callable[[Context, str, re.Match[str]], list[Reply]]


def respond(ctx: Context, channel_key: str, text: str) -> list[Reply]:
    current = conversations.active(ctx, channel_key)
    if current is not None:
        return conversations.handle(ctx, WORKFLOWS[current.workflow], current, text)
    stripped = " ".join(text.strip().split())
    for intent in INTENTS:
        match = intent.pattern.match(stripped)
        if match:
            try:
                return intent.handler(ctx, channel_key, match)
            except (NotFound, Conflict, PermissionDenied) as error:
                return [Text(error.message, "error")]
    for workflow in WORKFLOWS.values():
        if any(trigger in stripped.lower() for trigger in workflow.triggers):
            return _start(ctx, channel_key, workflow)
    return [Text("Sorry, I didn't understand that.", "warning"), *_help(ctx, channel_key, None)]


def greet(ctx: Context, channel_key: str) -> list[Reply]:
    """First words in a session: resume an unfinished conversation, or say what I can do."""
    current = conversations.active(ctx, channel_key)
    if current is not None:
        return conversations.resume(ctx, WORKFLOWS[current.workflow], current)
    return _help(ctx, channel_key, None)


def _start(ctx: Context, channel_key: str, workflow: Workflow) -> list[Reply]:
    if not can(ctx.person, workflow.start_permission):
        return [Text(f"Your role does not allow you to start a {workflow.title.lower()}.", "error")]
    return conversations.start(ctx, channel_key, workflow)


def _help(ctx: Context, channel_key: str, match: re.Match[str] | None) -> list[Reply]:
    return [
        Text(
            render(
                "messages/help.txt.j2",
                person=ctx.person,
                school=ctx.school,
                workflows=list(WORKFLOWS.values()),
                decides=can(ctx.person, Permission.DECIDE),
            )
        )
    ]


def _cases(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    everything = match.group("scope") in ("all", "closed")
    replies: list[Reply] = []
    for workflow in WORKFLOWS.values():
        model = workflow.model
        query = select(model).where(model.school_id == ctx.school.id)
        if not everything:
            query = query.where(col(model.state).in_(list(workflow.open_states)))
        rows = []
        for case in ctx.session.exec(query.order_by(col(model.id))):
            if not can_view(ctx.person, case):
                continue
            due = workflow.due(case)
            left = "" if due is None else f"{(due - ctx.today).days} days"
            rows.append(
                (
                    case.reference,
                    workflow.states[case.state],
                    due.strftime("%a %d %b %Y") if due else "clock stopped",
                    left if workflow.is_open(case) else "",
                )
            )
        rows.sort(key=lambda r: (r[3] == "", r[2]))
        scope = "All" if can(ctx.person, Permission.VIEW_ALL) else "Your"
        replies.append(
            Table(
                title=f"{scope} {'' if everything else 'open '}{workflow.title.lower()}s",
                columns=("Reference", "Status", "Due", "Left"),
                rows=tuple(rows),
                empty="None open." if not everything else "None yet.",
            )
        )
    return replies


def _show(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    workflow = _workflow_for(match.group("ref"))
    return [view(ctx, workflow, load(ctx, workflow, match.group("ref")))]


def _history(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    workflow = _workflow_for(match.group("ref"))
    case = load(ctx, workflow, match.group("ref"))
    events = audit.history(ctx.session, workflow.name, case.id)
    audit.record(ctx, f"{workflow.name}.viewed", workflow.name, case.id, case.reference,
                 what="history")
    return [
        Table(
            title=f"History of {case.reference}",
            columns=("When", "Who", "What", "Via"),
            rows=tuple(
                (
                    e.at.astimezone(ctx.tz).strftime("%d %b %Y %H:%M"),
                    e.actor_name,
                    e.action.split(".", 1)[1].replace("_", " "),
                    e.adapter,
                )
                for e in events
            ),
        )
    ]


def _letter(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    workflow = _workflow_for(match.group("ref"))
    case = load(ctx, workflow, match.group("ref"))
    if not can(ctx.person, Permission.DECIDE):
        raise PermissionDenied("Only the DPO or a deputy can draft letters.")
    kind = (match.group("kind") or "").lower().replace(" ", "_")
    if kind not in workflow.letters:
        names = ", ".join(workflow.letters)
        return [Text(f"Which letter? Type “letter {case.reference} NAME” with one of: {names}.")]
    audit.record(ctx, f"{workflow.name}.letter_drafted", workflow.name, case.id, case.reference,
                 letter=kind)
    return [workflow.letters[kind](ctx, case)]


def _act(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    workflow = _workflow_for(match.group("ref"))
    verb = match.group("verb").lower().strip()
    action = next(
        (
            a
            for a in workflow.actions
            if verb in (a.name.replace("_", " "), a.label.lower(), a.name, *a.aliases)
        ),
        None,
    )
    if action is None:
        return [Text(f"I don't know how to “{verb}” a case.", "warning")]
    case = load(ctx, workflow, match.group("ref"))
    check_may_start(ctx, workflow, action, case)
    return conversations.start(ctx, channel_key, workflow, action, case)


def _digest(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    if not can(ctx.person, Permission.VIEW_ALL):
        raise PermissionDenied("The digest lists every case, so it is for the DPO team.")
    from workflows.digest import digest_text

    return [Document(title="Weekly digest", body=digest_text(ctx.session, ctx.school, ctx.now))]


def _workflow_for(reference: str) -> Workflow:
    workflow = by_prefix(reference.split("-", 1)[0])
    if workflow is None:
        raise NotFound(f"I can't find a case {reference.upper()} that you can see.")
    return workflow


def _intent(pattern: str, handler) -> Intent:
    return Intent(re.compile(pattern, re.IGNORECASE), handler)


INTENTS: tuple[Intent, ...] = (
    _intent(r"^(help|\?|menu|hi|hello|hey|start|what can you do\??)$", _help),
    _intent(r"^(?P<scope>my|open|all|closed)?\s*(cases|requests|list)$", _cases),
    _intent(r"^(show |view |open |case )?" + REFERENCE + r"$", _show),
    _intent(r"^(history|audit|timeline) " + REFERENCE + r"$", _history),
    _intent(r"^(letter|letters|draft) " + REFERENCE + r"(\s+(?P<kind>[\w ]+))?$", _letter),
    _intent(r"^digest$", _digest),
    _intent(r"^(?P<verb>[a-z][a-z ]*?) " + REFERENCE + r"$", _act),
)
