"""The App Home tab: start a workflow, and the cases this person may see, most urgent first."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import context, plain, section
from bot.slack.mrkdwn import escape
from workflows.core.context import Context
from workflows.core.dashboard import dashboard
from workflows.core.engine import Target
from workflows.schools import membership

MARK = {"overdue": ":red_circle:", "soon": ":large_orange_circle:", "ok": ":white_circle:",
        "met": ":white_check_mark:", "stopped": ":pause_button:"}
HOME_BLOCKS = 100


def view(ctx: Context) -> dict[str, Any]:
    board = dashboard(ctx)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"DPO Bot · {ctx.school.name}", 150)},
    ]
    others = membership.elsewhere(ctx)
    if others:
        blocks.append(context(escape(
            f"You also work with {', '.join(s.name for s in others)}: message me “school "
            "NAME” to work with another.")))
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
        blocks.append(section("Nothing open. :tada:"))
    room = HOME_BLOCKS - len(blocks) - 1
    for line in board.cases[:room]:
        blocks.append({
            "type": "section",
            "text": {"type": "mrkdwn", "text": (
                f"{MARK[line.urgency]} *{escape(line.reference)}* · {escape(line.title)} · "
                f"{escape(line.status)}\n{escape(line.due)}")},
            "accessory": {"type": "button", "action_id": "open",
                          "value": Target(line.reference, school_id=ctx.school.id).value,
                          "text": plain("Open", 75)},
        })
    if len(board.cases) > room:
        blocks.append(context(f"{len(board.cases) - room} more: type “cases” in my DM."))
    else:
        blocks.append(context("Open a case to see its details and what you can do; details "
                              "come to you privately in my DM."))
    return {"type": "home", "blocks": blocks}
