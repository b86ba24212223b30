"""Modal submissions: a new case's form and its summary, a decision's reasons, the consent
question. Validation errors travel in the ack, on the field they belong to."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.labels import label
from bot.slack import blocks, work
from bot.slack.listeners.answers import after_decision
from bot.slack.listeners.guard import guarded
from bot.slack.listeners.payloads import declared, metadata, workflow_named
from workflows.core import conversation

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(bot: SlackBot) -> None:
    app, guard = bot.app, guarded(bot)

    @app.view("consent")
    @guard
    async def consent_asked(ack, body, view) -> None:
        user = body["user"]["id"]
        replies, form_blocks, errors = await bot.run(user, work.consent_answer,
                                                     view["state"]["values"])
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        # The answer stays in the modal, seen by the asker alone, above the question as they
        # typed it, so a "which Amelia?" is answered by editing it and asking again.
        await ack(response_action="update", view=blocks.modal(
            title=label("photo_consent"), callback_id="consent",
            blocks=blocks.message_blocks(replies, with_buttons=False) + form_blocks,
            submit=label("ask") if form_blocks else None, close=label("close")))

    @app.view(re.compile(r"^intake:"))
    @guard
    async def intake_submitted(ack, body, view) -> None:
        user, name = body["user"]["id"], view["callback_id"].split(":", 1)[1]
        workflow, school_id = workflow_named(name), metadata(view).get("school")
        raw = blocks.submitted_text(workflow.intake, view["state"]["values"])
        prepared = await bot.run(user, work.prepare, f"slack-view:{view['id']}", name, raw,
                                 school_id=school_id)
        if prepared.errors:
            await ack(response_action="errors", errors=prepared.errors)
            return
        await ack(response_action="update", view=blocks.summary_view(
            prepared.summary, callback_id="confirm",
            metadata={"conversation": prepared.conversation_id, "workflow": name,
                      "school": school_id}))

    @app.view("confirm")
    @guard
    async def confirmed(ack, body, view) -> None:
        user, meta = body["user"]["id"], metadata(view, "conversation", "workflow")
        workflow = workflow_named(meta["workflow"])
        result = await bot.run(user, conversation.confirm, meta["conversation"],
                               school_id=meta.get("school"))
        if result.reopened is not None:
            # The core refused the whole set (e.g. an academy logging an educational record):
            # back to the form with everything typed still there.
            await ack(response_action="update", view=blocks.modal(
                title=workflow.title, callback_id=f"intake:{meta['workflow']}",
                blocks=[blocks.section(":no_entry: " + blocks.escape(result.message))]
                + blocks.form_blocks(workflow.intake, result.reopened),
                submit=label("next"), metadata={"school": meta.get("school")}))
            return
        await ack(response_action="update",
                  view=blocks.notice_view(label("saved"), result.replies))
        if result.ok:
            channel = await bot.dm(user, result.replies)
            if workflow.follow_up and result.reference:
                # The case (and its clock) exists; the rest is asked in the DM, where the
                # answers come back as messages.
                more = await bot.run(user, work.follow_up, f"slack:{channel}", meta["workflow"],
                                     result.reference, school_id=meta.get("school"))
                await bot.dm(user, more)

    @app.view("decide")
    @guard
    async def decision_submitted(ack, body, view, respond) -> None:
        user, meta = body["user"]["id"], metadata(view, "ref", "action", "version")
        _, action = declared(meta["ref"], meta["action"])
        raw = blocks.submitted_text(action.form, view["state"]["values"])
        decision = await bot.run(user, work.decide, meta["ref"], meta["action"],
                                 meta["version"], raw, school_id=meta.get("school"))
        if decision.errors:
            await ack(response_action="errors", errors=decision.errors)
            return
        await ack()
        # A card shown ephemerally (/dpo REF) is replaced through the response_url it came with.
        origin = AsyncRespond(response_url=meta.get("response_url")) if meta.get(
            "response_url") else None
        await after_decision(bot, origin, body, meta, decision)


