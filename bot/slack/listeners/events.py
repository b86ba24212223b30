"""Events: the bot's DM (answered by the chat core), App Home opened, and Bolt's own
failures."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.slack import blocks, home, work
from bot.slack.listeners.guard import guarded
from workflows.core import chat, faults
from workflows.core.ui import Document, Reply
from workflows.core.wording import render
from workflows.documents.word import file_name
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
        for letter in (r for r in replies if isinstance(r, Document) and r.letter):
            await _send_word(bot, user, channel, letter)


async def _send_word(bot: SlackBot, user: str, channel: str, letter: Document) -> None:
    """The letter just shown, as a Word document in the same DM: private to the person who
    asked, as the letter is. A failure costs only the file: the text is already there."""
    try:
        content = await bot.run(user, work.word_file, letter.title, letter.body)
        await bot.client.files_upload_v2(channel=channel, file=content,
                                         filename=file_name(letter), title=letter.title)
    except Exception as error:
        log.warning("could not send a letter as a Word document: %s", faults.brief(error))
        await bot.client.chat_postMessage(
            channel=channel, text=render("messages/word_not_sent.txt.j2"),
            unfurl_links=False, unfurl_media=False)


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
