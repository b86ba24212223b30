"""Whether a linked Slack account may still act, asked of Slack again now and then.

The rule is the core's (``membership.still_admitted``); this asks Slack (users.info) at most
once a day an account, or at once after Slack's ``user_change`` event says it changed, and
turns the account away politely, audited, when the rule says so.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError

from workflows.database import session_scope, utcnow
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)
ADAPTER = "slack"


async def check(bot: SlackBot, user: str) -> None:
    """Raises ``membership.Refused`` for a linked account Slack now calls deactivated, a
    guest or another organisation's. If Slack cannot be asked, what it said last stands."""
    now = utcnow()
    if bot.rechecks.due(user, now):
        try:
            described, home = await bot.newcomer(user), await bot.home()
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.warning("could not re-check a Slack account (%s)", type(error).__name__)
        else:
            def ask() -> str | None:
                with session_scope(bot.engine) as session:
                    return membership.still_admitted(session, ADAPTER, user, bot.served,
                                                     described, home)

            bot.rechecks.note(user, now, await asyncio.to_thread(ask))
    reason = bot.rechecks.reason(user)
    if reason is None:
        return

    def refuse() -> membership.Refused:
        with session_scope(bot.engine) as session:
            return membership.withdraw(session, ADAPTER, user, bot.served, reason)

    raise await asyncio.to_thread(refuse)


def listen(bot: SlackBot) -> None:
    """Slack's word that an account changed (made a guest, deactivated): ask again."""

    @bot.app.event("user_change")
    async def changed(event: dict) -> None:
        user = event.get("user")
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            bot.rechecks.forget(user["id"])
