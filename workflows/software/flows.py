"""The software approval workflow declared: the request, and the DPO's decision on it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from workflows.core.context import Context
from workflows.core.dates import describe_datetime
from workflows.core.declaration import (
    CREATED,
    OWNER,
    REQUESTER,
    TEAM,
    Action,
    DeadlineReminders,
    Export,
    Notice,
    Unfinished,
    Workflow,
)
from workflows.core.fields import UNKNOWN, Choice, Field, Form, Kind
from workflows.core.wording import render
from workflows.people import service as people
from workflows.people.models import Role
from workflows.people.permissions import Permission
from workflows.software import answers, decisions, export, intake, names, reviews, routes
from workflows.software.models import RequestState, SoftwareRequest, Status
from workflows.software.screening import DATA_CHOICES, Screening, kind_label, none_alone, screen

_DONT_KNOW = Choice(UNKNOWN, "Don't know", ("not sure",))
_YES_NO_UNKNOWN = (Choice("yes", "Yes", ("y", "yeah")), Choice("no", "No", ("n", "nope")),
                   _DONT_KNOW)
_UNSURE = " (or “don't know”: the DPO will find out)"

INTAKE = Form((
    Field("product", Kind.TEXT, "Product", "Which app or website is it? (its name)",
          help="For example “IXL”, “Purple Mash”, “Canva for Education”. If it is already "
               "approved I'll tell you at once.",
          checks=(intake.check_new_product,)),
    Field("website", Kind.URL, "Website", "What is its website?" + _UNSURE,
          help="For example “ixl.com”. It helps the DPO find the vendor's terms.",
          max_length=300, unknown=True),
    Field("purpose", Kind.LONG_TEXT, "What it is for",
          "What will you use it for?",
          help="For example “maths homework and practice for Years 3 to 6”."),
    Field("users", Kind.TEXT, "Who will use it",
          "Who will use it? Name the year groups and staff (e.g. “Years 3-6 and their teachers”, "
          "“staff only”)",
          help="The year groups tell the DPO the pupils' ages: under-13s using an online "
               "service themselves may need a parent's consent.", max_length=300),
    Field("pupils_use", Kind.CHOICE, "Pupils use it themselves",
          "Will pupils log in or use it themselves?", choices=_YES_NO_UNKNOWN, unknown=True),
    Field("data_kinds", Kind.MULTI_CHOICE, "Data that goes in",
          "Which data about pupils or staff goes in? Type the numbers or the names, e.g. "
          "“1, 4” or “names, photos”.",
          help="Choose all that apply. Count anything you or the pupils type, upload or that "
               "the app records.", max_length=300, choices=DATA_CHOICES,
          checks=(none_alone,)),
    Field("accounts_by", Kind.TEXT, "Who creates the accounts",
          "Who creates the accounts, and with what details? (e.g. “I do, with first name and "
          "class”; “pupils sign up”)" + _UNSURE, unknown=True),
    Field("privacy_notice", Kind.TEXT, "Privacy notice",
          "Where is the vendor's privacy notice? (a link, “none”" + ", or “don't know”)",
          help="Usually a “Privacy” link at the bottom of the vendor's website.",
          max_length=500, unknown=True),
    Field("storage", Kind.TEXT, "Where data is stored",
          "Where is the data stored? (e.g. “UK”, “EU”, “USA”)" + _UNSURE,
          help="Often in the vendor's privacy notice or security page.", unknown=True),
    Field("min_age", Kind.TEXT, "Vendor's minimum age",
          "What is the vendor's minimum age for users? (e.g. “13”, “none”)" + _UNSURE,
          help="In the vendor's terms of use: many apps are 13+ unless a school signs up.",
          max_length=50, unknown=True),
    Field("dpa", Kind.CHOICE, "Data processing agreement",
          "Is there a data processing agreement with the vendor (a DPA or “school terms”)?",
          choices=_YES_NO_UNKNOWN, unknown=True),
    Field("ads_ai", Kind.CHOICE, "Advertising or AI training",
          "Does the vendor use pupil data for advertising, profiling or training AI?",
          choices=_YES_NO_UNKNOWN, unknown=True),
    Field("cost", Kind.TEXT, "Cost",
          "What does it cost? (e.g. “free”, “£300 a year”)" + _UNSURE, unknown=True),
))

_OPEN = names.OPEN_STATES
_ALL = frozenset(RequestState)
_DECIDE_CONFIRM = "This is the school's written decision; it is taken once."
# Asked of every approval; required where the screening says a DPIA is (or may be) needed.
_DPIA_FIELDS = (
    Field("dpia", Kind.CHOICE, "DPIA",
          "If the screening says a DPIA is needed: has it been done? (done / not needed / "
          "“skip” if the screening needs none)",
          choices=(Choice("done", "Done", ("yes", "completed", "complete")),
                   Choice("not_needed", "Not needed", ("no", "not required", "none"))),
          optional=True),
    Field("dpia_note", Kind.LONG_TEXT, "DPIA record",
          "Its date or reference, or why it is not needed:", ask_if=lambda a: bool(
              a.get("dpia")), depends=("dpia",)),
)

ACTIONS = (
    Action("approve", "Approve", Permission.DECIDE, _ALL, to_state=RequestState.APPROVED,
           style="primary", once=decisions.undecided, aliases=("approved",),
           confirm=_DECIDE_CONFIRM,
           form=Form((Field("reason", Kind.LONG_TEXT, "Why",
                            "Anything to record about why? (or “skip”)", optional=True),
                      *_DPIA_FIELDS)),
           apply=decisions.approve, why=("reason",)),
    Action("approve_with_conditions", "Approve with conditions", Permission.DECIDE, _ALL,
           to_state=RequestState.APPROVED, once=decisions.undecided,
           aliases=("conditions", "approve with condition", "conditional"),
           confirm=_DECIDE_CONFIRM,
           form=Form((Field("conditions", Kind.LONG_TEXT, "Conditions",
                            "On what conditions? (e.g. “first names only; no photos”)",
                            help="The requester is told these, and the register keeps them."),
                      *_DPIA_FIELDS)),
           apply=decisions.approve_with_conditions, why=("conditions",)),
    Action("reject", "Reject", Permission.DECIDE, _ALL, to_state=RequestState.REJECTED,
           style="danger", once=decisions.undecided, aliases=("refuse", "decline", "rejected"),
           confirm=_DECIDE_CONFIRM,
           form=Form((Field("reason", Kind.LONG_TEXT, "Reason",
                            "Why is it rejected? (the requester is told this)",
                            help="E.g. “no data processing agreement, and it trains AI on "
                                 "pupils' work”. Suggest an approved alternative if there is "
                                 "one."),)),
           apply=decisions.reject, why=("reason",)),
    Action("ask", "Ask for more information", Permission.DECIDE, _ALL,
           to_state=RequestState.MORE_INFO, guard=decisions.undecided,
           aliases=("ask for more information", "ask for information", "more info",
                    "ask for info", "question"),
           form=Form((Field("question", Kind.LONG_TEXT, "Question",
                            "What do you need to know? (this goes to the requester)"),)),
           apply=decisions.ask_for_information, why=("question",)),
    Action("answer", "Answer the DPO", Permission.NOTE,
           frozenset({RequestState.MORE_INFO}), to_state=RequestState.AWAITING,
           style="primary", guard=decisions.answer_guard, aliases=("reply", "answer question"),
           form=Form((Field("answer", Kind.LONG_TEXT, "Answer", "Your answer for the DPO:"),)),
           apply=decisions.answer, why=("answer",)),
    Action("reassign", "Reassign", Permission.DECIDE, _ALL, guard=decisions.undecided,
           aliases=("assign",),
           form=Form((Field("person", Kind.PERSON, "Decided by",
                            "Who should decide it? (a number from the list, or their name)",
                            help="The DPO or a deputy: only they decide software requests.",
                            people=people.deciders, people_why="deciders"),)),
           apply=decisions.reassign),
)


_CHOSEN = ("pupils_use", "dpa", "ads_ai")


def _answer_text(name: str, value: Any) -> str:
    if value == UNKNOWN:
        return "Don't know (open question)"
    if name == "data_kinds":
        return ", ".join(kind_label(k) for k in value)
    if name in _CHOSEN:
        return INTAKE.field(name).display(value)
    return str(value) if value else "(not given)"


def _card_rows(ctx: Context, case: SoftwareRequest) -> list[tuple[str, str]]:
    rows = [(INTAKE.field(name).label, _answer_text(name, getattr(case, name)))
            for name in intake.ANSWER_FIELDS]
    asked = describe_datetime(case.created_at.astimezone(ctx.tz))
    rows.append(("Asked by", f"{answers.name_of(ctx.session, case.created_by_id)}, {asked}"))
    if case.owner_id:
        rows.append(("To be decided by", answers.name_of(ctx.session, case.owner_id)))
    found = intake.screening_of(case)
    rows.append(("DPIA screening", _screening("dpia", found)))
    rows.append(("Parental consent", _screening("consent", found)))
    if found.concerns:
        rows.append(("Points to check", _screening("concerns", found)))
    if found.open_questions:
        rows.append(("Open questions", _screening("open_questions", found)))
    for earlier in names.earlier_rejections(ctx.session, ctx.school_id, case.product):
        if earlier.request_id != case.id:
            rows.append(("Rejected before", _note("rejected_before", decided_on=earlier.decided_on,
                                                  reason=earlier.reason)))
    for message in decisions.messages(ctx.session, case):
        who = answers.name_of(ctx.session, message.author_id)
        label = "DPO asked" if message.kind == "question" else "Answer"
        rows.append((f"{label}, {describe_datetime(message.at.astimezone(ctx.tz))}",
                     f"{message.text} ({who})"))
    if case.decision is not None and case.decided_at is not None:
        rows.append(("Decision", _note(
            "decision", decision=decisions.DECISIONS[Status(case.decision)],
            who=answers.name_of(ctx.session, case.decided_by_id),
            decided_at=case.decided_at.astimezone(ctx.tz))))
        if case.conditions:
            rows.append(("Conditions", case.conditions))
        if case.reason:
            rows.append(("Reason", case.reason))
    return rows


def _deadline_text(ctx: Context, case: SoftwareRequest) -> str | None:
    if case.state == RequestState.MORE_INFO:
        return _note("waiting_answer")
    if case.decide_by is None:
        return None
    return _note("waiting_decision", decide_by=case.decide_by)


def _summary_notes(ctx: Context, values: Mapping[str, Any]) -> list[str]:
    notes: list[str] = []
    found = screen(values)
    notes.append(_note("screening", screening=found))
    if found.open_questions:
        notes.append(_note("open_questions", screening=found))
    for earlier in names.earlier_rejections(ctx.session, ctx.school_id,
                                            str(values.get("product") or "")):
        notes.append(_note("rejected_earlier", product=earlier))
    return notes


def _screening(part: str, found: Screening) -> str:
    return render("software/screening.txt.j2", part=part, screening=found)


def _note(note: str, **facts: Any) -> str:
    """A line of the DPO's card or the requester's summary, worded by its template."""
    return render("software/notes.txt.j2", note=note, **facts)


_EVENT = "software/event.txt.j2"

SOFTWARE = Workflow(
    name="software",
    prefix=intake.PREFIX,
    title="Software request",
    summary="Ask the DPO to approve a new app or website that will hold pupil data",
    triggers=("new software", "new app", "request software", "software request",
              "software approval",
              "approve an app", "new website", "request an app"),
    words=("app", "software", "website", "tool", "platform", "approve", "approval",
           "sign", "start"),
    model=SoftwareRequest,
    intake=INTAKE,
    start_permission=Permission.START_CASE,
    states={
        RequestState.AWAITING: "Waiting for the DPO's decision",
        RequestState.MORE_INFO: "Waiting for more information from the requester",
        RequestState.APPROVED: "Approved",
        RequestState.REJECTED: "Rejected",
    },
    open_states=_OPEN,
    actions=ACTIONS,
    build=intake.build,
    reference_year=lambda ctx, case: ctx.today.year,
    created_facts=intake.created_facts,
    notices=(
        # The one deciding (once reassigned) and the DPO team, privately; the card follows.
        Notice((CREATED,), "new", (OWNER, TEAM), _EVENT, intake.screening_facts),
        Notice(("answer",), "answered", (OWNER, TEAM), _EVENT,
               lambda ctx, case, values: {"answer": values["answer"]}),
        Notice(("reassign",), "reassigned", (OWNER,), _EVENT),
        # Whoever asked; the decider hears whether it reached them.
        Notice(("approve", "approve_with_conditions", "reject"), "decided", (REQUESTER,),
               _EVENT, decisions.decision_facts, confirm=True),
        Notice(("ask",), "question", (REQUESTER,), _EVENT,
               lambda ctx, case, values: {"question": values["question"]}, confirm=True),
    ),
    reminder_handlers={reviews.REVIEW_SUBJECT: reviews.review_reminder},
    routes=routes.ROUTES,
    card_rows=_card_rows,
    gist="software/gist.txt.j2",
    due=reviews.due,
    deadline_text=_deadline_text,
    # One nudge when a request has waited 3 school days; there is no legal deadline to chase.
    reminders=DeadlineReminders(days_before=(), on_the_day=True, overdue_daily=False,
                                recipients=("owner", "dpo"), escalate_to=(Role.DEPUTY,)),
    recompute=reviews.recompute,
    summary_notes=_summary_notes,
    shortcut="Ask to use new software",
    export=Export("software", "software", "the software register",
                  "The software register: each product's status, data, conditions, DPIA and "
                  "review date.", "products", export.export_rows),
    # Started and not saved: the person is reminded.
    unfinished=Unfinished(timedelta(minutes=30)),
)

__all__ = ["SOFTWARE"]
