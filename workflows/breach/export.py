"""The breach log as rows, for CSV and JSON (Art 33(5)). An export is a read: audited."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from workflows.audit.models import AuditEvent
from workflows.breach import service, triage
from workflows.breach.models import Breach
from workflows.core.export import plain, to_csv
from workflows.database import saved_id, utcnow
from workflows.deadlines.breach import breach_deadline
from workflows.people import service as people
from workflows.schools.models import School

__all__ = ["export_rows", "to_csv"]


def export_rows(session: Session, school: School, actor: str) -> list[dict[str, Any]]:
    tz = ZoneInfo(school.timezone)
    rows = []
    for case in session.exec(
        select(Breach).where(Breach.school_id == school.id).order_by(col(Breach.aware_at))
    ):
        result = breach_deadline(case.aware_at, tz)
        found = triage.assess(case)
        name = lambda pid: getattr(people.get(session, pid), "name", None)  # noqa: E731
        rows.append({
            "reference": case.reference,
            "state": case.state,
            "what_happened": case.what_happened,
            "happened_at": case.happened_at,
            "found_at": case.found_at,
            "aware_at": case.aware_at,
            "aware_at_reason": case.aware_at_reason,
            "reported_at": case.reported_at,
            "reported_by": name(case.created_by_id),
            "ico_due": result.local_due,
            "ongoing": case.ongoing,
            "incident": case.incident,
            "data_kinds": "; ".join(case.data_kinds),
            "whose": "; ".join(case.whose),
            "approx_people": case.approx_people,
            "approx_records": case.approx_records,
            "encrypted": case.encrypted,
            "cyber": case.cyber,
            "exfiltrated": case.exfiltrated,
            "unavailable": case.unavailable,
            "recipient": case.recipient,
            "deletion_confirmed": case.deleted,
            "deliberate": case.deliberate,
            "recipients": case.recipients,
            "how_found": case.how_found,
            "containment": case.containment,
            "severity": found.severity,
            "likelihood": found.likelihood,
            "risk": found.risk,
            "recommended_report": found.report_to_ico,
            "recommended_tell": found.tell_people,
            "ico_decision": case.ico_decision,
            "ico_decided_by": name(case.ico_decided_by_id),
            "ico_decided_at": case.ico_decided_at,
            "ico_reference": case.ico_reference,
            "ico_reported_at": case.ico_reported_at,
            "ico_late": None if case.ico_reported_at is None
            else case.ico_reported_at > service.due(case),
            "not_reportable_reason": case.ico_reason,
            "delay_reason": case.delay_reason,
            "people_decision": case.people_decision,
            "people_how": case.people_how,
            "people_exemption": case.people_exemption,
            "people_reason": case.people_reason,
            "remedial": case.remedial,
            "lessons": case.lessons,
            "closed_at": case.closed_at,
            "updates": " | ".join(f"{u.at.isoformat()} {name(u.author_id)}: {u.text}"
                                  for u in service.updates(session, case)),
        })
    session.add(AuditEvent(school_id=saved_id(school), at=utcnow(), actor_name=actor, adapter="cli",
                           action="breach.exported", subject_type="breach",
                           detail={"count": len(rows)}))
    return [{k: plain(v) for k, v in row.items()} for row in rows]
