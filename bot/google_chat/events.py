"""Google Chat's interaction events, answered: a message in the DM (the same chat core as
the terminal and Slack's DM), a click on a card's button, a dialog asked for or submitted.

Each answer is the synchronous response Chat shows: a new message, the clicked message
updated, a dialog, or a dialog closed. What the answer causes beyond that (a saved case
posted into the DM, a message updated after a decision taken in a dialog) is sent through
the Chat API after the transaction committed. Case details only ever go to the person's own
DM: an event from a space with other people gets a short notice and nothing else.
Event shapes: https://developers.google.com/workspace/chat/api/reference/rest/v1/Event
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.google_chat import cards
from bot.google_chat.api import ChatApiError
from bot.google_chat.app import ADAPTER
from bot.google_chat.identity import ChatUser, sender
from workflows.core import chat, conversation, faults, router
from workflows.core import engine as core
from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.inbound import first_time
from workflows.core.ui import Reply, Text
from workflows.core.wording import render
from workflows.registry import WORKFLOWS, by_prefix
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.google_chat.app import GoogleChatBot

log = logging.getLogger(__name__)
PERSONAL_ONLY = "messages/personal_chat_only.txt.j2"
FORM_REQUEST = re.compile(r"^(?:(?P<before>[\w ]+?) )?forms?(?: (?P<after>[\w ]+))?[.!?]?$",
                          re.IGNORECASE)


@dataclass
class Answer:
    """The response to Chat, and what to send through the API once it is committed."""

    response: dict[str, Any]
    post: list[dict[str, Any]] = field(default_factory=list)  # new messages in the DM
    update: dict[str, Any] | None = None  # replaces the message the dialog was opened from


async def handle(bot: GoogleChatBot, event: Mapping[str, Any]) -> dict[str, Any]:
    """The response to one verified event."""
    kind = event.get("type")
    space = _part(event, "space")
    dialog = bool(event.get("isDialogEvent")) or "dialogEventType" in event
    if kind == "REMOVED_FROM_SPACE":
        return {}
    if not _direct(space):
        # A space shared with others: whatever was asked, everyone there would see it.
        notice = render(PERSONAL_ONLY)
        if kind == "ADDED_TO_SPACE" and not event.get("message"):
            return cards.message_card([Text(notice, "warning")])
        return (cards.notice_dialog(notice, "warning") if dialog
                else cards.message_card([Text(notice, "warning")]))
    user, where = sender(event), str(space.get("name") or "")
    try:
        if kind == "CARD_CLICKED":
            answer = await _click(bot, event, user, where)
        elif kind in ("MESSAGE", "ADDED_TO_SPACE"):
            answer = await _message(bot, event, user, where)
        else:
            return {}
    except membership.Refused as refused:
        return (cards.notice_dialog(_said(refused.replies()), "warning") if dialog
                else cards.message_card(refused.replies()))
    except membership.Unplaced as unplaced:
        if dialog:
            return cards.notice_dialog(_said(unplaced.question()), "info")
        return cards.message_card(unplaced.question())
    except core.NotFound as error:
        return cards.notice_dialog(error.message) if dialog else cards.message_card(
            [Text(error.message, "error")])
    except (KeyError, ValueError, TypeError):
        # A button from an older version, or data no card of ours sends.
        log.warning("refused a Google Chat event whose data could not be read")
        said = _said(faults.unreadable())
        return cards.notice_dialog(said) if dialog else cards.message_card(
            [Text(said, "error")])
    except Exception as error:
        # Rolled back: answered all the same (Chat shows only "not responding" otherwise),
        # in one log line without personal data.
        if faults.unreachable(error):
            log.warning("could not answer a Google Chat event (nothing saved): %s",
                        faults.brief(error))
            replies = faults.unsaved()
        else:
            log.error("a Google Chat event failed (nothing saved): %s", faults.brief(error))
            log.debug("the event's failure", exc_info=error)
            replies = faults.failed()
        return (cards.notice_dialog(_said(replies)) if dialog
                else cards.message_card(replies))
    await _send_after(bot, where, answer)
    return answer.response


def _part(event: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = event.get(key)
    return value if isinstance(value, Mapping) else {}


def _said(replies: Sequence[Reply]) -> str:
    return " ".join(r.text for r in replies if isinstance(r, Text))


def _direct(space: Mapping[str, Any]) -> bool:
    """The sender's DM with the app, the only place case details may go."""
    return (space.get("type") == "DM" or space.get("spaceType") == "DIRECT_MESSAGE"
            or space.get("singleUserBotDm") is True)


async def _send_after(bot: GoogleChatBot, space: str, answer: Answer) -> None:
    """What the answer causes beyond the response, after commit. A failure is logged, not
    raised: the case is saved, and the person sees it in ``cases``."""
    try:
        if answer.update is not None:
            name, shown = answer.update["name"], answer.update["message"]
            await asyncio.to_thread(bot.api.update, name, shown)
        for message in answer.post:
            await asyncio.to_thread(bot.api.create, space, message)
    except (ChatApiError, OSError) as error:
        log.warning("could not send a Google Chat message after an event: %s",
                    faults.brief(error))


