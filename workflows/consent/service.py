"""Answering "can I use this photo?" from the imported register, and recording withdrawals.

Answers are personal data about children: only people with the consent permission get them,
every lookup is audited, and replies are plain UI objects for the asker alone (the adapters
send them privately: a DM, an ephemeral message, a personal card).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from workflows.audit import service as audit
from workflows.audit.models import AuditEvent
from workflows.consent import matching
from workflows.consent.models import (
    DEFAULT_CATEGORIES,
    DEFAULT_VALIDITY_MONTHS,
    Consent,
    ConsentCategory,
    ConsentChange,
    ConsentImport,
    ConsentSetting,
    Pupil,
    Source,
    Status,
)
from workflows.core.context import Context
from workflows.core.export import plain
from workflows.core.fields import Choice, Field, Form, Kind
from workflows.core.ui import Reply, Table, Text
from workflows.core.wording import render
from workflows.database import saved_id, utcnow
from workflows.notifications import service as notifications
from workflows.people import service as people
from workflows.people.permissions import Permission, PermissionDenied, can
from workflows.schools.models import School

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


# --- settings -------------------------------------------------------------------------------

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


class SettingRefused(Exception):
    """A consent setting that cannot be made; the message says why and what to do."""


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
        raise SettingRefused(f"{months} months is not a validity period: give 1 to 120 "
                             "(most schools renew every 12 months).")
    school_id = saved_id(school)
    setting = session.get(ConsentSetting, school_id) or ConsentSetting(school_id=school_id)
    before = setting.validity_months
    setting.validity_months = months
    session.add(setting)
    _settings_changed(session, school, by_name, "validity", before=before, after=months)


def _label(label: str) -> str:
    label = " ".join(label.split())
    if not label or len(label) > 200:
        raise SettingRefused("Give the use in words, up to 200 characters, e.g. "
                             "\"the school's Instagram account\".")
    return label


def add_category(session: Session, school: School, key: str, label: str,
                 by_name: str) -> ConsentCategory:
    """A use of photos the school asks parents about, beyond DOMAIN.md 4's defaults."""
    cats = categories(session, school)
    if not KEY.fullmatch(key):
        raise SettingRefused(f"“{key}” cannot be a key: use lower-case letters, digits and _, "
                             "starting with a letter, up to 32 (e.g. instagram).")
    if key in cats:
        raise SettingRefused(f"{key} is already a use: {cats[key].label}. Rename it instead.")
    category = ConsentCategory(school_id=saved_id(school), key=key, label=_label(label),
                               position=max((c.position for c in cats.values()), default=-1) + 1)
    session.add(category)
    _settings_changed(session, school, by_name, "added", key=key, label=category.label)
    session.flush()
    return category


def _existing(session: Session, school: School, key: str) -> ConsentCategory:
    cats = categories(session, school)
    if key not in cats:
        raise SettingRefused(f"No use called {key}. This school's uses are: {', '.join(cats)}.")
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
        raise SettingRefused(f"{key} is the school's only use; add another before removing it.")
    answers = session.exec(select(func.count(col(Consent.id))).where(
        Consent.category_id == category.id)).one()
    history = session.exec(select(func.count(col(ConsentChange.id))).where(
        ConsentChange.category_id == category.id)).one()
    if answers or history:
        raise SettingRefused(
            f"{key} has {answers:,} answers and {history:,} changes recorded; the record of "
            "who consented to what is kept, so it cannot be removed. Rename it if its wording "
            "changed.")
    session.delete(category)
    _settings_changed(session, school, by_name, "removed", key=key, label=category.label)


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


# --- the verdict ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    ok: bool
    kind: str  # given, refused, not_asked, withdrawn, expired, safeguarding
    on: date | None = None
    by: str | None = None
    pending: bool = False
    months: int = DEFAULT_VALIDITY_MONTHS

    @property
    def reason(self) -> str:
        # Worded only when shown, and once per wording: a class answer judges every pupil,
        # and most share a handful of reasons and dates.
        return _reason(self.kind, self.on, self.by, self.pending, self.months)


@lru_cache(maxsize=4096)
def _reason(kind: str, on: date | None, by: str | None, pending: bool, months: int) -> str:
    return render("messages/consent_reason.txt.j2", kind=kind, on=on, by=by, pending=pending,
                  months=months)


