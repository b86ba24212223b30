"""Writing the audit trail. Every change and every read of personal data goes through here."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from workflows.audit.models import AuditEvent
from workflows.core.context import Context


def record(
    ctx: Context,
    action: str,
    subject_type: str,
    subject_id: int | None = None,
    subject_ref: str | None = None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        school_id=ctx.school_id,
        at=ctx.now,
        actor_id=ctx.person.id,
        actor_name=ctx.person.name,
        adapter=ctx.adapter,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_ref=subject_ref,
        detail=detail,
    )
    ctx.session.add(event)
    return event


def history(session: Session, subject_type: str, subject_id: int) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
            .order_by(col(AuditEvent.at), col(AuditEvent.id))
        )
    )


def letters_drafted(session: Session, subject_type: str, subject_id: int) -> list[str]:
    """The kinds of letter drafted so far for a case (``letter REF KIND``), for telling the
    DPO which drafts a correction has made out of date."""
    return sorted({letter for e in history(session, subject_type, subject_id)
                   if e.action == f"{subject_type}.letter_drafted"
                   and (letter := e.detail.get("letter")) is not None})
