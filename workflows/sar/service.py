"""The SAR log's rules: creating a request, its deadline, and what each DPO action does."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from workflows.audit import service as audit
from workflows.core.context import Context
from workflows.core.dates import describe_date
from workflows.core.fields import Choice, Invalid
from workflows.deadlines import (
    CalendarError,
    Deadline,
    DeadlineError,
    Pause,
    edu_record_deadline,
    sar_deadline,
)
from workflows.people import service as people
from workflows.people.models import Person
from workflows.sar.models import (
    CaseNote,
    ClarificationPause,
    Outcome,
    RequestType,
    RightsRequest,
    SarState,
)
from workflows.schools.models import School
from workflows.schools.service import term_calendar

PREFIX = "SAR"


def pauses(session: Session, case: RightsRequest) -> list[ClarificationPause]:
    if case.id is None:
        return []
    return list(
        session.exec(
            select(ClarificationPause)
            .where(ClarificationPause.request_id == case.id)
            .order_by(col(ClarificationPause.asked_on), col(ClarificationPause.id))
        )
    )


def open_pause(session: Session, case: RightsRequest) -> ClarificationPause | None:
    return next((p for p in pauses(session, case) if p.answered_on is None), None)


def clock_start(case: RightsRequest) -> tuple[date | None, str | None]:
    """Day one: the latest of receipt and whatever the school asked for and got.

    None while something asked for has not arrived: the clock has not started.
    """
    waits = [
        (case.id_requested_on, case.id_received_on, "the requester's ID"),
        (case.authority_requested_on, case.authority_received_on,
         "the written authority of the person the data is about"),
        (case.fee_requested_on, case.fee_received_on, "the fee"),
    ]
    start, reason = case.received_on, None
    for asked, arrived, what in waits:
        if asked is None:
            continue
        if arrived is None:
            return None, what
        if arrived > start:
            start, reason = arrived, what
    return start, reason


def deadline(
    session: Session,
    school: School,
    case: RightsRequest,
    *,
    extended: bool | None = None,
    answered_by: date | None = None,
) -> Deadline | None:
    """The deadline as the law has it today, or None while the clock has not started.

    ``extended`` overrides the case's own flag, so an extension notice can be drafted (with
    its new date) before the extension is recorded. ``answered_by`` treats an open
    clarification pause as answered that day: the earliest the deadlines can then be, which
    is all a decision taken during the pause can rely on.
    """
    if case.request_type == RequestType.EDUCATIONAL_RECORD:
        calendar = term_calendar(school)
        if calendar is None:
            raise CalendarError(
                f"{school.name} has no term calendar yet, so school days can't be counted. "
                "The DPO can import one with “dpo-bot calendar import FILE”."
            )
        return edu_record_deadline(case.received_on, calendar, school.region)
    start, waiting_for = clock_start(case)
    if start is None:
        return None
    return sar_deadline(
        case.received_on,
        region=school.region,
        clock_start=start if start != case.received_on else None,
        clock_start_reason=waiting_for,
        # Asking for ID later restarts day one; a pause of the clock it replaced no longer
        # counts (and the engine rightly refuses a pause before day one).
        pauses=[Pause(p.asked_on, p.answered_on or (answered_by and max(answered_by, p.asked_on)))
                for p in pauses(session, case) if p.asked_on >= start],
        extended=case.extended if extended is None else extended,
    )


def recompute(ctx: Context, case: RightsRequest) -> None:
    """Cache the deadline and its working on the case (lists, reminders and the export).

    A closed case keeps the deadline it was closed against: a note, a new term calendar or a
    corrected bank-holiday table must never rewrite a closed record (``close`` computes the
    final deadline itself, before the state changes).
    """
    if case.state == SarState.CLOSED:
        return
    try:
        result = deadline(ctx.session, ctx.school, case)
    except (CalendarError, DeadlineError) as error:
        raise Invalid(str(error)) from None
    if result is None:
        _, waiting_for = clock_start(case)
        case.due_on, case.deadline_rule = None, "clock not started"
        case.deadline_explanation = (
            f"The clock has not started: the school is waiting for {waiting_for}. "
            "Day one will be the day it arrives."
        )
        return
    case.due_on = result.due
    case.deadline_rule = result.rule
    case.deadline_explanation = " ".join(result.explanation)


def build(ctx: Context, values: Mapping[str, Any]) -> RightsRequest:
    """A new request from a confirmed intake, waiting for ID or authority if asked for."""
    _check_intake(ctx, values)
    received_at = datetime.fromisoformat(values["received_at"])
    third_party = values["relationship"] in ("third_party", "solicitor")
    case = RightsRequest(
        school_id=ctx.school.id,
        conversation_id=values.get("__conversation_id__"),
        request_type=values["request_type"],
        state=SarState.OPEN,
        requester_name=values["requester_name"],
        relationship=values["relationship"],
        requester_email=values.get("requester_email"),
        requester_phone=values.get("requester_phone"),
        requester_address=values.get("requester_address"),
        subject_name=None if values.get("about_requester", True) else values.get("subject_name"),
        channel=values["channel"],
        received_at=received_at,
        received_on=received_at.astimezone(ctx.tz).date(),
        details=values["details"],
        id_required=bool(values.get("id_needed")),
        created_by_id=ctx.person.id,
        created_at=ctx.now,
    )
    if values.get("id_needed"):
        case.id_requested_on = ctx.today
    if third_party and values.get("authority_needed"):
        case.authority_requested_on = ctx.today
    case.state = waiting_or_open(case)
    return case


def waiting_or_open(case: RightsRequest) -> SarState:
    """Open once nothing the school asked for is awaited; until then, waiting for it."""
    return SarState.OPEN if clock_start(case)[0] is not None else SarState.AWAITING_ID


def created_facts(case: RightsRequest) -> dict[str, Any]:
    return {"request_type": case.request_type, "received_on": case.received_on.isoformat(),
            "due_on": case.due_on.isoformat() if case.due_on else None}


def _check_intake(ctx: Context, values: Mapping[str, Any]) -> None:
    if not any(values.get(k) for k in ("requester_email", "requester_phone", "requester_address")):
        raise Invalid(
            "We need at least one way to reply to them: an email address, a phone number or "
            "a postal address.",
            "requester_email",
        )
    if problem := edu_record_problem(ctx, values):
        raise Invalid(problem, "request_type")


def edu_record_problem(ctx: Context, values: Mapping[str, Any]) -> str | None:
    """Why the 15-school-day right does not apply here, or None (also shown at the summary)."""
    if values.get("request_type") != RequestType.EDUCATIONAL_RECORD:
        return None
    if not ctx.school.maintained:
        return (
            f"{ctx.school.name} is not a maintained school, so there is no separate "
            "educational-record right (the 15-school-day rule). Log it as a subject "
            "access request instead: the parent can ask for their child's data that way."
        )
    if values.get("relationship") != "parent":
        return (
            "Only a parent can ask to see a pupil's educational record under the 2005 "
            "regulations. If a pupil or someone else is asking, log a subject access "
            "request instead."
        )
    if term_calendar(ctx.school) is None:
        return (
            f"{ctx.school.name} has no term calendar yet, so the 15 school days can't be "
            "counted. Ask the DPO to import the term dates (dpo-bot calendar import FILE), "
            "or log it as a subject access request for now."
        )
    return None


TYPE_LABELS: dict[RequestType, str] = {
    RequestType.ACCESS: "Subject access request",
    RequestType.ERASURE: "Erasure request",
    RequestType.RECTIFICATION: "Rectification request",
    RequestType.RESTRICTION: "Restriction request",
    RequestType.OBJECTION: "Objection",
    RequestType.PORTABILITY: "Portability request",
    RequestType.EDUCATIONAL_RECORD: "Educational record request",
}


# Actions: each returns what to tell the person who took it.


def take(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    case.owner_id = ctx.person.id
    return f"{case.reference} is yours now. You'll get its reminders."


def assign(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    person = find_colleague(ctx, values["person"])
    case.owner_id = person.id
    return f"{case.reference} is now {person.name}'s. They have been told."


def find_colleague(ctx: Context, name: str) -> Person:
    active = ctx.session.exec(
        select(Person).where(Person.school_id == ctx.school.id, col(Person.active).is_(True)))
    return people.colleague(active, name,
                            f"Nobody called “{name}” uses the bot at this school yet.")


def record_arrival(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    what, on = values["what"], date.fromisoformat(values["received_on"])
    asked = getattr(case, f"{what}_requested_on")
    if asked is None:
        raise Invalid(f"The school did not ask for {ARRIVALS[what]} on this case.", "what")
    setattr(case, f"{what}_received_on", on)
    start, waiting_for = clock_start(case)
    if start is None:
        return f"Recorded. The clock starts when {waiting_for} arrives too."
    # The latest arrival is day one, which need not be the date just typed.
    return f"Recorded. The clock started on {describe_date(start)}."


ARRIVALS = {"id": "ID", "authority": "written authority", "fee": "a fee"}


def request_id(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    """Ask for ID, a third party's authority or (rarely) a fee: the clock stops until it comes."""
    what = values["what"]
    setattr(case, f"{what}_requested_on", date.fromisoformat(values["asked_on"]))
    setattr(case, f"{what}_received_on", None)
    if what == "id":
        case.id_required = True
    letter = f" Draft the letter with “letter {case.reference} id_request”." if what in (
        "id", "authority") else ""
    return f"Recorded. The clock stops until {ARRIVALS[what]} arrives.{letter}"