# Messages


async def _message(bot: GoogleChatBot, event: Mapping[str, Any], user: ChatUser,
                   space: str) -> Answer:
    message = _part(event, "message")
    text = str(message.get("argumentText") or message.get("text") or "").strip()
    key = f"{ADAPTER}:{space}"
    if event.get("type") == "ADDED_TO_SPACE" and not text:
        return Answer(await _welcome(bot, user, space, key))
    wants_form, name = workflow_for_form(text)
    try:
        if wants_form:
            return Answer(await bot.run(user, space, lambda ctx: _form_offer(ctx, name)))
        event_id = f"{key}:{message.get('name')}"

        def respond(ctx: Context) -> dict[str, Any]:
            # Seen-before and the answer in one transaction: a redelivered event waits for
            # the first and then says nothing new.
            if not first_time(ctx.session, ADAPTER, event_id):
                return {}
            return cards.message_card(chat.respond(ctx, key, text))

        return Answer(await bot.run(user, space, respond))
    except membership.Unplaced as unplaced:
        if membership.pick(unplaced.schools, text) is None:
            return Answer(cards.message_card(unplaced.question()))
        await bot.place(user, answer=text)
        return Answer(await bot.run(user, space, lambda ctx: _greeting(ctx, key)))


async def _welcome(bot: GoogleChatBot, user: ChatUser, space: str, key: str) -> dict[str, Any]:
    return await bot.run(user, space, lambda ctx: _greeting(ctx, key))


def _greeting(ctx: Context, key: str) -> dict[str, Any]:
    return cards.start_card([membership.welcomed(ctx), *chat.greet(ctx, key)], starts(ctx))


def workflow_for_form(text: str) -> tuple[bool, str | None]:
    """``breach form``, ``form sar``, ``forms``: (asked for a form, which workflow)."""
    match = FORM_REQUEST.match(" ".join(text.split()))
    if not match:
        return False, None
    word = (match.group("before") or match.group("after") or "").strip().lower()
    if not word:
        return True, None
    workflow = router.named(word)
    return (True, workflow.name) if workflow else (False, None)


def starts(ctx: Context) -> list[tuple[str, str]]:
    """The workflows this person may start, as (name, title) for a form button each."""
    return [(w.name, w.title) for w in WORKFLOWS.values() if core.may_start(ctx, w) is None]


def _form_offer(ctx: Context, name: str | None) -> dict[str, Any]:
    """A message with the button that opens the form: Chat opens dialogs only from a click."""
    offered = [(w, t) for w, t in starts(ctx) if name is None or w == name]
    if name is not None and not offered:
        return cards.message_card([Text(core.may_start(ctx, WORKFLOWS[name]) or "", "error")])
    return cards.start_card([Text(render("messages/which_form.txt.j2"))], offered)


# Clicks and dialogs

Work = Callable[[Context, Mapping[str, Any], Mapping[str, Any]], Answer]


async def _click(bot: GoogleChatBot, event: Mapping[str, Any], user: ChatUser,
                 space: str) -> Answer:
    common = _part(event, "common")
    action = _part(event, "action")
    function = common.get("invokedFunction") or action.get("actionMethodName")
    data = dict(common.get("parameters") or {}) or {
        p["key"]: p["value"] for p in action.get("parameters") or []}
    if event.get("dialogEventType") == "CANCEL_DIALOG" or function == cards.CLOSE:
        return Answer(cards.close_dialog())
    inputs = common.get("formInputs") or {}
    message = _part(event, "message")
    work = WORK[str(function)]

    def run(ctx: Context) -> Answer:
        try:
            return work(ctx, data, {"inputs": inputs, "message": message.get("name"),
                                    "space": space})
        except StopIteration as error:
            # An action no workflow declares. Raised as is, it would never reach the event
            # loop: a future cannot hold a StopIteration, so the request would hang.
            raise KeyError(str(data.get("action"))) from error

    return await bot.run(user, space, run, school_of(data))


def school_of(data: Mapping[str, Any]) -> int | None:
    """The school a button acts at: its case's, or the one its form was shown for."""
    if "value" in data:
        return core.Target.parse(str(data["value"])).school_id
    school = data.get("school")
    return None if school in (None, "") else int(school)


def _chosen(ctx: Context) -> int | None:
    """The school a form is for, carried on it when the app serves several."""
    return ctx.school.id if ctx.served else None


def _open_form(ctx: Context, data: Mapping[str, Any], about: Mapping[str, Any]) -> Answer:
    workflow = WORKFLOWS[str(data["workflow"])]
    refusal = core.may_start(ctx, workflow)
    if refusal:
        return Answer(cards.notice_dialog(refusal))
    return Answer(cards.intake_form(workflow.name, workflow.title,
                                    cards.bound(workflow.intake, ctx), ctx.tz,
                                    about=membership.working_with(ctx),
                                    school_id=_chosen(ctx)))


