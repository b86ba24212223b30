"""The school's consent settings: the uses of photos it asks parents about, and how long a
"yes" lasts. Every change is audited; a use with recorded answers is never removed."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, col, func, select

from workflows.audit.models import AuditEvent
from workflows.consent.models import (
    DEFAULT_CATEGORIES,
    DEFAULT_VALIDITY_MONTHS,
    Consent,
    ConsentCategory,
    ConsentChange,
    ConsentSetting,
)
from workflows.core.wording import render
from workflows.database import saved_id, utcnow
from workflows.schools.models import School


def categories(session: Session, school: School) -> dict[str, ConsentCategory]:
    """The school's consent categories, created from DOMAIN.md 4's defaults on first use."""
    school_id = saved_id(school)
    found = list(session.exec(select(ConsentCategory).where(
        ConsentCategory.school_id == school_id).order_by(col(ConsentCategory.position))))
    if not found:
        found = [ConsentCategory(school_id=school_id, key=k, label=label, position=i)
                 for i, (k, label) in enumerate(DEFAULT_CATEGORIES)]
        session.add_all(found)
        session.flush()
    return {c.key: c for c in found}


def validity_months(session: Session, school: School) -> int:
    setting = session.get(ConsentSetting, school.id)
    return setting.validity_months if setting else DEFAULT_VALIDITY_MONTHS


def lookups_restricted(session: Session, school: School) -> bool:
    """Whether only a list of staff may look pupils up (DOMAIN.md 4: all staff by default)."""
    setting = session.get(ConsentSetting, school.id)
    return setting.lookups_restricted if setting else False


def set_lookups_restricted(session: Session, school: School, restricted: bool,
                           by_name: str = "setup") -> None:
    """Open lookups to every member of staff, or restrict them to the DPO team and the people
    given `--consent`."""
    school_id = saved_id(school)
    setting = session.get(ConsentSetting, school_id) or ConsentSetting(school_id=school_id)
    before = setting.lookups_restricted
    setting.lookups_restricted = restricted
    session.add(setting)
    if before != restricted:
        _settings_changed(session, school, by_name, "lookups",
                          before="listed" if before else "everyone",
                          after="listed" if restricted else "everyone")


class SettingRefused(Exception):
    """A consent setting that cannot be made; the message says why and what to do."""


def _refused(reason: str, **facts: Any) -> SettingRefused:
    return SettingRefused(render("consent/setting_refused.txt.j2", reason=reason, **facts))


KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")


def _settings_changed(session: Session, school: School, by_name: str, action: str,
                      **detail: Any) -> None:
    school_id = saved_id(school)
    session.add(AuditEvent(school_id=school_id, at=utcnow(), actor_name=by_name, adapter="cli",
                           action=f"consent.settings.{action}", subject_type="consent_setting",
                           subject_id=school_id, subject_ref=None, detail=detail))


def set_validity_months(session: Session, school: School, months: int,
                        by_name: str = "setup") -> None:
    """How long a "yes" lasts; older answers count as not given (DOMAIN.md 4)."""
    if not 1 <= months <= 120:
        raise _refused("validity", months=months)
    school_id = saved_id(school)
    setting = session.get(ConsentSetting, school_id) or ConsentSetting(school_id=school_id)
    before = setting.validity_months
    setting.validity_months = months
    session.add(setting)
    _settings_changed(session, school, by_name, "validity", before=before, after=months)


def _label(label: str) -> str:
    label = " ".join(label.split())
    if not label or len(label) > 200:
        raise _refused("label")
    return label


def add_category(session: Session, school: School, key: str, label: str,
                 by_name: str) -> ConsentCategory:
    """A use of photos the school asks parents about, beyond DOMAIN.md 4's defaults."""
    cats = categories(session, school)
    if not KEY.fullmatch(key):
        raise _refused("bad_key", key=key)
    if key in cats:
        raise _refused("duplicate", key=key, label=cats[key].label)
    category = ConsentCategory(school_id=saved_id(school), key=key, label=_label(label),
                               position=max((c.position for c in cats.values()), default=-1) + 1)
    session.add(category)
    _settings_changed(session, school, by_name, "added", key=key, label=category.label)
    session.flush()
    return category


def _existing(session: Session, school: School, key: str) -> ConsentCategory:
    cats = categories(session, school)
    if key not in cats:
        raise _refused("no_such_use", key=key, keys=list(cats))
    return cats[key]


def rename_category(session: Session, school: School, key: str, label: str,
                    by_name: str) -> ConsentCategory:
    """New words for a use (as the school's form words it); its answers stay with it."""
    category = _existing(session, school, key)
    before, category.label = category.label, _label(label)
    session.add(category)
    _settings_changed(session, school, by_name, "renamed", key=key, before=before,
                      after=category.label)
    return category


def remove_category(session: Session, school: School, key: str, by_name: str) -> None:
    """A use no longer asked about, if nothing was ever recorded for it.

    The history of who consented to what is kept (Art 7(1)), so a use with answers stays.
    """
    category = _existing(session, school, key)
    if len(categories(session, school)) == 1:
        raise _refused("only_use", key=key)
    answers = session.exec(select(func.count(col(Consent.id))).where(
        Consent.category_id == category.id)).one()
    history = session.exec(select(func.count(col(ConsentChange.id))).where(
        ConsentChange.category_id == category.id)).one()
    if answers or history:
        raise _refused("has_answers", key=key, answers=answers, history=history)
    session.delete(category)
    _settings_changed(session, school, by_name, "removed", key=key, label=category.label)
