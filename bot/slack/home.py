"""The App Home tab: start a workflow, and the cases this person may see, most urgent first.

The words come from ``templates/messages/home/``; here they are only laid out and escaped.
A case's line is mrkdwn (it has a button beside it, which rich text cannot): it holds only
what the bot wrote, a reference, a kind of case, a status and a date."""

from __future__ import annotations

from typing import Any

from bot.labels import fixed, label
from bot.slack.blocks import context, mrkdwn, plain, section
from bot.slack.mrkdwn import escape
from workflows.core.context import Context
from workflows.core.dashboard import dashboard
from workflows.core.engine import Target
from workflows.core.wording import render
from workflows.schools import membership

MARK = {"overdue": ":red_circle:", "soon": ":large_orange_circle:", "ok": ":white_circle:",
        "met": ":white_check_mark:", "stopped": ":pause_button:"}
HOME_BLOCKS = 100


def view(ctx: Context) -> dict[str, Any]:
    board = dashboard(ctx)
    blocks: list[dict[str, Any]] = [
        {"type": "header",
         "text": plain(render("messages/home/heading.txt.j2", school=ctx.school.name), 150)},
    ]
    others = membership.elsewhere(ctx)
    if others:
        blocks.append(context(render("messages/home/elsewhere.txt.j2",
                                     others=[s.name for s in others])))
    if board.starts:
        blocks.append({
            "type": "actions",
            "block_id": "start",
            "elements": [
                {"type": "button", "action_id": f"start:{name}", "text": plain(title, 75),
                 "style": "primary"}
                for name, title in board.starts
            ][:25],
        })
    blocks.append({"type": "header", "text": plain(board.heading, 150)})
    if not board.cases:
        blocks.append(section(escape(fixed("messages/home/nothing_open.txt.j2")) + " :tada:"))
    room = HOME_BLOCKS - len(blocks) - 1
    for line in board.cases[:room]:
        blocks.append({
            "type": "section",
            "text": mrkdwn(
                f"{MARK[line.urgency]} *{escape(line.reference)}* · {escape(line.title)} · "
                f"{escape(line.status)}\n{escape(line.due)}"),
            "accessory": {"type": "button", "action_id": "open",
                          "value": Target(line.reference, school_id=ctx.school.id).value,
                          "text": plain(label("open"), 75)},
        })
    if len(board.cases) > room:
        blocks.append(context(render("messages/home/more.txt.j2", more=len(board.cases) - room)))
    else:
        blocks.append(context(fixed("messages/home/footer.txt.j2")))
    return {"type": "home", "blocks": blocks}
