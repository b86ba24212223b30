"""Disclosure requests: logging one, the school's target, and what each DPO action records.

Staff must not disclose on the spot (DOMAIN.md 8): they log the request and the DPO (or a
deputy) decides. Every decision runs through the engine (one compare-and-set, audited with
who, when and the answers given); these functions say what it does to the case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from workflows.core.context import Context
from workflows.core.wording import render
from workflows.disclosure.models import DisclosureRequest, DisclosureState
from workflows.schools.service import school_days_after

PREFIX = "DR"
SUBJECT = "disclosure"
OPEN_STATES = frozenset({DisclosureState.AWAITING, DisclosureState.MORE_INFO})
# The school's target, in school days from when the request is complete (DOMAIN.md 8 gives
# these as examples; there is no statutory deadline). Declared defaults, not yet a setting.
TARGET_SCHOOL_DAYS = {"urgent": 0, "standard": 10}


def moment(value: str) -> datetime:
    """A typed date and time as stored (typed answers carry the school's zone)."""
    return datetime.fromisoformat(value).astimezone(UTC)


def build(ctx: Context, values: Mapping[str, Any]) -> DisclosureRequest:
    """The request from a confirmed intake; the engine numbers, audits, tells and nudges."""
    received_at = moment(values["received_at"])
    return DisclosureRequest(
        school_id=ctx.school_id,
        conversation_id=values.get("__conversation_id__"),
        state=DisclosureState.AWAITING,
        organisation=values["organisation"],
        requester_kind=values["requester_kind"],
        requester=values["requester"],
        contact=values["contact"],
        authority=values["authority"],
        form_reference=values.get("form_reference"),
        subjects=values["subjects"],
        data_wanted=values["data_wanted"],
        purpose=values["purpose"],
        urgency=values["urgency"],
        channel=values["channel"],
        received_at=received_at,
        complete_at=received_at,
        created_by_id=ctx.person_id,
        created_at=ctx.now,
    )


def created_facts(case: DisclosureRequest) -> dict[str, Any]:
    """Who asks and how urgent, never whose data: the audit detail outlives the case."""
    return {"organisation": case.organisation, "urgency": case.urgency,
            "target": case.target_on.isoformat() if case.target_on else None}


# The target.


def paused(case: DisclosureRequest) -> bool:
    """Waiting for what the DPO asked for stops a standard target, never an urgent one: a
    school cannot weigh a request it does not have, but fear of paperwork must never delay
    sharing to protect a child (KCSIE; Working Together)."""
    return case.state == DisclosureState.MORE_INFO and case.urgency != "urgent"


def target(ctx: Context, case: DisclosureRequest) -> date:
    """Same day if urgent, else 10 school days from the day the request was complete."""
    start = case.complete_at.astimezone(ctx.tz).date()
    return school_days_after(ctx.school, start, TARGET_SCHOOL_DAYS[case.urgency])


def recompute(ctx: Context, case: DisclosureRequest) -> None:
    """Keep the target true after every action: none once decided, or while paused."""
    running = case.state in OPEN_STATES and not paused(case)
    case.target_on = target(ctx, case) if running else None


def due(case: DisclosureRequest) -> date | None:
    return case.target_on


def ended(case: DisclosureRequest) -> date | None:
    return case.closed_on


# Guards: why an action is not offered now.


def verified_first(ctx: Context, case: DisclosureRequest) -> str | None:
    """Nothing is sent to a requester nobody has checked (DOMAIN.md 8: call back first)."""
    if case.verified_at is not None:
        return None
    return render("disclosure/refused.txt.j2", reason="verify_first", case=case)


def not_verified(ctx: Context, case: DisclosureRequest) -> str | None:
    return (render("disclosure/refused.txt.j2", reason="verified", case=case)
            if case.verified_at else None)


# What each action does. The engine has checked the role, the state and the version.


def verify(ctx: Context, case: DisclosureRequest, values: Mapping[str, Any]) -> str:
    case.verified_at, case.verified_by_id = ctx.now, ctx.person.id
    case.verified_how = values["how"]
    return render("disclosure/result.txt.j2", event="verified", case=case)


def ask(ctx: Context, case: DisclosureRequest, values: Mapping[str, Any]) -> str:
    case.asked_for = values["asked_for"]
    return render("disclosure/result.txt.j2", event="asked", case=case,
                  paused=case.urgency != "urgent")


def received(ctx: Context, case: DisclosureRequest, values: Mapping[str, Any]) -> str:
    """What was asked for arrived: a standard target counts again from that day."""
    if case.urgency != "urgent":
        case.complete_at = ctx.now
    return render("disclosure/result.txt.j2", event="received", case=case,
                  target=target(ctx, case))


def disclose(ctx: Context, case: DisclosureRequest, values: Mapping[str, Any]) -> str:
    sent_at = moment(values["sent_at"])
    case.outcome = values["extent"]
    case.basis, case.basis_other = values["basis"], values.get("basis_other")
    case.what_sent, case.sent_how, case.sent_at = values["what_sent"], values["sent_how"], sent_at
    _decided(ctx, case)
    return render("disclosure/result.txt.j2", event="disclosed", case=case)


def refuse(ctx: Context, case: DisclosureRequest, values: Mapping[str, Any]) -> str:
    case.outcome, case.reason = "refused", values["reason"]
    _decided(ctx, case)
    return render("disclosure/result.txt.j2", event="refused", case=case)


def withdraw(ctx: Context, case: DisclosureRequest, values: Mapping[str, Any]) -> str:
    case.outcome, case.reason = "withdrawn", values.get("reason")
    _decided(ctx, case)
    return render("disclosure/result.txt.j2", event="withdrawn", case=case)


def _decided(ctx: Context, case: DisclosureRequest) -> None:
    """The log line's who and when; the engine moves the state, audits the why and tells
    whoever logged it."""
    case.decided_by_id, case.decided_at, case.closed_on = ctx.person.id, ctx.now, ctx.today
