"""Finding a product by name or website, forgivingly: in the register and in open requests.

“TT Rockstars”, “ttrockstars.co.uk” and a close misspelling all find the same product, so a
teacher asking about an app is never told it is unknown because of how it was typed.
"""

from __future__ import annotations

import difflib
import re
from typing import TypeVar

from sqlmodel import Session, col, select

from workflows.core.fields import UNKNOWN
from workflows.core.text import fold
from workflows.software.models import RequestState, Software, SoftwareRequest, Status

OPEN_STATES = frozenset({RequestState.AWAITING, RequestState.MORE_INFO})

_Row = TypeVar("_Row", Software, SoftwareRequest)


def name_key(name: str) -> str:
    """“TT Rockstars”, “tt rock-stars” and “TTRockStars” are one product."""
    return fold(name, words=True).replace(" ", "")


def domain(text: str | None) -> str | None:
    """The website's host without “www.”: “https://www.ixl.com/uk” is “ixl.com”."""
    if not text or text == UNKNOWN:
        return None
    match = re.match(r"^(?:[a-z]+://)?(?:www\.)?([a-z0-9.-]+\.[a-z]{2,})(?:[/:?#].*)?$",
                     text.strip().lower())
    return match.group(1) if match else None


def _similar(a: str, b: str) -> bool:
    return len(a) >= 4 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def _matches(query: str, name: str, website: str | None) -> int:
    """How well ``query`` names a product: 3 exact, 2 website, 1 close, 0 not at all."""
    key, host = name_key(query), domain(query)
    if not key:
        return 0
    if key == name_key(name):
        return 3
    theirs = domain(website)
    if theirs and (host == theirs or key == name_key(theirs.split(".")[0])):
        return 2
    if _similar(key, name_key(name)):
        return 1
    return 0


def _best(query: str, rows: list[_Row], name_attr: str, site_attr: str) -> list[_Row]:
    scored = [(_matches(query, getattr(r, name_attr), getattr(r, site_attr)), r) for r in rows]
    top = max((score for score, _ in scored), default=0)
    return [r for score, r in scored if score and score == top]


def register(session: Session, school_id: int) -> list[Software]:
    return list(session.exec(select(Software).where(Software.school_id == school_id)
                             .order_by(col(Software.name_key))))


def find_in_register(session: Session, school_id: int, query: str) -> list[Software]:
    return _best(query, register(session, school_id), "name", "website")


def find_pending(session: Session, school_id: int, query: str) -> list[SoftwareRequest]:
    rows = list(session.exec(
        select(SoftwareRequest).where(
            SoftwareRequest.school_id == school_id,
            col(SoftwareRequest.state).in_([s.value for s in OPEN_STATES]),
        ).order_by(col(SoftwareRequest.id))))
    return _best(query, rows, "product", "website")


def earlier_rejections(session: Session, school_id: int, product: str) -> list[Software]:
    return [p for p in find_in_register(session, school_id, product)
            if p.status == Status.REJECTED]
