"""What no listener caught: one line in the log, no personal data (``faults.brief``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from microsoft_agents.hosting.core import TurnContext

from workflows.core import faults

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)


def register(bot: TeamsBot) -> None:
    @bot.app.error
    async def on_error(context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", faults.brief(error))
        log.debug("the turn's failure", exc_info=error)
