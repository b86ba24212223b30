"""One way to fold what people type (or a file holds) before it is compared.

Names, column headers, answers, dates and commands were each folded their own way; one
function, with a switch for what each comparison must keep, means “Zoë”, “zoe ” and “ZOE”
are the same everywhere, and a phone's curly apostrophe never makes “don’t” a different word.
"""

from __future__ import annotations

import re
import unicodedata

_JOINS = re.compile(r"['`.\-]")  # inside a word: “O'Brien”, “St.”, “Smith-Jones”
_PARTS = re.compile(r"[^\w\s]")


def fold(text: str, *, words: bool = False, apart: str = "", strip: str = "") -> str:
    """``text`` as compared, never as shown: case folded, accents dropped, a curly apostrophe
    straight, white space single and trimmed.

    ``words``: letters, digits and spaces only; an apostrophe, a dot or a hyphen joins (“Zoë
    O'Brien” is “zoe obrien”), any other mark parts words. ``apart``: characters read as a
    space (“_” in a column header, “,” in a date). ``strip``: characters taken off both ends.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = plain.replace("’", "'")
    for mark in apart:
        plain = plain.replace(mark, " ")
    if words:
        plain = _PARTS.sub(" ", _JOINS.sub("", plain))
    return " ".join(plain.split()).strip(strip)
