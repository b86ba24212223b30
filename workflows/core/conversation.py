"""A form asked one question at a time, in a DM or a terminal.

The conversation row is saved after every answer, so a restart resumes at the same
question, and nothing is created until the person confirms the summary. Confirming is a
compare-and-set on the conversation's version: a double "yes" creates one case.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select, update

from workflows.core.context import Context
from workflows.core.declaration import Action, Workflow
from workflows.core.engine import Conflict, NotFound, card, perform
from workflows.core.fields import Field, Form, Invalid
from workflows.core.models import Conversation, ConversationStatus
from workflows.core.ui import Option, Question, Reply, Summary, Text
from workflows.people.permissions import PermissionDenied

CANCEL = {"cancel", "stop", "quit", "exit", "abandon"}
BACK = {"back", "go back", "previous"}
SKIP = {"skip", "pass", "don't know", "dont know", "n/a"}
HELP = {"help", "?", "what?", "huh?", "explain"}
CONFIRM = {"yes", "y", "confirm", "save", "submit", "ok", "correct", "send"}
ACTIVE = (ConversationStatus.ASKING, ConversationStatus.CONFIRMING)


def active(ctx: Context, channel_key: str) -> Conversation | None:
    return ctx.session.exec(
        select(Conversation)
        .where(
            Conversation.person_id == ctx.person.id,
            Conversation.adapter == ctx.adapter,
            Conversation.channel_key == channel_key,
            col(Conversation.status).in_([s.value for s in ACTIVE]),
        )
        .order_by(col(Conversation.id).desc())
    ).first()


def form_of(workflow: Workflow, conversation: Conversation) -> Form:
    if conversation.action is None:
        return workflow.intake
    return workflow.action(conversation.action).form


def start(
    ctx: Context,
    channel_key: str,
    workflow: Workflow,
    action: Action | None = None,
    case: Any = None,
) -> list[Reply]:
    """Begin a form (or take a form-less action at once, after its confirm step)."""
    previous = active(ctx, channel_key)
    replies: list[Reply] = []
    if previous is not None:
        previous.status = ConversationStatus.CANCELLED
        replies.append(Text("I've put aside what you were doing before; nothing from it was saved."))
    conversation = Conversation(
        school_id=ctx.school.id,
        person_id=ctx.person.id,
        adapter=ctx.adapter,
        channel_key=channel_key,
        workflow=workflow.name,
        action=action.name if action else None,
        target_id=case.id if case is not None else None,
        target_version=case.version if case is not None else None,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(conversation)
    ctx.session.flush()
    if action is None:
        replies.append(Text(f"{workflow.title}: I'll ask a few questions. You can type "
                            "“back”, “skip” (optional questions), “help” or “cancel” at any time."))
    else:
        replies.append(Text(f"{action.label} — {case.reference}."))
    return replies + _advance(ctx, workflow, conversation)


def resume(ctx: Context, workflow: Workflow, conversation: Conversation) -> list[Reply]:
    """Where were we? Said after a restart or when someone comes back to the chat."""
    what = workflow.title if conversation.action is None else workflow.action(
        conversation.action).label
    return [Text(f"Picking up where you left off: {what}.")] + _prompt(ctx, workflow, conversation)


def handle(
    ctx: Context, workflow: Workflow, conversation: Conversation, text: str
) -> list[Reply]:
    word = text.strip().lower().rstrip(".!")
    form = form_of(workflow, conversation)
    if word in CANCEL:
        conversation.status = ConversationStatus.CANCELLED
        _touch(ctx, conversation)
        return [Text("Cancelled. Nothing was saved.", "warning")]
    if conversation.status == ConversationStatus.CONFIRMING:
        return _at_summary(ctx, workflow, conversation, form, word, text)
    field = form.field(conversation.position)
    previous = conversation.answers.get("__previous__", {})
    if not word and field.name in previous:  # Enter keeps the answer being revisited
        return _answer(ctx, workflow, conversation, field, previous[field.name])
    if word in HELP:
        return [Text(field.help or f"{field.question} ({_hint(field)})")] + _prompt(
            ctx, workflow, conversation
        )
    if word in BACK:
        return _back(ctx, workflow, conversation)
    if word in SKIP and field.optional:
        return _answer(ctx, workflow, conversation, field, None)
    if word in SKIP:
        return [Text(f"This one is needed, so it can't be skipped. {field.help}".strip(),
                     "warning")] + _prompt(ctx, workflow, conversation)
    try:
        value = field.parse(text, conversation.answers, ctx)
    except Invalid as error:
        return [Text(error.message, "error")] + _prompt(ctx, workflow, conversation)
    replies: list[Reply] = []
    if field.kind.value in ("date", "datetime"):
        replies.append(Text(f"{field.label}: {field.display(value)}."))
    return replies + _answer(ctx, workflow, conversation, field, value)


def _answer(
    ctx: Context, workflow: Workflow, conversation: Conversation, field: Field, value: Any
) -> list[Reply]:
    answers = {k: v for k, v in conversation.answers.items() if k != "__previous__"}
    conversation.answers = {**answers, field.name: value}
    if field.name not in conversation.history:
        conversation.history = [*conversation.history, field.name]
    return _advance(ctx, workflow, conversation)


def _advance(ctx: Context, workflow: Workflow, conversation: Conversation) -> list[Reply]:
    form = form_of(workflow, conversation)
    next_field = form.next_unanswered(conversation.answers)
    if next_field is None:
        conversation.status = ConversationStatus.CONFIRMING
        conversation.position = None
    else:
        conversation.status = ConversationStatus.ASKING
        conversation.position = next_field.name
    _touch(ctx, conversation)
    return _prompt(ctx, workflow, conversation)


def _back(ctx: Context, workflow: Workflow, conversation: Conversation) -> list[Reply]:
    form = form_of(workflow, conversation)
    active_names = [f.name for f in form.active(conversation.answers)]
    history = [n for n in conversation.history if n in active_names]
    if conversation.position in history:
        history = history[: history.index(conversation.position)]
    if not history:
        return [Text("This is the first question.", "warning")] + _prompt(
            ctx, workflow, conversation
        )
    previous = history[-1]
    answers = dict(conversation.answers)
    conversation.status = ConversationStatus.ASKING
    conversation.position = previous
    # Keep the old answer: it is shown, and typing it again is enough to go on.
    conversation.answers = {k: v for k, v in answers.items() if k != previous}
    conversation.history = [*history[:-1]]
    conversation.answers["__previous__"] = {previous: answers.get(previous)}
    _touch(ctx, conversation)
    return _prompt(ctx, workflow, conversation)


def _at_summary(
    ctx: Context,
    workflow: Workflow,
    conversation: Conversation,
    form: Form,
    word: str,
    text: str,
) -> list[Reply]:
    if word in CONFIRM:
        return _submit(ctx, workflow, conversation, form)
    if word in BACK:
        return _back(ctx, workflow, conversation)
    parts = word.replace("change", "edit").split()
    if parts and parts[0] == "edit":
        fields = form.active(conversation.answers)
        if len(parts) == 2 and parts[1].isdigit() and 1 <= int(parts[1]) <= len(fields):
            chosen = fields[int(parts[1]) - 1]
            answers = dict(conversation.answers)
            conversation.answers = {k: v for k, v in answers.items() if k != chosen.name}
            conversation.answers["__previous__"] = {chosen.name: answers.get(chosen.name)}
            conversation.status = ConversationStatus.ASKING
            conversation.position = chosen.name
            _touch(ctx, conversation)
            return _prompt(ctx, workflow, conversation)
        return [Text(f"Type “edit” and a number from 1 to {len(fields)}.", "warning")] + _prompt(
            ctx, workflow, conversation
        )
    if word in HELP:
        return [Text("Type “yes” to save, “edit 2” to change answer 2, “back” for the last "
                     "question or “cancel” to stop without saving.")] + _prompt(
            ctx, workflow, conversation
        )
    return [Text("Nothing is saved yet. Type “yes” to save, “edit” and a number to change an "
                 "answer, or “cancel”.", "warning")] + _prompt(ctx, workflow, conversation)


def _submit(
    ctx: Context, workflow: Workflow, conversation: Conversation, form: Form
) -> list[Reply]:
    # Claim the conversation first: a second "yes" (a double click, a retried event)
    # finds it already done and creates nothing.
    claimed = ctx.session.execute(
        update(Conversation)
        .where(
            col(Conversation.id) == conversation.id,
            col(Conversation.version) == conversation.version,
            col(Conversation.status) == ConversationStatus.CONFIRMING,
        )
        .values(status=ConversationStatus.DONE, version=conversation.version + 1,
                updated_at=ctx.now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return [Text("That was already saved.", "warning")]
    ctx.session.refresh(conversation)
    values = form.values(conversation.answers)
    # A savepoint: if the domain refuses, nothing it had begun to write survives.
    savepoint = ctx.session.begin_nested()
    try:
        if conversation.action is None:
            case = workflow.create(ctx, values | {"__conversation_id__": conversation.id})
            message = f"Saved as {case.reference}."
        else:
            case = ctx.session.get(workflow.model, conversation.target_id)
            action = workflow.action(conversation.action)
            message = perform(ctx, workflow, action, case, values, conversation.target_version)
            message = message or f"Done: {action.label}."
        savepoint.commit()
    except Invalid as error:
        savepoint.rollback()
        return _reopen(ctx, workflow, conversation, error)
    except (Conflict, PermissionDenied, NotFound) as error:
        savepoint.rollback()
        return [Text(error.message, "error")]
    return [Text(message, "success"), card(ctx, workflow, case)]


def _reopen(
    ctx: Context, workflow: Workflow, conversation: Conversation, error: Invalid
) -> list[Reply]:
    """The domain refused the whole answer set: go back to the question at fault."""
    conversation.status = ConversationStatus.ASKING
    form = form_of(workflow, conversation)
    name = error.field or form.active(conversation.answers)[-1].name
    answers = dict(conversation.answers)
    conversation.answers = {k: v for k, v in answers.items() if k != name}
    conversation.answers["__previous__"] = {name: answers.get(name)}
    conversation.position = name
    conversation.version += 1
    _touch(ctx, conversation)
    return [Text(error.message, "error")] + _prompt(ctx, workflow, conversation)


def _prompt(ctx: Context, workflow: Workflow, conversation: Conversation) -> list[Reply]:
    form = form_of(workflow, conversation)
    fields = form.active(conversation.answers)
    if conversation.status == ConversationStatus.CONFIRMING:
        rows = tuple(
            (f"{i}. {f.label}", f.display(conversation.answers.get(f.name)))
            for i, f in enumerate(fields, 1)
        )
        notes = tuple(workflow.summary_notes(ctx, form.values(conversation.answers))) if (
            conversation.action is None and workflow.summary_notes) else ()
        title = workflow.title if conversation.action is None else workflow.action(
            conversation.action).label
        return [Summary(title=f"Please check: {title}", rows=rows, notes=notes)]
    field = form.field(conversation.position)
    previous = conversation.answers.get("__previous__", {}).get(field.name)
    return [
        Question(
            field=field.name,
            prompt=field.question,
            help=field.help,
            kind=field.kind.value,
            step=[f.name for f in fields].index(field.name) + 1,
            total=len(fields),
            optional=field.optional,
            options=tuple(Option(c.value, c.label) for c in field.choices),
            current=field.display(previous) if previous is not None else None,
        )
    ]


def _hint(field: Field) -> str:
    if field.choices:
        return field.choices_hint()
    return "optional: type “skip” to leave it out" if field.optional else "required"


def _touch(ctx: Context, conversation: Conversation) -> None:
    conversation.updated_at = ctx.now
    ctx.session.add(conversation)
    ctx.session.flush()
