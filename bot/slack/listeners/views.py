"""Modal submissions: a new case's form and its summary, a decision's reasons, the consent
question.

Slack shows "We had some trouble connecting" for a submission not acked within 3 s, and a
busy database can take longer than that. So the core's answer (field errors under their
fields, the next view, or the modal closed) goes in the ack only when it comes within
``ANSWER_WITHIN``; otherwise the ack puts "Saving…" in the modal and ``views.update`` puts
the answer there once it comes: field errors then show under their fields in the form as
typed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.labels import label
from bot.slack import blocks, work
from bot.slack.listeners.answers import after_decision
from bot.slack.listeners.guard import failure, guarded
from bot.slack.listeners.payloads import declared, metadata, workflow_named
from workflows.core import conversation
from workflows.core.engine import Decision
from workflows.core.fields import Kind
from workflows.core.ui import Reply, Text

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

T = TypeVar("T")
# Seconds: Slack's 3 less its own round trip, Bolt's dispatch and a loaded machine's pauses.
ANSWER_WITHIN = 1.5


@dataclass(frozen=True)
class Answer:
    """How a submission is answered: ``errors`` under their fields, else ``view`` in the
    modal's place, else the modal closes (or, once the ack has gone, shows ``closing``)."""

    errors: dict[str, str] | None = None
    view: dict[str, Any] | None = None
    closing: dict[str, Any] | None = None

    def in_ack(self) -> dict[str, Any]:
        if self.errors:
            return {"response_action": "errors", "errors": self.errors}
        if self.view is not None:
            return {"response_action": "update", "view": self.view}
        return {}

    def later(self, submitted: dict[str, Any]) -> dict[str, Any]:
        """The view that says the same in a modal the ack already answered."""
        if self.errors:
            return blocks.as_typed(submitted, self.errors)
        if self.view is not None:
            return self.view
        assert self.closing is not None, "an answer that closes says what it did instead"
        return self.closing


@dataclass
class Burst:
    """Submissions of one modal under way at once, and whether one has answered."""

    pending: int = 0
    answered: bool = False


def register(bot: SlackBot) -> None:
    app, guard = bot.app, guarded(bot)
    # The submissions of each modal still being answered. While one is saving the modal has
    # no submit button, so those are the same form sent twice (a double click): the first
    # answer is the one that did the work ("Saved as SAR-…"), and a later "already saved"
    # must not replace it.
    answering: dict[str, Burst] = {}

    async def answered(ack, view: dict[str, Any], work: Awaitable[T],
                       shown: Callable[[T], Answer]) -> T | None:
        """``work``'s result, its answer given in the ack or, if late, by ``views.update``;
        None if it failed after the ack (the modal then says why, above the form as typed).
        A failure before the ack is the guard's to answer."""
        view_id = view["id"]
        burst = answering.setdefault(view_id, Burst())
        burst.pending += 1
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=ANSWER_WITHIN)
            if done:
                result = task.result()
                # Not ``answered``: a slower twin's "Saving…" ack may come after this one.
                await ack(**shown(result).in_ack())
                return result
            await ack(response_action="update", view=blocks.saving_view(view["title"]["text"]))
            late: T | None
            try:
                late = await task
                update = shown(late).later(view)
            except Exception as error:
                late, update = None, blocks.as_typed(view, above=failure(error))
            if not burst.answered:
                burst.answered = True
                # No hash: the ack's "Saving…" gave the view a new one this app never sees.
                await bot.client.views_update(view_id=view_id, view=update)
            return late
        finally:
            burst.pending -= 1
            if not burst.pending:
                del answering[view_id]

    @app.view("consent")
    @guard
    async def consent_asked(ack, body, view) -> None:
        user, title = body["user"]["id"], label("photo_consent")

        def shown(answer: tuple[list[Reply], list[dict[str, Any]], dict[str, str] | None]
                  ) -> Answer:
            replies, form_blocks, errors = answer
            # The answer stays in the modal, seen by the asker alone, above the question as
            # they typed it, so a "which Amelia?" is answered by editing it and asking again.
            return Answer(errors=errors, view=None if errors else blocks.modal(
                title=title, callback_id="consent",
                blocks=blocks.message_blocks(replies, with_buttons=False) + form_blocks,
                submit=label("ask") if form_blocks else None, close=label("close")))

        await answered(ack, view, bot.run(user, work.consent_answer, view["state"]["values"]),
                       shown)

    @app.view(re.compile(r"^intake:"))
    @guard
    async def intake_submitted(ack, body, view) -> None:
        user, name = body["user"]["id"], view["callback_id"].split(":", 1)[1]
        workflow, school_id = workflow_named(name), metadata(view).get("school")
        raw = blocks.submitted_text(workflow.intake, view["state"]["values"])

        def shown(prepared: conversation.Prepared) -> Answer:
            return Answer(errors=prepared.errors, view=None if prepared.errors else
                          blocks.summary_view(prepared.summary, callback_id="confirm", metadata={
                              "conversation": prepared.conversation_id, "workflow": name,
                              "school": school_id}))

        await answered(ack, view, bot.run(user, work.prepare, f"slack-view:{view['id']}", name,
                                          raw, school_id=school_id), shown)

    @app.view("confirm")
    @guard
    async def confirmed(ack, body, view) -> None:
        user, meta = body["user"]["id"], metadata(view, "conversation", "workflow")
        workflow = workflow_named(meta["workflow"])

        def shown(result: conversation.Confirmed) -> Answer:
            if result.reopened is not None:
                # The core refused the whole set (e.g. an academy logging an educational
                # record): back to the form with everything typed still there.
                return Answer(view=blocks.modal(
                    title=workflow.title, callback_id=f"intake:{meta['workflow']}",
                    blocks=[blocks.told(result.message, "error")]
                    + blocks.form_blocks(workflow.intake, result.reopened),
                    submit=label("next"), metadata={"school": meta.get("school")}))
            return Answer(view=blocks.notice_view(label("saved"), result.replies))

        result = await answered(ack, view, bot.run(user, conversation.confirm,
                                                   meta["conversation"],
                                                   school_id=meta.get("school")), shown)
        if result is not None and result.ok and result.reopened is None:
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

        def shown(decision: Decision) -> Answer:
            # Decided, the modal closes; if the ack went before the decision, it says it.
            return Answer(errors=decision.errors, closing=blocks.notice_view(
                view["title"]["text"],
                [Text(decision.message, "success" if decision.ok else "warning")]))

        async def decide() -> Decision:
            await bot.link_picked(raw[f.name] for f in action.form.fields
                                  if f.kind is Kind.PERSON and raw.get(f.name))
            return await bot.run(user, work.decide, meta["ref"], meta["action"],
                                 meta["version"], raw, school_id=meta.get("school"))

        decision = await answered(ack, view, decide(), shown)
        if decision is None or decision.errors:
            return
        # A card shown ephemerally (/dpo REF) is replaced through the response_url it came with.
        origin = AsyncRespond(response_url=meta.get("response_url")) if meta.get(
            "response_url") else None
        await after_decision(bot, origin, body, meta, decision)
