"""Card buttons (``Action.Execute``): each verb's work runs as the clicker, at the school the
button carries, and is answered with the card that replaces the clicked one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import TurnContext, TurnState

from bot.teams import cards
from bot.teams.cards import notice_card
from bot.teams.turns import (
    PERSONAL_ONLY,
    card_activity,
    card_response,
    conversation_id,
    personal,
)
from bot.teams.work import Answer
from workflows.core import engine as core
from workflows.core import faults
from workflows.core.context import Context
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)


# A card's work: its button's data and the conversation's id (``bot.teams.work``).
Work = Callable[[Context, Mapping[str, Any], str], Answer]


def on_card(bot: TeamsBot, verb: str, work: Work) -> None:
    """Answer the buttons of ``verb`` with ``work``, whatever happens to it."""

    async def handler(context: TurnContext, state: TurnState, data: object
                      ) -> AdaptiveCardInvokeResponse:
        values = data if isinstance(data, dict) else {}
        if not personal(context):
            # A card forwarded or pasted into a group chat or channel: whatever it asks,
            # everyone there would see the answer.
            return card_response(notice_card(PERSONAL_ONLY, "warning"))
        try:
            answer = await bot.run(context, work, values, conversation_id(context),
                                   school_id=school_of(values))
        except membership.Refused as refused:
            return card_response(cards.message_card(refused.replies()))
        except membership.Unplaced as unplaced:
            return card_response(cards.message_card(unplaced.question()))
        except core.NotFound as error:  # told only to the clicker, as every card answer
            return card_response(notice_card(error.message))
        except (KeyError, StopIteration, ValueError, TypeError):
            # A card from an older version, or data no card of ours sends (`school: []`).
            log.warning("refused a Teams card action whose data could not be read")
            return card_response(notice_card(faults.unreadable()[0].text))
        except Exception as error:
            # Answered all the same: without an invoke response Teams shows only an error.
            if faults.unreachable(error):
                log.warning("could not answer a Teams card action (nothing saved): %s",
                            faults.brief(error))
                return card_response(notice_card(faults.unsaved()[0].text))
            log.error("a Teams card action failed: %s", faults.brief(error))
            log.debug("the card action's failure", exc_info=error)
            return card_response(notice_card(faults.failed()[0].text))
        if answer.for_everyone is not None and context.activity.reply_to_id:
            # Everyone who sees the message gets the decided card; refreshes stop.
            shared = card_activity(answer.for_everyone)
            shared.id = context.activity.reply_to_id
            await context.update_activity(shared)
        if answer.follow_up is not None:
            await context.send_activity(card_activity(answer.follow_up))
        return card_response(answer.card)

    bot.app.adaptive_card.action_execute(verb)(handler)


def school_of(data: Mapping[str, Any]) -> int | None:
    """The school a card's button acts at: its case's, or the one its form was shown for.
    None (a card from before schools were shared) acts where the person is working now."""
    if "value" in data:
        if not isinstance(data["value"], str):
            raise ValueError("a button value is text")
        return core.Target.parse(data["value"]).school_id
    school = data.get("school")
    if school is None:
        return None
    if isinstance(school, bool) or not isinstance(school, int | str):
        raise ValueError("a school is a number")
    return int(school)
