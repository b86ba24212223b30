"""Messages in the personal chat: answered by the same chat core as the terminal and Slack's
DM (``workflows.core.chat.respond``); “breach form” answers with a form on a card."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import TurnContext, TurnState

from bot.teams import cards, work
from bot.teams.cards import notice_card
from bot.teams.listeners import files
from bot.teams.listeners.forms import workflow_for_form
from bot.teams.turns import (
    PERSONAL_ONLY,
    card_activity,
    conversation_id,
    personal,
    sender,
    turned_away,
)
from workflows.core import faults
from workflows.core.ui import Reply
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)


def register(bot: TeamsBot) -> None:
    @bot.app.activity(ActivityTypes.message)
    async def message(context: TurnContext, state: TurnState) -> None:
        if not personal(context):
            await context.send_activity(card_activity(notice_card(PERSONAL_ONLY, "warning")))
            return
        offers: list[Activity] = []  # files (a letter's Word copy, the report), if allowed
        try:
            answered = await answer(bot, context)
            card, offers = answered if answered is not None else (None, [])
        except membership.Refused as error:
            await context.send_activity(turned_away(error))
            return
        except membership.Unplaced as unplaced:
            card = await newcomer(bot, context, unplaced)
        except Exception as error:
            card = cards.message_card(await fault(bot, context, error))
        if card is not None:  # None: a redelivery of a message already answered
            await context.send_activity(card_activity(card))
            for offer in offers:
                await context.send_activity(offer)


async def answer(bot: TeamsBot, context: TurnContext
                 ) -> tuple[dict[str, Any], list[Activity]] | None:
    """The card answering the message, and any file offers with it (None: a redelivery)."""
    activity = context.activity
    text = activity.text or ""
    wants_form, name = workflow_for_form(text)
    if wants_form:
        return await bot.run(context, work.form_or_list, name), []
    answered = await bot.run(context, work.answer, conversation_id(context), activity.id, text)
    if answered is None:
        return None
    card, offers = answered
    return card, [files.consent_card(offer) for offer in offers]


async def fault(bot: TeamsBot, context: TurnContext, error: Exception) -> list[Reply]:
    """A message that failed, rolled back: sorry, and the question still waiting if the
    database can say which; if it cannot, that nothing was saved (needs no database)."""
    if faults.unreachable(error):
        log.warning("could not answer a Teams message (nothing saved): %s",
                    faults.brief(error))
        return faults.unsaved()
    log.error("could not answer a Teams message (nothing saved): %s", faults.brief(error))
    log.debug("the message's failure", exc_info=error)
    try:
        return await bot.run(context, work.fault, conversation_id(context))
    except Exception as again:
        log.warning("could not say so either: %s", faults.brief(again))
        return faults.unsaved() if faults.unreachable(again) else faults.failed()


async def newcomer(bot: TeamsBot, context: TurnContext, unplaced: membership.Unplaced
                   ) -> dict[str, Any]:
    """A newcomer to a tenant shared by several schools: this message is the answer to
    “which school?”, or their first words, which get the question."""
    text = context.activity.text or ""
    if membership.pick(unplaced.schools, text) is None:
        return cards.message_card(unplaced.question())
    await bot.place(context, sender(context.activity), answer=text)
    return await bot.run(context, work.welcome, conversation_id(context), context.activity.id)
