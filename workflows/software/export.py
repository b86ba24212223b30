"""The software register as rows, for CSV and JSON; it reads back in with the importer."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from workflows.audit.models import AuditEvent
from workflows.core.export import plain, to_csv
from workflows.database import saved_id, utcnow
from workflows.schools.models import School
from workflows.software.answers import review_overdue
from workflows.software.models import SoftwareRequest
from workflows.software.names import register
from workflows.software.screening import kind_label

__all__ = ["export_rows", "to_csv"]


def export_rows(session: Session, school: School, actor: str) -> list[dict[str, Any]]:
    today = utcnow().astimezone(ZoneInfo(school.timezone)).date()
    rows = []
    for product in register(session, saved_id(school)):
        request = session.get(SoftwareRequest, product.request_id) if product.request_id else None
        rows.append({
            "name": product.name,
            "website": product.website,
            "status": product.status,
            "review_overdue": review_overdue(product, today),
            "data": "; ".join(kind_label(k) for k in product.data_kinds),
            "purpose": product.purpose,
            "year_groups": product.year_groups,
            "storage": product.storage,
            "privacy_notice": product.privacy_notice,
            "conditions": product.conditions,
            "reason": product.reason,
            "dpia": product.dpia,
            "dpia_link": product.dpia_link,
            "approved_by": product.decided_by,
            "approved_on": product.decided_on,
            "review_date": product.review_on,
            "request": request.reference if request else None,
            "source": product.source,
        })
    session.add(AuditEvent(school_id=saved_id(school), at=utcnow(), actor_name=actor, adapter="cli",
                           action="software.exported", subject_type="software",
                           detail={"count": len(rows)}))
    return [{k: plain(v) for k, v in row.items()} for row in rows]
