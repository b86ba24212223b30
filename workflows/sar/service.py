"""The SAR log's rules: creating a request, its deadline, and what each DPO action does."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from workflows.audit import service as audit
from workflows.core.context import Context
from workflows.core.fields import Choice, Invalid
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.deadlines import (
    CalendarError,
    Deadline,
    DeadlineError,
    Pause,
    edu_record_deadline,
    sar_deadline,
)
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


def result(event: str, case: RightsRequest, **facts: Any) -> str:
    """What the person who took an action reads back: the action gives facts, the template words."""
    return render("sar/result.txt.j2", event=event, case=case, **facts)


def refusal(reason: str, **facts: Any) -> str:
    """Why an action or an intake is refused, worded in one place."""
    return render("sar/refusal.txt.j2", reason=reason, **facts)


# session.info key: each case's pauses as read in this transaction. A case's card reads
# them for its deadline, for whether it may be extended and for its rows: three queries a
# card, and a card is drawn for every decision and every nudge to the DPO.
READ_PAUSES = "sar.pauses"


def pauses(session: Session, case: RightsRequest) -> list[ClarificationPause]:
    """The case's clarification pauses, oldest first; read once until the session writes
    (a flush, or the end of a transaction or savepoint, forgets them; a pause added and not
    yet flushed is read for)."""
    if case.id is None:
        return []
    read: dict[int, list[ClarificationPause]] = session.info.setdefault(READ_PAUSES, {})
    if case.id not in read or any(isinstance(o, ClarificationPause) for o in session.new):
        read[case.id] = list(
            session.exec(
                select(ClarificationPause)
                .where(ClarificationPause.request_id == case.id)
                .order_by(col(ClarificationPause.asked_on), col(ClarificationPause.id))
            )
        )
    return list(read[case.id])


@event.listens_for(OrmSession, "after_flush")
@event.listens_for(OrmSession, "after_transaction_end")  # a commit, a rollback, a savepoint's
def _forget_pauses(session: OrmSession, *_: Any) -> None:
    session.info.pop(READ_PAUSES, None)


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
            raise CalendarError(refusal("no_calendar", school=school))
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
        case.deadline_explanation = render("sar/clock.txt.j2", waiting_for=waiting_for)
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
        school_id=ctx.school_id,
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
        created_by_id=ctx.person_id,
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
        raise Invalid(refusal("no_contact"), "requester_email")
    if problem := edu_record_problem(ctx, values):
        raise Invalid(problem, "request_type")


def edu_record_problem(ctx: Context, values: Mapping[str, Any]) -> str | None:
    """Why the 15-school-day right does not apply here, or None (also shown at the summary)."""
    if values.get("request_type") != RequestType.EDUCATIONAL_RECORD:
        return None
    if not ctx.school.maintained:
        return refusal("not_maintained", school=ctx.school)
    if values.get("relationship") != "parent":
        return refusal("not_parent")
    if term_calendar(ctx.school) is None:
        return refusal("no_term_dates", school=ctx.school)
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
    return result("taken", case)


def assign(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    person = ctx.session.get_one(Person, values["person"]["id"])
    case.owner_id = person.id
    return result("assigned", case, owner=person)


def record_arrival(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    what, on = values["what"], date.fromisoformat(values["received_on"])
    asked = getattr(case, f"{what}_requested_on")
    if asked is None:
        raise Invalid(refusal("not_asked", what=ARRIVALS[what]), "what")
    setattr(case, f"{what}_received_on", on)
    start, waiting_for = clock_start(case)
    # The latest arrival is day one, which need not be the date just typed.
    return result("arrived", case, start=start, waiting_for=waiting_for)


ARRIVALS = {"id": "ID", "authority": "written authority", "fee": "a fee"}


def request_id(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    """Ask for ID, a third party's authority or (rarely) a fee: the clock stops until it comes."""
    what = values["what"]
    setattr(case, f"{what}_requested_on", date.fromisoformat(values["asked_on"]))
    setattr(case, f"{what}_received_on", None)
    if what == "id":
        case.id_required = True
    return result("asked", case, what=ARRIVALS[what], letter=what in ("id", "authority"))


