"""The short words on buttons and window titles (``templates/messages/label.txt.j2``) and the
hints that take no values, each rendered once: wording lives in templates, and every adapter
labels the same button the same way."""

from __future__ import annotations

from functools import cache

from workflows.core.wording import render


@cache
def label(name: str) -> str:
    """The label called ``name``; a name the template lacks is an error, never a blank."""
    return render("messages/label.txt.j2", label=name)


@cache
def fixed(template: str) -> str:
    """A message template that takes no values, rendered once: forms repeat their hints on
    every field, and rendering each again tripled the time to build a card."""
    return render(template)
