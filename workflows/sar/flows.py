"""The SAR workflow declared: intake questions, states, DPO actions, deadlines and letters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from workflows.core.context import Context
from workflows.core.declaration import (
    CREATED,
    OWNER,
    TEAM,
    Action,
    DeadlineReminders,
    Export,
    Notice,
    Retention,
    Unfinished,
    Workflow,
)
from workflows.core.fields import (
    FIRST_USE_REASON,
    After,
    Choice,
    Field,
    Form,
    Kind,
    Plausible,
    case_at,
    first_use_floor,
    not_in_future,
    today_here,
)
from workflows.core.outward import absolute_times
from workflows.core.wording import render
from workflows.deadlines import CalendarError, DeadlineError
from workflows.people import service as people
from workflows.people.permissions import Permission
from workflows.sar import export, letters, service
from workflows.sar.models import Outcome, RequestType, RightsRequest, SarState

REQUEST_TYPES = (
    Choice(RequestType.ACCESS, "Subject access: a copy of their personal data",
           ("sar", "access", "subject access", "copy")),
    Choice(RequestType.ERASURE, "Erasure: delete their data", ("delete", "erase", "forget")),
    Choice(RequestType.RECTIFICATION, "Rectification: correct their data",
           ("correct", "correction", "rectify")),
    Choice(RequestType.RESTRICTION, "Restriction: stop using their data for now", ("restrict",)),
    Choice(RequestType.OBJECTION, "Objection to how we use their data", ("object",)),
    Choice(RequestType.PORTABILITY, "Portability: their data in a reusable format", ("port",)),
    Choice(RequestType.EDUCATIONAL_RECORD, "Educational record: a parent asks to see or copy it",
           ("educational record", "edu record", "school record")),
)

RELATIONSHIPS = (
    Choice("parent", "Parent or carer", ("parent", "carer", "mum", "dad", "guardian")),
    Choice("pupil", "Pupil", ("student", "child")),
    Choice("former_pupil", "Former pupil", ("ex-pupil", "former student")),
    Choice("staff", "Staff member", ("employee", "teacher")),
    Choice("governor", "Governor"),
    Choice("volunteer", "Volunteer"),
    Choice("solicitor", "Solicitor", ("lawyer",)),
    Choice("third_party", "Other third party acting for someone", ("third party",)),
    Choice("other", "Other"),
)

CHANNELS = (
    Choice("email", "Email"),
    Choice("letter", "Letter", ("post",)),
    Choice("in_person", "In person", ("face to face", "reception")),
    Choice("phone", "Phone", ("telephone", "call")),
    Choice("social_media", "Social media"),
    Choice("other", "Other"),
)


def _about_other(answers: Mapping[str, Any]) -> bool:
    return answers.get("about_requester") is False


def _third_party(answers: Mapping[str, Any]) -> bool:
    return answers.get("relationship") in ("solicitor", "third_party")


INTAKE = Form(
    (
        Field("request_type", Kind.CHOICE, "Type of request",
              "What are they asking for?",
              help="Most requests are subject access (a copy of their data). The others are "
                   "the other rights; all have one calendar month. An educational record request "
                   "comes from a parent under the 2005 regulations and has 15 school days.",
              choices=REQUEST_TYPES),
        Field("requester_name", Kind.TEXT, "Requester", "Who made the request? (their full name)",
              help="The person who asked, even if the data is about someone else (their child)."),
        Field("relationship", Kind.CHOICE, "Relationship to the school",
              "What is their relationship with the school?", choices=RELATIONSHIPS),
        Field("about_requester", Kind.YES_NO, "About themselves",
              "Is the request about their own data? (yes/no)",
              help="Say no when a parent asks for their child's data, or a solicitor for a "
                   "client's."),
        Field("subject_name", Kind.TEXT, "Whose data", "Whose data is it about? (full name)",
              help="For a pupil, their name as the school records it.", ask_if=_about_other,
              depends=("about_requester",)),
        Field("authority_needed", Kind.YES_NO, "Authority to be checked",
              "Do we still need written authority from the person the data is about? (yes/no)",
              help="A third party needs the person's written authority. If we do, the clock "
                   "starts when it arrives.", ask_if=_third_party,
              depends=("relationship",)),
        Field("requester_email", Kind.EMAIL, "Email", "Their email address? (or “skip”)",
              optional=True, max_length=320),
        Field("requester_phone", Kind.PHONE, "Phone", "Their phone number? (or “skip”)",
              optional=True, max_length=40),
        Field("requester_address", Kind.TEXT, "Postal address",
              "Their postal address for the reply? (or “skip”)", optional=True, max_length=500),
        Field("channel", Kind.CHOICE, "Arrived by", "How did the request arrive?",
              choices=CHANNELS),
        Field("received_at", Kind.DATETIME, "Received",
              "When did the school receive it? (e.g. “today 9:30”, “yesterday”, “3/9”)",
              help="The day it reached anyone at the school, even the wrong person, even at a "
                   "weekend: the clock starts that day. It can't be in the future.",
              checks=(not_in_future,),
              plausible=Plausible(21, first_use_floor, FIRST_USE_REASON)),
        Field("details", Kind.LONG_TEXT, "What is asked for",
              "What exactly are they asking for? Copy their words if you can.",
              help="For example “my child's behaviour record held by the class teacher” or "
                   "“emails between A and B between two dates”. A request doesn't need to "
                   "mention the law to count."),
        Field("id_needed", Kind.YES_NO, "Check ID first",
              "Is there real doubt about who they are, so we must check ID first? (yes/no)",
              help="Only ask for ID if there is genuine doubt (e.g. a request from an unknown "
                   "email address). If yes, the clock starts when the ID arrives."),
    )
)


def _summary_notes(ctx: Context, values: Mapping[str, Any]) -> list[str]:
    """Read the deadline back before anything is saved."""
    if not values.get("received_at") or not values.get("request_type"):
        return []
    if problem := service.edu_record_problem(ctx, values):
        return [problem]  # the same refusal "yes" would get, before it is typed
    received = datetime.fromisoformat(values["received_at"]).astimezone(ctx.tz).date()
    probe = RightsRequest(
        school_id=ctx.school_id, request_type=values["request_type"], state=SarState.OPEN,
        requester_name="", relationship=values.get("relationship", "other"), channel="",
        received_at=datetime.fromisoformat(values["received_at"]), received_on=received,
        details="", created_by_id=0,
        id_requested_on=ctx.today if values.get("id_needed") else None,
        authority_requested_on=ctx.today if values.get("authority_needed") else None,
    )
    try:
        result = service.deadline(ctx.session, ctx.school, probe)
    except (CalendarError, DeadlineError) as error:
        return [str(error)]
    if result is None or result.due is None:  # no pause on a request not yet saved
        return [_note("clock_waits")]
    notes = [_note("deadline", due=result.due, rule=result.rule)]
    left = (result.due - ctx.today).days
    if left < 0:
        notes.append(_note("late", days=-left))
    elif left <= 7:
        notes.append(_note("soon", days=left))
    if (values.get("relationship") == "parent" and values.get("about_requester") is False
            and values["request_type"] != RequestType.EDUCATIONAL_RECORD):
        # ICO: a child's data is the child's; from about 12 a competent child decides.
        notes.append(_note("child"))
    return notes


def _note(note: str, **facts: Any) -> str:
    return render("sar/summary.txt.j2", note=note, **facts)


def _row(row: str, **facts: Any) -> str:
    return render("sar/card.txt.j2", row=row, **facts)


def _card_rows(ctx: Context, case: RightsRequest) -> list[tuple[str, str]]:
    owner = people.get(ctx.session, case.owner_id)
    logged_by = people.get(ctx.session, case.created_by_id)
    relationship = next(c.label for c in RELATIONSHIPS if c.value == case.relationship)
    rows = [
        ("Type", service.TYPE_LABELS[RequestType(case.request_type)]),
        ("Requester", _row("requester", case=case, relationship=relationship)),
        ("About", _row("about", case=case)),
        ("Contact", _row("contact", contacts=[x for x in (
            case.requester_email, case.requester_phone, case.requester_address) if x])),
        ("Received", _row("received", at=case.received_at.astimezone(ctx.tz),
                          channel=next(c.label for c in CHANNELS if c.value == case.channel),
                          channel_key=case.channel)),
        ("Asked for", case.details),
    ]
    for what, label in (("id", "ID"), ("authority", "Authority"), ("fee", "Fee")):
        asked = getattr(case, f"{what}_requested_on")
        if asked:
            rows.append((label, _row("waited_for", asked=asked,
                                     arrived=getattr(case, f"{what}_received_on"))))
    for p in service.pauses(ctx.session, case):
        rows.append(("Clarification", _row("clarification", asked=p.asked_on,
                                           answered=p.answered_on)))
    if case.extended:
        rows.append(("Extension", _row("extension", case=case)))
    rows.append(("Owner", _row("owner", owner=owner)))
    rows.append(("Logged by", _row("logged_by", person=logged_by)))
    if case.state == SarState.CLOSED:
        outcome = next(c.label for c in OUTCOMES if c.value == case.outcome)
        rows.append(("Outcome", _row("outcome", case=case, outcome=outcome)))
        if case.outcome_reason:
            rows.append(("Reasons", case.outcome_reason))
    for n in service.notes(ctx.session, case):
        author = people.get(ctx.session, n.author_id)
        rows.append((_row("note_title", at=n.at.astimezone(ctx.tz)),
                     _row("note", note=n, author=author)))
    return rows


def _deadline_text(ctx: Context, case: RightsRequest) -> str | None:
    if case.state == SarState.CLOSED:
        if case.due_on and case.closed_on and case.closed_on > case.due_on:
            return render("sar/deadline.txt.j2", closed=True,
                          late_by=(case.closed_on - case.due_on).days)
        return None
    if case.due_on is None:
        return case.deadline_explanation
    return render("sar/deadline.txt.j2", closed=False, due=case.due_on,
                  left=(case.due_on - ctx.today).days, explanation=case.deadline_explanation)


OUTCOMES = (
    Choice(Outcome.DISCLOSED_FULL, "Disclosed in full", ("full", "all")),
    Choice(Outcome.DISCLOSED_PART, "Disclosed in part (redactions or exemptions)",
           ("part", "partial", "redacted")),
    Choice(Outcome.NOTHING_HELD, "Nothing held", ("none", "nothing")),
    Choice(Outcome.COMPLETED, "Done as asked (erasure, rectification, ...)", ("done",)),
    Choice(Outcome.REFUSED, "Refused", ("refuse",)),
    Choice(Outcome.WITHDRAWN, "Withdrawn by the requester", ("withdrawn",)),
)
METHODS = (
    Choice("email", "Email (secure)"),
    Choice("post", "Post", ("letter",)),
    Choice("collected", "Collected in person", ("in person",)),
    Choice("portal", "Secure portal or file share", ("portal",)),
)

WAITED_FOR = (
    Choice("id", "Their ID", ("id",)),
    Choice("authority", "Written authority to act for someone", ("authority",)),
    Choice("fee", "A fee", ("fee",)),
)
_OPEN = frozenset({SarState.AWAITING_ID, SarState.OPEN, SarState.PAUSED})
_DATE_HELP = "Type a date like “today”, “yesterday” or “3/9”."
# Every date on a request follows the request itself; each names what else it follows.
_AFTER_RECEIVED = case_at("received_on", "the request arrived")
_AFTER_ASKED = After("the school asked for it", lambda ctx, answers, case: getattr(
    case, f"{answers.get('what')}_requested_on", None) if answers.get("what") else None)
_AFTER_CLOCK_START = After("the clock started", lambda ctx, answers, case: service.clock_start(
    case)[0] if case is not None else None)
_AFTER_PAUSE = After("the school asked them to clarify", lambda ctx, answers, case: getattr(
    service.open_pause(ctx.session, case), "asked_on", None) if case is not None else None)


def _needs_reason(answers: Mapping[str, Any]) -> bool:
    return answers.get("outcome") in (Outcome.REFUSED, Outcome.DISCLOSED_PART)


ACTIONS = (
    Action("take", "Take the case", Permission.DECIDE, _OPEN, style="primary",
           aliases=("take it", "mine"),
           guard=lambda ctx, case: "It is already yours." if case.owner_id == ctx.person.id
           else None,
           apply=service.take),
    Action("assign", "Assign to someone", Permission.DECIDE, _OPEN,
           form=Form((Field("person", Kind.PERSON, "Assign to",
                            "Who should own it? (a number from the list, or their name)",
                            people=people.colleagues),)),
           apply=service.assign),
    Action("record_id", "Record ID received", Permission.DECIDE,
           frozenset({SarState.AWAITING_ID}), aliases=("id received", "record id", "id"),
           form=Form((
               Field("what", Kind.CHOICE, "What arrived", "What has arrived?",
                     choices=WAITED_FOR),
               Field("received_on", Kind.DATE, "Arrived on", "When did it arrive?",
                     help=_DATE_HELP, checks=(not_in_future,),
                     after=(_AFTER_RECEIVED, _AFTER_ASKED)),
           )),
           to_state=service.waiting_or_open,
           apply=service.record_arrival),
    Action("request_id", "Ask for ID, authority or fee", Permission.DECIDE,
           frozenset({SarState.OPEN}), to_state=SarState.AWAITING_ID,
           title="Ask for ID/authority/fee",
           aliases=("ask for id", "need id", "ask for fee", "ask for authority"),
           confirm="The clock stops until it arrives, then starts again from day one.",
           form=Form((
               Field("what", Kind.CHOICE, "Asked for", "What did you ask them for?",
                     help="ID only where there is real doubt about who they are; a fee only "
                          "for manifestly unfounded or excessive requests, or extra copies.",
                     choices=WAITED_FOR),
               Field("asked_on", Kind.DATE, "Asked on", "When did you ask?",
                     help=_DATE_HELP, checks=(not_in_future,), after=(_AFTER_RECEIVED,)),
           )),
           apply=service.request_id),
    Action("pause", "Pause for clarification", Permission.DECIDE, frozenset({SarState.OPEN}),
           to_state=SarState.PAUSED, aliases=("clarify", "clarification"),
           guard=service.pause_guard,
           form=Form((
               Field("asked_on", Kind.DATE, "Asked on",
                     "When did the school ask them to clarify?", help=_DATE_HELP,
                     checks=(not_in_future,), after=(_AFTER_CLOCK_START,)),
               Field("question", Kind.LONG_TEXT, "What we asked",
                     "What did you ask them to clarify? (or “skip”)", optional=True,
                     checks=(absolute_times,)),
           )),
           apply=service.pause, why=("question",)),
    Action("resume", "Clarification received", Permission.DECIDE, frozenset({SarState.PAUSED}),
           to_state=SarState.OPEN, aliases=("clarified", "answered", "unpause"),
           form=Form((Field("answered_on", Kind.DATE, "Answer arrived",
                            "When did their answer arrive?", help=_DATE_HELP,
                            checks=(not_in_future,), after=(_AFTER_PAUSE,)),)),
           apply=service.resume),
    Action("extend", "Extend by two months", Permission.DECIDE,
           frozenset({SarState.OPEN, SarState.PAUSED}), aliases=("extension",),
           guard=service.extension_guard,
           confirm="The requester must be told, with reasons, within the first month.",
           form=Form((
               Field("reason", Kind.LONG_TEXT, "Reason",
                     "Why is it complex, or how many requests have they made?",
                     help="An extension is only for complex requests or several requests from "
                          "the same person. The reason goes in the letter to them.",
                     checks=(absolute_times,)),
               Field("notice_on", Kind.DATE, "Requester told on",
                     "When were they told of the extension (or when will they be)?",
                     help="It must be within the first month; "
                          "“today” is the usual answer.", after=(_AFTER_RECEIVED,),
                     default=today_here),
           )),
           apply=service.extend, why=("reason",)),
    Action("close", "Close", Permission.DECIDE, _OPEN, to_state=SarState.CLOSED, style="danger",
           aliases=("complete", "finish", "respond"),
           confirm="Closing is final: afterwards the record can only be added to.",
           form=Form((
               Field("outcome", Kind.CHOICE, "Outcome", "What was the outcome?", choices=OUTCOMES),
               Field("reason", Kind.LONG_TEXT, "Reasons",
                     "Which exemptions or redactions, and why? (these go in the letter)",
                     ask_if=_needs_reason, depends=("outcome",),
                     checks=(absolute_times,)),
               Field("responded_on", Kind.DATE, "Responded on", "When did the response go?",
                     help=_DATE_HELP, checks=(not_in_future,), after=(_AFTER_RECEIVED,)),
               Field("method", Kind.CHOICE, "How", "How was it sent?", choices=METHODS),
           )),
           apply=service.close, why=("reason",)),
    Action("correct", "Correct a date", Permission.DECIDE, _OPEN,
           aliases=("correct date", "correct a date", "fix date", "correction"),
           confirm="The deadline and its reminders move with the date; the old date stays in "
                   "the history.",
           form=Form((
               Field("which", Kind.CHOICE, "Date to correct", "Which date was wrong?",
                     choices=service.CORRECTABLE_CHOICES),
               Field("on", Kind.DATE, "Correct date", "What is the right date?",
                     help=_DATE_HELP, checks=(not_in_future,),
                     plausible=Plausible(None, first_use_floor, FIRST_USE_REASON)),
               Field("reason", Kind.LONG_TEXT, "Reason",
                     "Why was it wrong? (kept in the history)"),
           )),
           was=service.date_before_correction,
           apply=service.correct_date, why=("reason",)),
    Action("note", "Add a note", Permission.NOTE, frozenset(SarState), changes_case=False,
           aliases=("note", "add note", "comment"),
           form=Form((Field("text", Kind.LONG_TEXT, "Note", "What do you want to add?"),)),
           apply=service.note),
)

# The DPO team and the owner, privately, with a reference and no personal data.
_EVENT = "messages/sar_event.txt.j2"


def _type_label(ctx: Context, case: RightsRequest, values: Mapping[str, Any]) -> dict[str, Any]:
    return {"type_label": service.TYPE_LABELS[RequestType(case.request_type)]}


SAR = Workflow(
    name="sar",
    prefix=service.PREFIX,
    title="Subject access request",
    summary="Log a subject access request (or erasure, rectification, educational record...)",
    triggers=("sar", "subject access", "access request", "rights request", "erasure request",
              "educational record", "their data", "copy of my data", "my data",
              "copy of everything", "copy of all", "everything we hold", "information we hold",
              "data we hold", "copy of their", "copy of her", "copy of his", "erase",
              "right to be forgotten", "delete their data", "delete her data",
              "delete his data", "correct their data", "see his file", "see her file"),
    words=("data", "records", "record", "copy", "information", "file", "erase", "delete",
           "rectify", "correct", "subject", "access", "request", "object", "rights"),
    model=RightsRequest,
    intake=INTAKE,
    start_permission=Permission.START_CASE,
    states={
        SarState.AWAITING_ID: "Waiting for ID or authority",
        SarState.OPEN: "Open",
        SarState.PAUSED: "Paused for clarification",
        SarState.CLOSED: "Closed",
    },
    open_states=_OPEN,
    actions=ACTIONS,
    build=service.build,
    reference_year=lambda ctx, case: case.received_on.year,
    created_facts=service.created_facts,
    deadline_question="request_type",
    notices=(
        Notice((CREATED,), "new", (TEAM, OWNER), _EVENT, _type_label),
        Notice(("assign",), "assigned", (TEAM, OWNER), _EVENT,
               lambda ctx, case, values: _type_label(ctx, case, values)
               | {"owner": people.get(ctx.session, case.owner_id)}),
        Notice(("close",), "closed", (TEAM, OWNER), _EVENT, _type_label),
    ),
    card_rows=_card_rows,
    gist="sar/gist.txt.j2",
    due=lambda case: case.due_on,
    case_title=lambda case: service.TYPE_LABELS[RequestType(case.request_type)],
    deadline_text=_deadline_text,
    reminders=DeadlineReminders(),
    letters=letters.LETTERS,
    retention=Retention("sar_closed_years", lambda case: case.closed_on, default_years=1,
                        to_academic_year_end=True),
    shortcut="Log a SAR",
    export=Export("sars", "subject_access_requests", "the SAR and rights-request log",
                  "The SAR log, with every date, for the governors, the ICO or your own "
                  "records.", "requests", export.export_rows),
    summary_notes=_summary_notes,
    recompute=service.recompute,
    # Started and not saved: the person is reminded.
    unfinished=Unfinished(timedelta(minutes=30)),
)

__all__ = ["SAR"]
