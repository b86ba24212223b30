"""Answers several listeners give: a new case's modal, a private word to the clicker, and
the message a decision replaces."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from bot.labels import label
from bot.slack import blocks, work
from bot.slack.listeners.guard import failure
from bot.slack.listeners.payloads import message_ref
from workflows.core import faults
from workflows.core.ui import Reply, Text, files
from workflows.core.wording import render
from workflows.documents.files import make as made
from workflows.registry import WORKFLOWS
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)


@asynccontextmanager
async def loading(bot: SlackBot, trigger_id: str, title: str,
                  callback_id: str) -> AsyncIterator[str]:
    """A modal opened at once, light, before anything is looked up: Slack refuses
    ``views.open`` 3 s after the click, and a busy database or a newcomer's ``users.info``
    may take longer. Yields its id, for ``views.update`` to fill; whatever fails meanwhile
    is said in it, rather than leaving it waiting."""
    opened = await bot.client.views_open(trigger_id=trigger_id,
                                         view=blocks.loading_view(title, callback_id))
    view_id = opened["view"]["id"]
    try:
        yield view_id
    except Exception as error:
        await bot.client.views_update(view_id=view_id,
                                      view=blocks.notice_view(title, failure(error)))
        if isinstance(error, membership.Unplaced | membership.Refused):
            raise  # said in the DM as well: a newcomer answers "which school?" there


async def open_intake(bot: SlackBot, trigger_id: str, user: str, name: str) -> None:
    """The modal of a new case, or in it why this person may not start one."""
    workflow = WORKFLOWS[name]
    callback_id = f"intake:{name}"
    async with loading(bot, trigger_id, workflow.title, callback_id) as view_id:
        refusal, which, school_id, initial = await bot.run(user, work.may_start, name)
        if refusal:
            view = blocks.notice_view(workflow.title, [Text(refusal, "error")])
        else:
            form_blocks = blocks.form_blocks(workflow.intake, initial)
            if which:  # someone who works with several schools sees which this is for
                form_blocks.insert(0, blocks.context(which))
            view = blocks.modal(title=workflow.title, callback_id=callback_id,
                                blocks=form_blocks, submit=label("next"),
                                metadata={"school": school_id})
        await bot.client.views_update(view_id=view_id, view=view)


async def tell(bot: SlackBot, respond, body: dict[str, Any], text: str) -> None:
    """A private answer to the person who clicked, and to nobody else."""
    user = body["user"]["id"]
    where = message_ref(body)
    said = [Text(text, "error")]
    shown = {"text": blocks.escape(text), "blocks": blocks.message_blocks(said)}
    if respond is not None and where["response_url"]:
        await respond(**shown, response_type="ephemeral", replace_original=False)
    elif where["channel"] and not where["view"]:
        await bot.client.chat_postEphemeral(channel=where["channel"], user=user, **shown)
    else:
        await bot.dm(user, said, text=text)


async def after_decision(bot: SlackBot, respond, body, where: dict[str, Any],
                         decision) -> None:
    """Redraw the message the button was on as the case now stands, with the buttons the
    core now offers this person (pause after take, resume after pause...), so the next step
    is one click away; a final decision leaves only what may still be added.

    A click that lost (a double click, a colleague first) is told why, with the case as it
    is now: on the clicker's own message, or privately under a shared one."""
    user = body["user"]["id"]
    shown = decision.card
    if shown is None:  # refused before the case could be shown (a role, a missing case)
        await tell(bot, respond, body, decision.message)
        return
    shared = where.get("channel") == bot.team_channel and not where.get("ephemeral")
    if shared:
        shown = shown.for_channel()  # a channel never gets the details, even after a decision
    new_blocks = blocks.card_blocks(shown)[: blocks.MESSAGE_BLOCKS - 2]  # very many notes
    if decision.ok:
        new_blocks.append(blocks.told(decision.message, "success"))
        if decision.footer:
            new_blocks.append(blocks.context(decision.footer))
    else:
        new_blocks.insert(0, blocks.told(decision.message, "warning"))
    text = blocks.fallback_text([shown])
    if not decision.ok and shared:
        # The winner has redrawn the team's message for everyone; the loser alone is told.
        await _privately(bot, respond, body, where, text, new_blocks)
    elif where.get("ephemeral") and where.get("response_url") and respond is not None:
        await respond(replace_original=True, text=text, blocks=new_blocks)
    elif where.get("channel") and where.get("ts") and not where.get("view"):
        await bot.client.chat_update(channel=where["channel"], ts=where["ts"], text=text,
                                     blocks=new_blocks)
    else:  # a button in a view (no message to update): the case goes to the DM
        await bot.client.chat_postMessage(channel=user, text=text, blocks=new_blocks,
                                          unfurl_links=False, unfurl_media=False)


async def _privately(bot: SlackBot, respond, body: dict[str, Any], where: dict[str, Any],
                     text: str, message_blocks: list[dict[str, Any]]) -> None:
    if respond is not None and where["response_url"]:
        await respond(text=text, blocks=message_blocks, response_type="ephemeral",
                      replace_original=False)
    else:
        await bot.client.chat_postEphemeral(channel=where["channel"], user=body["user"]["id"],
                                            text=text, blocks=message_blocks)


async def send_files(bot: SlackBot, user: str, replies: list[Reply],
                     channel: str | None = None) -> None:
    """Each file among ``replies`` (a letter's Word copy, the governors' report), made now
    and uploaded to the person's DM with the bot (``channel`` when the answer was shown
    there), private as the answer is. A failure costs only the file, and a line says so."""
    for file in files(replies):
        try:
            if channel is None:  # asked with /dpo elsewhere: the file goes to the DM
                said = render("messages/file_in_dm.txt.j2", title=file.title, maker=file.maker)
                channel = await bot.dm(user, [Text(said)], text=said)
            content = await bot.run(user, made, file.maker, file.asked)
            await bot.client.files_upload_v2(channel=channel, file=content, filename=file.name,
                                             title=file.title)
        except Exception as error:
            log.warning("could not send a file: %s", faults.brief(error))
            said = render("messages/file_not_sent.txt.j2", maker=file.maker)
            await bot.dm(user, [Text(said, "warning")], text=said)
