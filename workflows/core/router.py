"""One router, derived from the declarations: which workflow a phrase starts, and which
declared question it asks. The terminal chat, Slack's ``/dpo`` and Teams' "X form" all ask
here, so a workflow is reached by the same words everywhere.
"""

from __future__ import annotations

import re
from typing import Any

from workflows.core.declaration import Route, Workflow
from workflows.core.text import fold
from workflows.registry import QUESTIONS, WORKFLOWS


def named(word: str) -> Workflow[Any] | None:
    """The workflow ``word`` names exactly: its name, reference prefix, title or one of its
    triggers (``/dpo breach``, “sar form”)."""
    word = fold(word)
    return next((w for w in WORKFLOWS.values()
                 if word in (w.name, w.prefix.lower(), w.title.lower(), *w.triggers)), None)


def started_by(text: str) -> Workflow[Any] | None:
    """The workflow free text asks to start: the first with a trigger within it (“I sent it
    to the wrong parent” starts a breach report)."""
    text = fold(text)
    return next((w for w in WORKFLOWS.values() if any(t in text for t in w.triggers)), None)


def routes() -> tuple[Route, ...]:
    """Every declared question, in order: each workflow's own (the software register),
    then those that belong to no workflow (photo consent)."""
    return (*(r for w in WORKFLOWS.values() for r in w.routes), *QUESTIONS)


def question(text: str, candidates: tuple[Route, ...]) -> tuple[Route, re.Match[str]] | None:
    """The first of ``candidates`` that ``text`` matches, with its match."""
    for route in candidates:
        if match := route.pattern.match(text):
            return route, match
    return None
