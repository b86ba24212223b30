"""What the Teams listeners ask of the core, as named functions of plain arguments.

Each runs in one transaction through ``TeamsBot.run`` (``workflows.core.workers``), in a
worker process on PostgreSQL: so it travels by name, its arguments are plain values (the
conversation's id, never the SDK's turn) and it returns plain data, the finished card as a
dict. The card is drawn here, beside the core's answer, so the serving process only sends
it. Nothing here imports the Agents SDK, which a worker never needs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.teams import cards
from bot.teams.cards import notice_card
from workflows.core import chat, conversation, recipients
from workflows.core import engine as core
from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.inbound import first_time
from workflows.core.ui import Document, Reply, Text, files
from workflows.core.wording import render
from workflows.notifications import addresses
from workflows.people.models import Person
from workflows.registry import WORKFLOWS, by_prefix
from workflows.schools import membership
from workflows.schools.models import School

log = logging.getLogger(__name__)
ADAPTER = "teams"
T = TypeVar("T")


def chat_key(conversation_id: str, kind: str = ADAPTER) -> str:
    """The conversation's key in the core: Teams ids can outgrow the column, so long ones are
    replaced by their digest."""
    if len(conversation_id) > 100:
        conversation_id = hashlib.sha256(conversation_id.encode()).hexdigest()[:40]
    return f"{kind}:{conversation_id}"


# Every turn


def in_own_chat(ctx: Context, account: str, served: tuple[int, ...],
                reference: dict[str, Any] | None, work: Callable[..., T], *args: Any) -> T:
    """``work(ctx, *args)``, after remembering the sender's personal chat (when this turn
    comes from it)."""
    if reference is not None:  # their own chat: worth a look at who they are
        mine = membership.records(ctx.session, ADAPTER, account, served, active=False)
        if _link_set_up(ctx.session, account, served, mine):
            mine = membership.records(ctx.session, ADAPTER, account, served, active=False)
        # The personal chat reaches every record of this account: a trust DPO's reminders
        # for one school come while they are working with another.
        for school, record in mine:
            addresses.remember(ctx.session, school.id, record.id, ADAPTER, reference)
    return work(ctx, *args)


def _link_set_up(session: Session, account: str, served: tuple[int, ...],
                 mine: list[tuple[School, Person]]) -> bool:
    """Link the records a DPO set up by email at another of the schools served after this
    account first met the bot (a trust DPO added to a second school): Teams has no lookup by
    email, unlike Slack, so the emails of the account's own records (``mine``) serve. True
    if any was linked."""
    emails = {person.email for _, person in mine if person.email}
    linked_at = {school.id for school, _ in mine}
    if not emails or linked_at >= set(served):
        return False  # the usual case, every message: no savepoint for nothing to do
    try:
        with session.begin_nested():  # another process may link them at the same time
            return membership.link_set_up(session, ADAPTER, account, served, emails,
                                          linked_at)
    except IntegrityError:
        log.info("a set-up record was linked by another process; kept theirs")
        return False


def refresh_for(ctx: Context, shown: Sequence[Reply]) -> list[str]:
    """Who gets a case's buttons, as the core answers it (``recipients.button_holders``)."""
    return cards.accounts(recipients.button_holders(ctx, shown))


# Messages in the personal chat


def nothing(ctx: Context) -> None:
    """Only the chat remembered (``in_own_chat``): an install, before anyone has written."""


def greeting(ctx: Context, conversation_id: str) -> dict[str, Any]:
    """Help, and a button for each form this person may start."""
    return cards.start_card(chat.greet(ctx, chat_key(conversation_id)), starts(ctx))


def welcome(ctx: Context, conversation_id: str, activity_id: str | None) -> dict[str, Any]:
    """A newcomer just placed at a school: thanks, and what I can do."""
    # The answer counts as seen: a redelivery of it, now that they are placed, is not taken
    # for a message to answer again.
    first_time(ctx.session, ADAPTER, f"{chat_key(conversation_id)}:{activity_id}")
    return cards.start_card(
        [membership.welcomed(ctx), *chat.greet(ctx, chat_key(conversation_id))], starts(ctx))


@dataclass(frozen=True)
class Offer:
    """A file to offer with a FileConsentCard: its name, title and the card's content."""

    name: str
    title: str
    content: dict[str, Any]


