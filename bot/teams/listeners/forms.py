"""New cases on a card: the form a declaration asks (``breach form``), its summary, Save and
Change answers; checked by the same declarations as Slack's modals."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from microsoft_agents.hosting.core import TurnContext

from bot.teams import cards
from bot.teams.listeners.invokes import Answer, on_card
from bot.teams.turns import chat_key, notice_card, refresh_for
from workflows.core import conversation, router
from workflows.core import engine as core
from workflows.core.context import Context
from workflows.core.ui import Text
from workflows.core.wording import render
from workflows.registry import WORKFLOWS
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

FORM_REQUEST = re.compile(r"^(?:(?P<before>[\w ]+?) )?forms?(?: (?P<after>[\w ]+))?[.!?]?$",
                          re.IGNORECASE)


def register(bot: TeamsBot) -> None:
    for verb, work in ((cards.FORM, open_form), (cards.INTAKE, intake), (cards.EDIT, edit),
                       (cards.CONFIRM, confirm)):
        on_card(bot, verb, work)


def workflow_for_form(text: str) -> tuple[bool, str | None]:
    """``breach form``, ``form sar``, ``forms``: (asked for a form, which workflow)."""
    match = FORM_REQUEST.match(" ".join(text.strip().split()))
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


def open_form(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
    name = data.get("workflow")
    return Answer(form_or_list(ctx, name if name in WORKFLOWS else None))


def intake(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
    workflow = WORKFLOWS[data["workflow"]]
    raw = cards.submitted_text(workflow.intake, data)
    prepared = conversation.prepare(ctx, chat_key(context, "teams-form"), workflow, raw)
    if prepared.errors:
        return Answer(cards.intake_form(workflow.name, workflow.title,
                                        cards.bound(workflow.intake, ctx), raw, prepared.errors,
                                        school_id=chosen(ctx)))
    return Answer(cards.summary_card(prepared.summary, workflow.name,
                                     prepared.conversation_id, school_id=chosen(ctx)))


def edit(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
    workflow = WORKFLOWS[data["workflow"]]
    return Answer(cards.intake_form(workflow.name, workflow.title,
                                    cards.bound(workflow.intake, ctx),
                                    conversation.held(ctx, int(data["conversation"])),
                                    school_id=chosen(ctx)))


def confirm(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
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
    more = conversation.follow_up(ctx, chat_key(context), workflow, result.reference)
    return Answer(card, follow_up=cards.message_card(more))
