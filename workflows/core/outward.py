"""Checks for words that leave the school: letters to families and the ICO report.

A letter is read days after it is written and by people outside the school, so what the DPO
writes for one must give absolute dates (never "this morning"), and must name nobody but its
reader: a letter that names another family is itself a breach. Staff's own descriptions are
never pasted into a letter; only text the DPO wrote for it, passed by these checks.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import col, select

from workflows.core.context import Context
from workflows.core.wording import render

_RELATIVE = re.compile(
    r"\b(today|tonight|yesterday|tomorrow|just now|earlier today|"
    r"(this|last|next) (morning|afternoon|evening|night|week|weekend|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"\d+ (minutes?|hours?|days?|weeks?|months?) ago|an? (hour|day|week|month) ago)\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"(?<![\w'’])(I|I'm|I’m|I've|I’ve|I'd|I’d|me|my|mine|myself)(?![\w'’])")
# "Amelia's mum", "Oliver Brown’s dad": a pupil named through their family.
_FAMILY_OF = re.compile(
    r"\b([A-Z][a-z]+(?: [A-Z][a-z'-]+)?)['’]s (mum|mom|dad|mother|father|parents?|carers?|"
    r"family|grandparents?|gran|nan|brother|sister|sibling|report|record)\b")


def absolute_times(value: str, answers: Any = None, ctx: Context | None = None) -> str | None:
    match = _RELATIVE.search(value)
    if match is None:
        return None
    return _refused("relative", match.group(0))


def third_person(value: str, answers: Any = None, ctx: Context | None = None) -> str | None:
    match = _FIRST_PERSON.search(value)
    if match is None:
        return None
    return _refused("first_person", match.group(0))


def names_no_one(value: str, answers: Any, ctx: Context) -> str | None:
    """Refuse text that names a pupil, a member of staff or a family the school knows."""
    found = _FAMILY_OF.search(value)
    if found:
        return _refused("family", found.group(0))
    lowered = f" {_words(value)} "
    for name in _known_names(ctx):
        if f" {name} " in lowered:
            return _refused("known", name.title())
    return None


def _known_names(ctx: Context) -> list[str]:
    """Full names the school holds: its people, and pupils in the consent register."""
    from workflows.consent.models import Pupil
    from workflows.people.models import Person

    people = ctx.session.exec(select(Person.name).where(Person.school_id == ctx.school.id))
    pupils = ctx.session.exec(
        select(Pupil.legal_first, Pupil.preferred_name, Pupil.legal_last)
        .where(Pupil.school_id == ctx.school.id, col(Pupil.left_at).is_(None)))
    names = {_words(n) for n in people}
    for first, preferred, surname in pupils:
        for given in {first, preferred} - {None}:
            names.add(_words(f"{given} {surname}"))
    return sorted(n for n in names if " " in n)  # a single word is too common to refuse


def _words(text: str) -> str:
    return " ".join(re.findall(r"[\w-]+", text.lower()))


LETTER_TEXT = (absolute_times, names_no_one)
REPORT_TEXT = (absolute_times, third_person, names_no_one)


def _refused(reason: str, found: str) -> str:
    return render("outward/refused.txt.j2", reason=reason, found=found)
