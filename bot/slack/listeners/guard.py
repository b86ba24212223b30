"""Every listener answered for: acked if it had not acked, the person told privately, one
line logged (never what was typed: ``workflows.core.faults``)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.labels import label
from bot.slack import blocks
from bot.slack.listeners.payloads import Unreadable
from workflows.core import faults
from workflows.core.engine import NotFound
from workflows.core.ui import Reply, Text
from workflows.schools import membership

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)
Listener = Callable[..., Awaitable[None]]
# What a listener may ask Bolt for; ``guarded`` asks for all of them and passes each its own.
GIVEN = ("ack", "body", "respond", "say", "view", "action", "event")


def guarded(bot: SlackBot) -> Callable[[Listener], Listener]:
    """A decorator: ``listener``, answering for it when it fails (a modal gets a notice on
    top, keeping what was typed beneath). Bolt's own error path loses an ack given just
    before the failure (it then answers Slack 404 “unhandled request” after 3 s), so no
    failure is left to reach it."""

    def guard(listener: Listener) -> Listener:
        wanted = list(inspect.signature(listener).parameters)

        async def run(ack, body, respond, say, view, action, event) -> None:
            acked = False

            async def ack_once(*args: Any, **kwargs: Any) -> None:
                nonlocal acked
                acked = True
                await ack(*args, **kwargs)

            given = {"ack": ack_once, "body": body, "respond": respond, "say": say,
                     "view": view, "action": action, "event": event}
            try:
                await listener(**{name: given[name] for name in wanted})
            except Exception as error:
                replies = failure(error)
                if not acked and body.get("type") == "view_submission":
                    await ack(response_action="push",
                              view=blocks.notice_view(label("not_saved"), replies))
                    return
                if not acked:
                    await ack()
                if isinstance(error, membership.Unplaced | membership.Refused | NotFound):
                    respond = None  # in the DM, where the answer (a school, a reference) goes
                try:
                    await tell_privately(bot, body, respond, replies)
                except Exception as again:
                    log.error("could not tell the person either: %s", faults.brief(again))

        run.__name__ = listener.__name__
        return run

    return guard


def failure(error: Exception) -> list[Reply]:
    """What the person is told about ``error``, after one line in the log."""
    if isinstance(error, membership.Unplaced):
        return error.question()
    if isinstance(error, membership.Refused):
        return error.replies()
    if isinstance(error, NotFound):
        return [Text(error.message, "error")]
    if isinstance(error, Unreadable):
        log.warning("refused a Slack request: %s", error)
        return faults.unreadable()
    if faults.unreachable(error):
        log.warning("could not answer a Slack request (nothing saved): %s",
                    faults.brief(error))
        return faults.unsaved()
    log.error("a Slack request failed: %s", faults.brief(error))
    log.debug("the request's failure", exc_info=error)
    return faults.failed()


async def tell_privately(bot: SlackBot, body: dict[str, Any], respond,
                         replies: list[Reply]) -> None:
    """Ephemerally where the request came with a response_url, else in the person's DM."""
    user = ((body.get("user") or {}).get("id") or body.get("user_id")
            or (body.get("event") or {}).get("user"))
    if respond is not None:
        await respond(response_type="ephemeral", replace_original=False,
                      text=blocks.fallback_text(replies), blocks=blocks.message_blocks(replies))
    elif user:
        await bot.dm(user, replies)
