"""Bidirectional controls taken out of text before it reaches a person.

U+202E (right-to-left override) and its kin reorder what follows them on screen, so a name
typed as “Jane‮fdp.exe” shows as something else, and a reference or a date beside it can be
made to read backwards (the "Trojan Source" trick). Names in Arabic or Hebrew need none of
them: the Unicode bidi algorithm lays those out by itself. Each adapter's escaping calls
``neutral`` (Slack, Teams, the terminal, CSV); ``neutral_reply`` does a whole reply.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

# The embeddings, overrides and isolates, the implicit marks, and Arabic's letter mark.
CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
T = TypeVar("T")


def neutral(text: str) -> str:
    """``text`` without bidirectional controls."""
    return CONTROLS.sub("", text)


def neutral_reply(value: T) -> T:
    """A reply (or any of the UI model's dataclasses, tuples and strings) with every string
    in it neutral."""
    return _clean(value)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return neutral(value)
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: _clean(getattr(value, f.name)) for f in dataclasses.fields(value)
            if f.init})
    return value