@lru_cache(maxsize=4096)
def _expires(given_on: date, months: int) -> date:
    return given_on + relativedelta(months=months)


def verdict(pupil: Pupil, consent: Any, months: int, today: date) -> Verdict:
    """Yes or no for one use, with the reason; the safeguarding flag overrides everything."""
    def said(kind: str, ok: bool = False, **values: Any) -> Verdict:
        return Verdict(ok, kind, months=months, **values)

    if pupil.no_photos:
        return said("safeguarding")
    if consent is None or consent.status == Status.NOT_ASKED:
        return said("not_asked")
    if consent.status == Status.REFUSED:
        return said("refused", on=consent.given_on)
    if consent.status == Status.WITHDRAWN:
        return said("withdrawn", on=consent.withdrawn_on, pending=consent.pending_mis)
    if consent.given_on and _expires(consent.given_on, months) < today:
        return said("expired", on=consent.given_on)
    return said("given", ok=True, on=consent.given_on, by=consent.given_by)


# --- lookups --------------------------------------------------------------------------------

def _where(pupil: Pupil) -> str:
    year = pupil.year_group
    year = f"Year {year}" if year.isdigit() else year
    return ", ".join(part for part in (pupil.reg_class, year) if part) or "no class"


def _current(session: Session, school_id: int) -> list[Pupil]:
    return list(session.exec(select(Pupil).where(
        Pupil.school_id == school_id, col(Pupil.left_at).is_(None)).order_by(
        col(Pupil.legal_last), col(Pupil.legal_first))))


def _consents(session: Session, pupil_ids: list[int]) -> dict[tuple[int, int], Consent]:
    """The answers held for these pupils, as records to change (a withdrawal, an export)."""
    if not pupil_ids:
        return {}
    return {(c.pupil_id, c.category_id): c for c in session.exec(
        select(Consent).where(col(Consent.pupil_id).in_(pupil_ids)))}


