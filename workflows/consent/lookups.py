"""Answering "can I use this photo?" for a pupil or a class, in chat or from a form.

Answers are personal data about children: only staff who may look pupils up get them
(``access``), every lookup is audited, and replies are plain UI objects for the asker alone
(the adapters send them privately: a DM, an ephemeral message, a personal card).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from workflows.audit import service as audit
from workflows.consent import matching
from workflows.consent.access import require_lookup
from workflows.consent.models import ConsentCategory, ConsentImport, Pupil
from workflows.consent.register import (
    ALL_USES,
    held_answers,
    held_key,
    latest_import,
    name_index,
    resolve_use,
)
from workflows.consent.settings import categories, validity_months
from workflows.consent.verdicts import Verdict, verdict
from workflows.core.context import Context
from workflows.core.fields import Choice, Field, Form, Kind
from workflows.core.ui import Reply, Table, Text
from workflows.core.wording import render
from workflows.database import saved_id


def where(pupil: Pupil) -> str:
    year = pupil.year_group
    year = f"Year {year}" if year.isdigit() else year
    return ", ".join(part for part in (pupil.reg_class, year) if part) or "no class"


def _line(line: str, **facts: Any) -> str:
    """A title or line of an answer, worded by its template."""
    return render("consent/lines.txt.j2", line=line, **facts)


def _none(what: str, **values: Any) -> list[Reply]:
    return [Text(render("messages/consent_none.txt.j2", what=what, **values), "warning")]


def _source(ctx: Context, record: ConsentImport, pending: bool) -> Text:
    return Text(render("messages/consent_source.txt.j2", at=record.at.astimezone(ctx.tz),
                       file=record.file_name, pending=pending))


@dataclass(frozen=True)
class Asked:
    record: ConsentImport  # the latest import: what every answer is based on
    categories: dict[str, ConsentCategory]
    chosen: list[ConsentCategory]  # the use named, or every use


def asked_about(ctx: Context, use: str | None, allow_all: bool = False) -> Asked | list[Reply]:
    """The register and the uses a question is about, or the replies saying what is missing."""
    record = latest_import(ctx.session, ctx.school_id)
    if record is None:
        return _none("no_import")
    cats = categories(ctx.session, ctx.school)
    if not use or (allow_all and matching.fold(use) in ALL_USES):
        return Asked(record, cats, list(cats.values()))
    category = resolve_use(use, cats)
    if category is None:
        return _none("no_use", query=use, uses=", ".join(c.label for c in cats.values()))
    return Asked(record, cats, [category])


def pick(ctx: Context, record: ConsentImport, query: str, action: str) -> Pupil | list[Reply]:
    """The one pupil meant, or the replies that say none or which (audited either way)."""
    ids = name_index(ctx.session, ctx.school_id, record).find(query)
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


def _grouped(judged: list[tuple[ConsentCategory, Verdict]],
             every: int) -> list[tuple[str, Verdict]]:
    """The uses that share one answer and one reason, named together ("every use" when they
    are all of them), so a reason reads once per pupil rather than once per use."""
    groups: dict[tuple[bool, str], list[tuple[ConsentCategory, Verdict]]] = {}
    for category, v in judged:
        groups.setdefault((v.ok, v.reason), []).append((category, v))
    return [(_line("every_use") if len(same) == every else ", ".join(c.label for c, _ in same),
             same[0][1]) for same in groups.values()]


def answer(ctx: Context, name: str, use: str | None = None) -> list[Reply]:
    """One pupil: yes or no for one use, or every use when none is named."""
    require_lookup(ctx)
    asked = asked_about(ctx, use)
    if not isinstance(asked, Asked):
        return asked
    record, cats = asked.record, asked.categories
    category = asked.chosen[0] if use else None
    picked = pick(ctx, record, name, "consent.lookup")
    if not isinstance(picked, Pupil):
        return picked
    pupil = picked
    audit.record(ctx, "consent.viewed", "pupil", pupil.id, pupil.mis_id,
                 use=category.key if category else "all")
    held = held_answers(ctx.session, [saved_id(pupil)])
    months, today = validity_months(ctx.session, ctx.school), ctx.today
    pending = any(c.pending_mis for c in held.values())
    if category is not None:
        v = verdict(pupil, held.get(held_key(pupil, category)), months, today)
        text = render("messages/consent_answer.txt.j2", ok=v.ok, kind=v.kind, reason=v.reason,
                      who=pupil.display_name, where=where(pupil), use=category.label)
        return [Text(text, "success" if v.ok else "error"), _source(ctx, record, pending)]
    judged = [(c, verdict(pupil, held.get(held_key(pupil, c)), months, today))
              for c in cats.values()]
    groups = _grouped(judged, len(cats))
    if len(groups) == 1:  # the same for every use (the flag, an old form): said once
        v = groups[0][1]
        text = render("messages/consent_answer.txt.j2", ok=v.ok, kind=v.kind, reason=v.reason,
                      who=pupil.display_name, where=where(pupil), use=groups[0][0])
        return [Text(text, "success" if v.ok else "error"), _source(ctx, record, pending)]
    rows = tuple((c.label, "yes" if v.ok else "NO", v.reason) for c, v in judged)
    return [Table(title=_line("pupil_title", who=pupil.display_name, where=where(pupil)),
                  columns=("Use", "Answer", "Why"), rows=rows),
            _source(ctx, record, pending)]


# What "class photo 4B" is for when no use is named: the external photographer's use, as
# register.USE_WORDS reads the word.
CLASS_PHOTO = "photographer"


def class_answer(ctx: Context, reg_class: str, use: str | None = None,
                 photo: bool = False) -> list[Reply]:
    """A class: for the use asked about, the pupils to leave out, with the reason for each.

    A class photo with no use named is for the photographer's use, and says so; asked about
    every use, each pupil's noes are listed by use, since a pupil left out of the website may
    well be in the class photo.
    """
    require_lookup(ctx)
    asked = asked_about(ctx, use)
    if not isinstance(asked, Asked):
        return asked
    record, chosen = asked.record, asked.chosen
    assumed = resolve_use(CLASS_PHOTO, asked.categories) if photo and not use else None
    if assumed is not None:
        chosen = [assumed]
    index = name_index(ctx.session, ctx.school_id, record)
    wanted = index.folded_classes.get(matching.fold(reg_class))
    if wanted is None:
        return _none("no_class", query=reg_class,
                     classes=", ".join(sorted(index.classes)) or "none")
    # Only that class is loaded: a secondary has thousands on roll and thirty in a form.
    members = list(ctx.session.exec(
        select(Pupil).where(Pupil.school_id == ctx.school_id, Pupil.reg_class == wanted,
                            col(Pupil.left_at).is_(None))
        .order_by(col(Pupil.legal_last), col(Pupil.legal_first))))
    held = held_answers(ctx.session, [saved_id(p) for p in members], chosen)
    months, today = validity_months(ctx.session, ctx.school), ctx.today
    one = len(chosen) == 1
    out: list[tuple[bool, str, str]] = []
    for p in members:
        refused = [(c, v) for c in chosen
                   if not (v := verdict(p, held.get(held_key(p, c)), months, today)).ok]
        if not refused:
            continue
        if p.no_photos or one:
            why = refused[0][1].reason
        else:
            why = "; ".join(f"{uses}: {v.reason}" for uses, v in _grouped(refused, len(chosen)))
        out.append((not p.no_photos, p.display_name, why))
    out.sort()  # safeguarding first, then by name
    audit.record(ctx, "consent.class_viewed", "class", None, wanted[:32],
                 use=chosen[0].key if one else "all", pupils=[p.mis_id for p in members])
    facts = {"reg_class": wanted, "use": chosen[0].label if one else None}
    pending = any(c.pending_mis for c in held.values())
    replies: list[Reply] = []
    if assumed is not None:
        replies.append(Text(_line("assumed_use", use=assumed.label, reg_class=wanted)))
    return [
        *replies,
        Table(title=_line("class_title", left_out=len(out), pupils=len(members), **facts),
              columns=("Pupil", "Why" if one else "Not for, and why"),
              rows=tuple((n, w) for _, n, w in out), empty=_line("class_empty", **facts)),
        _source(ctx, record, pending),
    ]


EVERY_USE = "all"


def question_form(ctx: Context) -> Form:
    """The consent question as a form, with this school's uses; refused without permission."""
    require_lookup(ctx)
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
    if record is not None and matching.fold(who) in name_index(
            ctx.session, ctx.school_id, record).folded_classes:
        return class_answer(ctx, who, use)
    return answer(ctx, who, use)


def consent_lookup(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    # "Amelia's photo" is Amelia.
    name = re.sub(r"(?:'s|’s)(?: photos?| pictures?| images?)?$", "", match.group("name"))
    return answer(ctx, name, match.groupdict().get("use"))


def consent_class(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    return class_answer(ctx, match.group("cls"), match.groupdict().get("use"),
                        photo=(match.groupdict().get("what") or "").startswith("photo"))
