"""Disclosure requests declared: the intake any member of staff fills, and the DPO's actions."""

from __future__ import annotations

from datetime import timedelta

from workflows.core.context import Context
from workflows.core.dates import describe_date, describe_typed
from workflows.core.declaration import (
    CREATED,
    REQUESTER,
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
    Choice,
    Field,
    Form,
    Kind,
    Plausible,
    case_at,
    first_use_floor,
    not_in_future,
    now_here,
)
from workflows.core.wording import render
from workflows.disclosure import export, service
from workflows.disclosure.models import DisclosureRequest, DisclosureState
from workflows.people import service as people
from workflows.people.models import Role
from workflows.people.permissions import Permission

REQUESTERS = (
    Choice("police", "Police", ("the police", "officer", "constabulary")),
    Choice("social_care", "Children's social care", ("social care", "social services",
                                                       "social worker", "mash")),
    Choice("local_authority", "Another local-authority service", ("la", "council",
                                                                  "local authority")),
    Choice("school", "Another school", ("school", "academy", "college")),
    Choice("solicitor", "A solicitor", ("solicitor", "lawyer", "law firm")),
    Choice("court", "A court or tribunal", ("court", "tribunal")),
    Choice("hmrc_dwp", "HMRC or the DWP", ("hmrc", "dwp", "tax")),
    Choice("other", "Someone else", ("other",)),
)
AUTHORITIES = (
    Choice("dp_form", "A signed DP / Schedule 2 form", ("form", "dp form", "schedule 2",
                                                          "signed form", "sch 2")),
    Choice("court_order", "A court order", ("order", "court")),
    Choice("statutory", "A statutory power or duty they named", ("statutory", "law",
                                                                  "power", "duty")),
    Choice("consent", "The person's consent", ("consent",)),
    Choice("none", "Nothing yet", ("nothing", "none", "no")),
)
URGENCIES = (
    Choice("urgent", "Urgent: risk to life or urgent safeguarding (same day)",
           ("urgent", "same day", "today", "risk to life", "safeguarding")),
    Choice("standard", "Standard", ("standard", "normal", "not urgent", "routine")),
)
CHANNELS = (
    Choice("email", "Email", ("e-mail",)),
    Choice("phone", "Phone", ("telephone", "call", "rang")),
    Choice("letter", "Letter", ("post", "posted")),
    Choice("in_person", "In person", ("visit", "at reception", "came in")),
    Choice("portal", "A portal or secure system", ("portal", "egress", "secure email")),
)
BASES = (
    Choice("crime", "DPA 2018 Sch 2 para 2: crime and taxation", ("para 2", "crime",
                                                                  "taxation")),
    Choice("legal", "DPA 2018 Sch 2 para 5: required by law or legal proceedings",
           ("para 5", "required by law", "court order", "legal proceedings")),
    Choice("safeguarding", "Safeguarding (KCSIE / Working Together)", ("safeguarding",
                                                                       "kcsie")),
    Choice("consent", "The person's consent", ("consent",)),
    Choice("other", "Other (say which)", ("other",)),
)
EXTENTS = (
    Choice("disclosed_full", "In full", ("full", "all", "everything")),
    Choice("disclosed_part", "In part", ("part", "partly", "some", "partial")),
)

INTAKE = Form((
    Field("organisation", Kind.TEXT, "Organisation",
          "Who is asking? The organisation (e.g. “Kent Police”, “Medway children's social "
          "care”, “Smith & Co solicitors”)",
          help="Don't send anything yet: the DPO checks who they are and decides. Just log it."),
    Field("requester_kind", Kind.CHOICE, "Kind of requester", "What kind of requester is it?",
          choices=REQUESTERS),
    Field("requester", Kind.TEXT, "Requester",
          "Their name and role or rank (e.g. “DC 4321 Jo Bloggs”, “Sam Lee, social worker”)"),
    Field("contact", Kind.TEXT, "Contact given",
          "How did they ask to be contacted? (a phone number or email, as they gave it)",
          help="The DPO will verify them by calling back on a number they know (e.g. the "
               "force's switchboard), not only this one.", max_length=300),
    Field("authority", Kind.CHOICE, "Authority", "On what authority do they ask?",
          choices=AUTHORITIES,
          help="The police normally send a DP (or Schedule 2) form signed by a senior officer."),
    Field("form_reference", Kind.TEXT, "Their reference",
          "The form's number or their reference, if they gave one (or “skip”)", optional=True),
    Field("subjects", Kind.LONG_TEXT, "Whose data",
          "Whose data do they want? Name each person and say pupil, parent or staff.",
          help="For example “Tom Parent (pupil, Year 5) and his mother Jane (parent)”."),
    Field("data_wanted", Kind.LONG_TEXT, "Data asked for",
          "What exactly do they ask for? Copy their words if you can."),
    Field("purpose", Kind.LONG_TEXT, "Why",
          "Why do they want it? (the offence, investigation or safeguarding concern they "
          "named)"),
    Field("urgency", Kind.CHOICE, "Urgency", "How urgent is it?", choices=URGENCIES,
          help="Urgent only for a risk to someone's life or an urgent safeguarding concern: "
               "the DPO is then asked to decide today."),
    Field("channel", Kind.CHOICE, "Came in by", "How did the request come in?",
          choices=CHANNELS),
    Field("received_at", Kind.DATETIME, "Received",
          "When did it come in? (e.g. “today 9:30”, “yesterday”)",
          checks=(not_in_future,),
          plausible=Plausible(21, first_use_floor, FIRST_USE_REASON)),
))

