"""A form asked one question at a time, in a DM or a terminal.

The conversation row is saved after every answer, so a restart resumes at the same
question, and nothing is created until the person confirms the summary. Each message first
takes the conversation with a compare-and-set on its version (``claim``), so two messages at
once are handled one after the other; confirming is a second compare-and-set, so a double
"yes" creates one case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select, update

from workflows.core import unfinished
from workflows.core.context import Context
from workflows.core.declaration import Action, Workflow
from workflows.core.engine import Conflict, NotFound, card, create, perform
from workflows.core.engine import message as engine_message
from workflows.core.fields import Field, Form, FormErrors, Invalid, Kind
from workflows.core.models import Conversation, ConversationStatus
from workflows.core.text import fold
from workflows.core.ui import Card, Option, Question, Reply, Summary, Text
from workflows.core.wording import render
from workflows.people.permissions import PermissionDenied

CANCEL = {"cancel", "stop", "quit", "exit", "abandon"}
BACK = {"back", "go back", "previous"}
SKIP = {"skip", "pass", "don't know", "dont know", "n/a"}
HELP = {"help", "?", "what?", "huh?", "explain"}
# The summary asks for "save"; "yes" is taken there too, and only there: a yes typed at a
# question is that question's answer, never the confirmation.
CONFIRM = {"save", "save it", "yes", "y", "confirm", "submit", "ok", "send"}
KEEP = {"", "keep", "same", "keep it"}  # chat apps cannot send an empty message
ACTIVE = (ConversationStatus.ASKING, ConversationStatus.CONFIRMING)
# Answers being asked again, kept beside the others in the saved answers until re-given.
PREVIOUS = "__previous__"
# An answer read back for confirmation (a date long ago): it counts once the person says yes.
DOUBTED = "__doubted__"
YES = {"yes", "y", "yeah", "yep", "correct", "right", "that's right", "it is"}
NO = {"no", "n", "nope", "wrong", "not right"}


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


def claim(ctx: Context, conversation: Conversation) -> bool:
    """Take the conversation for one message: a compare-and-set on its version.

    Two messages of one conversation handled at once (a fast typist, a retried event)
    would both answer the same question and one answer would be silently lost. The loser
    blocks until the winner commits, then reads the conversation again.
    """
    claimed = _changed(ctx, update(Conversation)
                       .where(col(Conversation.id) == conversation.id,
                              col(Conversation.version) == conversation.version)
                       .values(version=conversation.version + 1))
    if claimed != 1:
        return False
    set_committed_value(conversation, "version", conversation.version + 1)
    return True


def message(event: str, **facts: Any) -> str:
    """What the form says around its questions, worded in ``templates/conversation``."""
    return render("conversation/message.txt.j2", event=event, **facts)


def _asked(form: Form, conversation: Conversation) -> Field:
    """The question being asked: a conversation asking always has a position."""
    if conversation.position is None:
        raise ValueError("a conversation that is asking has no question")
    return form.field(conversation.position)


def saved_version(conversation: Conversation) -> int:
    """The version of the case an action form was opened on (always set for an action)."""
    if conversation.target_version is None:
        raise ValueError("an action's conversation has no case version")
    return conversation.target_version


def _changed(ctx: Context, statement: Update) -> int:
    """How many rows a compare-and-set changed (an UPDATE's result is a cursor result)."""
    result = ctx.session.execute(statement.execution_options(synchronize_session=False))
    return cast("CursorResult[Any]", result).rowcount


def form_of(workflow: Workflow[Any], conversation: Conversation) -> Form:
    if conversation.action is None:
        return workflow.intake
    return workflow.action(conversation.action).form


def start(
    ctx: Context,
    channel_key: str,
    workflow: Workflow[Any],
    action: Action[Any] | None = None,
    case: Any = None,
) -> list[Reply]:
    """Begin a form (or take a form-less action at once, after its confirm step)."""
    conversation, put_aside = _open(
        ctx,
        channel_key,
        workflow,
        action=action.name if action else None,
        target_id=case.id if case is not None else None,
        target_version=case.version if case is not None else None,
    )
    replies: list[Reply] = []
    if put_aside:
        replies.append(Text(message("put_aside")))
    if action is None:
        replies.append(Text(message("intro", title=workflow.title)))
    else:
        replies.append(Text(message("action_intro", action=action.label,
                                    reference=case.reference)))
        if action.intro is not None and (intro := action.intro(ctx, case)):
            replies.append(Text(intro))
    return replies + _advance(ctx, workflow, conversation)


def _open(
    ctx: Context, channel_key: str, workflow: Workflow[Any], **fields: Any
) -> tuple[Conversation, bool]:
    """A new conversation in this channel; any unfinished one there is put aside (True)."""
    previous = active(ctx, channel_key)
    if previous is not None:
        previous.status = ConversationStatus.CANCELLED
        unfinished.settle(ctx.session, previous, ctx.now)
    conversation = Conversation(
        school_id=ctx.school_id,
        person_id=ctx.person_id,
        adapter=ctx.adapter,
        channel_key=channel_key,
        workflow=workflow.name,
        created_at=ctx.now,
        updated_at=ctx.now,
        **fields,
    )
    ctx.session.add(conversation)
    ctx.session.flush()
    unfinished.plan(ctx.session, workflow, conversation, ctx.now)
    return conversation, previous is not None


def resume(ctx: Context, workflow: Workflow[Any], conversation: Conversation) -> list[Reply]:
    """Where were we? Said after a restart or when someone comes back to the chat."""
    what = workflow.title if conversation.action is None else workflow.action(
        conversation.action).label
    return [Text(message("resumed", what=what))] + _prompt(ctx, workflow, conversation)


def handle(
    ctx: Context, workflow: Workflow[Any], conversation: Conversation, text: str
) -> list[Reply]:
    # Phones and Word turn "don't" into "don’t"; both must read as the same command.
    word = fold(text, strip=".! ")
    form = form_of(workflow, conversation)
    if word in CANCEL:
        conversation.status = ConversationStatus.CANCELLED
        _touch(ctx, conversation)
        unfinished.settle(ctx.session, conversation, ctx.now)
        case = (ctx.session.get(workflow.model, conversation.target_id)
                if conversation.target_id is not None else None)
        if case is not None:
            # An action on a case already saved (a breach's follow-up questions, a decision):
            # the case stays, and the person must not think their report went with the form.
            return [Text(message("cancelled_action", reference=case.reference), "warning")]
        return [Text(message("cancelled"), "warning")]
    if conversation.status == ConversationStatus.CONFIRMING:
        return _at_summary(ctx, workflow, conversation, form, word, text)
    field = _asked(form, conversation)
    doubted = conversation.answers.get(DOUBTED)
    if doubted is not None:
        if word in YES:
            return _alerted(ctx, field, doubted) + _answer(ctx, workflow, conversation, field,
                                                           doubted)
        conversation.answers = {k: v for k, v in conversation.answers.items() if k != DOUBTED}
        if word in NO:
            _touch(ctx, conversation)
            return [Text(message("type_again"))] + _prompt(ctx, workflow, conversation)
        # Anything else is a new answer to the same question: the doubted one is dropped.
    previous = _previous(conversation)
    if word in KEEP and field.name in previous:  # Enter (or "keep") keeps the answer shown
        return _answer(ctx, workflow, conversation, field, previous[field.name])
    if word in HELP:
        said = field.help or message("field_help", question=field.question, hint=_hint(field))
        return [Text(said), Text(message("while_asking"))] + _prompt(ctx, workflow, conversation)
    if word in BACK:
        return _back(ctx, workflow, conversation)
    # Enter on an optional question (a terminal can send nothing) passes it by.
    if (word in SKIP or not word) and field.optional and not field.takes_unknown(word):
        return _answer(ctx, workflow, conversation, field, None)
    if word in SKIP and not field.takes_unknown(word):
        return [Text(message("needed", help=field.help.strip()), "warning")] + _prompt(
            ctx, workflow, conversation)
    replies: list[Reply] = []
    if field.kind is Kind.LONG_TEXT and len(text.strip()) > field.limit:
        # A long paste is kept up to the limit, and the person told where it was cut.
        pasted = text.strip()
        text = pasted[: field.limit].rstrip()
        replies.append(Text(message("kept", length=len(pasted), limit=field.limit,
                                    label=field.label, end=text[-40:]), "warning"))
    try:
        value = field.parse(text, conversation.answers, ctx, _case(ctx, workflow, conversation))
    except Invalid as error:
        if doubted is not None:
            _touch(ctx, conversation)
        return [Text(error.message, "error")] + _prompt(ctx, workflow, conversation)
    if field.kind.value in ("date", "datetime"):
        replies.append(Text(message("read_back", label=field.label, shown=field.display(value),
                                    doubt=None, asking=False)))
    if field.doubt(value, ctx):
        # Read back and wait for a yes: a slip of the year must not start a clock.
        conversation.answers = {**conversation.answers, DOUBTED: value}
        _touch(ctx, conversation)
        return replies + _prompt(ctx, workflow, conversation)
    return replies + _alerted(ctx, field, value) + _answer(ctx, workflow, conversation, field,
                                                            value)


def _alerted(ctx: Context, field: Field, value: Any) -> list[Reply]:
    """What the answer just taken means for the person now, said before the next question."""
    said = field.alert(value, ctx) if field.alert is not None else None
    return [Text(said, "warning")] if said else []


def _case(ctx: Context, workflow: Workflow[Any], conversation: Conversation) -> Any:
    """The case an action's questions are about (None while a new case is being reported)."""
    if conversation.target_id is None:
        return None
    return ctx.session.get(workflow.model, conversation.target_id)


def _answer(
    ctx: Context, workflow: Workflow[Any], conversation: Conversation, field: Field, value: Any
) -> list[Reply]:
    answers = {k: v for k, v in conversation.answers.items() if k not in (PREVIOUS, DOUBTED)}
    # Other answers being revisited stay offered: going back two steps and forward again
    # shows both earlier answers, not just the last one left.
    waiting = {k: v for k, v in _previous(conversation).items() if k != field.name}
    conversation.answers = {**answers, field.name: value}
    if waiting:
        conversation.answers[PREVIOUS] = waiting
    return _advance(ctx, workflow, conversation)


def _advance(ctx: Context, workflow: Workflow[Any], conversation: Conversation) -> list[Reply]:
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


def _back(ctx: Context, workflow: Workflow[Any], conversation: Conversation) -> list[Reply]:
    # The previous question in the form's order, not in the order of asking: after "edit 5"
    # at the summary and Enter, "back" must go to the last question, not to question 5.
    form = form_of(workflow, conversation)
    order = [f.name for f in form.active(conversation.answers)]
    if conversation.status == ConversationStatus.ASKING and conversation.position in order:
        order = order[: order.index(conversation.position)]
    names = [n for n in order if n in conversation.answers]
    if not names:
        return [Text(message("first_question"), "warning")] + _prompt(
            ctx, workflow, conversation
        )
    _revisit(ctx, conversation, names[-1])
    return _prompt(ctx, workflow, conversation)


def _revisit(ctx: Context, conversation: Conversation, name: str) -> None:
    """Ask ``name`` again, keeping its answer on offer (shown, and Enter keeps it)."""
    answers = {k: v for k, v in conversation.answers.items() if k not in (name, PREVIOUS)}
    waiting = _previous(conversation) | {name: conversation.answers.get(name)}
    conversation.answers = {**answers, PREVIOUS: waiting}
    conversation.status = ConversationStatus.ASKING
    conversation.position = name
    _touch(ctx, conversation)


def _previous(conversation: Conversation) -> dict[str, Any]:
    return dict(conversation.answers.get(PREVIOUS, {}))


def _at_summary(
    ctx: Context,
    workflow: Workflow[Any],
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
            _revisit(ctx, conversation, fields[int(parts[1]) - 1].name)
            return _prompt(ctx, workflow, conversation)
        return [Text(message("edit_which", count=len(fields)), "warning")] + _prompt(
            ctx, workflow, conversation
        )
    if word in HELP:
        return [Text(message("summary_help"))] + _prompt(ctx, workflow, conversation)
    return [Text(message("not_saved_yet"), "warning")] + _prompt(ctx, workflow, conversation)


def _submit(
    ctx: Context, workflow: Workflow[Any], conversation: Conversation, form: Form,
    follow: bool = True,
) -> list[Reply]:
    # Claim the conversation first: a second "yes" (a double click, a retried event)
    # finds it already done and creates nothing.
    claimed = _changed(ctx, update(Conversation)
                       .where(
                           col(Conversation.id) == conversation.id,
                           col(Conversation.version) == conversation.version,
                           col(Conversation.status) == ConversationStatus.CONFIRMING,
                       )
                       .values(status=ConversationStatus.DONE, version=conversation.version + 1,
                               updated_at=ctx.now))
    if claimed != 1:
        return [Text(message("already_saved"), "warning")]
    ctx.session.refresh(conversation)
    values = form.values(conversation.answers)
    # A savepoint: if the domain refuses, nothing it had begun to write survives.
    savepoint = ctx.session.begin_nested()
    try:
        if conversation.action is None:
            case = create(ctx, workflow, values | {"__conversation_id__": conversation.id})
            said = message("saved", reference=case.reference)
        else:
            case = ctx.session.get(workflow.model, conversation.target_id)
            action = workflow.action(conversation.action)
            said = perform(ctx, workflow, action, case, values,
                           saved_version(conversation)) or engine_message(
                "done", action=action.label)
        savepoint.commit()
        unfinished.settle(ctx.session, conversation, ctx.now)
    except Invalid as error:
        savepoint.rollback()
        return _reopen(ctx, workflow, conversation, error)
    except (Conflict, PermissionDenied, NotFound) as error:
        savepoint.rollback()
        return [Text(error.message, "error")]
    if conversation.action is None and workflow.follow_up and follow:
        ctx.session.refresh(case)
        return [Text(said, "success"), *start(ctx, conversation.channel_key, workflow,
                                              workflow.action(workflow.follow_up), case)]
    return [Text(said, "success"), card(ctx, workflow, case)]


def refusal(ctx: Context, workflow: Workflow[Any], values: dict[str, Any]) -> Invalid | None:
    """What saving these answers would be refused for, found without saving anything."""
    savepoint = ctx.session.begin_nested()
    try:
        case = workflow.build(ctx, values)
        if workflow.recompute is not None:
            workflow.recompute(ctx, case)
    except Invalid as error:
        return error
    finally:
        savepoint.rollback()
    return None


def _reopen(
    ctx: Context, workflow: Workflow[Any], conversation: Conversation, error: Invalid
) -> list[Reply]:
    """The domain refused the whole answer set: go back to the question at fault."""
    form = form_of(workflow, conversation)
    name = error.field or form.active(conversation.answers)[-1].name
    conversation.version += 1
    _revisit(ctx, conversation, name)
    return [Text(error.message, "error")] + _prompt(ctx, workflow, conversation)


def ask_again(ctx: Context, workflow: Workflow[Any], conversation: Conversation) -> list[Reply]:
    """The question (or summary) the conversation is waiting on, as it stands."""
    return _prompt(ctx, workflow, conversation)


def _prompt(ctx: Context, workflow: Workflow[Any], conversation: Conversation) -> list[Reply]:
    form = form_of(workflow, conversation)
    fields = form.active(conversation.answers)
    if conversation.status == ConversationStatus.CONFIRMING:
        rows = tuple(
            (f"{i}. {f.label}", f.display(conversation.answers.get(f.name)))
            for i, f in enumerate(fields, 1)
        )
        if conversation.action is None:
            values = form.values(conversation.answers)
            notes = tuple(workflow.summary_notes(ctx, values)) if workflow.summary_notes else ()
            # What "save" would refuse, said before it is typed (then it goes to the question).
            refused = refusal(ctx, workflow, values)
            if refused is not None and refused.message not in notes:
                notes = (refused.message, *notes)
        else:
            # A text chat has no confirm dialog: an irreversible action's warning goes here.
            confirm = workflow.action(conversation.action).confirm
            notes = (confirm,) if confirm else ()
        # A form sent whole (a modal, a card) had no chance to read a date back: do it here.
        notes = tuple(
            message("read_back", label=f.label, shown=f.display(conversation.answers.get(f.name)),
                    doubt=doubt, asking=False)
            for f in fields if (doubt := f.doubt(conversation.answers.get(f.name), ctx))
        ) + notes
        title = workflow.title if conversation.action is None else workflow.action(
            conversation.action).label
        return [Summary(title=message("check", title=title), rows=rows, notes=notes)]
    field = _asked(form, conversation)
    previous = _previous(conversation).get(field.name)
    doubted = conversation.answers.get(DOUBTED)
    # Counted from the answers that stand: one being revisited may still bring a question
    # (a "no" that asks whose data it is), so it is in the total now and never added later.
    counted = [f.name for f in form.counted(
        {k: v for k, v in conversation.answers.items() if k not in (PREVIOUS, DOUBTED)})]
    if doubted is not None:
        return [
            Question(
                field=field.name,
                prompt=message("read_back", label=field.label, shown=field.display(doubted),
                               doubt=field.doubt(doubted, ctx), asking=True),
                help=field.help,
                kind="yes_no",
                step=counted.index(field.name) + 1,
                total=len(counted),
                optional=False,
            )
        ]
    return [
        Question(
            field=field.name,
            prompt=field.question,
            help=field.help,
            kind=field.kind.value,
            step=counted.index(field.name) + 1,
            total=len(counted),
            optional=field.optional,
            options=tuple(Option(c.value, c.label) for c in field.listed(ctx)),
            current=field.display(previous) if previous is not None else None,
        )
    ]


def _hint(field: Field) -> str:
    if field.choices:
        return field.choices_hint()
    return message("optional_hint" if field.optional else "required_hint")


def _touch(ctx: Context, conversation: Conversation) -> None:
    conversation.updated_at = ctx.now
    ctx.session.add(conversation)
    ctx.session.flush()


@dataclass(frozen=True)
class Prepared:
    """A whole form submitted at once (a modal, a card), checked and waiting for confirmation."""

    errors: dict[str, str] | None = None
    conversation_id: int | None = None
    summary: Summary | None = None


@dataclass(frozen=True)
class Confirmed:
    ok: bool
    message: str
    replies: list[Reply]
    reopened: dict[str, str] | None = None  # the answers to show again (Form.shown), if refused
    reference: str | None = None  # of the case saved


def follow_up(ctx: Context, channel_key: str, workflow: Workflow[Any],
              reference: str) -> list[Reply]:
    """Carry on with the workflow's follow-up questions in a chat (after a form was saved)."""
    from workflows.core.engine import load

    if workflow.follow_up is None:
        return []
    return start(ctx, channel_key, workflow, workflow.action(workflow.follow_up),
                 load(ctx, workflow, reference))


def prepare(
    ctx: Context,
    channel_key: str,
    workflow: Workflow[Any],
    raw: dict[str, str],
) -> Prepared:
    """Check every field of a submitted form; if all is well, hold it for confirmation.

    The answers wait in a conversation row, so confirming is the same compare-and-set as
    in a chat: a double submit creates one case, and nothing exists until it is confirmed.
    """
    try:
        values = workflow.intake.parse_all(raw, ctx)
    except FormErrors as error:
        return Prepared(errors=error.errors)
    refused = refusal(ctx, workflow, values)
    if refused is not None and refused.field in {f.name for f in workflow.intake.fields}:
        # Straight to the answer that fixes it, rather than a summary that "save" would refuse.
        return Prepared(errors={refused.field: refused.message})
    conversation, _ = _open(
        ctx, channel_key, workflow, answers=values, status=ConversationStatus.CONFIRMING
    )
    (summary,) = _prompt(ctx, workflow, conversation)
    if not isinstance(summary, Summary):  # a confirming conversation prompts with its summary
        raise TypeError(f"expected a summary, got {type(summary).__name__}")
    return Prepared(conversation_id=conversation.id, summary=summary)


def held(ctx: Context, conversation_id: int) -> dict[str, str]:
    """The answers a form holds for confirmation, as its controls show them ("Change
    answers"); nothing for a form that is not this person's, or no longer waiting."""
    from workflows.registry import WORKFLOWS

    conversation = ctx.session.get(Conversation, conversation_id)
    if (conversation is None or conversation.person_id != ctx.person.id
            or conversation.status != ConversationStatus.CONFIRMING):
        return {}
    form = form_of(WORKFLOWS[conversation.workflow], conversation)
    return form.shown(conversation.answers, ctx)


def confirm(ctx: Context, conversation_id: int) -> Confirmed:
    """Save what ``prepare`` held; a second confirm says it is already saved."""
    from workflows.registry import WORKFLOWS

    conversation = ctx.session.get(Conversation, conversation_id)
    if conversation is None or conversation.person_id != ctx.person.id:
        text = message("expired")
        return Confirmed(False, text, [Text(text, "error")])
    if conversation.status != ConversationStatus.CONFIRMING:
        text = message("already_saved" if conversation.status == ConversationStatus.DONE
                       else "form_cancelled")
        return Confirmed(False, text, [Text(text, "warning")])
    workflow = WORKFLOWS[conversation.workflow]
    # A form's follow-up questions cannot go on in the form: the adapter starts them in a chat.
    replies = _submit(ctx, workflow, conversation, form_of(workflow, conversation), follow=False)
    said = next((r.text for r in replies if isinstance(r, Text)), "")
    if conversation.status == ConversationStatus.ASKING:
        # Refused as a whole: cancel the held answers and give them back to the form.
        answers = {k: v for k, v in conversation.answers.items() if k != PREVIOUS}
        answers |= _previous(conversation)
        conversation.status = ConversationStatus.CANCELLED
        _touch(ctx, conversation)
        unfinished.settle(ctx.session, conversation, ctx.now)
        return Confirmed(False, said, replies,
                         reopened=form_of(workflow, conversation).shown(answers, ctx))
    ok = any(isinstance(r, Text) and r.tone == "success" for r in replies)
    reference = next((r.reference for r in replies if isinstance(r, Card)), None)
    return Confirmed(ok, said, replies, reference=reference)
