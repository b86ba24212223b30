"""Installs and first meetings: the personal chat is remembered, and the bot says hello."""

from __future__ import annotations

from typing import TYPE_CHECKING

from microsoft_agents.hosting.core import TurnContext, TurnState

from bot.teams import cards, work
from bot.teams.turns import card_activity, conversation_id, turned_away
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot


def register(bot: TeamsBot) -> None:
    app = bot.app

    @app.installation_update()
    async def installed(context: TurnContext, state: TurnState) -> None:
        # Teams follows an install with membersAdded, which says hello; here the chat is
        # only remembered, so reminders can reach someone who has not written yet.
        if (context.activity.action or "add").startswith("add"):
            try:
                await bot.run(context, work.nothing)
            except membership.Refused as error:
                await context.send_activity(turned_away(error))
            except membership.Unplaced:
                pass  # membersAdded asks which school; the chat is remembered once they say

    @app.conversation_update("membersAdded")
    async def members_added(context: TurnContext, state: TurnState) -> None:
        bot_id = context.activity.recipient.id if context.activity.recipient else None
        if any(m.id == bot_id for m in context.activity.members_added or []):
            await welcome(bot, context)


async def welcome(bot: TeamsBot, context: TurnContext) -> None:
    """Installed, or first met: remember the chat and say what I can do."""
    try:
        card = await bot.run(context, work.greeting, conversation_id(context))
    except membership.Refused as error:
        await context.send_activity(turned_away(error))
        return
    except membership.Unplaced as unplaced:
        await context.send_activity(card_activity(cards.message_card(unplaced.question())))
        return
    await context.send_activity(card_activity(card))
