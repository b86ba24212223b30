"""Answering “is IXL approved?” from the register and the open requests, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from workflows.audit import service as audit
from workflows.core.context import Context
from workflows.core.dates import describe_date
from workflows.core.wording import render
from workflows.people import service as people
from workflows.software.models import Software, SoftwareRequest, Status
from workflows.software.names import find_in_register, find_pending
from workflows.software.screening import kind_label

STATUS_LABELS = {
    Status.APPROVED: "Approved",
    Status.CONDITIONS: "Approved with conditions",
    Status.REJECTED: "Rejected",
    Status.PENDING: "Pending (from the imported register)",
}

# “Is it approved?”: the product this person last asked for.
THIS = {"it", "this", "that", "this app", "that app", "my app", "my request", "the app"}


def review_overdue(product: Software, today: date) -> bool:
    return (product.status in (Status.APPROVED, Status.CONDITIONS)
            and product.review_on is not None and product.review_on < today)


def status_text(product: Software, today: date) -> str:
    label = STATUS_LABELS[Status(product.status)]
    return f"{label}, review overdue" if review_overdue(product, today) else label


def name_of(session: Session, person_id: int | None) -> str:
    person = people.get(session, person_id)
    return person.name if person else "someone"


@dataclass(frozen=True)
class Found:
    """What the register and the open requests say about one product name."""

    query: str
    products: list[Software]
    pending: list[SoftwareRequest]

    @property
    def any(self) -> bool:
        return bool(self.products or self.pending)


def _clean(query: str) -> str:
    return query.strip().strip("“”\"'?").strip()


def known(ctx: Context, query: str) -> bool:
    """Whether the register or an open request names this product (not audited: no answer)."""
    query = _clean(query)
    return bool(find_in_register(ctx.session, ctx.school_id, query)
                or find_pending(ctx.session, ctx.school_id, query))


def look_up(ctx: Context, query: str) -> Found:
    """The register and open requests for ``query``; audited like every other read."""
    query = _clean(query)
    found = Found(query, find_in_register(ctx.session, ctx.school_id, query),
                  find_pending(ctx.session, ctx.school_id, query))
    audit.record(ctx, "software.looked_up", "software", None, None, query=query,
                 found=[p.name for p in found.products] + [r.reference for r in found.pending])
    return found


def last_asked(ctx: Context) -> str | None:
    latest = ctx.session.exec(
        select(SoftwareRequest).where(SoftwareRequest.school_id == ctx.school_id,
                                      SoftwareRequest.created_by_id == ctx.person.id)
        .order_by(col(SoftwareRequest.id).desc())).first()
    return latest.product if latest else None


def answer_text(ctx: Context, found: Found) -> str:
    return render(
        "software/answer.txt.j2",
        found=found,
        today=ctx.today,
        status=lambda p: status_text(p, ctx.today),
        overdue=lambda p: review_overdue(p, ctx.today),
        asked_by=lambda r: name_of(ctx.session, r.created_by_id),
        asked_on=lambda r: describe_date(r.created_at.astimezone(ctx.tz).date()),
        kinds=_kinds_text,
    )


def _kinds_text(kinds: list[str]) -> str:
    return ", ".join(kind_label(k) for k in kinds) or "Not recorded"


def as_json(ctx: Context, found: Found) -> dict[str, Any]:
    """The same answer for scripts: every match in the register and every open request."""
    return {
        "query": found.query,
        "register": [{
            "name": p.name, "website": p.website, "status": p.status,
            "review_overdue": review_overdue(p, ctx.today), "data": p.data_kinds,
            "conditions": p.conditions, "reason": p.reason, "dpia": p.dpia,
            "dpia_link": p.dpia_link, "decided_by": p.decided_by,
            "decided_on": p.decided_on.isoformat() if p.decided_on else None,
            "review_on": p.review_on.isoformat() if p.review_on else None,
        } for p in found.products],
        "pending": [{
            "reference": r.reference, "product": r.product, "state": r.state,
            "asked_by": name_of(ctx.session, r.created_by_id),
            "asked_at": r.created_at.isoformat(),
        } for r in found.pending],
    }
