"""Global shortcuts: start a workflow, or ask about a pupil's photo consent in a form."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.labels import label
from bot.slack import blocks, work
from bot.slack.listeners.answers import loading, open_intake
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
        user, title = body["user"]["id"], label("photo_consent")
        async with loading(bot, body["trigger_id"], title, "consent") as view_id:
            form = await bot.run(user, work.consent_form)
            view = blocks.notice_view(title, [Text(form, "error")]) if isinstance(
                form, str) else blocks.modal(title=title, callback_id="consent", blocks=form,
                                            submit=label("ask"), close=label("close"))
            await bot.client.views_update(view_id=view_id, view=view)
