"""Global shortcuts: start a workflow, or ask about a pupil's photo consent in a form."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.labels import label
from bot.slack import blocks, work
from bot.slack.listeners.answers import open_intake
from bot.slack.listeners.guard import guarded
from workflows.core.ui import Text
from workflows.registry import WORKFLOWS

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(bot: SlackBot) -> None:
    app, guard = bot.app, guarded(bot)

    @app.shortcut(re.compile(r"^start:"))
    @guard
    async def shortcut_start(ack, body) -> None:
        await ack()
        name = body["callback_id"].split(":", 1)[1]
        if name in WORKFLOWS:
            await open_intake(bot, body["trigger_id"], body["user"]["id"], name)

    @app.shortcut("ask:consent")
    @guard
    async def shortcut_consent(ack, body) -> None:
        await ack()
        user = body["user"]["id"]
        form = await bot.run(user, work.consent_form)
        if isinstance(form, str):
            await bot.dm(user, [Text(form, "error")], text=blocks.escape(form))
            return
        await bot.client.views_open(trigger_id=body["trigger_id"], view=blocks.modal(
            title=label("photo_consent"), callback_id="consent", blocks=form,
            submit=label("ask"), close=label("close")))
