"""Finding the pupil a teacher means from what they typed: typos, preferred names, first names.

Pure functions over the school's pupils, so the rules are easy to test and fast enough for a
large secondary (a few thousand pupils) on every question.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from typing import Protocol


class Named(Protocol):
    legal_first: str
    legal_last: str
    preferred_name: str | None
    reg_class: str


def fold(text: str) -> str:
    """Lower case, no accents or punctuation: “Zoë O'Brien” and “zoe obrien” are the same."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"['’`.\-]", "", plain.casefold())
    return " ".join(re.sub(r"[^\w\s]", " ", plain).split())


def split_class(query: str, classes: Sequence[str]) -> tuple[str, str | None]:
    """“Amelia in 4B”, “Amelia (4B)” or “Amelia 4B”: the name, and the class if one is named."""
    by_fold = {fold(c): c for c in classes if c}
    words = fold(query).split()
    if len(words) >= 2 and words[-1] in by_fold:
        rest = words[:-1]
        if len(rest) >= 2 and rest[-1] in ("in", "from", "of"):
            rest = rest[:-1]
        return " ".join(rest), by_fold[words[-1]]
    return " ".join(words), None


def find(query: str, pupils: Sequence[Named], cutoff: float = 0.8) -> list:
    """The pupils the query most likely means: exact names first, then close spellings."""
    name, in_class = split_class(query, sorted({p.reg_class for p in pupils}))
    if not name:
        return []
    pool = [p for p in pupils if in_class is None or p.reg_class == in_class]
    keys: dict[str, list] = {}
    firsts: dict[str, list] = {}
    for p in pool:
        last = fold(p.legal_last)
        for first in {fold(p.legal_first), fold(p.preferred_name or "")} - {""}:
            keys.setdefault(f"{first} {last}", []).append(p)
            firsts.setdefault(first, []).append(p)
    exact = keys.get(name)
    if exact:
        return _unique(exact)
    if " " not in name:
        # A first name alone: fine within a class, or when the school has only one.
        if name in firsts:
            return _unique(firsts[name])
        return _unique([p for k in difflib.get_close_matches(name, firsts, n=5, cutoff=cutoff)
                        for p in firsts[k]])
    close = difflib.get_close_matches(name, keys, n=5, cutoff=cutoff)
    if close:
        # Only the best spelling, and any equally good: "Amelia Smyth" is not also "Amelie Smith".
        best = difflib.SequenceMatcher(None, name, close[0]).ratio()
        return _unique([p for k in close
                        if difflib.SequenceMatcher(None, name, k).ratio() >= best - 1e-9
                        for p in keys[k]])
    return []


def _unique(found: list) -> list:
    return list({id(p): p for p in found}.values())
