"""Slack's mrkdwn escaping: the three characters that make text into links or mentions, and
the bidirectional controls that reorder what is shown (``workflows.core.bidi``)."""

from __future__ import annotations

from workflows.core.bidi import neutral


def escape(text: str) -> str:
    """User text, safe in any mrkdwn field: ``<!channel>`` or ``<http://x|y>`` stay text."""
    return neutral(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Slack refuses over-long fields outright; cut with an ellipsis instead. Every field
    passes here, plain text too: bidirectional controls go."""
    text = neutral(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
