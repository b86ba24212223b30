"""The breach log's rules: reporting, the 72-hour clock, and what each decision does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from workflows.audit import service as audit
from workflows.breach import ico_reference, triage
from workflows.breach.models import (
    Breach,
    BreachState,
    BreachUpdate,
    IcoDecision,
    PeopleDecision,
)
from workflows.core.context import Context
from workflows.core.dates import describe_datetime
from workflows.core.fields import UNKNOWN, Answers, Choice, Invalid, pick, split_list
from workflows.core.timeleft import time_left
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.deadlines.breach import HOURS, BreachDeadline, breach_deadline
from workflows.people import service as people

PREFIX = "BRE"


def result(event: str, case: Breach, **facts: Any) -> str:
    """What the person who took an action reads back: the action gives facts, the template words."""
    return render("breach/result.txt.j2", event=event, case=case, **facts)


def refusal(reason: str, **facts: Any) -> str:
    """Why an answer or an action is refused, worded in one place."""
    return render("breach/refusal.txt.j2", reason=reason, **facts)


def aware(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def deadline(ctx: Context, case: Breach) -> BreachDeadline:
    return breach_deadline(case.aware_at, ctx.tz)


def due(case: Breach) -> datetime:
    """The ICO deadline as an aware UTC moment (reminders key on its ISO form)."""
    return aware(case.aware_at) + timedelta(hours=HOURS)


def ico_met_at(case: Breach) -> datetime | None:
    """When the ICO deadline was met: the report, or the decision not to report."""
    return case.ico_reported_at or case.ico_decided_at


def assessment(case: Breach) -> triage.Assessment:
    return triage.assess(case)


# "1 pupil", "30 parents and 2 staff": whose data, read as a list of the WHOSE choices.
_WHOSE = tuple(Choice(value, lab, aliases) for value, lab, aliases in triage.WHOSE)


def parse_whose(text: str) -> tuple[list[str], int | None]:
    """Whose data and roughly how many people: "1 pupil", "30 parents and 2 staff"."""
    whose: list[str] = []
    total: int | None = None
    for token in split_list(text):
        # Always matches (tokens hold no newline): every part is optional.
        match = re.fullmatch(r"(?:about |around |roughly |~)?(\d+)?\s*(.*)", token)
        number, words = (match.group(1), match.group(2).strip()) if match else (None, token)
        chosen = pick(_WHOSE, words, numbered=False) if words else None
        value = chosen.value if chosen else None
        if value is None and words:
            raise Invalid(refusal("unknown_whose", words=words))
        if value and value not in whose:
            whose.append(value)
        if number:
            total = (total or 0) + int(number)
    if not whose:
        raise Invalid(refusal("no_whose"))
    return whose, total


def check_whose(value: str, answers: Answers, ctx: Context) -> str | None:
    try:
        parse_whose(value)
    except Invalid as error:
        return error.message
    return None


def number(value: int | str | None) -> int | None:
    """A count as stored: a number from a form, or text saved before counts were numbers."""
    if value is None or value == "":
        return None
    return value if isinstance(value, int) else int(re.sub(r"\D", "", value))


# Creating a breach from the three answers that start the clock.


def build(ctx: Context, values: Mapping[str, Any]) -> Breach:
    """The case from the three answers that start the clock."""
    # Required: a skipped question must never move the clock to the moment of reporting.
    found_at = aware(datetime.fromisoformat(values["found_at"]))
    if found_at > ctx.now:
        raise Invalid(refusal("found_in_future"), "found_at")
    return Breach(
        school_id=ctx.school_id,
        conversation_id=values.get("__conversation_id__"),
        state=BreachState.AWAITING,
        what_happened=values["what_happened"],
        found_at=found_at,
        ongoing=bool(values["ongoing"]),
        aware_at=found_at,  # until the DPO corrects it: found is when the school knew
        reported_at=ctx.now,
        created_by_id=ctx.person_id,
        created_at=ctx.now,
    )


def created_facts(case: Breach) -> dict[str, Any]:
    return {"aware_at": case.aware_at.isoformat(), "due": due(case).isoformat()}


def event_facts(ctx: Context, case: Breach, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the DPO team's alert says: reference, countdown, risk; no names."""
    left = time_left(due(case), ctx.local_now, ico_met_at(case))
    return {
        "aware_at": describe_datetime(case.aware_at.astimezone(ctx.tz)),
        "due": left.due,
        "left": left.left,
        "counting": left.running and left.urgency != "overdue",  # "5 hours left"
        "assessment": assessment(case),
        "decision": case.ico_decision,
    }


