"""Decision buttons on a case: asked on the card (reasons, "are you sure?"), decided by the
engine's compare-and-set, and refreshed for each person Teams shows the case to (the work
is ``bot.teams.work``'s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.teams import cards, work
from bot.teams.listeners.invokes import on_card

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot


def register(bot: TeamsBot) -> None:
    for verb, done in ((cards.ACT, work.act), (cards.DECIDE, work.decide),
                       (cards.REFRESH, work.refresh)):
        on_card(bot, verb, done)
