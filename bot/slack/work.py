"""What the Slack listeners ask of the core, as named functions of plain arguments.

Each runs in one transaction through ``SlackBot.run`` (``workflows.core.workers``), possibly
in a worker process: so workflows and actions travel by name, and results are plain data
(form errors as a dict, not the exception, whose pickled form loses them).
"""

from __future__ import annotations

from typing import Any

from bot.slack import blocks
from workflows.consent import service as consent
from workflows.core import chat, conversation
from workflows.core import engine as core
from workflows.core.context import Context
from workflows.core.fields import FormErrors
from workflows.core.inbound import first_time
from workflows.core.ui import Reply, Text
from workflows.people.permissions import PermissionDenied
from workflows.registry import WORKFLOWS, by_prefix
from workflows.schools import membership


def may_start(ctx: Context, workflow: str
              ) -> tuple[str | None, str | None, int, dict[str, str]]:
    """Why this person may not start it (or None), which school it would be for (to someone
    who works with several), that school, for the modal to carry, and what the form shows
    before anything is entered (``Form.initial``)."""
    return (core.may_start(ctx, WORKFLOWS[workflow]), membership.working_with(ctx),
            ctx.school_id, WORKFLOWS[workflow].intake.initial(ctx))


def prepare(ctx: Context, key: str, workflow: str, raw: dict[str, str]) -> conversation.Prepared:
    return conversation.prepare(ctx, key, WORKFLOWS[workflow], raw)


def follow_up(ctx: Context, where: str, workflow: str, reference: str) -> list[Reply]:
    return conversation.follow_up(ctx, where, WORKFLOWS[workflow], reference)


def preflight(ctx: Context, reference: str, action: str) -> tuple[str | None, dict[str, str]]:
    """Why this person may not take the action now (or None), and what its form shows
    before anything is entered."""
    workflow = by_prefix(reference.split("-", 1)[0])
    declared = workflow.action(action)
    return core.preflight(ctx, workflow, declared, reference), declared.form.initial(ctx)


def decide(ctx: Context, reference: str, action: str, version: int,
           raw: dict[str, str]) -> core.Decision:
    workflow = by_prefix(reference.split("-", 1)[0])
    return core.decide(ctx, workflow, workflow.action(action), reference, version, raw)


def consent_form(ctx: Context) -> list[dict[str, Any]] | str:
    """The consent question's form as blocks, or why this person may not ask it."""
    try:
        return blocks.form_blocks(consent.question_form(ctx))
    except PermissionDenied as refused:
        return refused.message


def consent_answer(ctx: Context, values: dict[str, Any]
                   ) -> tuple[list[Reply], list[dict[str, Any]], dict[str, str] | None]:
    """The answer, the question again as typed (blocks), or the form's errors."""
    try:
        form = consent.question_form(ctx)
    except PermissionDenied as refused:
        return [Text(refused.message, "error")], [], None
    raw = blocks.submitted_text(form, values)
    try:
        replies = consent.ask(ctx, raw)
    except FormErrors as error:
        return [], [], error.errors
    return replies, blocks.form_blocks(form, raw), None


def answer_dm(ctx: Context, key: str, where: str, text: str) -> list[Reply] | None:
    # Seen-before and the answer in one transaction: a retried delivery waits for the first
    # and then does nothing, and an answer that fails leaves the event unseen.
    if not first_time(ctx.session, ctx.adapter, key):
        return None
    return chat.respond(ctx, where, text)


def welcome(ctx: Context, key: str, where: str) -> list[Reply]:
    """A newcomer just placed at a school: thanks, and what I can do."""
    # Their answer counts as seen: Slack's retry of it, now that they are placed, is not
    # taken for a message to answer again.
    first_time(ctx.session, ctx.adapter, key)
    return [membership.welcomed(ctx), *chat.greet(ctx, where)]
