"""The Bolt app's listeners, one kind a module as bolt-python lays them out, each with a
small ``register``.

Every listener acks first (Slack allows 3 seconds) and then does the work; the only
exceptions are modal submissions, whose validation errors travel in the ack itself when the
core answers in time, and otherwise reach the modal after a "Saving…" ack (``views``).
Each is ``guarded``: whatever fails, the person is answered privately and one line logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.listeners import actions, commands, events, shortcuts, views

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(bot: SlackBot) -> None:
    for kind in (events, commands, shortcuts, views, actions):
        kind.register(bot)
