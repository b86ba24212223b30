"""The imported register as the answers read it: the latest import, the pupils on roll, the
answers held, the name index, and the use a question names."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from workflows.consent import matching
from workflows.consent.models import Consent, ConsentCategory, ConsentImport, Pupil
from workflows.database import saved_id

# How teachers name each use in a question; matched after the category keys and labels.
USE_WORDS: dict[str, str] = {
    "display": "displays", "displays": "displays", "wall": "displays",
    "learning records": "displays", "tapestry": "displays",
    "prospectus": "print", "newsletter": "print", "print": "print", "printed": "print",
    "web": "website", "site": "website", "website": "website", "school website": "website",
    "social": "social_media", "social media": "social_media", "facebook": "social_media",
    "instagram": "social_media", "twitter": "social_media", "x": "social_media",
    "video": "video", "film": "video", "videos": "video",
    "press": "press_unnamed", "newspaper": "press_unnamed", "paper": "press_unnamed",
    "local paper": "press_unnamed", "local press": "press_unnamed",
    "press with name": "press_named", "newspaper with name": "press_named",
    "paper with name": "press_named", "press named": "press_named",
    "photographer": "photographer", "class photo": "photographer",
    "school photo": "photographer", "school photographer": "photographer",
    "apps": "apps", "app": "apps", "classdojo": "apps", "class dojo": "apps", "dojo": "apps",
}


ALL_USES = ("all", "everything", "all photos", "photos", "any photos", "all uses")


def latest_import(session: Session, school_id: int) -> ConsentImport | None:
    return session.exec(select(ConsentImport).where(ConsentImport.school_id == school_id)
                        .order_by(col(ConsentImport.at).desc(), col(ConsentImport.id).desc())
                        ).first()


@lru_cache(maxsize=1024)
def _plain_use(words: str) -> str:
    """A use as words to compare: the question and the school's own wording lose the same
    filler words (“the”, “school”, “photos”)."""
    words = matching.fold(words.replace("_", " "))
    words = re.sub(r"^(the|our|a|an) ", "", words)
    words = re.sub(r"^(schools?) ", "", words)
    return re.sub(r" (photos?|pictures?|page|post|account)$", "", words)


def resolve_use(text: str, cats: dict[str, ConsentCategory]) -> ConsentCategory | None:
    """“the website”, “Facebook”, “press_named”: the category meant, or None."""
    words = _plain_use(text)
    for c in cats.values():
        if words in (_plain_use(c.key), _plain_use(c.label)):
            return c
    if words in USE_WORDS and USE_WORDS[words] in cats:
        return cats[USE_WORDS[words]]
    return None


def pupils_on_roll(session: Session, school_id: int) -> list[Pupil]:
    return list(session.exec(select(Pupil).where(
        Pupil.school_id == school_id, col(Pupil.left_at).is_(None)).order_by(
        col(Pupil.legal_last), col(Pupil.legal_first))))


def consents_of(session: Session, pupil_ids: list[int]) -> dict[tuple[int, int], Consent]:
    """The answers held for these pupils, as records to change (a withdrawal, an export)."""
    if not pupil_ids:
        return {}
    return {(c.pupil_id, c.category_id): c for c in session.exec(
        select(Consent).where(col(Consent.pupil_id).in_(pupil_ids)))}


def held_answers(session: Session, pupil_ids: list[int],
          chosen: list[ConsentCategory] | None = None) -> dict[tuple[int, int], Any]:
    """The answers held for these pupils (for the uses ``chosen``, or all), only to read.

    Plain rows with the fields a verdict reads: a class answer reads dozens, and loading
    each as a model object was most of its time.
    """
    if not pupil_ids:
        return {}
    # SQLAlchemy's select: SQLModel's is typed for at most four columns.
    query = sa_select(col(Consent.pupil_id), col(Consent.category_id), col(Consent.status),
                      col(Consent.given_on), col(Consent.given_by), col(Consent.withdrawn_on),
                      col(Consent.pending_mis)).where(col(Consent.pupil_id).in_(pupil_ids))
    if chosen is not None:
        query = query.where(col(Consent.category_id).in_([c.id for c in chosen]))
    return {(c.pupil_id, c.category_id): c for c in session.execute(query)}


def held_key(pupil: Pupil, category: ConsentCategory) -> tuple[int, int]:
    """Where a pupil's answer for a use is held (both rows come from the database)."""
    return saved_id(pupil), saved_id(category)


_INDEXES: dict[tuple[Any, ...], matching.NameIndex[int]] = {}


def name_index(session: Session, school_id: int,
           record: ConsentImport) -> matching.NameIndex[int]:
    """The school's name index as of its latest import (pupils change only by import).

    Keyed by the database, the import and a cheap signature of the current pupils, so an
    import by any process (or any other change to who is on roll) makes every process rebuild.
    """
    # Answered from the index on school_id alone (leavers are marked by imports, which the
    # key already covers): scanning the roll on every question was its slowest statement.
    on_roll = session.exec(
        select(func.count(col(Pupil.id)), func.min(col(Pupil.id)), func.max(col(Pupil.id)))
        .where(Pupil.school_id == school_id)
    ).one()
    key = (str(session.get_bind().engine.url), school_id, record.id, record.at, record.file_name,
           record.rows, record.added, record.changed, *on_roll)
    if key not in _INDEXES:
        rows = session.execute(
            sa_select(col(Pupil.id), col(Pupil.legal_first), col(Pupil.legal_last),
                      col(Pupil.preferred_name), col(Pupil.reg_class))
            .where(col(Pupil.school_id) == school_id, col(Pupil.left_at).is_(None))
            .order_by(col(Pupil.legal_last), col(Pupil.legal_first))
        ).all()
        for stale in [k for k in _INDEXES if k[:2] == key[:2]]:
            del _INDEXES[stale]
        _INDEXES[key] = matching.NameIndex(rows)
    return _INDEXES[key]
