"""One line saying what a message is, with no personal data: what a phone's notification,
Teams' chat list and Slack's search show before anyone opens it (where a lock screen or a
colleague's glance may see it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.ui import Card, Document, File, Question, Reply, Summary, Text
from workflows.core.wording import render


def of_case(ctx: Context, workflow: Workflow[Any], case: Any, event: str | None = None) -> str:
    """The case's reference, what it is and its countdown (or its state once the clock has
    stopped), in the workflow's own ``headline`` template."""
    left = workflow.time_left(case, ctx.local_now)
    return render(workflow.headline, event=event, reference=case.reference,
                  title=workflow.title_of(case), status=workflow.states[case.state],
                  running=workflow.clock_running(case), left=left.left if left else None,
                  urgency=left.urgency if left else None)


def of_replies(replies: Iterable[Reply]) -> str:
    """A message's line: its case's headline if it shows one, else what kind of message it
    is (a question's number, a letter's title), never text someone typed."""
    replies = list(replies)
    for reply in replies:
        if isinstance(reply, Card) and reply.headline:
            return reply.headline
    for reply in replies:
        if isinstance(reply, Question):
            return render("messages/message_headline.txt.j2", kind="question",
                          step=reply.step, total=reply.total)
        if isinstance(reply, Summary | Document | File):
            return render("messages/message_headline.txt.j2", kind=type(reply).__name__.lower(),
                          title=reply.title)
    tone = next((reply.tone for reply in replies if isinstance(reply, Text)), None)
    return render("messages/message_headline.txt.j2", kind="text", tone=tone)