def _held(session: Session, pupil_ids: list[int],
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


def _key(pupil: Pupil, category: ConsentCategory) -> tuple[int, int]:
    """Where a pupil's answer for a use is held (both rows come from the database)."""
    return saved_id(pupil), saved_id(category)


def _none(what: str, **values: Any) -> list[Reply]:
    return [Text(render("messages/consent_none.txt.j2", what=what, **values), "warning")]


def _source(ctx: Context, record: ConsentImport, pending: bool) -> Text:
    return Text(render("messages/consent_source.txt.j2", at=record.at.astimezone(ctx.tz),
                       file=record.file_name, pending=pending))


def _require_lookup(ctx: Context) -> None:
    if not can(ctx.person, Permission.CONSENT_LOOKUP):
        audit.record(ctx, "consent.refused", "pupil")
        raise PermissionDenied(render("messages/consent_none.txt.j2", what="denied"))


_INDEXES: dict[tuple[Any, ...], matching.NameIndex[int]] = {}


def _index(session: Session, school_id: int,
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


@dataclass(frozen=True)
class _Asked:
    record: ConsentImport  # the latest import: what every answer is based on
    categories: dict[str, ConsentCategory]
    chosen: list[ConsentCategory]  # the use named, or every use


def _asked(ctx: Context, use: str | None, allow_all: bool = False) -> _Asked | list[Reply]:
    """The register and the uses a question is about, or the replies saying what is missing."""
    record = latest_import(ctx.session, ctx.school_id)
    if record is None:
        return _none("no_import")
    cats = categories(ctx.session, ctx.school)
    if not use or (allow_all and matching.fold(use) in ALL_USES):
        return _Asked(record, cats, list(cats.values()))
    category = resolve_use(use, cats)
    if category is None:
        return _none("no_use", query=use, uses=", ".join(c.label for c in cats.values()))
    return _Asked(record, cats, [category])


def _pick(ctx: Context, record: ConsentImport, query: str, action: str) -> Pupil | list[Reply]:
    """The one pupil meant, or the replies that say none or which (audited either way)."""
    ids = _index(ctx.session, ctx.school_id, record).find(query)
    by_id = {p.id: p for p in ctx.session.exec(select(Pupil).where(col(Pupil.id).in_(ids)))}
    found = [by_id[i] for i in ids if i in by_id]
    if not found:
        audit.record(ctx, f"{action}_not_found", "pupil", query=query)
        return _none("no_pupil", query=query)
    if len(found) > 1:
        audit.record(ctx, f"{action}_ambiguous", "pupil", query=query,
                     shown=[p.mis_id for p in found])
        first = found[0]
        return [
            Text(render("messages/consent_which.txt.j2", count=len(found), query=query,
                        example=f"{first.first} in {first.reg_class}"), "warning"),
            Table(title="Pupils with that name", columns=("Pupil", "Class", "Year"),
                  rows=tuple((p.display_name, p.reg_class, p.year_group) for p in found)),
        ]
    return found[0]


def answer(ctx: Context, name: str, use: str | None = None) -> list[Reply]:
    """One pupil: yes or no for one use, or every use when none is named."""
    _require_lookup(ctx)
    asked = _asked(ctx, use)
    if not isinstance(asked, _Asked):
        return asked
    record, cats = asked.record, asked.categories
    category = asked.chosen[0] if use else None
    picked = _pick(ctx, record, name, "consent.lookup")
    if not isinstance(picked, Pupil):
        return picked
    pupil = picked
    audit.record(ctx, "consent.viewed", "pupil", pupil.id, pupil.mis_id,
                 use=category.key if category else "all")
    held = _held(ctx.session, [saved_id(pupil)])
    months, today = validity_months(ctx.session, ctx.school), ctx.today
    pending = any(c.pending_mis for c in held.values())
    if category is not None:
        v = verdict(pupil, held.get(_key(pupil, category)), months, today)
        text = render("messages/consent_answer.txt.j2", ok=v.ok, kind=v.kind, reason=v.reason,
                      who=pupil.display_name, where=_where(pupil), use=category.label)
        return [Text(text, "success" if v.ok else "error"), _source(ctx, record, pending)]
    rows = []
    for c in cats.values():
        v = verdict(pupil, held.get(_key(pupil, c)), months, today)
        rows.append((c.label, "yes" if v.ok else "NO", v.reason))
    replies: list[Reply] = []
    if pupil.no_photos:
        replies.append(Text(f"{pupil.display_name}: {rows[0][2]}.", "error"))
    replies += [Table(title=f"Photo consent: {pupil.display_name} ({_where(pupil)})",
                      columns=("Use", "Answer", "Why"), rows=tuple(rows)),
                _source(ctx, record, pending)]
    return replies


def class_answer(ctx: Context, reg_class: str, use: str | None = None) -> list[Reply]:
    """A class: the pupils to leave out (of one use, or of any), with the reason for each."""
    _require_lookup(ctx)
    asked = _asked(ctx, use)
    if not isinstance(asked, _Asked):
        return asked
    record, chosen = asked.record, asked.chosen
    index = _index(ctx.session, ctx.school_id, record)
    wanted = index.folded_classes.get(matching.fold(reg_class))
    if wanted is None:
        return _none("no_class", query=reg_class,
                     classes=", ".join(sorted(index.classes)) or "none")
    # Only that class is loaded: a secondary has thousands on roll and thirty in a form.
    members = list(ctx.session.exec(
        select(Pupil).where(Pupil.school_id == ctx.school_id, Pupil.reg_class == wanted,
                            col(Pupil.left_at).is_(None))
        .order_by(col(Pupil.legal_last), col(Pupil.legal_first))))
    held = _held(ctx.session, [saved_id(p) for p in members], chosen)
    months, today = validity_months(ctx.session, ctx.school), ctx.today
    out: list[tuple[bool, str, str]] = []
    for p in members:
        verdicts = [(c, verdict(p, held.get(_key(p, c)), months, today)) for c in chosen]
        refused = [(c, v) for c, v in verdicts if not v.ok]
        if not refused:
            continue
        if p.no_photos or len(chosen) == 1:
            why = refused[0][1].reason
        else:
            why = "; ".join(f"{c.label}: {v.reason}" for c, v in refused)
        out.append((not p.no_photos, p.display_name, why))
    out.sort()  # safeguarding first, then by name
    audit.record(ctx, "consent.class_viewed", "class", None, wanted[:32],
                 use=chosen[0].key if use else "all", pupils=[p.mis_id for p in members])
    what = chosen[0].label if use else "any use"
    pending = any(c.pending_mis for c in held.values())
    return [
        Table(title=f"{wanted}: leave out of {what} ({len(out)} of {len(members)} pupils)",
              columns=("Pupil", "Why"), rows=tuple((n, w) for _, n, w in out),
              empty=f"Nobody in {wanted} needs leaving out of {what}."),
        _source(ctx, record, pending),
    ]


# --- from a form (a Slack modal, a Teams card) ---------------------------------------------

EVERY_USE = "all"


def question_form(ctx: Context) -> Form:
    """The consent question as a form, with this school's uses; refused without permission."""
    _require_lookup(ctx)
    uses = (Choice(EVERY_USE, "Every use"), *(
        Choice(c.key, c.label) for c in categories(ctx.session, ctx.school).values()))
    return Form((
        Field("who", Kind.TEXT, "Pupil or class", "Which pupil, or which class?",
              help="A name as you would say it (Amelia, Amelia Smith in 4B), or a class (4B).",
              max_length=100),
        Field("use", Kind.CHOICE, "Use", "For what use?", choices=uses),
    ))


def ask(ctx: Context, raw: dict[str, str]) -> list[Reply]:
    """The answer to a submitted consent form: one pupil or a whole class, one use or all."""
    values = question_form(ctx).parse_all(raw, ctx)
    who, use = values["who"], None if values["use"] == EVERY_USE else values["use"]
    record = latest_import(ctx.session, ctx.school_id)
    if record is not None and matching.fold(who) in _index(
            ctx.session, ctx.school_id, record).folded_classes:
        return class_answer(ctx, who, use)
    return answer(ctx, who, use)


# --- withdrawal in chat ---------------------------------------------------------------------

def withdraw(ctx: Context, name: str, use: str) -> list[Reply]:
    """A parent told a teacher: the answer changes now, and the DPO is asked to fix the MIS.

    Anyone on the staff may record it (withdrawing must be as easy as giving, Art 7(3)). But
    only someone who may look pupils up is told which pupil it was, or that the name matched
    none or several: to anyone else every withdrawal gets the same answer, so the sentence
    cannot be used to learn who is on roll, in which class, or flagged. A name that does not
    match exactly one pupil goes to the DPO team to match.
    """
    if not ctx.person.active:
        raise PermissionDenied("Your account is not active.")
    asked = _asked(ctx, use, allow_all=True)
    if not isinstance(asked, _Asked):
        return asked
    chosen, cats = asked.chosen, asked.categories
    uses = ", ".join(c.label for c in chosen) if len(chosen) < len(cats) else "every use"
    if not can(ctx.person, Permission.CONSENT_LOOKUP):
        return _withdraw_privately(ctx, asked, name, uses)
    picked = _pick(ctx, asked.record, name, "consent.withdraw")
    if not isinstance(picked, Pupil):
        return picked
    _record_withdrawal(ctx, picked, chosen, uses)
    return [Text(render("messages/consent_withdrawn.txt.j2", who=picked.display_name,
                        where=_where(picked), uses=uses, on=ctx.today, count=len(chosen)),
                 "success")]


def _withdraw_privately(ctx: Context, asked: _Asked, name: str, uses: str) -> list[Reply]:
    """For someone who may not look pupils up: recorded at once if the name is one pupil's,
    else passed to the DPO team with the name as typed; the answer is the same either way."""
    ids = _index(ctx.session, ctx.school_id, asked.record).find(name)
    if len(ids) == 1:
        _record_withdrawal(ctx, ctx.session.get_one(Pupil, ids[0]), asked.chosen, uses)
    else:
        audit.record(ctx, "consent.withdrawal_passed_on", "pupil", query=name,
                     matches=len(ids), uses=[c.key for c in asked.chosen])
        said = hashlib.sha256(matching.fold(name).encode()).hexdigest()[:12]
        notifications.queue(
            ctx.session, school_id=ctx.school_id, people=_team(ctx), by=ctx.person.id,
            kind="consent.withdrawal_to_match",
            key=f"consent-withdrawal-to-match:{said}:{'-'.join(c.key for c in asked.chosen)}"
                f":{ctx.today}",
            text=render("messages/consent_withdrawal_to_match.txt.j2", actor=ctx.person.name,
                        uses=uses, query=name, matches=len(ids), on=ctx.today),
        )
    return [Text(render("messages/consent_withdrawal_passed_on.txt.j2", query=name,
                        uses=uses), "success")]


def _record_withdrawal(ctx: Context, pupil: Pupil, chosen: list[ConsentCategory],
                       uses: str) -> None:
    """The pupil's consent for the uses is withdrawn from today, and the DPO team is told."""
    pupil_id = saved_id(pupil)
    held = _consents(ctx.session, [pupil_id])
    today = ctx.today
    for category in chosen:
        category_id = saved_id(category)
        consent = held.get((pupil_id, category_id))
        if consent is None:
            consent = Consent(school_id=ctx.school_id, pupil_id=pupil_id,
                              category_id=category_id)
            ctx.session.add(consent)
        if consent.status == Status.WITHDRAWN and consent.pending_mis:
            continue  # told twice (or a retried message): once is recorded
        old = consent.status if consent.id is not None else None
        consent.status, consent.withdrawn_on = Status.WITHDRAWN, today
        consent.source, consent.pending_mis, consent.updated_at = Source.CHAT, True, ctx.now
        ctx.session.add(ConsentChange(
            school_id=ctx.school_id, pupil_id=pupil_id, category_id=category_id, at=ctx.now,
            old_status=old, new_status=Status.WITHDRAWN, source=Source.CHAT,
            by_id=ctx.person.id, by_name=ctx.person.name,
            note="a parent's withdrawal, told to staff; not yet in the MIS"))
    ctx.session.flush()
    audit.record(ctx, "consent.withdrawn", "pupil", pupil.id, pupil.mis_id,
                 uses=[c.key for c in chosen])
    notifications.queue(
        ctx.session, school_id=ctx.school_id, people=_team(ctx), kind="consent.withdrawn",
        by=ctx.person.id,
        key=f"consent-withdrawn:{pupil.id}:{'-'.join(c.key for c in chosen)}:{today}",
        text=render("messages/consent_withdrawal_notice.txt.j2", actor=ctx.person.name,
                    uses=uses, who=pupil.display_name, where=_where(pupil),
                    mis_id=pupil.mis_id, on=today),
    )


def _team(ctx: Context) -> list[int]:
    """Who is told of a withdrawal: the DPO team."""
    return [saved_id(p) for p in people.decision_makers(ctx.session, ctx.school_id)]


# --- export ---------------------------------------------------------------------------------

def export_rows(session: Session, school: School, actor: str) -> list[dict[str, Any]]:
    """The register as held now, one row per pupil and use, with the answer the bot gives."""
    cats = categories(session, school)
    school_id = saved_id(school)
    pupils = _current(session, school_id)
    held = _consents(session, [saved_id(p) for p in pupils])
    months = validity_months(session, school)
    today = utcnow().date()
    record = latest_import(session, school_id)
    rows = []
    for p in pupils:
        for c in cats.values():
            consent = held.get(_key(p, c))
            v = verdict(p, consent, months, today)
            rows.append({
                "mis_id": p.mis_id, "legal_first": p.legal_first, "legal_last": p.legal_last,
                "preferred_name": p.preferred_name, "year_group": p.year_group,
                "reg_class": p.reg_class, "no_photos": p.no_photos, "use": c.key,
                "status": consent.status if consent else Status.NOT_ASKED,
                "given_on": consent.given_on if consent else None,
                "given_by": consent.given_by if consent else None,
                "withdrawn_on": consent.withdrawn_on if consent else None,
                "source": consent.source if consent else None,
                "not_yet_in_mis": bool(consent and consent.pending_mis),
                "answer": "yes" if v.ok else "no", "reason": v.reason,
                "imported_at": record.at if record else None,
            })
    session.add(AuditEvent(school_id=school_id, at=utcnow(), actor_name=actor, adapter="cli",
                           action="consent.exported", subject_type="consent",
                           detail={"count": len(rows)}))
    return [{k: plain(v) for k, v in row.items()} for row in rows]


# --- chat handlers (patterns registered in workflows.core.chat) ------------------------------

def consent_lookup(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    # "Amelia's photo" is Amelia.
    name = re.sub(r"(?:'s|’s)(?: photos?| pictures?| images?)?$", "", match.group("name"))
    return answer(ctx, name, match.groupdict().get("use"))


def consent_class(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    return class_answer(ctx, match.group("cls"), match.groupdict().get("use"))


def consent_withdraw(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    return withdraw(ctx, match.group("name"), match.group("use"))
