"""Events: the bot's DM (answered by the chat core), App Home opened, and Bolt's own
failures."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.slack import blocks, home, work
from bot.slack.listeners.answers import send_files
from bot.slack.listeners.guard import guarded
from workflows.core import chat, faults
from workflows.core.ui import Reply
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)


def register(bot: SlackBot) -> None:
    app, guard = bot.app, guarded(bot)

    @app.error
    async def failed(error: Exception) -> None:
        """Whatever ``guarded`` could not catch (Bolt's own middleware failing)."""
        log.error("a Slack request failed: %s", faults.brief(error))
        log.debug("the request's failure", exc_info=error)

    @app.event("app_home_opened")
    @guard
    async def home_opened(event) -> None:
        if event.get("tab") != "home":
            return
        user = event["user"]
        view = await bot.run(user, home.view)
        await bot.client.views_publish(user_id=user, view=view)

    @app.event("message")
    @guard
    async def direct_message(event, body, say) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        user, channel = event.get("user"), event["channel"]
        key = body.get("event_id") or f"{channel}:{event.get('ts')}"
        text, where = event.get("text") or "", f"slack:{channel}"
        try:
            replies = await bot.run(user, work.answer_dm, key, where, text)
        except membership.Unplaced as unplaced:
            replies = await _newcomer(bot, user, where, text, key, unplaced)
        except membership.Refused as refused:
            replies = refused.replies()  # in the DM they wrote in: a stranger may have no other
        except Exception as error:
            replies = await _fault(bot, user, where, error)
        if replies is None:
            return  # a retried delivery of an event already answered
        await say(text=blocks.fallback_text(replies), blocks=blocks.message_blocks(replies))
        await send_files(bot, user, replies, channel)


async def _fault(bot: SlackBot, user: str, where: str, error: Exception) -> list[Reply]:
    """A DM that failed, rolled back: sorry, and the question still waiting if the database
    can say which; if it cannot, that nothing was saved (which needs no database)."""
    if faults.unreachable(error):
        log.warning("could not answer a DM (nothing saved): %s", faults.brief(error))
        return faults.unsaved()
    log.error("could not answer a DM (nothing saved): %s", faults.brief(error))
    log.debug("the DM's failure", exc_info=error)
    try:
        return await bot.run(user, chat.fault, where)
    except Exception as again:
        log.warning("could not say so either: %s", faults.brief(again))
        return faults.unsaved() if faults.unreachable(again) else faults.failed()


async def _newcomer(bot: SlackBot, user: str, where: str, text: str, key: str,
                    unplaced: membership.Unplaced) -> list[Reply]:
    """A newcomer to a workspace shared by several schools: this DM is the answer to
    “which school?”, or their first words, which get the question."""
    if membership.pick(unplaced.schools, text) is None:
        return unplaced.question()
    await bot.place(user, answer=text)
    return await bot.run(user, work.welcome, key, where)
