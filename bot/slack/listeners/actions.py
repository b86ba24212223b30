"""Buttons: start a workflow from Home, open a case, and a case's decisions (asked in a
modal when they need reasons, else decided at once by the engine's compare-and-set)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.labels import label
from bot.slack import blocks, work
from bot.slack.listeners.answers import after_decision, loading, open_intake
from bot.slack.listeners.guard import guarded
from bot.slack.listeners.payloads import declared, message_ref, metadata, workflow_named
from workflows.core import chat, conversation
from workflows.core import engine as core
from workflows.core.ui import Text
from workflows.registry import WORKFLOWS

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(bot: SlackBot) -> None:
    app, guard = bot.app, guarded(bot)

    @app.action(re.compile(r"^start:"))
    @guard
    async def home_start(ack, body, action) -> None:
        await ack()
        name = action["action_id"].split(":", 1)[1]
        if name in WORKFLOWS:
            await open_intake(bot, body["trigger_id"], body["user"]["id"], name)

    @app.action(blocks.EDIT_ANSWERS)
    @guard
    async def change_answers(ack, body) -> None:
        """The summary's "Change answers": the form again, with every answer in it."""
        await ack()
        view = body["view"]
        meta = metadata(view, "conversation", "workflow")
        workflow = workflow_named(meta["workflow"])
        shown = await bot.run(body["user"]["id"], conversation.held, meta["conversation"],
                              school_id=meta.get("school"))
        await bot.client.views_update(view_id=view["id"], hash=view.get("hash"),
                                      view=blocks.modal(
            title=workflow.title, callback_id=f"intake:{meta['workflow']}",
            blocks=blocks.form_blocks(workflow.intake, shown), submit=label("next"),
            metadata={"school": meta.get("school")}))

    @app.action("open")
    @guard
    async def open_case(ack, body, action) -> None:
        await ack()
        user, target = body["user"]["id"], core.Target.parse(action["value"])
        replies = await bot.run(user, chat.lookup, target.reference,
                                school_id=target.school_id)
        await bot.dm(user, replies)

    @app.action(re.compile(r"^act:"))
    @guard
    async def decision_clicked(ack, body, action, respond) -> None:
        await ack()
        user = body["user"]["id"]
        action_name = action["action_id"].split(":", 1)[1]
        target = core.Target.parse(str(action.get("value") or ""))
        reference, version = target.reference, target.version or 0
        _, chosen = declared(reference, action_name)
        where = message_ref(body)
        if chosen.form.fields:
            async with loading(bot, body["trigger_id"], chosen.heading, "decide") as view_id:
                refusal, initial = await bot.run(user, work.preflight, reference, action_name,
                                                 school_id=target.school_id)
                if refusal:
                    view = blocks.notice_view(chosen.heading, [Text(refusal, "error")])
                else:
                    view_blocks = blocks.form_blocks(chosen.form, initial)
                    if chosen.confirm:
                        view_blocks.insert(0, blocks.context(chosen.confirm))
                    view = blocks.modal(
                        title=chosen.heading, callback_id="decide", blocks=view_blocks,
                        submit=label("save"), metadata={
                            "ref": reference, "version": version, "school": target.school_id,
                            "action": action_name, **where})
                await bot.client.views_update(view_id=view_id, view=view)
            return
        decision = await bot.run(user, work.decide, reference, action_name, version, {},
                                 school_id=target.school_id)
        await after_decision(bot, respond, body, where, decision)