_OPEN = service.OPEN_STATES
_BASIS = Field("basis", Kind.CHOICE, "Lawful basis or exemption",
               "On what lawful basis or exemption?", choices=BASES)
_DECIDE_CONFIRM = "This goes in the school's disclosure log; it is decided once."

ACTIONS = (
    Action("verify", "Verify requester", Permission.DECIDE, _OPEN, style="primary",
           guard=service.not_verified, aliases=("verified", "check requester"),
           form=Form((Field("how", Kind.LONG_TEXT, "How verified",
                            "How did you verify them? (e.g. “called back via the force "
                            "switchboard, 101, and spoke to DC Bloggs”)"),)),
           apply=service.verify),
    Action("ask", "Ask for more", Permission.DECIDE,
           frozenset({DisclosureState.AWAITING}), to_state=DisclosureState.MORE_INFO,
           aliases=("ask for more", "more info", "request form"),
           form=Form((Field("asked_for", Kind.LONG_TEXT, "Asked for",
                            "What did you ask them for? (e.g. “a DP form signed by an "
                            "inspector, naming the offence”)"),)),
           apply=service.ask),
    Action("received", "Record what arrived", Permission.DECIDE,
           frozenset({DisclosureState.MORE_INFO}), to_state=DisclosureState.AWAITING,
           style="primary", aliases=("arrived", "form received"),
           form=Form((Field("what", Kind.LONG_TEXT, "What arrived",
                            "What arrived? (e.g. “the signed form, ref 2026/123”)"),)),
           apply=service.received),
    Action("disclose", "Disclose", Permission.DECIDE, _OPEN,
           to_state=DisclosureState.DISCLOSED, style="primary", guard=service.verified_first,
           confirm=_DECIDE_CONFIRM, aliases=("disclosed", "send", "share"),
           form=Form((
               Field("extent", Kind.CHOICE, "Disclosed", "In full or in part?",
                     choices=EXTENTS),
               _BASIS,
               Field("basis_other", Kind.LONG_TEXT, "Basis (other)", "Which basis, and why?",
                     ask_if=lambda a: a.get("basis") == "other", depends=("basis",)),
               Field("what_sent", Kind.LONG_TEXT, "What was sent",
                     "What exactly was sent? (only what was needed)"),
               Field("sent_how", Kind.TEXT, "Sent how",
                     "How was it sent? (e.g. “secure email to the officer's police.uk "
                     "address”)", max_length=300),
               Field("sent_at", Kind.DATETIME, "Sent",
                     "When was it sent? (e.g. “now”, “today 14:00”)",
                     checks=(not_in_future,), default=now_here,
                     after=(case_at("received_at", "the request came in"),)),
           )),
           apply=service.disclose, why=("extent", "basis", "basis_other")),
    Action("refuse", "Refuse", Permission.DECIDE, _OPEN, to_state=DisclosureState.REFUSED,
           style="danger", confirm=_DECIDE_CONFIRM, aliases=("refused", "decline"),
           form=Form((Field("reason", Kind.LONG_TEXT, "Reason",
                            "Why is it refused? (kept in the log: give the requester the "
                            "same reason)"),)),
           apply=service.refuse, why=("reason",)),
    Action("withdraw", "Record withdrawal", Permission.NOTE, _OPEN,
           to_state=DisclosureState.WITHDRAWN, aliases=("withdrawn",),
           form=Form((Field("reason", Kind.LONG_TEXT, "Why",
                            "Anything to record about the withdrawal? (or “skip”)",
                            optional=True),)),
           apply=service.withdraw, why=("reason",)),
)


