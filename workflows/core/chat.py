"""What a person types, routed: continue a conversation, start a workflow, show or act on a case.

Adapters that only have text (a DM, a terminal) call ``respond``; adapters with forms and
buttons (modals, cards) call the engine directly with the same declarations.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select

from workflows.audit import service as audit
from workflows.consent.access import may_look_up
from workflows.core import conversation as conversations
from workflows.core import letters, references, router
from workflows.core.cases import cases, column, of_school
from workflows.core.context import Context
from workflows.core.declaration import Route, Workflow
from workflows.core.engine import Conflict, NotFound, check_may_start, load, may_start, view
from workflows.core.fields import describe_moment
from workflows.core.models import Conversation, ConversationStatus
from workflows.core.ui import Document, Reply, Table, Text
from workflows.core.wording import render
from workflows.people.models import Person
from workflows.people.permissions import Permission, PermissionDenied, can, can_view
from workflows.registry import WORKFLOWS
from workflows.schools import membership
from workflows.schools.trust import trust_cases

_NEVER = datetime.max.replace(tzinfo=UTC)
REFERENCE = references.TYPED  # as people type them: “SAR-2026-0002”, “sar 2”, “#2”


def message(event: str, **facts: Any) -> str:
    """What the chat says itself, worded in ``templates/chat``."""
    return render("chat/message.txt.j2", event=event, **facts)


def respond(ctx: Context, channel_key: str, text: str) -> list[Reply]:
    for _ in range(3):
        current = conversations.active(ctx, channel_key)
        if current is None:
            break
        if conversations.claim(ctx, current):
            asking = WORKFLOWS[current.workflow]
            aside = _aside(ctx, channel_key, asking, current, text)
            if aside is not None:
                return aside
            return conversations.handle(ctx, asking, current, _unquoted(text))
        # Another message of this conversation was saved meanwhile: read it again, so this
        # one answers the question asked now (or finds the form finished).
        ctx.session.expire(current)
    else:
        return [Text(message("busy"), "warning")]
    stripped = " ".join(text.strip().split())
    if stripped.lower().rstrip(".!") in conversations.CONFIRM:
        late = _late_confirm(ctx, channel_key)
        if late is not None:
            return late
    if found := router.question(stripped, INTENTS):
        route, match = found
        try:
            return route.handler(ctx, channel_key, match)
        except (NotFound, Conflict, PermissionDenied) as error:
            return [Text(error.message, "error")]
    if workflow := router.started_by(stripped):
        return _start(ctx, channel_key, workflow)
    return [Text(message("not_understood", typed=stripped,
                         guesses=router.nearest(stripped, INTENTS)), "warning")]


def _aside(ctx: Context, channel_key: str, workflow: Workflow[Any],
           current: Conversation, text: str) -> list[Reply] | None:
    """A command typed in the middle of a form (“cases”, “SAR-2026-0002”, “more”): answered,
    and the form waits at its question. The rule, so that no real answer is taken for one:
    only a whole message that is exactly such a command, a reference written with its year;
    “sar 2” or “#2” there is an answer, and so is a command in quotes (“"cases"”)."""
    stripped = " ".join(text.strip().split())
    if (stripped.startswith("#") or re.fullmatch(r"[a-z]+\s*\d{1,6}", stripped, re.I)):
        return None
    found = router.question(stripped, tuple(r for r in INTENTS if r.aside))
    if found is None:
        return None
    route, match = found
    try:
        replies = route.handler(ctx, channel_key, match)
    except (NotFound, Conflict, PermissionDenied) as error:
        replies = [Text(error.message, "error")]
    what = workflow.title if current.action is None else workflow.action(current.action).label
    return [*replies, Text(message("form_waits", what=what)),
            *conversations.ask_again(ctx, workflow, current)]


def _unquoted(text: str) -> str:
    """A command word given as an answer, in quotes: the answer, without them."""
    stripped = text.strip()
    quotes = {'"': '"', "“": "”", "'": "'", "‘": "’"}
    if len(stripped) > 2 and quotes.get(stripped[0]) == stripped[-1]:
        inner = stripped[1:-1].strip()
        word = inner.lower().rstrip(".!")
        if word in conversations.CANCEL or router.question(
                inner, tuple(r for r in INTENTS if r.aside)):
            return inner
    return text


