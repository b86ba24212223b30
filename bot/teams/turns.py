"""What the Teams listeners share about a turn: who sent it, from where, and the card
activities that answer it."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    Attachment,
)
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.app.proactive import Conversation as SdkConversation

from bot.teams import cards
from bot.teams.cards import accounts as accounts  # where delivery reads it
from bot.teams.identity import TeamsUser
from workflows.core import headline
from workflows.core.wording import render
from workflows.schools import membership

CARD = "application/vnd.microsoft.card.adaptive"
PERSONAL_ONLY = render("messages/personal_chat_only.txt.j2")


def sender(activity: Activity) -> TeamsUser:
    who = activity.from_property
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (activity.conversation.tenant_id if activity.conversation else None) or (
        (channel_data.get("tenant") or {}).get("id"))
    return TeamsUser(user_id=who.id, aad_object_id=who.aad_object_id,
                     name=(who.name or "").strip() or who.id, tenant_id=tenant)


def personal(context: TurnContext) -> bool:
    """Whether the activity comes from the sender's personal chat with the bot, the only
    place case details may go."""
    conversation_account = context.activity.conversation
    return conversation_account is not None and not conversation_account.is_group and (
        conversation_account.conversation_type in (None, "personal"))


def personal_reference(context: TurnContext) -> dict[str, Any] | None:
    """How to reach the sender later, only from their personal chat with the bot.

    A group chat or channel is never stored as someone's address: their reminders and case
    details would go to everyone there.
    """
    if not personal(context):
        return None
    stored = SdkConversation.from_turn_context(context).store_item_to_json()
    stored.pop("_span_context", None)
    # Where the chat is, not which turn came last: with the turn's own ids every turn would
    # rewrite the stored address, and a person's turns at once would wait on each other's
    # lock of it. Without them a proactive message is sent to the chat, not as a reply.
    for per_turn in ("activityId", "requestId"):
        stored["conversation_reference"].pop(per_turn, None)
    return stored


def conversation_id(context: TurnContext) -> str:
    """The turn's conversation, as the work in ``bot.teams.work`` keys it (``chat_key``)."""
    return context.activity.conversation.id


def card_activity(card: dict[str, Any], *, with_text: bool = False) -> Activity:
    """A message holding ``card``, with the line Teams shows for it in a notification and
    the chat list (the card's own summary: never personal data) in place of "sent a card".
    ``with_text``: the line is the message's text too, for a message nobody is waiting
    for (an alert), whose text a phone shows when the summary is not enough."""
    summary = card.get("fallbackText") or headline.of_replies([])
    return Activity(type=ActivityTypes.message, summary=summary,
                    text=summary if with_text else None,
                    attachments=[Attachment(content_type=CARD, content=card)])


def wire_bytes(activity: Activity) -> int:
    """The size of ``activity`` as the SDK posts it: dumped as its connector client dumps
    it, then serialised by aiohttp's default ``json.dumps``, which escapes every non-ASCII
    character (a card of Polish notes grows by two thirds, one in Arabic nearly triples)."""
    return len(json.dumps(activity.model_dump(by_alias=True, exclude_unset=True,
                                              exclude_none=True, mode="json")))


def card_response(card: dict[str, Any]) -> AdaptiveCardInvokeResponse:
    """The card that replaces the clicked one, for the person who clicked."""
    return AdaptiveCardInvokeResponse(status_code=HTTPStatus.OK, type=CARD, value=card)


def turned_away(refused: membership.Refused) -> Activity:
    """Why someone Teams cannot vouch for (or the school cannot enrol) is not served."""
    return card_activity(cards.message_card(refused.replies()))