def _intake(ctx: Context, data: Mapping[str, Any], about: Mapping[str, Any]) -> Answer:
    workflow = WORKFLOWS[str(data["workflow"])]
    raw = cards.submitted_text(workflow.intake, about["inputs"], ctx.tz)
    prepared = conversation.prepare(ctx, f"{ADAPTER}-form:{about['space']}", workflow, raw)
    if prepared.errors or prepared.summary is None or prepared.conversation_id is None:
        return Answer(cards.intake_form(workflow.name, workflow.title,
                                        cards.bound(workflow.intake, ctx), ctx.tz,
                                        raw, prepared.errors, school_id=_chosen(ctx)))
    return Answer(cards.summary_form(prepared.summary, workflow.name, prepared.conversation_id,
                                     school_id=_chosen(ctx)))


def _edit(ctx: Context, data: Mapping[str, Any], about: Mapping[str, Any]) -> Answer:
    workflow = WORKFLOWS[str(data["workflow"])]
    return Answer(cards.intake_form(workflow.name, workflow.title,
                                    cards.bound(workflow.intake, ctx), ctx.tz,
                                    conversation.held(ctx, int(data["conversation"])),
                                    school_id=_chosen(ctx)))


def _confirm(ctx: Context, data: Mapping[str, Any], about: Mapping[str, Any]) -> Answer:
    workflow = WORKFLOWS[str(data["workflow"])]
    result = conversation.confirm(ctx, int(data["conversation"]))
    if result.reopened is not None:
        # Refused as a whole: back to the form with everything typed still there.
        return Answer(cards.intake_form(workflow.name, workflow.title,
                                        cards.bound(workflow.intake, ctx), ctx.tz,
                                        result.reopened, note=result.message,
                                        school_id=_chosen(ctx)))
    if not result.ok:  # a second Save: already saved, nothing posted twice
        return Answer(cards.close_dialog(result.message))
    post = [cards.message_card(result.replies)]
    if workflow.follow_up and result.reference:
        # The case (and its clock) exists; the rest is asked in the DM, answer by answer.
        post.append(cards.message_card(conversation.follow_up(
            ctx, f"{ADAPTER}:{about['space']}", workflow, result.reference)))
    return Answer(cards.close_dialog(result.message), post=post)


def _act(ctx: Context, data: Mapping[str, Any], about: Mapping[str, Any]) -> Answer:
    """A case's button: a dialog first if the action asks something, else decided now."""
    target = core.Target.parse(str(data["value"]))
    workflow = _workflow(target.reference)
    declared = workflow.action(str(data["action"]))
    if declared.form.fields or declared.confirm:
        # Refused before anything is asked: a staff click on a DPO button opens nothing.
        refusal = core.preflight(ctx, workflow, declared, target.reference)
        if refusal:
            return Answer(cards.notice_dialog(refusal))
        case = core.load(ctx, workflow, target.reference)
        return Answer(cards.decision_form(core.view(ctx, workflow, case), declared.label,
                                          declared.name, str(data["value"]),
                                          cards.bound(declared.form, ctx),
                                          declared.confirm, ctx.tz))
    decision = core.decide(ctx, workflow, declared, target.reference, target.version or 0, {})
    if not decision.ok or decision.card is None:
        # Told to the clicker alone, in their DM: the message stays the winner's.
        notice = Text(decision.message, "warning" if decision.card else "error")
        shown = (cards.case_message(decision.card, notice=notice) if decision.card
                 else cards.message_card([notice]))
        return Answer(cards.new_message(shown))
    return Answer(cards.update_message(cards.case_message(
        decision.card, notice=Text(decision.message, "success"), footer=decision.footer)))


def _decide(ctx: Context, data: Mapping[str, Any], about: Mapping[str, Any]) -> Answer:
    """A decision's dialog, submitted: the answers are checked, the case decided, and the
    message the dialog came from updated."""
    target = core.Target.parse(str(data["value"]))
    workflow = _workflow(target.reference)
    declared = workflow.action(str(data["action"]))
    raw = cards.submitted_text(declared.form, about["inputs"], ctx.tz)
    decision = core.decide(ctx, workflow, declared, target.reference, target.version or 0, raw)
    if decision.errors:
        case = core.load(ctx, workflow, target.reference)
        return Answer(cards.decision_form(core.card(ctx, workflow, case), declared.label,
                                          declared.name, str(data["value"]),
                                          cards.bound(declared.form, ctx),
                                          declared.confirm, ctx.tz, raw, decision.errors,
                                          note=decision.message))
    if not decision.ok or decision.card is None:
        return Answer(cards.notice_dialog(decision.message, "warning"))
    shown = cards.case_message(decision.card, notice=Text(decision.message, "success"),
                               footer=decision.footer)
    update = {"name": about["message"], "message": shown} if about.get("message") else None
    return Answer(cards.close_dialog(decision.message), update=update,
                  post=[] if update else [shown])


def _workflow(reference: str) -> Workflow[Any]:
    workflow = by_prefix(reference.split("-", 1)[0])
    if workflow is None:
        raise KeyError(reference)
    return workflow


WORK: dict[str, Work] = {cards.FORM: _open_form, cards.INTAKE: _intake, cards.EDIT: _edit,
                         cards.CONFIRM: _confirm, cards.ACT: _act, cards.DECIDE: _decide}
