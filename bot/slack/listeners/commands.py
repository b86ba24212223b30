"""``/dpo``: ``/dpo breach`` opens that workflow's form; anything else (a reference,
``cases``) is answered by the chat core, to the asker only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack import blocks
from bot.slack.listeners.answers import open_intake, send_files
from bot.slack.listeners.guard import guarded
from workflows.core import chat, router

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(bot: SlackBot) -> None:
    @bot.app.command("/dpo")
    @guarded(bot)
    async def slash_dpo(ack, body, respond) -> None:
        await ack()
        text, user = (body.get("text") or "").strip(), body["user_id"]
        name = workflow_for_text(text)
        if name:
            await open_intake(bot, body["trigger_id"], user, name)
            return
        replies = await bot.run(user, chat.lookup, text)
        # Case details go to the asker only, whatever channel the command was typed in.
        await respond(response_type="ephemeral", text=blocks.fallback_text(replies),
                      blocks=blocks.message_blocks(replies))
        await send_files(bot, user, replies)


def workflow_for_text(text: str) -> str | None:
    """``/dpo breach``: the workflow the words name, by the core's one router."""
    workflow = router.named(text)
    return workflow.name if workflow else None
