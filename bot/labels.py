"""The short words on buttons and window titles, from ``templates/messages/label.txt.j2``:
wording lives in templates, and every adapter labels the same button the same way."""

from __future__ import annotations

from functools import cache

from workflows.core.wording import render


@cache
def label(name: str) -> str:
    """The label called ``name``; a name the template lacks is an error, never a blank."""
    return render("messages/label.txt.j2", label=name)
