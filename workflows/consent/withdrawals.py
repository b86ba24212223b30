"""A parent's withdrawal told to staff in chat: the answer changes now, and the DPO team is
asked to put it in the MIS (withdrawing must be as easy as giving, Art 7(3))."""

from __future__ import annotations

import hashlib
import re

from workflows.audit import service as audit
from workflows.consent import matching
from workflows.consent.access import may_look_up
from workflows.consent.lookups import Asked, asked_about, pick, where
from workflows.consent.models import Consent, ConsentCategory, ConsentChange, Pupil, Source, Status
from workflows.consent.register import consents_of, name_index
from workflows.core.context import Context
from workflows.core.ui import Reply, Text
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.notifications import service as notifications
from workflows.people import service as people
from workflows.people.permissions import PermissionDenied


def withdraw(ctx: Context, name: str, use: str) -> list[Reply]:
    """A parent told a teacher: the answer changes now, and the DPO is asked to fix the MIS.

    Anyone on the staff may record it (withdrawing must be as easy as giving, Art 7(3)). But
    only someone who may look pupils up is told which pupil it was, or that the name matched
    none or several: to anyone else every withdrawal gets the same answer, so the sentence
    cannot be used to learn who is on roll, in which class, or flagged. A name that does not
    match exactly one pupil goes to the DPO team to match.
    """
    if not ctx.person.active:
        raise PermissionDenied(render("consent/lines.txt.j2", line="inactive"))
    asked = asked_about(ctx, use, allow_all=True)
    if not isinstance(asked, Asked):
        return asked
    chosen, cats = asked.chosen, asked.categories
    uses = ", ".join(c.label for c in chosen) if len(chosen) < len(cats) else "every use"
    if not may_look_up(ctx):
        return _withdraw_privately(ctx, asked, name, uses)
    picked = pick(ctx, asked.record, name, "consent.withdraw")
    if not isinstance(picked, Pupil):
        return picked
    _record_withdrawal(ctx, picked, chosen, uses)
    return [Text(render("messages/consent_withdrawn.txt.j2", who=picked.display_name,
                        where=where(picked), uses=uses, on=ctx.today, count=len(chosen)),
                 "success")]


def _withdraw_privately(ctx: Context, asked: Asked, name: str, uses: str) -> list[Reply]:
    """For someone who may not look pupils up: recorded at once if the name is one pupil's,
    else passed to the DPO team with the name as typed; the answer is the same either way."""
    ids = name_index(ctx.session, ctx.school_id, asked.record).find(name)
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
    held = consents_of(ctx.session, [pupil_id])
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
                    uses=uses, who=pupil.display_name, where=where(pupil),
                    mis_id=pupil.mis_id, on=today),
    )


def _team(ctx: Context) -> list[int]:
    """Who is told of a withdrawal: the DPO team."""
    return [saved_id(p) for p in people.decision_makers(ctx.session, ctx.school_id)]


def consent_withdraw(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    return withdraw(ctx, match.group("name"), match.group("use"))
