"""Finding the pupil a teacher means from what they typed: typos, preferred names, first names.

Pure functions over the school's pupils, so the rules are easy to test and fast enough for a
large secondary (a few thousand pupils) on every question.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Generic, TypeVar

from workflows.core import text

K = TypeVar("K")  # what the index hands back for a pupil: an id, or the pupil itself


def fold(name: str) -> str:
    """Lower case, no accents or punctuation: “Zoë O'Brien” and “zoe obrien” are the same."""
    return text.fold(name, words=True)


def split_class(query: str, by_fold: dict[str, str]) -> tuple[str, str | None]:
    """“Amelia in 4B”, “Amelia (4B)” or “Amelia 4B”: the name, and the class if one is named.

    ``by_fold`` maps each class, folded, to its name (``NameIndex.folded_classes``).
    """
    words = fold(query).split()
    if len(words) >= 2 and words[-1] in by_fold:
        rest = words[:-1]
        if len(rest) >= 2 and rest[-1] in ("in", "from", "of"):
            rest = rest[:-1]
        return " ".join(rest), by_fold[words[-1]]
    return " ".join(words), None


class NameIndex(Generic[K]):
    """Every current pupil's names, folded once: built per import, asked many times.

    Entries are (key, pupil) where ``key`` is whatever the caller needs back (an id, or the
    pupil itself); folding thousands of names on every question is what made lookups slow.
    """

    def __init__(self, entries: Iterable[tuple[K, str, str, str | None, str]]) -> None:
        self.classes: list[str] = []
        self.folded_classes: dict[str, str] = {}  # "4b" -> "4B", for questions about a class
        # class ("" for the whole school) -> "first last" / "first" -> keys
        self.full: dict[str, dict[str, list[K]]] = {"": {}}
        self.firsts: dict[str, dict[str, list[K]]] = {"": {}}
        seen_classes: set[str] = set()
        for key, legal_first, legal_last, preferred, reg_class in entries:
            last = fold(legal_last)
            for scope in ("", reg_class):
                self.full.setdefault(scope, {})
                self.firsts.setdefault(scope, {})
            if reg_class and reg_class not in seen_classes:
                seen_classes.add(reg_class)
                self.classes.append(reg_class)
                self.folded_classes[fold(reg_class)] = reg_class
            for first in {fold(legal_first), fold(preferred or "")} - {""}:
                for scope in ("", reg_class):
                    self.full[scope].setdefault(f"{first} {last}", []).append(key)
                    self.firsts[scope].setdefault(first, []).append(key)

    def find(self, query: str, cutoff: float = 0.8) -> list[K]:
        """The keys of the pupils the query most likely means: exact names, then close ones."""
        name, in_class = split_class(query, self.folded_classes)
        if not name:
            return []
        scope = in_class or ""
        keys, firsts = self.full.get(scope, {}), self.firsts.get(scope, {})
        exact = keys.get(name)
        if exact:
            return _unique(exact)
        if " " not in name:
            # A first name alone: fine within a class, or when the school has only one.
            if name in firsts:
                return _unique(firsts[name])
            return _unique([k for m in difflib.get_close_matches(name, firsts, n=5,
                                                                 cutoff=cutoff)
                            for k in firsts[m]])
        close = difflib.get_close_matches(name, keys, n=5, cutoff=cutoff)
        if close:
            # Only the best spelling, and any equally good: "Amelia Smyth" is not also
            # "Amelie Smith".
            best = difflib.SequenceMatcher(None, name, close[0]).ratio()
            return _unique([k for m in close
                            if difflib.SequenceMatcher(None, name, m).ratio() >= best - 1e-9
                            for k in keys[m]])
        return []


def _unique(found: list[K]) -> list[K]:
    return list({id(p) if not isinstance(p, int) else p: p for p in found}.values())
