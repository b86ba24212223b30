"""The DPO's decisions on a request, and the questions and answers before one.

Every decision is a compare-and-set in the engine; these say what it does. Each returns its
facts worded by ``templates/software/result.txt.j2``; a refusal is worded by ``refusal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from workflows.core.context import Context
from workflows.core.fields import UNKNOWN, Invalid
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.people.models import Person
from workflows.software.answers import name_of
from workflows.software.intake import values_of
from workflows.software.models import Software, SoftwareMessage, SoftwareRequest, Status
from workflows.software.names import name_key
from workflows.software.reviews import record_decision
from workflows.software.screening import screen, worded

DECISIONS = {
    Status.APPROVED: "Approved",
    Status.CONDITIONS: "Approved with conditions",
    Status.REJECTED: "Rejected",
}

# Answers that rule out a plain approval: (field, answer, the refusal's problem).
_NEEDS_CONDITIONS = (("dpa", "no", "no_dpa"), ("dpa", UNKNOWN, "unknown_dpa"),
                     ("ads_ai", "yes", "ads_ai"))

_REFUSAL = "software/refusal.txt.j2"
_RESULT = "software/result.txt.j2"


def undecided(ctx: Context, case: SoftwareRequest) -> str | None:
    """A decided request takes no second decision: say who decided, and when."""
    if case.decision is None:
        return None
    who = "You" if case.decided_by_id == ctx.person.id else name_of(ctx.session,
                                                                   case.decided_by_id)
    return render(_REFUSAL, reason="decided", who=who, case=case,
                  decision=DECISIONS[Status(case.decision)],
                  decided_at=case.decided_at.astimezone(ctx.tz) if case.decided_at else None)


def decision_facts(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]
                   ) -> dict[str, Any]:
    """For the requester's notice: the decision's label and the register row it made."""
    product = ctx.session.exec(select(Software).where(
        Software.school_id == case.school_id, Software.name_key == name_key(case.product))).one()
    # Sent only once decided: an empty decision is a bug, and Status("") says so.
    return {"status": DECISIONS[Status(case.decision or "")], "product": product}


def approve(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    for name, said, problem in _NEEDS_CONDITIONS:
        if getattr(case, name) == said:
            raise Invalid(render(_REFUSAL, reason="approve_without_conditions",
                                 problem=problem), "reason")
    _record_dpia(case, values)
    return _decide(ctx, case, Status.APPROVED, reason=values.get("reason"))


def approve_with_conditions(ctx: Context, case: SoftwareRequest,
                            values: Mapping[str, Any]) -> str:
    _record_dpia(case, values)
    return _decide(ctx, case, Status.CONDITIONS, conditions=values["conditions"],
                   reason=values.get("reason"))


def reject(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    return _decide(ctx, case, Status.REJECTED, reason=values["reason"])


def _record_dpia(case: SoftwareRequest, values: Mapping[str, Any]) -> None:
    """An approval the screening says needs a DPIA stands only with the DPIA's outcome."""
    found = screen(values_of(case))
    if found.dpia != "not_required" and not values.get("dpia"):
        raise Invalid(render(_REFUSAL, reason="dpia_required",
                             dpia_reasons=worded(found.dpia_reasons)), "dpia")
    if values.get("dpia") and not (values.get("dpia_note") or "").strip():
        raise Invalid(render(_REFUSAL, reason="dpia_note"), "dpia_note")
    case.dpia_outcome = values.get("dpia")
    case.dpia_note = values.get("dpia_note")


def _decide(ctx: Context, case: SoftwareRequest, status: Status, *,
            reason: str | None = None, conditions: str | None = None) -> str:
    found = screen(values_of(case))
    case.screening = found.as_dict()
    case.decision = status.value
    case.decided_by_id = ctx.person.id
    case.decided_at = ctx.now
    case.reason = reason
    case.conditions = conditions
    product = record_decision(ctx, case, status, found)
    return render(_RESULT, event="decided", decision=DECISIONS[status], case=case,
                  review_on=product.review_on)


def ask_for_information(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    ctx.session.add(SoftwareMessage(request_id=saved_id(case), author_id=ctx.person_id,
                                    kind="question", at=ctx.now, text=values["question"]))
    return render(_RESULT, event="asked", case=case)


def answer_guard(ctx: Context, case: SoftwareRequest) -> str | None:
    if case.created_by_id != ctx.person.id:
        return render(_REFUSAL, reason="not_requester",
                      requester=name_of(ctx.session, case.created_by_id))
    return None


def answer(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    ctx.session.add(SoftwareMessage(request_id=saved_id(case), author_id=ctx.person_id,
                                    kind="answer", at=ctx.now, text=values["answer"]))
    case.waiting_since = ctx.now
    return render(_RESULT, event="answered", case=case)


def reassign(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    person = ctx.session.get_one(Person, values["person"]["id"])
    case.owner_id = person.id
    return render(_RESULT, event="reassigned", case=case, person=person)


def messages(session: Session, case: SoftwareRequest) -> list[SoftwareMessage]:
    return list(session.exec(select(SoftwareMessage)
                             .where(SoftwareMessage.request_id == case.id)
                             .order_by(col(SoftwareMessage.at), col(SoftwareMessage.id))))
