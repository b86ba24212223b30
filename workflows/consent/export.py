"""The consent register as rows, one per pupil and use, with the answer the bot gives."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from workflows.audit.models import AuditEvent
from workflows.consent.models import Status
from workflows.consent.register import consents_of, held_key, latest_import, pupils_on_roll
from workflows.consent.settings import categories, validity_months
from workflows.consent.verdicts import verdict
from workflows.core.export import plain
from workflows.database import saved_id, utcnow
from workflows.schools.models import School


def export_rows(session: Session, school: School, actor: str) -> list[dict[str, Any]]:
    """The register as held now, one row per pupil and use, with the answer the bot gives."""
    cats = categories(session, school)
    school_id = saved_id(school)
    pupils = pupils_on_roll(session, school_id)
    held = consents_of(session, [saved_id(p) for p in pupils])
    months = validity_months(session, school)
    today = utcnow().date()
    record = latest_import(session, school_id)
    rows = []
    for p in pupils:
        for c in cats.values():
            consent = held.get(held_key(p, c))
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
