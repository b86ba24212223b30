"""A new software request: refused if the product is already approved or asked about, else built.

What the request's notices add beyond the case (its screening) is worked out here too, from
the answers as stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import select

from workflows.core.context import Context
from workflows.core.fields import Answers, Invalid
from workflows.core.wording import render
from workflows.schools.models import School
from workflows.software.answers import Found, answer_text
from workflows.software.models import RequestState, SoftwareRequest, Status
from workflows.software.names import find_in_register, find_pending
from workflows.software.screening import Screening, screen

PREFIX = "SW"

# Fields of a request as stored, in the order the DPO reads them.
ANSWER_FIELDS = ("product", "website", "purpose", "users", "pupils_use", "data_kinds",
                 "accounts_by", "privacy_notice", "storage", "min_age", "dpa", "ads_ai", "cost")


def check_new_product(value: str, answers: Answers, ctx: Context) -> str | None:
    """Refuse, at the first question, a product already approved or already being asked about.

    A rejected product may be asked about again (a vendor may since have signed a DPA): the
    summary and the DPO's card show the earlier rejection. So may one an imported register
    lists as pending, which has no request for the DPO to decide.
    """
    approved = [p for p in find_in_register(ctx.session, ctx.school_id, value)
                if p.status in (Status.APPROVED, Status.CONDITIONS)]
    pending = find_pending(ctx.session, ctx.school_id, value)
    if not (approved or pending):
        return None
    return render("software/refusal.txt.j2", reason="already_asked",
                  answer=answer_text(ctx, Found(value, approved, pending)))


def values_of(case: SoftwareRequest) -> dict[str, Any]:
    return {name: getattr(case, name) for name in ANSWER_FIELDS}


def screening_of(case: SoftwareRequest) -> Screening:
    """As the DPO saw it when deciding; until then, worked out from the answers as they are."""
    if case.screening is not None:
        return Screening.from_dict(case.screening)
    return screen(values_of(case))


def build(ctx: Context, values: Mapping[str, Any]) -> SoftwareRequest:
    """The request, unless the product was approved or asked about meanwhile."""
    # Checked again here: someone may have asked about the same product while this request
    # was being answered. The school's row is locked first (PostgreSQL; SQLite has one writer
    # anyway), so two requests confirmed at the same moment are checked one after the other.
    ctx.session.exec(select(School.id).where(School.id == ctx.school_id)
                     .with_for_update(key_share=True))  # FOR NO KEY UPDATE
    problem = check_new_product(values["product"], values, ctx)
    if problem:
        raise Invalid(problem, "product")
    return SoftwareRequest(
        school_id=ctx.school_id,
        conversation_id=values.get("__conversation_id__"),
        state=RequestState.AWAITING,
        product=values["product"],
        website=values.get("website"),
        purpose=values["purpose"],
        users=values["users"],
        pupils_use=values["pupils_use"],
        data_kinds=list(values["data_kinds"]),
        accounts_by=values["accounts_by"],
        privacy_notice=values["privacy_notice"],
        storage=values["storage"],
        min_age=values["min_age"],
        dpa=values["dpa"],
        ads_ai=values["ads_ai"],
        cost=values["cost"],
        waiting_since=ctx.now,
        created_by_id=ctx.person_id,
        created_at=ctx.now,
    )


def created_facts(case: SoftwareRequest) -> dict[str, Any]:
    found = screen(values_of(case))
    return {"product": case.product, "dpia": found.dpia, "consent": found.consent}


def screening_facts(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]
                    ) -> dict[str, Any]:
    """For the DPO's notice of a new request: the screening of its answers."""
    return {"screening": screen(values_of(case))}