def reporter_adding(ctx: Context, case: Breach) -> bool:
    """The reporter adds details the DPO team has not seen (their own additions they have)."""
    return ctx.person.id == case.created_by_id and ctx.person.id not in {
        p.id for p in people.decision_makers(ctx.session, ctx.school_id)}


# Actions: each returns what to tell the person who took it.


def add_details(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    """Details in phases: only what was answered changes; a skip keeps what is known."""
    if values.get("incident"):
        case.incident = values["incident"]
        if case.incident == "cyber":
            case.cyber = True
        elif case.incident != "other" and case.cyber is None:
            case.cyber = False
    if values.get("data_kinds"):
        case.data_kinds = list(values["data_kinds"])
    if values.get("whose"):
        case.whose, count = parse_whose(values["whose"])
        if count is not None:
            case.approx_people = count
    for name in ("encrypted", "exfiltrated", "cyber", "unavailable", "recipient", "deleted",
                 "deliberate"):
        if values.get(name) is not None:
            # "Don't know" is an answer: it replaces what was known, and triage takes the worse
            # case; a skip keeps what was known.
            setattr(case, name, None if values[name] == UNKNOWN else values[name])
    if values.get("recipients"):
        case.recipients = number(values["recipients"])
    if values.get("approx_people"):
        case.approx_people = number(values["approx_people"])
    if values.get("approx_records"):
        case.approx_records = number(values["approx_records"])
    if values.get("happened_at"):
        case.happened_at = aware(datetime.fromisoformat(values["happened_at"]))
    for name in ("how_found", "containment"):
        if values.get(name):
            setattr(case, name, values[name])
    return result("details_added", case, summary=assessment(case).summary)


def correct_aware_at(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    was = deadline(ctx, case)
    case.aware_at = aware(datetime.fromisoformat(values["aware_at"]))
    case.aware_at_reason = values["reason"]
    return _moved(ctx, case, was, said="aware", at=case.aware_at.astimezone(ctx.tz))


def correct_found_at(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    """Found earlier or later than reported: awareness moves with it unless the DPO set it."""
    if not (values.get("reason") or "").strip():
        raise Invalid(refusal("no_reason_wrong"), "reason")
    was = deadline(ctx, case)
    moment = aware(datetime.fromisoformat(values["found_at"]))
    follows = case.aware_at_reason is None  # aware was taken from found, not set by the DPO
    case.found_at = moment
    if follows:
        case.aware_at = moment
    local = moment.astimezone(ctx.tz)
    update(ctx, case, {"text": result("found_note", case, at=local, reason=values["reason"])})
    return _moved(ctx, case, was, said="found", at=local, follows=follows)


def _moved(ctx: Context, case: Breach, was: BreachDeadline, **said: Any) -> str:
    """Read the deadline back after a correction, and flag letters drafted before it."""
    now = deadline(ctx, case)
    return result("moved", case, **said, now_due=now.local_due, was_due=was.local_due,
                  drafted=audit.letters_drafted(ctx.session, "breach", saved_id(case)))


def _decided_already(ctx: Context, case: Breach, what: str, person_id: int | None,
                     at: datetime | None, *, ico: bool) -> str:
    """A decision taken once: who took it and when, for the second attempt."""
    return refusal("decided", case=case, what=what, mine=person_id == ctx.person_id,
                   by=people.get(ctx.session, person_id) if person_id is not None else None,
                   at=at.astimezone(ctx.tz) if at else None, ico=ico)


def ico_guard(ctx: Context, case: Breach) -> str | None:
    """The ICO decision is taken once; a second attempt is told who took it and when."""
    if case.ico_decision is None:
        return None
    what = ("reported it to the ICO" if case.ico_decision == IcoDecision.REPORTED
            else "decided it is not reportable")
    return _decided_already(ctx, case, what, case.ico_decided_by_id, case.ico_decided_at,
                            ico=True)


def people_guard(ctx: Context, case: Breach) -> str | None:
    if case.people_decision is None:
        return None
    what = ("decided to tell the people affected" if case.people_decision == PeopleDecision.TELL
            else "decided not to tell the people affected")
    return _decided_already(ctx, case, what, case.people_decided_by_id, case.people_decided_at,
                            ico=False)


def close_guard(ctx: Context, case: Breach) -> str | None:
    missing = []
    if case.ico_decision is None:
        missing.append("whether to report it to the ICO")
    if case.people_decision is None:
        missing.append("whether to tell the people affected")
    if ico_reference.missing(case):
        missing.append("reference")
    if missing:
        return refusal("not_decided", case=case, missing=missing)
    return None


def _decided(ctx: Context, case: Breach, decision: IcoDecision) -> None:
    case.ico_decision = decision
    case.ico_decided_at = ctx.now
    case.ico_decided_by_id = ctx.person.id
    case.recommendation = assessment(case).as_dict()


def report_to_ico(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    reported = aware(datetime.fromisoformat(values["reported_at"]))
    if reported < aware(case.aware_at):
        raise Invalid(refusal("before_aware", aware_at=case.aware_at.astimezone(ctx.tz)),
                      "reported_at")
    late = reported > due(case)
    if late and not (values.get("delay_reason") or "").strip():
        raise Invalid(refusal("late_no_reason", due=due(case).astimezone(ctx.tz)),
                      "delay_reason")
    _decided(ctx, case, IcoDecision.REPORTED)
    case.ico_reference = values.get("ico_reference") or None
    case.ico_reported_at = reported
    case.delay_reason = values.get("delay_reason") if late else None
    if case.ico_reference is None:
        ico_reference.plan(ctx, case)
    return result("reported", case, late=late)


def not_reportable(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    if not (values.get("reason") or "").strip():
        raise Invalid(refusal("no_reason_unlikely"), "reason")
    _decided(ctx, case, IcoDecision.NOT_REPORTABLE)
    case.ico_reason = values["reason"]
    return result("not_reportable", case)


# The exemptions a record can contradict (the rest rest on the DPO's judgement and reason).
CONTRADICTABLE = ("unintelligible", "not_high")


def contradicts(case: Breach, exemption: str) -> str | None:
    """What on the record speaks against ``exemption``, or None."""
    if exemption == "unintelligible" and case.encrypted is not True:
        said = "No" if case.encrypted is False else "Not known"
        return refusal("encrypted_contradicts", said=said)
    if exemption == "not_high" and assessment(case).risk == "high":
        return refusal("high_contradicts")
    return None


EXEMPTIONS = {
    "unintelligible": "The data was unintelligible to others (e.g. strongly encrypted)",
    "measures": "Later measures mean the high risk is no longer likely",
    "disproportionate": "It would take disproportionate effort: a public notice instead",
    "not_high": "The risk to them is not high",
}


def tell_people(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    if values.get("tell"):
        if not (values.get("how") or "").strip():
            raise Invalid(refusal("how_told"), "how")
        case.people_decision = PeopleDecision.TELL
        case.people_how = values["how"]
        answer = result("telling", case)
    else:
        if not values.get("exemption") or not (values.get("reason") or "").strip():
            raise Invalid(refusal("no_exemption"), "reason")
        contradiction = contradicts(case, values["exemption"])
        override = (values.get("override") or "").strip() or None
        if contradiction and not override:
            raise Invalid(refusal("contradicted", contradiction=contradiction), "override")
        case.people_override = override if contradiction else None
        case.people_decision = PeopleDecision.NOT_TELL
        case.people_exemption = values["exemption"]
        case.people_reason = values["reason"]
        answer = result("not_telling", case)
    case.people_decided_at = ctx.now
    case.people_decided_by_id = ctx.person_id
    return answer


def account_intro(ctx: Context, case: Breach) -> str:
    """The reporter's words, to write from: internal, and never copied into a letter."""
    return result("account_intro", case)


def write_account(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    """The DPO's own words for the ICO draft and the letter to the people affected."""
    given = {k: values.get(k) for k in ("ico_account", "people_account", "people_advice")
             if values.get(k)}
    if not given:
        raise Invalid(refusal("no_account"), "ico_account")
    for name, text in given.items():
        setattr(case, name, text)
    return result("account_written", case)


def update(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    ctx.session.add(BreachUpdate(breach_id=saved_id(case), author_id=ctx.person_id, at=ctx.now,
                                 text=values["text"]))
    return result("updated", case)


def close(ctx: Context, case: Breach, values: Mapping[str, Any]) -> str:
    for name, what in (("remedial", "the remedial actions"), ("lessons", "the lessons learned")):
        if not (values.get(name) or "").strip():
            raise Invalid(refusal("closing_needs", what=what), name)
    case.remedial = values["remedial"]
    case.lessons = values["lessons"]
    case.closed_at = ctx.now
    return result("closed", case)


def updates(session: Session, case: Breach) -> list[BreachUpdate]:
    if case.id is None:
        return []
    return list(session.exec(
        select(BreachUpdate).where(BreachUpdate.breach_id == case.id)
        .order_by(col(BreachUpdate.at), col(BreachUpdate.id))))