def answer(ctx: Context, conversation_id: str, activity_id: str | None, text: str
           ) -> tuple[dict[str, Any], list[Offer]] | None:
    """The card answering a message, and the files it offers (None: a redelivery)."""
    where = chat_key(conversation_id)
    # Seen-before and the answer in one transaction: a redelivered activity waits for the
    # first and then does nothing.
    if not first_time(ctx.session, ADAPTER, f"{where}:{activity_id}"):
        return None
    replies = chat.respond(ctx, where, text)
    return (cards.message_card(replies, school_id=ctx.school.id,
                               refresh_for=refresh_for(ctx, replies)),
            offers(ctx, replies))


def offers(ctx: Context, replies: list[Reply]) -> list[Offer]:
    """A file offer for each file among ``replies``. A letter shown is sized as its Word copy
    will be; the report, made only once allowed, goes unsized (Teams takes that)."""
    shown = {r.file: r for r in replies if isinstance(r, Document) and r.file}
    found = []
    for file in files(replies):
        asked = {"maker": file.maker, "asked": list(file.asked), "school": ctx.school.id}
        content: dict[str, Any] = {"description": file.title, "acceptContext": asked,
                                   "declineContext": asked}
        if file in shown:
            # python-docx and lxml are 7 MB of a small school's process: loaded with the
            # first letter shown, not at start.
            from workflows.documents.word import letter_docx

            content["sizeInBytes"] = len(letter_docx(shown[file], ctx.school))
        found.append(Offer(file.name, file.title, content))
    return found


def fault(ctx: Context, conversation_id: str) -> list[Reply]:
    return chat.fault(ctx, chat_key(conversation_id))


def starts(ctx: Context) -> list[tuple[str, str]]:
    """The workflows this person may start, as (name, title) for a form button each."""
    return [(w.name, w.title) for w in WORKFLOWS.values() if core.may_start(ctx, w) is None]


def form_or_list(ctx: Context, name: str | None) -> dict[str, Any]:
    if name is None:
        return cards.start_card([Text(render("messages/which_form.txt.j2"))], starts(ctx))
    workflow = WORKFLOWS[name]
    refusal = core.may_start(ctx, workflow)
    if refusal:
        return notice_card(refusal)
    return cards.intake_form(name, workflow.title, cards.bound(workflow.intake, ctx),
                             workflow.intake.initial(ctx), about=membership.working_with(ctx),
                             school_id=chosen(ctx))


def chosen(ctx: Context) -> int | None:
    """The school a form is for, carried on it when the app serves several: a trust DPO who
    says “school NAME” meanwhile still saves it where it was begun."""
    return ctx.school.id if ctx.served else None


# Card buttons: each takes the button's data and the conversation's id


@dataclass(frozen=True)
class Answer:
    """What a card button gets back: the card for the clicker, and what else to send."""

    card: dict[str, Any]
    for_everyone: dict[str, Any] | None = None  # replaces the clicked message for all
    follow_up: dict[str, Any] | None = None  # a new message in the chat


def open_form(ctx: Context, data: Mapping[str, Any], conversation_id: str) -> Answer:
    name = data.get("workflow")
    return Answer(form_or_list(ctx, name if name in WORKFLOWS else None))


def intake(ctx: Context, data: Mapping[str, Any], conversation_id: str) -> Answer:
    workflow = WORKFLOWS[data["workflow"]]
    raw = cards.submitted_text(workflow.intake, data)
    prepared = conversation.prepare(ctx, chat_key(conversation_id, "teams-form"), workflow,
                                    raw)
    if prepared.errors:
        return Answer(cards.intake_form(workflow.name, workflow.title,
                                        cards.bound(workflow.intake, ctx), raw, prepared.errors,
                                        school_id=chosen(ctx)))
    return Answer(cards.summary_card(prepared.summary, workflow.name,
                                     prepared.conversation_id, school_id=chosen(ctx)))


def edit(ctx: Context, data: Mapping[str, Any], conversation_id: str) -> Answer:
    workflow = WORKFLOWS[data["workflow"]]
    return Answer(cards.intake_form(workflow.name, workflow.title,
                                    cards.bound(workflow.intake, ctx),
                                    conversation.held(ctx, int(data["conversation"])),
                                    school_id=chosen(ctx)))