def _card_rows(ctx: Context, case: DisclosureRequest) -> list[tuple[str, str]]:
    """The case as the DPO reads it; ``view`` audits the read."""
    def label(name: str) -> str:
        return INTAKE.field(name).label

    def chosen(name: str) -> str:
        return INTAKE.field(name).display(getattr(case, name))

    def name(person_id: int | None) -> str:
        person = people.get(ctx.session, person_id)
        return person.name if person else "someone"

    rows = [
        (label("organisation"), f"{case.organisation} ({chosen('requester_kind')})"),
        (label("requester"), case.requester),
        (label("contact"), case.contact),
        (label("authority"), chosen("authority")
         + (f", ref {case.form_reference}" if case.form_reference else "")),
        (label("subjects"), case.subjects),
        (label("data_wanted"), case.data_wanted),
        (label("purpose"), case.purpose),
        (label("urgency"), chosen("urgency")),
        (label("received_at"), f"{describe_typed(case.received_at.astimezone(ctx.tz))} "
                               + render("messages/came_by.txt.j2", key=case.channel,
                                        label=chosen("channel"))
                               + f"; logged by {name(case.created_by_id)}"),
        ("Verified", f"{case.verified_how} ({name(case.verified_by_id)}, "
                     f"{describe_typed(case.verified_at.astimezone(ctx.tz))})"
         if case.verified_at else "Not yet: call back on a known number before sending"),
    ]
    if case.asked_for:
        rows.append(("Asked for", case.asked_for))
    if case.outcome is not None and case.decided_at is not None:
        rows.append(("Decision", f"{render('disclosure/outcome.txt.j2', case=case)} by "
                                 f"{name(case.decided_by_id)}, "
                                 f"{describe_typed(case.decided_at.astimezone(ctx.tz))}"))
    if case.state == DisclosureState.DISCLOSED:
        other = f": {case.basis_other}" if case.basis_other else ""
        rows += [(_BASIS.label, _BASIS.display(case.basis) + other),
                 ("What was sent", case.what_sent or ""),
                 ("Sent", f"{case.sent_how}, "
                          f"{describe_typed(case.sent_at.astimezone(ctx.tz))}"
                  if case.sent_at else "")]
    if case.reason:
        rows.append(("Reason", case.reason))
    return rows


def _deadline_text(ctx: Context, case: DisclosureRequest) -> str | None:
    return render("disclosure/target.txt.j2", case=case, paused=service.paused(case),
                  open=case.state in _OPEN,
                  target=describe_date(case.target_on) if case.target_on else None)


_EVENT = "disclosure/event.txt.j2"

DISCLOSURE = Workflow(
    name=service.SUBJECT,
    prefix=service.PREFIX,
    title="Disclosure request",
    summary="Log a request for someone's data from the police, social care, a solicitor or "
            "another organisation",
    triggers=("disclosure request", "police request", "police asking", "police are asking",
              "police asked", "police want",
              "request from the police", "social care request", "solicitor request",
              "disclosure", "schedule 2", "dp form",
              "solicitor wants", "solicitor is asking", "social worker",
              "police officer", "from the police"),
    words=("police", "social", "care", "solicitor", "court", "council", "officer",
           "disclosure", "share", "third"),
    model=DisclosureRequest,
    intake=INTAKE,
    start_permission=Permission.START_CASE,
    states={
        DisclosureState.AWAITING: "Waiting for the DPO's decision",
        DisclosureState.MORE_INFO: "Waiting for more from the requester",
        DisclosureState.DISCLOSED: "Disclosed",
        DisclosureState.REFUSED: "Refused",
        DisclosureState.WITHDRAWN: "Withdrawn",
    },
    open_states=_OPEN,
    actions=ACTIONS,
    build=service.build,
    reference_year=lambda ctx, case: case.received_at.astimezone(ctx.tz).year,
    created_facts=service.created_facts,
    notices=(
        # The DPO team privately: who asks and the target, never whose data.
        Notice((CREATED,), "new", (TEAM,), _EVENT),
        # Whoever logged it learns the outcome, not the detail: they may be asked again.
        Notice(("disclose",), "disclosed", (REQUESTER,), _EVENT),
        Notice(("refuse",), "refused", (REQUESTER,), _EVENT),
        Notice(("withdraw",), "withdrawn", (REQUESTER,), _EVENT),
    ),
    card_rows=_card_rows,
    gist="disclosure/gist.txt.j2",
    due=service.due,
    deadline_text=_deadline_text,
    # A school target, not a law: a nudge two days before, on the day, then daily; the head
    # hears of one a day overdue.
    reminders=DeadlineReminders(days_before=(2,), on_the_day=True, overdue_daily=True,
                                escalate_after_overdue_days=1,
                                recipients=("dpo", "deputy"), escalate_to=(Role.HEAD,)),
    channel_alert="disclosure/channel_alert.txt.j2",
    recompute=service.recompute,
    retention=Retention("disclosure_log_years", service.ended, default_years=6),
    export=Export("disclosures", "disclosures", "the disclosure log (police and other third "
                  "parties)", "The disclosure log: every request for someone's data from the "
                  "police and others, with what was decided, on what basis, and what was "
                  "sent.", "requests", export.export_rows),
    # Started and not saved: the person is reminded.
    unfinished=Unfinished(timedelta(minutes=30)),
)

__all__ = ["DISCLOSURE"]
