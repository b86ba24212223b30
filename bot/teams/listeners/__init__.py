"""The Teams agent's listeners, one concept a module, each with a small ``register``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.teams.listeners import decisions, errors, files, forms, installs, messages

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot


def register(bot: TeamsBot) -> None:
    for concept in (installs, messages, forms, decisions, files, errors):
        concept.register(bot)
