"""The SAR log as rows: every date, for CSV and JSON. An export is a read, so it is audited."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from workflows.audit.models import AuditEvent
from workflows.core.export import plain, to_csv
from workflows.database import saved_id, utcnow
from workflows.people import service as people
from workflows.sar import service
from workflows.sar.models import RightsRequest
from workflows.schools.models import School


def export_rows(session: Session, school: School, actor: str) -> list[dict[str, Any]]:
    rows = []
    for case in session.exec(
        select(RightsRequest)
        .where(RightsRequest.school_id == school.id)
        .order_by(col(RightsRequest.received_at))
    ):
        pauses = service.pauses(session, case)
        owner = people.get(session, case.owner_id)
        logged_by = people.get(session, case.created_by_id)
        rows.append({
            "reference": case.reference,
            "type": case.request_type,
            "state": case.state,
            "requester": case.requester_name,
            "relationship": case.relationship,
            "data_subject": case.subject_name or case.requester_name,
            "email": case.requester_email,
            "phone": case.requester_phone,
            "address": case.requester_address,
            "channel": case.channel,
            "received_at": case.received_at,
            "received_on": case.received_on,
            "details": case.details,
            # The paper form's "identity checked" box (DOMAIN.md 7), as one readable cell.
            "identity_checked": (
                case.id_received_on.isoformat() if case.id_received_on
                else "awaiting ID" if case.id_requested_on else "not needed"
            ),
            "id_requested_on": case.id_requested_on,
            "id_received_on": case.id_received_on,
            "authority_requested_on": case.authority_requested_on,
            "authority_received_on": case.authority_received_on,
            "fee_requested_on": case.fee_requested_on,
            "fee_received_on": case.fee_received_on,
            "clarification": "; ".join(
                f"{p.asked_on} to {p.answered_on or 'open'}" for p in pauses),
            "extended": case.extended,
            "extension_reason": case.extension_reason,
            "extension_notice_on": case.extension_notice_on,
            "due_on": case.due_on,
            "deadline_rule": case.deadline_rule,
            "deadline_explanation": case.deadline_explanation,
            "owner": owner.name if owner else None,
            "logged_by": logged_by.name if logged_by else None,
            "logged_at": case.created_at,
            "closed_on": case.closed_on,
            "outcome": case.outcome,
            "outcome_reason": case.outcome_reason,
            "response_method": case.response_method,
            "on_time": None if case.closed_on is None or case.due_on is None
            else case.closed_on <= case.due_on,
        })
    session.add(AuditEvent(school_id=saved_id(school), at=utcnow(), actor_name=actor, adapter="cli",
                           action="sar.exported", subject_type="sar",
                           detail={"count": len(rows)}))
    return [{k: plain(v) for k, v in row.items()} for row in rows]

__all__ = ["export_rows", "to_csv"]
