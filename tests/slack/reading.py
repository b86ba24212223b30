"""How the Slack tests read what the bot sent, one way for all of them.

Slack reads some of a payload as markup (mrkdwn objects and a message's own ``text``) and
shows the rest exactly as it is (rich text elements, plain_text). ``read_as_markup`` and
``literal_texts`` keep the two apart, for the tests that user text is never markup. The
others read a message as a person sees it (``words``, ``said``, ``first_line``): mrkdwn
unescaped, and rich text's bold and italics written as mrkdwn would write them (``*Label*``,
``_currently_``), so a test does not depend on which kind of block carried its words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .fake_slack import Call, FakeSlack

MARKS = {"bold": "*", "italic": "_", "strike": "~", "code": "`"}


def nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a payload, outermost first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from nodes(value)


def read_as_markup(args: Any) -> list[str]:
    """The texts Slack reads as mrkdwn in a payload: mrkdwn objects and a message's ``text``."""
    found: list[str] = [args["text"]] if isinstance(args, dict) and isinstance(
        args.get("text"), str) else []
    return found + [node["text"] for node in nodes(args) if node.get("type") == "mrkdwn"]


def literal_texts(args: Any) -> list[str]:
    """The texts Slack shows exactly as they are: rich text elements and plain_text."""
    return [node["text"] for node in nodes(args)
            if node.get("type") in ("text", "plain_text") and isinstance(node.get("text"), str)]


def unescape(text: str) -> str:
    """mrkdwn as shown: its three escapes undone."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _shown(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "mrkdwn":
        return unescape(node["text"])
    if kind == "plain_text":
        return str(node["text"])
    if kind == "emoji":
        return f":{node['name']}:"
    if kind == "text":
        text = str(node["text"])
        for style, mark in MARKS.items():
            if (node.get("style") or {}).get(style):
                text = f"{mark}{text}{mark}"
        return text
    raise AssertionError(f"a reader for {kind!r} is missing: {node}")


def lines(payload: Any) -> list[str]:
    """Each piece of text in a payload as it is shown, in order: a text object, a context
    line (its emoji and words together), a line of rich text, a letter's preformatted text."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for value in node:
                walk(value)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind == "context":
            out.append(" ".join(_shown(e) for e in node["elements"] if e["type"] != "image"))
            return
        if kind in ("rich_text_section", "rich_text_preformatted"):
            out.append("".join(_shown(e) for e in node["elements"]))
            return
        if kind in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            out.append(_shown(node))
        for value in node.values():
            walk(value)

    walk(payload)
    return out


def words(blocks: Any) -> str:
    """All the text of some blocks, as shown, for reading assertions."""
    return "\n".join(lines(blocks))


def said(call: Call) -> str:
    """What a message says: its blocks' words (its ``text`` is only what it is about)."""
    return words(call.args.get("blocks") or []) or unescape(call.args.get("text", ""))


def first_line(args: dict[str, Any]) -> str:
    """What a message says first, without its tone's emoji and its bold."""
    return re.sub(r"^:[a-z_]+: ", "", lines(args["blocks"][0])[0]).strip("*")


def ephemeral_texts(fake: FakeSlack, user: str) -> list[str]:
    """What was said privately: ephemeral posts to ``user`` and every response_url answer
    (those go back to whoever clicked, so use this where one person clicks)."""
    calls = [c for c in fake.calls("chat.postEphemeral") if c.args.get("user") == user]
    calls += [c for c in fake.calls("response_url")
              if c.args.get("response_type") == "ephemeral"
              or c.args.get("replace_original") is False]
    return [said(c) for c in calls]


def field_errors(view: dict[str, Any]) -> dict[str, str]:
    """The errors shown under a modal's fields (``blocks.as_typed``), by field."""
    return {b["block_id"].removeprefix("error:"): re.sub(r"^:warning: ", "", lines(b)[0])
            for b in view["blocks"] if str(b.get("block_id", "")).startswith("error:")}