def lookup(ctx: Context, text: str) -> list[Reply]:
    """Answer a read-only request (help, the case list, one case, a letter draft): what may
    be asked from anywhere (a slash command in any channel, a home-tab button), never the
    start of a conversation, whose follow-up answers would have nowhere to go."""
    stripped = " ".join(text.strip().split())
    if found := router.question(stripped, tuple(r for r in INTENTS if r.lookup)):
        route, match = found
        try:
            return route.handler(ctx, "", match)
        except (NotFound, Conflict, PermissionDenied) as error:
            return [Text(error.message, "error")]
    if not stripped:
        return _help(ctx, "", None)
    return [Text(message("not_here", typed=stripped,
                         guesses=router.nearest(stripped, tuple(r for r in INTENTS if r.lookup))),
                 "warning")]


def greet(ctx: Context, channel_key: str) -> list[Reply]:
    """First words in a session: resume an unfinished conversation, or say what I can do."""
    current = conversations.active(ctx, channel_key)
    if current is not None:
        return conversations.resume(ctx, WORKFLOWS[current.workflow], current)
    return _help(ctx, channel_key, None)


def fault(ctx: Context, channel_key: str) -> list[Reply]:
    """What an adapter says after a message failed unexpectedly and its transaction was
    rolled back (call it in a fresh one): sorry, and the question still waiting, unchanged."""
    current = conversations.active(ctx, channel_key)
    if current is None:
        return [Text(message("fault", kept=False), "error")]
    return [
        Text(message("fault", kept=True), "error"),
        *conversations.ask_again(ctx, WORKFLOWS[current.workflow], current),
    ]


def _late_confirm(ctx: Context, channel_key: str) -> list[Reply] | None:
    """A "yes" with no summary waiting: a double click, a retried event, or a late reply.

    Say what became of the last form here rather than "I didn't understand", so nobody
    types it again to be sure; it never saves anything.
    """
    last = ctx.session.exec(
        select(Conversation)
        .where(
            Conversation.person_id == ctx.person.id,
            Conversation.adapter == ctx.adapter,
            Conversation.channel_key == channel_key,
        )
        .order_by(col(Conversation.id).desc())
    ).first()
    if last is None or last.workflow not in WORKFLOWS:
        return None
    if last.status == ConversationStatus.CANCELLED:
        return [Text(message("cancelled_before"), "warning")]
    if last.status != ConversationStatus.DONE:
        return None
    workflow = WORKFLOWS[last.workflow]
    if last.action is None:
        case = ctx.session.exec(cases(workflow).where(
            column(workflow, "conversation_id") == last.id)).first()
        if case is None:
            return None
        return [Text(message("saved_before", reference=case.reference), "warning")]
    case = ctx.session.get(workflow.model, last.target_id)
    if case is None:
        return None
    # Said the same to whoever won or lost a race: the case shows where it now stands.
    return [Text(message("finished_before", action=workflow.action(last.action).label,
                         reference=case.reference), "warning")]


def _start(ctx: Context, channel_key: str, workflow: Workflow[Any]) -> list[Reply]:
    if refused := may_start(ctx, workflow):
        return [Text(refused, "error")]
    which = membership.working_with(ctx)
    return [*([Text(which)] if which else []), *conversations.start(ctx, channel_key, workflow)]


def _help(ctx: Context, channel_key: str, match: re.Match[str] | None) -> list[Reply]:
    """Short: the things staff do most, then “more” for the rest."""
    return [Text(render("messages/help_short.txt.j2", person=ctx.person, school=ctx.school,
                        workflows=list(WORKFLOWS.values()),
                        decides=can(ctx.person, Permission.DECIDE),
                        consent=may_look_up(ctx),
                        starts=can(ctx.person, Permission.START_CASE),
                        reports=can(ctx.person, Permission.REPORT),
                        elsewhere=membership.elsewhere(ctx)))]