def pause(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    asked_on = date.fromisoformat(values["asked_on"])
    start, _ = clock_start(case)
    if start and asked_on < start:
        raise Invalid(
            f"The clock started on {describe_date(start)}; a pause can't begin before it.",
            "asked_on",
        )
    ctx.session.add(ClarificationPause(request_id=case.id, asked_on=asked_on,
                                       question=values.get("question")))
    ctx.session.flush()
    try:
        deadline(ctx.session, ctx.school, case)
    except DeadlineError as error:
        # E.g. asked after the deadline had passed: the date is at fault, so ask it again.
        raise Invalid(str(error), "asked_on") from None
    return (f"Paused from {describe_date(asked_on)}. When their answer arrives, type "
            f"“resume {case.reference}”. Draft the letter with "
            f"“letter {case.reference} clarification”.")


def resume(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    current = open_pause(ctx.session, case)
    answered_on = date.fromisoformat(values["answered_on"])
    current.answered_on = answered_on
    ctx.session.add(current)
    ctx.session.flush()
    days = (answered_on - current.asked_on).days + 1
    return f"Resumed. {days} day{'s' if days != 1 else ''} did not count (both ends included)."


def extension_guard(ctx: Context, case: RightsRequest) -> str | None:
    if case.extended:
        return f"{case.reference} has already been extended."
    if case.request_type == RequestType.EDUCATIONAL_RECORD:
        return "An educational record request can't be extended: 15 school days is fixed."
    # While paused, today's answer gives the earliest notice deadline, which is after today.
    result = deadline(ctx.session, ctx.school, case, answered_by=ctx.today)
    notice_due = result.extension_notice_due if result is not None else None
    if notice_due and ctx.today > notice_due:
        return (
            f"Too late to extend: the requester had to be told by "
            f"{describe_date(notice_due)}, within the first month. "
            f"The deadline stays {describe_date(result.due)}."
        )
    return None


def extend(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    told_on = date.fromisoformat(values["notice_on"])
    result = deadline(ctx.session, ctx.school, case, answered_by=ctx.today)
    notice_due = result.extension_notice_due if result is not None else None
    if notice_due and told_on > notice_due:
        if open_pause(ctx.session, case) is not None:
            # The real notice deadline depends on when their answer comes; only the earliest
            # it can be is safe to record against.
            raise Invalid(
                "The clock is paused, so the first month has not run out yet; but if their "
                f"answer arrived today they would have to be told by {describe_date(notice_due)}. "
                "Tell them by then, or record the extension once they have been told.",
                "notice_on",
            )
        raise Invalid(
            f"The requester had to be told by {describe_date(notice_due)} "
            "(the end of the first month); an extension notice after that is out of time.",
            "notice_on",
        )
    case.extended = True
    case.extension_reason = values["reason"]
    case.extension_notice_on = told_on
    return (f"Extended. Draft the notice with “letter {case.reference} extension” "
            "if it has not gone yet.")


def pause_guard(ctx: Context, case: RightsRequest) -> str | None:
    if case.request_type == RequestType.EDUCATIONAL_RECORD:
        return "The clarification pause is a SAR rule; it does not apply to educational records."
    return None


def close(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    responded_on = date.fromisoformat(values["responded_on"])
    waiting = [ARRIVALS[what] for what, _ in _WAITS if getattr(case, f"{what}_requested_on")
               and not getattr(case, f"{what}_received_on")]
    if waiting and values["outcome"] in (Outcome.DISCLOSED_FULL, Outcome.DISCLOSED_PART,
                                         Outcome.COMPLETED):
        # Disclosing before the ID or authority the school asked for contradicts the record.
        raise Invalid(f"The school asked for {' and '.join(waiting)} and it has not arrived: "
                      f"record it first (“record id {case.reference}”), or close the request "
                      "as withdrawn or refused.", "outcome")
    current = open_pause(ctx.session, case)
    if current is not None:
        current.answered_on = max(current.asked_on, responded_on)
        ctx.session.add(current)
        ctx.session.flush()
    # The last deadline this record will have: recompute() leaves closed cases alone.
    recompute(ctx, case)
    case.outcome = values["outcome"]
    case.outcome_reason = values.get("reason")
    case.closed_on = responded_on
    case.response_method = values["method"]
    late = case.due_on is not None and responded_on > case.due_on
    letter = "refusal" if case.outcome == Outcome.REFUSED else "response"
    return (
        f"Closed{' — late: the deadline was ' + describe_date(case.due_on) if late else ''}. "
        f"The record can be added to, never changed. Draft the letter with "
        f"“letter {case.reference} {letter}”."
    )


# Corrections: every date a deadline hangs on, each as (label, what it is on the case).
_WAITS = (("id", "ID"), ("authority", "written authority"), ("fee", "the fee"))
CORRECTABLE_CHOICES = (
    Choice("received", "The day the request was received", ("received", "receipt")),
    *(c for what, words in _WAITS for c in (
        Choice(f"{what}_asked", f"The day {words} was asked for", (f"{what} asked",)),
        Choice(f"{what}_arrived", f"The day {words} arrived", (f"{what} arrived",
                                                               f"{what} received")),
    )),
    Choice("pause_asked", "The day we asked them to clarify", ("clarification asked",)),
    Choice("pause_answered", "The day their clarification arrived",
           ("clarification answered", "clarified")),
)
_LABELS = {c.value: c.label for c in CORRECTABLE_CHOICES}


def _corrected(ctx: Context, case: RightsRequest, which: str) -> tuple[object, str]:
    """The record that holds the date ``which``, and the attribute, or Invalid when the case
    has no such date."""
    if which == "received":
        return case, "received_on"
    if which.startswith("pause_"):
        latest = next(iter(reversed(pauses(ctx.session, case))), None)
        attribute = "asked_on" if which == "pause_asked" else "answered_on"
        if latest is None or getattr(latest, attribute) is None:
            raise Invalid("There is no such date on this request to correct.", "which")
        return latest, attribute
    what, step = which.split("_")
    attribute = f"{what}_{'requested' if step == 'asked' else 'received'}_on"
    if getattr(case, attribute) is None:
        raise Invalid(f"{_LABELS[which]}: there is no such date on {case.reference} yet.",
                      "which")
    return case, attribute


def date_before_correction(ctx: Context, case: RightsRequest, values: Mapping[str, Any]
                           ) -> dict[str, Any]:
    holder, attribute = _corrected(ctx, case, values["which"])
    return {"was": getattr(holder, attribute).isoformat(), "now": values["on"],
            "due_was": case.due_on.isoformat() if case.due_on else None}


def correct_date(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    """The DPO corrects a date the deadline hangs on: recomputed, read back, with a reason."""
    if not (values.get("reason") or "").strip():
        raise Invalid("A reason is required: why was the date wrong?", "reason")
    which, on = values["which"], date.fromisoformat(values["on"])
    holder, attribute = _corrected(ctx, case, which)
    old, due_was = getattr(holder, attribute), case.due_on
    setattr(holder, attribute, on)
    if which == "received":
        local = case.received_at.astimezone(ctx.tz)
        case.received_at = local.replace(year=on.year, month=on.month, day=on.day)
    ctx.session.add(holder)
    ctx.session.flush()
    if problem := order_problem(ctx, case):
        raise Invalid(problem, "on")
    recompute(ctx, case)
    due = (f"The deadline is now {describe_date(case.due_on)}"
           + (f" (it was {describe_date(due_was)})" if due_was and due_was != case.due_on
              else " (unchanged)") + "." if case.due_on else case.deadline_explanation)
    drafted = audit.letters_drafted(ctx.session, "sar", case.id)
    letters = (f" Letters drafted before now ({', '.join(drafted)}) give the old date: draft "
               "them again before sending." if drafted else "")
    return (f"Corrected: {_LABELS[which].lower()} is {describe_date(on)}, not "
            f"{describe_date(old)}. {due} The reminders have moved with it.{letters}")


def order_problem(ctx: Context, case: RightsRequest) -> str | None:
    """Why the request's dates cannot all be true together, or None: nothing before the
    request, nothing arriving before it was asked for, no answer before its question."""
    received = case.received_on
    for what, words in _WAITS:
        asked = getattr(case, f"{what}_requested_on")
        arrived = getattr(case, f"{what}_received_on")
        if asked and asked < received:
            return (f"{words[0].upper()}{words[1:]} can't have been asked for "
                    f"({describe_date(asked)}) before the request arrived "
                    f"({describe_date(received)}).")
        if arrived and arrived < (asked or received):
            return (f"{words[0].upper()}{words[1:]} can't have arrived "
                    f"({describe_date(arrived)}) before it was asked for "
                    f"({describe_date(asked or received)}).")
    for p in pauses(ctx.session, case):
        if p.asked_on < received:
            return (f"The school can't have asked them to clarify ({describe_date(p.asked_on)}) "
                    f"before the request arrived ({describe_date(received)}).")
        if p.answered_on and p.answered_on < p.asked_on:
            return (f"Their clarification can't have arrived ({describe_date(p.answered_on)}) "
                    f"before the school asked ({describe_date(p.asked_on)}).")
    if case.extension_notice_on and case.extension_notice_on < received:
        return "The extension notice can't have gone before the request arrived."
    return None


def note(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    ctx.session.add(CaseNote(request_id=case.id, author_id=ctx.person.id, at=ctx.now,
                             text=values["text"]))
    return "Note added."


def notes(session: Session, case: RightsRequest) -> list[CaseNote]:
    return list(
        session.exec(
            select(CaseNote).where(CaseNote.request_id == case.id).order_by(col(CaseNote.id))
        )
    )
