"""User text made literal in Markdown: it never becomes a heading, a link, HTML or emphasis.

Markdown renderers also pass raw HTML through, so ``<script>`` is written as entities, and
every character that starts a construct is backslash-escaped (CommonMark's escapable set).
"""

from __future__ import annotations

import re

from workflows.core.bidi import neutral

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~\"'=:$^])")
# A link target the renderer follows: plain web addresses only, nothing that could close it.
_WEB = re.compile(r"^https?://[^\s<>\"'()\\`]+$", re.IGNORECASE)


def literal(text: object) -> str:
    """``text`` as a Markdown renderer shows it, on one line."""
    plain = " ".join(neutral(str(text)).split())
    plain = plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PUNCTUATION.sub(r"\\\1", plain)


def web_link(text: str | None) -> str | None:
    """``text`` when it is an http(s) address safe to link to, else None."""
    if text and _WEB.match(text.strip()):
        return text.strip()
    return None