def pause(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    asked_on = date.fromisoformat(values["asked_on"])
    start, _ = clock_start(case)
    if start and asked_on < start:
        raise Invalid(refusal("pause_before_clock", start=start), "asked_on")
    ctx.session.add(ClarificationPause(request_id=saved_id(case), asked_on=asked_on,
                                       question=values.get("question")))
    ctx.session.flush()
    try:
        deadline(ctx.session, ctx.school, case)
    except DeadlineError as error:
        # E.g. asked after the deadline had passed: the date is at fault, so ask it again.
        raise Invalid(str(error), "asked_on") from None
    return result("paused", case, asked_on=asked_on)


def resume(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    current = open_pause(ctx.session, case)
    if current is None:  # resume is declared only from the paused state, which has one
        raise LookupError(f"{case.reference} is paused with no open pause")
    answered_on = date.fromisoformat(values["answered_on"])
    current.answered_on = answered_on
    ctx.session.add(current)
    ctx.session.flush()
    return result("resumed", case, days=(answered_on - current.asked_on).days + 1)


def extension_guard(ctx: Context, case: RightsRequest) -> str | None:
    if case.extended:
        return refusal("already_extended", case=case)
    if case.request_type == RequestType.EDUCATIONAL_RECORD:
        return refusal("edu_no_extension")
    # While paused, today's answer gives the earliest notice deadline, which is after today.
    law = deadline(ctx.session, ctx.school, case, answered_by=ctx.today)
    notice_due = law.extension_notice_due if law is not None else None
    if notice_due and ctx.today > notice_due and law is not None:
        return refusal("too_late_to_extend", notice_due=notice_due, due=law.due)
    return None


def extend(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    told_on = date.fromisoformat(values["notice_on"])
    law = deadline(ctx.session, ctx.school, case, answered_by=ctx.today)
    notice_due = law.extension_notice_due if law is not None else None
    if notice_due and told_on > notice_due:
        if open_pause(ctx.session, case) is not None:
            # The real notice deadline depends on when their answer comes; only the earliest
            # it can be is safe to record against.
            raise Invalid(refusal("notice_paused", notice_due=notice_due), "notice_on")
        raise Invalid(refusal("notice_late", notice_due=notice_due), "notice_on")
    case.extended = True
    case.extension_reason = values["reason"]
    case.extension_notice_on = told_on
    return result("extended", case)


def pause_guard(ctx: Context, case: RightsRequest) -> str | None:
    if case.request_type == RequestType.EDUCATIONAL_RECORD:
        return refusal("edu_no_pause")
    return None


def close(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    responded_on = date.fromisoformat(values["responded_on"])
    waiting = [ARRIVALS[what] for what, _ in _WAITS if getattr(case, f"{what}_requested_on")
               and not getattr(case, f"{what}_received_on")]
    if waiting and values["outcome"] in (Outcome.DISCLOSED_FULL, Outcome.DISCLOSED_PART,
                                         Outcome.COMPLETED):
        # Disclosing before the ID or authority the school asked for contradicts the record.
        raise Invalid(refusal("still_waiting", case=case, waiting=waiting), "outcome")
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
    return result("closed", case, late=late, letter=letter)


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
            raise Invalid(refusal("no_such_pause_date"), "which")
        return latest, attribute
    what, step = which.split("_")
    attribute = f"{what}_{'requested' if step == 'asked' else 'received'}_on"
    if getattr(case, attribute) is None:
        raise Invalid(refusal("no_such_date", label=_LABELS[which], case=case), "which")
    return case, attribute


def date_before_correction(ctx: Context, case: RightsRequest, values: Mapping[str, Any]
                           ) -> dict[str, Any]:
    holder, attribute = _corrected(ctx, case, values["which"])
    return {"was": getattr(holder, attribute).isoformat(), "now": values["on"],
            "due_was": case.due_on.isoformat() if case.due_on else None}


def correct_date(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    """The DPO corrects a date the deadline hangs on: recomputed, read back, with a reason."""
    if not (values.get("reason") or "").strip():
        raise Invalid(refusal("no_reason"), "reason")
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
    return result("corrected", case, label=_LABELS[which], on=on, was=old, due_was=due_was,
                  drafted=audit.letters_drafted(ctx.session, "sar", saved_id(case)))


def order_problem(ctx: Context, case: RightsRequest) -> str | None:
    """Why the request's dates cannot all be true together, or None: nothing before the
    request, nothing arriving before it was asked for, no answer before its question."""
    received = case.received_on
    for what, words in _WAITS:
        asked = getattr(case, f"{what}_requested_on")
        arrived = getattr(case, f"{what}_received_on")
        if asked and asked < received:
            return refusal("asked_before_received", words=words, asked=asked, received=received)
        if arrived and arrived < (asked or received):
            return refusal("arrived_before_asked", words=words, arrived=arrived,
                           asked=asked or received)
    for p in pauses(ctx.session, case):
        if p.asked_on < received:
            return refusal("clarify_before_received", asked=p.asked_on, received=received)
        if p.answered_on and p.answered_on < p.asked_on:
            return refusal("clarified_before_asked", answered=p.answered_on, asked=p.asked_on)
    if case.extension_notice_on and case.extension_notice_on < received:
        return refusal("notice_before_received")
    return None


def note(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> str:
    ctx.session.add(CaseNote(request_id=saved_id(case), author_id=ctx.person_id, at=ctx.now,
                             text=values["text"]))
    return result("noted", case)


def notes(session: Session, case: RightsRequest) -> list[CaseNote]:
    return list(
        session.exec(
            select(CaseNote).where(CaseNote.request_id == case.id).order_by(col(CaseNote.id))
        )
    )
