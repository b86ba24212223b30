"""One router, derived from the declarations: which workflow a phrase starts, and which
declared question it asks. The terminal chat, Slack's ``/dpo`` and Teams' "X form" all ask
here, so a workflow is reached by the same words everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
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
    to the wrong parent” starts a breach report), as whole words (“necessary” is no SAR)."""
    text = fold(text)
    return next((w for w in WORKFLOWS.values()
                 if any(re.search(rf"\b{re.escape(t)}\b", text) for t in w.triggers)), None)


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


@dataclass(frozen=True)
class Guess:
    """Something near what was typed: a phrase to type, and the workflow it starts (if any)."""

    typed: str
    workflow: Workflow[Any] | None = None


def nearest(text: str, candidates: tuple[Route, ...], limit: int = 3) -> list[Guess]:
    """The two or three things the bot can do that read closest to ``text``: its words
    against each workflow's triggers and words and each route's words, forgiving typos.
    With nothing close, the workflows people start most (the first declared)."""
    typed = [w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2]
    scored: list[tuple[float, int, Guess]] = []
    offers: list[tuple[tuple[str, ...], Guess]] = [
        ((w.name, *w.triggers, *w.words), Guess(w.triggers[0], w)) for w in WORKFLOWS.values()
    ] + [(r.words, Guess(r.example)) for r in candidates if r.example]
    for order, (vocabulary, guess) in enumerate(offers):
        known = {word for phrase in vocabulary for word in phrase.lower().split()}
        score = sum(max((SequenceMatcher(None, word, k).ratio() for k in known), default=0)
                    for word in typed)
        close = sum(1 for word in typed
                    if any(SequenceMatcher(None, word, k).ratio() >= 0.7 for k in known))
        if close:
            scored.append((-close - score / 100, order, guess))
    unique: list[Guess] = []
    for _, _, guess in sorted(scored, key=lambda s: s[:2]):
        if guess.typed not in (g.typed for g in unique):
            unique.append(guess)
    if not unique:
        unique = [Guess(w.triggers[0], w) for w in WORKFLOWS.values()]
    return unique[:limit]