def confirm(ctx: Context, data: Mapping[str, Any], conversation_id: str) -> Answer:
    workflow = WORKFLOWS[data["workflow"]]
    result = conversation.confirm(ctx, int(data["conversation"]))
    if result.reopened is not None:
        # Refused as a whole: back to the form with everything typed still there.
        return Answer(cards.intake_form(
            workflow.name, workflow.title, cards.bound(workflow.intake, ctx), result.reopened,
            note=result.message, school_id=chosen(ctx)))
    card = cards.message_card(result.replies, school_id=ctx.school.id,
                              refresh_for=refresh_for(ctx, result.replies))
    if not (result.ok and workflow.follow_up and result.reference):
        return Answer(card)
    # The case (and its clock) exists; the rest is asked in the chat, answer by answer.
    more = conversation.follow_up(ctx, chat_key(conversation_id), workflow, result.reference)
    return Answer(card, follow_up=cards.message_card(more))


def act(ctx: Context, data: Mapping[str, Any], conversation_id: str) -> Answer:
    target = core.Target.parse(str(data["value"]))
    reference, version = target.reference, target.version or 0
    workflow = _workflow(reference)
    declared = workflow.action(str(data["action"]))
    if declared.form.fields or declared.confirm:
        # Reasons and "are you sure?" are asked on the card, after the same refusal a Slack
        # modal gets: a staff click on a DPO button opens nothing.
        refusal = core.preflight(ctx, workflow, declared, reference)
        if refusal:
            return Answer(notice_card(refusal))
        case = core.load(ctx, workflow, reference)
        return Answer(cards.decision_form(
            core.view(ctx, workflow, case), declared.label, declared.name,
            str(data["value"]), cards.bound(declared.form, ctx), declared.confirm,
            declared.form.initial(ctx), school_id=ctx.school.id))
    return _after(ctx, core.decide(ctx, workflow, declared, reference, version, {}))


def decide(ctx: Context, data: Mapping[str, Any], conversation_id: str) -> Answer:
    target = core.Target.parse(str(data["value"]))
    reference = target.reference
    workflow = _workflow(reference)
    declared = workflow.action(str(data["action"]))
    raw = cards.submitted_text(declared.form, data)
    decision = core.decide(ctx, workflow, declared, reference, target.version or 0, raw)
    if decision.errors:
        case = core.load(ctx, workflow, reference)
        return Answer(cards.decision_form(
            core.card(ctx, workflow, case), declared.label, declared.name,
            str(data["value"]), cards.bound(declared.form, ctx), declared.confirm, raw,
            decision.errors,
            note=decision.message, school_id=ctx.school.id))
    return _after(ctx, decision)


def _after(ctx: Context, decision: core.Decision) -> Answer:
    """The case as it now stands, with the buttons the core now offers the clicker (pause
    after take, resume after pause...), so the next step is on the same card; a final
    decision leaves only what may still be added. Everyone else who sees the message gets
    it without buttons, and each person in ``refresh.userIds`` their own on the next look."""
    if decision.card is None:
        return Answer(notice_card(decision.message, "success" if decision.ok else "error"))
    holders = refresh_for(ctx, [decision.card])
    if not decision.ok:
        # Only the person who clicked is told (who got there first, how it stands), with the
        # case as it is now; the shared message is the winner's to replace.
        return Answer(cards.case_card(decision.card, with_buttons=True, school_id=ctx.school.id,
                                      refresh_for=holders,
                                      notice=Text(decision.message, "warning")))
    done = Text(decision.message, "success")
    mine = cards.case_card(decision.card, with_buttons=True, notice=done,
                           footer=decision.footer, refresh_for=holders, school_id=ctx.school.id)
    shared = cards.case_card(decision.card, with_buttons=False, notice=done,
                             footer=decision.footer, refresh_for=holders,
                             school_id=ctx.school.id)
    return Answer(mine, for_everyone=shared)


def refresh(ctx: Context, data: Mapping[str, Any], conversation_id: str) -> Answer:
    reference = str(data["ref"])
    workflow = _workflow(reference)
    try:
        case = core.load(ctx, workflow, reference)
    except core.NotFound as error:
        return Answer(notice_card(error.message))
    # Teams refreshes a card each time a decider opens it: each is a read of the case's
    # personal data, audited as any other.
    shown = core.view(ctx, workflow, case)
    return Answer(cards.case_card(shown, with_buttons=True, school_id=ctx.school.id,
                                  refresh_for=refresh_for(ctx, [shown])))


def _workflow(reference: str) -> Workflow:
    workflow = by_prefix(reference.split("-", 1)[0])
    if workflow is None:
        raise KeyError(reference)
    return workflow