def _more(ctx: Context, channel_key: str, match: re.Match[str] | None) -> list[Reply]:
    return [
        Text(
            render(
                "messages/help.txt.j2",
                person=ctx.person,
                school=ctx.school,
                workflows=list(WORKFLOWS.values()),
                decides=can(ctx.person, Permission.DECIDE),
                consent=may_look_up(ctx),
                starts=can(ctx.person, Permission.START_CASE),
                reports=can(ctx.person, Permission.REPORT),
                elsewhere=membership.elsewhere(ctx),
                # Only what this person's role allows, as they would type it.
                allowed={
                    w.name: [a.name.replace("_", " ") for a in w.actions
                             if can(ctx.person, a.permission)]
                    for w in WORKFLOWS.values()
                },
            )
        )
    ]


def _cases(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    scope = (match.group("scope") or "open").lower()
    everything = scope == "all"
    replies: list[Reply] = []
    for workflow in WORKFLOWS.values():
        query = of_school(workflow, ctx.school_id,
                          open_only=None if everything else scope != "closed")
        listed: list[tuple[tuple[bool, datetime], tuple[str, ...]]] = []
        for case in ctx.session.exec(query.order_by(column(workflow, "id"))):
            if not can_view(ctx.person, case):
                continue
            gist = (_gist(ctx, workflow.gist, case),) if workflow.gist else ()
            left = workflow.time_left(case, ctx.local_now)
            shown = left if left is not None and workflow.is_open(case) else None
            row = (
                case.reference,
                workflow.states[case.state],
                left.short_due if left else message("clock_stopped"),
                shown.left if shown else "",
            ) + ((workflow.title_of(case),) if workflow.case_title else ()) + gist
            # Most urgent first, by the moment itself; then whatever has no running clock.
            listed.append(((not (shown and shown.running), left.sort_key if left else _NEVER),
                           row))
        rows = [row for _, row in sorted(listed, key=lambda item: item[0])]
        if rows and workflow.gist:
            # The gist names people: the listing is a read of their data, so it is audited.
            audit.record(ctx, f"{workflow.name}.listed", workflow.name,
                         references=[row[0] for row in rows])
        replies.append(
            Table(
                title=message("list_title", everyone=can(ctx.person, Permission.VIEW_ALL),
                              scope=scope, title=workflow.title),
                # A workflow of several kinds says which each case is.
                columns=("Reference", "Status", "Due", "Left")
                + (("Kind",) if workflow.case_title else ())
                + ((message("gist_column"),) if workflow.gist else ()),
                rows=tuple(rows),
                empty=message("list_empty", scope=scope),
            )
        )
    return replies


# A listing line stays a line: the gist is the start of what was typed, not all of it.
GIST_LENGTH = 70


def _gist(ctx: Context, template: str, case: Any) -> str:
    """Who and what, in a few words: the reader may see the case (``can_view``)."""
    by = ctx.session.get(Person, case.created_by_id)
    text = " ".join(render(template, case=case, by=by.name if by else "?").split())
    return text if len(text) <= GIST_LENGTH else text[:GIST_LENGTH - 1].rstrip() + "…"


def _show(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    workflow, reference = references.resolve(ctx, match.group("ref"))
    return [view(ctx, workflow, load(ctx, workflow, reference))]


def _history(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    workflow, reference = references.resolve(ctx, match.group("ref"))
    case = load(ctx, workflow, reference)
    events = audit.history(ctx.session, workflow.name, case.id)
    audit.record(ctx, f"{workflow.name}.viewed", workflow.name, case.id, case.reference,
                 what="history")
    return [
        Table(
            title=message("history_title", reference=case.reference),
            columns=("When", "Who", "What", "Why", "Via"),
            rows=tuple(
                (
                    e.at.astimezone(ctx.tz).strftime("%d %b %Y %H:%M"),
                    e.actor_name,
                    message("history_what", action=e.action.split(".", 1)[1],
                            letter=(e.detail or {}).get("letter")),
                    _why(ctx, workflow, e.action.split(".", 1)[1], e.detail or {}),
                    e.adapter,
                )
                for e in events
            ),
        )
    ]


def _why(ctx: Context, workflow: Workflow[Any], event: str, detail: dict[str, Any]) -> str:
    """What the action declares explains it, as recorded (a choice by its label), and for a
    correction the value it replaced."""
    action = next((a for a in workflow.actions if a.name == event), None)
    said = [] if action is None else [action.form.field(name).display(detail[name])
                                      for name in action.why if detail.get(name)]
    corrected = ({"now": _when(detail.get("now"), ctx), "was": _when(detail["was"], ctx)}
                 if detail.get("was") else None)
    return message("why", said=said, corrected=corrected)


def _when(value: str | None, ctx: Context) -> str:
    """A date or moment kept in the audit (ISO), as people read it."""
    if not value:
        return "?"
    return describe_moment(value, ctx)


def _letter(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    try:
        return [letters.draft(ctx, match.group("ref"), match.group("kind") or "")]
    except letters.WhichLetter as which:
        return [Text(str(which))]


def _act(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    workflow, reference = references.resolve(ctx, match.group("ref"))
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
        return [Text(message("unknown_action", verb=verb), "warning")]
    case = load(ctx, workflow, reference)
    check_may_start(ctx, workflow, action, case)
    return conversations.start(ctx, channel_key, workflow, action, case)


def _digest(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    if not can(ctx.person, Permission.VIEW_ALL):
        raise PermissionDenied(message("digest_for_dpo"))
    from workflows.digest import digest_text

    return [Document(title=message("digest_title"),
                     body=digest_text(ctx.session, ctx.school, ctx.now))]


def _trust(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    return trust_cases(ctx)


def _school(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    return membership.switch(ctx, match.groupdict().get("school"))


# What the chat itself answers; then the questions the workflows and the consent register
# declare (``core.router``); last, an action on a case (“close SAR-2026-0001”).
INTENTS: tuple[Route, ...] = (
    # Not an aside: “help” in a form explains the question being asked.
    Route.of(r"^(help|\?|menu|hi|hello|hey|start|what can you do\??)$", _help, lookup=True,
             example="help", words=("help", "menu", "commands", "what")),
    Route.of(r"^(more|more help|help more|everything|all commands|commands)$", _more,
             lookup=True, aside=True),
    Route.of(r"^(?P<scope>my|open|all|closed)?\s*(cases|requests|list|reports)$", _cases,
             lookup=True, example="cases", words=("cases", "case", "requests", "reports", "list",
                                                  "mine", "open", "closed"), aside=True),
    Route.of(r"^(show |view |open |case |find |where is |what about )?" + REFERENCE + r"\??$",
             _show, lookup=True, aside=True),
    Route.of(r"^(history|audit|timeline)( of)? " + REFERENCE + r"$", _history, lookup=True,
             example="history SAR-2026-0001", words=("history", "audit", "timeline", "who"),
             aside=True),
    Route.of(r"^(letter|letters|draft) " + REFERENCE + r"(\s+(?P<kind>[\w ]+))?$", _letter,
             lookup=True, example="letter SAR-2026-0001", words=("letter", "letters", "draft"),
             aside=True),
    Route.of(r"^digest$", _digest, lookup=True, example="digest",
             words=("digest", "summary", "weekly", "overview"), aside=True),
    Route.of(r"^(?:trust|trust cases|all schools|every school|cases (?:at|in|for) "
             r"(?:all|every|each) schools?)$", _trust, lookup=True, aside=True),
    Route.of(r"^(?:my |which )?schools?\??$", _school, lookup=True),
    Route.of(r"^(?:school|switch(?: schools?)?(?: to)?|change schools?(?: to)?|"
             r"work (?:at|for|in|with)) (?P<school>.+?)[.!]?$", _school, lookup=True),
    *router.routes(),
    Route.of(r"^(?P<verb>[a-z][a-z ]*?) " + REFERENCE + r"$", _act),
)
