"""Whether a linked Teams account may still act, asked of Teams again once a day.

Every activity says its tenant, checked at each turn; whether the account is now a guest
Teams says only when asked (its member's ``userRole``). The rule is the core's
(``membership.still_admitted``); this asks at most once a day an account and turns it away
politely, audited, when the rule says so.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from microsoft_agents.hosting.core import TurnContext

from bot.teams import identity
from workflows.database import session_scope, utcnow
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

ADAPTER = "teams"


async def check(bot: TeamsBot, context: TurnContext, user: identity.TeamsUser) -> None:
    """Raises ``membership.Refused`` for a linked account Teams now calls a guest. If Teams
    will not say, what it said last stands."""
    account, now = user.user_id, utcnow()
    if bot.rechecks.due(account, now):
        described = await identity.look_up(context, user)
        if described.verified:
            def ask() -> str | None:
                with session_scope(bot.engine) as session:
                    return membership.still_admitted(session, ADAPTER, account, bot.served,
                                                     described, bot.tenant_id)

            bot.rechecks.note(account, now, await asyncio.to_thread(ask))
    reason = bot.rechecks.reason(account)
    if reason is None:
        return

    def refuse() -> membership.Refused:
        with session_scope(bot.engine) as session:
            return membership.withdraw(session, ADAPTER, account, bot.served, reason)

    raise await asyncio.to_thread(refuse)
