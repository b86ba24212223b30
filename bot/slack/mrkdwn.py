"""Slack's mrkdwn escaping: the three characters that make text into links or mentions."""

from __future__ import annotations


def escape(text: str) -> str:
    """User text, safe in any mrkdwn field: ``<!channel>`` or ``<http://x|y>`` stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Slack refuses over-long fields outright; cut with an ellipsis instead."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
