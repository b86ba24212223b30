"""New cases on a card: the form a declaration asks (``breach form``), its summary, Save and
Change answers; checked by the same declarations as Slack's modals (the work is
``bot.teams.work``'s)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.teams import cards, work
from bot.teams.listeners.invokes import on_card
from workflows.core import router

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

FORM_REQUEST = re.compile(r"^(?:(?P<before>[\w ]+?) )?forms?(?: (?P<after>[\w ]+))?[.!?]?$",
                          re.IGNORECASE)


def register(bot: TeamsBot) -> None:
    for verb, done in ((cards.FORM, work.open_form), (cards.INTAKE, work.intake),
                       (cards.EDIT, work.edit), (cards.CONFIRM, work.confirm)):
        on_card(bot, verb, done)


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
