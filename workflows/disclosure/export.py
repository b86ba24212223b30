"""The disclosure log as rows (DOMAIN.md 8): every request, what was decided, on what basis,
by whom, what was sent, when and how, or why it was refused. Its read is audited."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from workflows.audit.models import AuditEvent
from workflows.core.export import plain
from workflows.database import saved_id, utcnow
from workflows.disclosure.models import DisclosureRequest
from workflows.people import service as people
from workflows.schools.models import School


def export_rows(session: Session, school: School, actor: str) -> list[dict[str, Any]]:
    def name(person_id: int | None) -> str | None:
        person = people.get(session, person_id)
        return person.name if person else None

    rows = [{
        "reference": case.reference,
        "state": case.state,
        "received_at": case.received_at,
        "came_in_by": case.channel,
        "organisation": case.organisation,
        "requester_kind": case.requester_kind,
        "requester": case.requester,
        "contact": case.contact,
        "authority": case.authority,
        "their_reference": case.form_reference,
        "data_subjects": case.subjects,
        "data_asked_for": case.data_wanted,
        "purpose": case.purpose,
        "urgency": case.urgency,
        "target": case.target_on,
        "logged_by": name(case.created_by_id),
        "verified_at": case.verified_at,
        "verified_by": name(case.verified_by_id),
        "verified_how": case.verified_how,
        "asked_for": case.asked_for,
        "outcome": case.outcome,
        "basis": case.basis,
        "basis_other": case.basis_other,
        "what_sent": case.what_sent,
        "sent_how": case.sent_how,
        "sent_at": case.sent_at,
        "reason": case.reason,
        "decided_by": name(case.decided_by_id),
        "decided_at": case.decided_at,
    } for case in session.exec(select(DisclosureRequest).where(
        DisclosureRequest.school_id == school.id).order_by(col(DisclosureRequest.id)))]
    session.add(AuditEvent(school_id=saved_id(school), at=utcnow(), actor_name=actor, adapter="cli",
                           action="disclosure.exported", subject_type="disclosure",
                           detail={"count": len(rows)}))
    return [{k: plain(v) for k, v in row.items()} for row in rows]
