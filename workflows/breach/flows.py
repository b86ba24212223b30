"""The breach workflow declared: three questions start the clock, the rest comes in phases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from workflows.breach import export, ico_reference, letters, service, triage
from workflows.breach.models import Breach, BreachState, IcoDecision, PeopleDecision
from workflows.core.context import Context
from workflows.core.dates import describe_typed
from workflows.core.declaration import (
    CREATED,
    TEAM,
    Action,
    ClockReminders,
    Export,
    Notice,
    Retention,
    Unfinished,
    Workflow,
)
from workflows.core.fields import (
    FIRST_USE_REASON,
    SIX_YEARS_REASON,
    UNKNOWN,
    After,
    Answers,
    Choice,
    Field,
    Form,
    Kind,
    Plausible,
    case_at,
    first_use_floor,
    not_in_future,
    now_here,
    six_years_floor,
)
from workflows.core.outward import LETTER_TEXT, REPORT_TEXT
from workflows.core.timeleft import time_left
from workflows.core.wording import render
from workflows.deadlines.breach import breach_deadline
from workflows.people import service as people
from workflows.people.models import Role
from workflows.people.permissions import Permission


def _choices(table: tuple[tuple[str, str, tuple[str, ...]], ...]) -> tuple[Choice, ...]:
    return tuple(Choice(value, lab, aliases) for value, lab, aliases in table)


_DONT_KNOW = Choice(UNKNOWN, "Don't know", ("not sure", "unknown"))
_UNREADABLE = ("Was the data unreadable to whoever has it, e.g. strongly encrypted or "
               "passwords strongly hashed, with the key or password not taken? "
               "(yes/no/don't know)")
_UNREADABLE_HELP = ("Yes for an encrypted device (BitLocker, a locked iPhone), an encrypted file "
                    "whose password went separately, or passwords stored strongly hashed and "
                    "salted. No for an ordinary email, document or spreadsheet.")


def _asks(when: Callable[[triage.Incident, Answers], bool]) -> Callable[[Answers], bool]:
    """Ask a follow-up once the kind of incident is known and it can change the answer."""
    return lambda a: bool(a.get("incident")) and when(triage.incident_of(a["incident"]), a)


def _readable(answers: Answers) -> bool:
    # Unreadable data harms nobody whoever has it: the questions about them would not matter.
    return answers.get("encrypted") is not True


INTAKE = Form((
    Field("what_happened", Kind.LONG_TEXT, "What happened",
          "What happened? A sentence or two is enough; you don't need to know the law.",
          help="For example “I emailed a pupil's SEN report to the wrong parent”. Say what, "
               "not who: the DPO will ask for names if needed."),
    Field("found_at", Kind.DATETIME, "Found",
          "When was it found? (type “now”, or e.g. “today 9:30”)",
          help="When anyone at the school realised. The 72-hour clock for telling the ICO "
               "starts then, so “now” is the usual answer. It can't be in the future.",
          checks=(not_in_future,), default=now_here,
          plausible=Plausible(3, first_use_floor, FIRST_USE_REASON),
          alert=lambda value, ctx: _late(ctx, value)),
    Field("ongoing", Kind.YES_NO, "Still happening",
          "Is it still happening? (yes/no)",
          help="Yes if data is still being exposed (e.g. a shared link still open, emails "
               "still going out). If so, stop it if you safely can, and tell the DPO now."),
))

DETAILS = Form((
    # First, as it decides which follow-ups below can matter.
    Field("incident", Kind.CHOICE, "Kind of incident", "What kind of incident was it?",
          choices=_choices(triage.INCIDENTS), optional=True),
    Field("data_kinds", Kind.MULTI_CHOICE, "Kinds of data",
          "What kinds of data? e.g. “SEN”, “health, contact details” (or “skip”)",
          help="Choose all that apply.", choices=_choices(triage.DATA_KINDS), optional=True),
    Field("whose", Kind.TEXT, "Whose data",
          "Whose data, and roughly how many people? e.g. “1 pupil”, “30 parents” (or “skip”)",
          help="Pupils, parents, staff, vulnerable adults or others, each with a rough number.",
          optional=True, checks=(service.check_whose,)),
    # The follow-ups: each asked only where its answer can change the recommendation
    # (triage.INCIDENT declares which); "don't know" is an answer, taken as the worse case.
    Field("exfiltrated", Kind.YES_NO, "Data taken",
          "Is there any sign data was copied out or seen by the attacker? (yes/no/don't know)",
          optional=True, unknown=True, depends=("incident",),
          ask_if=_asks(lambda k, a: k.left_control is None)),
    Field("unavailable", Kind.CHOICE, "Data unavailable",
          "Is any of the data lost, or was it unavailable to the school? (e.g. encrypted by "
          "ransomware, the only copy on the lost device)",
          help="Restored within a day from a backup is usually harmless; days without it, or "
               "no copy at all, can harm the people who depend on it.",
          choices=(*_choices(triage.UNAVAILABLE), _DONT_KNOW), optional=True, unknown=True,
          depends=("incident",), ask_if=_asks(lambda k, a: k.availability)),
    Field("encrypted", Kind.YES_NO, "Unreadable to others", _UNREADABLE,
          help=_UNREADABLE_HELP, optional=True, unknown=True, depends=("incident", "exfiltrated"),
          ask_if=_asks(lambda k, a: k.unreadable and (
              k.left_control or a.get("exfiltrated") is not False))),
    Field("recipient", Kind.CHOICE, "Who has it", "Who received it or saw it?",
          choices=(*_choices(triage.RECIPIENTS), _DONT_KNOW), optional=True, unknown=True,
          depends=("incident", "encrypted"),
          ask_if=_asks(lambda k, a: k.recipient is None and _readable(a))),
    Field("deleted", Kind.YES_NO, "Deletion confirmed",
          "Have they confirmed they deleted it or gave it back? (yes/no/don't know)",
          optional=True, unknown=True, depends=("incident", "recipient"),
          ask_if=_asks(lambda k, a: k.deletion and a.get("recipient") == "known")),
    Field("deliberate", Kind.YES_NO, "On purpose",
          "Was it done on purpose? (e.g. a member of staff copied data to take away) "
          "(yes/no/don't know)", optional=True, unknown=True, depends=("incident", "encrypted"),
          ask_if=_asks(lambda k, a: k.deliberate is None and _readable(a))),
    Field("recipients", Kind.NUMBER, "How many received it",
          "Roughly how many people received or saw it? (or “skip”)", optional=True,
          depends=("incident", "encrypted"),
          ask_if=_asks(lambda k, a: k.recipients and _readable(a))),
))

MORE = Form((
    Field("happened_at", Kind.DATETIME, "Happened",
          "When did it happen? (e.g. “yesterday 15:00”, or “skip”)",
          optional=True, checks=(not_in_future,),
          until=(After("it was found", lambda ctx, answers, case: answers.get("found_at") or
                       getattr(case, "found_at", None)),),
          plausible=Plausible(None, six_years_floor, SIX_YEARS_REASON)),
    Field("how_found", Kind.LONG_TEXT, "How found",
          "How was it found? (e.g. “the parent replied to tell us”, or “skip”)", optional=True),
    Field("approx_records", Kind.NUMBER, "Records", "Roughly how many records? (or “skip”)",
          optional=True),
    Field("encrypted", Kind.YES_NO, "Unreadable to others", _UNREADABLE, help=_UNREADABLE_HELP,
          optional=True, unknown=True),
    Field("cyber", Kind.YES_NO, "Cyber incident", "Was it a cyber incident? (yes/no)",
          optional=True),
    Field("containment", Kind.LONG_TEXT, "Containment",
          "What has been done to contain it? (e.g. “asked the parent to delete it; they "
          "confirmed”, or “skip”)", optional=True),
))

_EXEMPTION_ALIASES = {
    "unintelligible": ("encrypted", "unintelligible"),
    "measures": ("measures", "later measures", "removed"),
    "disproportionate": ("disproportionate", "public notice"),
    "not_high": ("not high", "low risk", "not high risk"),
}
_OPEN = frozenset({BreachState.AWAITING, BreachState.DECIDED})
_DT_HELP = "Type a date and time like “now”, “today 14:05” or “yesterday 9:00”."
_AFTER_AWARE = case_at("aware_at", "the school became aware of it")
_AFTER_HAPPENED = case_at("happened_at", "it happened")


def _may_contradict(answers: Answers) -> bool:
    return answers.get("tell") is False and answers.get("exemption") in service.CONTRADICTABLE


def _is_no(answers: Answers) -> bool:
    return answers.get("tell") is False


def _is_yes(answers: Answers) -> bool:
    return answers.get("tell") is True


ACTIONS = (
    Action("add_details", "Add details", Permission.NOTE, _OPEN, form=DETAILS,
           aliases=("details", "add details"), apply=service.add_details),
    Action("more_details", "Add more details", Permission.NOTE, _OPEN, form=MORE,
           aliases=("more", "more details"), apply=service.add_details),
    Action("report_to_ico", "Report to the ICO", Permission.DECIDE, _OPEN,
           to_state=BreachState.DECIDED, style="primary", once=service.ico_guard,
           aliases=("report", "reported", "ico", "report to ico"),
           confirm="This records the ICO decision; it is taken once.",
           form=Form((
               Field("ico_reference", Kind.TEXT, "ICO reference",
                     "What reference did the ICO give? (or “skip” if you reported by phone "
                     "and have none yet: you can add it later)",
                     help="From the ICO's confirmation. Without one, you are reminded to add "
                          "it with “ico reference BRE-…”, and the breach stays open until it "
                          "is added.",
                     max_length=100, optional=True),
               Field("reported_at", Kind.DATETIME, "Reported at",
                     "When was it reported to the ICO? (e.g. “now”, “today 14:05”)",
                     help=_DT_HELP, checks=(not_in_future,), after=(_AFTER_AWARE,),
                     default=now_here),
               Field("delay_reason", Kind.LONG_TEXT, "Reasons for the delay",
                     "If it was reported after the 72 hours: why the delay? "
                     "(type “skip” if it was on time)",
                     help="Art 33(1): a late report must give the reasons for the delay. It "
                          "goes to the ICO: give dates, not “yesterday”.",
                     optional=True, checks=REPORT_TEXT),
           )),
           apply=service.report_to_ico, why=("delay_reason",)),
    Action("ico_reference", "Add the ICO reference", Permission.DECIDE, _OPEN,
           guard=ico_reference.guard, aliases=("ico reference", "ico ref", "add ico reference",
                                               "reference"),
           form=Form((Field("ico_reference", Kind.TEXT, "ICO reference",
                            "What reference did the ICO give? (from their confirmation)",
                            max_length=100),)),
           apply=ico_reference.add),
    Action("not_reportable", "Not reportable", Permission.DECIDE, _OPEN,
           to_state=BreachState.DECIDED, once=service.ico_guard,
           aliases=("not reportable", "no report", "log only"),
           confirm="This records the ICO decision; it is taken once.",
           form=Form((Field("reason", Kind.LONG_TEXT, "Reason",
                            "Why is a risk to people unlikely? (this goes in the breach log)",
                            help="E.g. “the email was recalled and the parent confirmed they "
                                 "deleted it unread; only names were involved”."),)),
           apply=service.not_reportable, why=("reason",)),
    Action("tell_people", "Decide on telling people", Permission.DECIDE, _OPEN,
           once=service.people_guard, aliases=("tell people", "tell", "art 34"),
           confirm="This records the Art 34 decision; it is taken once.",
           form=Form((
               Field("tell", Kind.YES_NO, "Tell them",
                     "Will the people affected be told? (yes/no)",
                     help="They must be told without undue delay if the risk to them is high, "
                          "unless an exemption applies."),
               Field("how", Kind.LONG_TEXT, "How and when",
                     "How and when will they be told? (e.g. “letter and phone call on "
                     "Monday 7 December”)",
                     ask_if=_is_yes, depends=("tell",), checks=LETTER_TEXT),
               Field("exemption", Kind.CHOICE, "Why not",
                     "Why not tell them?",
                     choices=tuple(Choice(k, v, _EXEMPTION_ALIASES.get(k, ()))
                                   for k, v in service.EXEMPTIONS.items()),
                     ask_if=_is_no, depends=("tell",)),
               Field("reason", Kind.LONG_TEXT, "Reason", "Please explain (this goes in the log).",
                     ask_if=_is_no, depends=("tell",)),
               Field("override", Kind.LONG_TEXT, "Why it applies despite the record",
                     "If the record says otherwise (readable to others, or high risk), why does "
                     "this still apply? (or “skip”)",
                     help="An exemption the record contradicts is refused unless you say why "
                          "it still applies; your reason is kept and shown on the log entry.",
                     optional=True, ask_if=_may_contradict, depends=("tell", "exemption")),
           )),
           apply=service.tell_people, why=("exemption", "reason")),
    Action("account", "Write the account for letters", Permission.DECIDE, _OPEN,
           changes_case=True, aliases=("account", "write account", "letter text"),
           title="Account for letters",
           intro=service.account_intro,
           form=Form((
               Field("ico_account", Kind.LONG_TEXT, "Account for the ICO",
                     "For the ICO report: what happened and how it was found, in the third "
                     "person, with dates and times, naming no one. (or “skip”)",
                     help="E.g. “On Friday 4 December 2026 at 08:40 a member of staff emailed "
                          "a pupil's end-of-term report to another pupil's parent. The parent "
                          "told the school at 09:15 and deleted it.”",
                     optional=True, checks=REPORT_TEXT),
               Field("people_account", Kind.LONG_TEXT, "Account for the people affected",
                     "For the letter to the people affected: what happened to their "
                     "information, in plain words, naming no one else. (or “skip”)",
                     help="E.g. “On Friday 4 December 2026 your child's end-of-term report "
                          "was emailed to another parent by mistake. They told us straight "
                          "away and have deleted it.”",
                     optional=True, checks=LETTER_TEXT),
               Field("people_advice", Kind.LONG_TEXT, "What they can do",
                     "What can they do to protect themselves? (or “skip”)", optional=True,
                     checks=LETTER_TEXT),
           )),
           apply=service.write_account),
    Action("correct_aware_at", "Correct when we became aware", Permission.DECIDE, _OPEN,
           aliases=("correct aware", "aware", "correct aware at"),
           title="Correct aware time",
           confirm="The 72-hour deadline and its reminders move with it.",
           form=Form((
               Field("aware_at", Kind.DATETIME, "Aware from",
                     "When did the school become aware (reasonably certain data was "
                     "compromised)?", help=_DT_HELP, checks=(not_in_future,),
                     after=(_AFTER_HAPPENED,)),
               Field("reason", Kind.LONG_TEXT, "Reason", "Why this time? (kept in the log)"),
           )),
           was=lambda ctx, case, values: {"was": case.aware_at.isoformat(),
                                          "now": values["aware_at"]},
           apply=service.correct_aware_at, why=("reason",)),
    Action("correct_found_at", "Correct when it was found", Permission.DECIDE, _OPEN,
           aliases=("correct found", "correct found at", "found"),
           title="Correct found time",
           confirm="If the school's awareness was taken from it, the 72-hour deadline and its "
                   "reminders move with it.",
           form=Form((
               Field("found_at", Kind.DATETIME, "Found",
                     "When was it really found?", help=_DT_HELP, checks=(not_in_future,),
                     after=(_AFTER_HAPPENED,),
                     plausible=Plausible(None, first_use_floor, FIRST_USE_REASON)),
               Field("reason", Kind.LONG_TEXT, "Reason", "Why was it wrong? (kept in the log)"),
           )),
           was=lambda ctx, case, values: {"was": case.found_at.isoformat(),
                                          "now": values["found_at"],
                                          "aware_was": case.aware_at.isoformat()},
           apply=service.correct_found_at, why=("reason",)),
    Action("update", "Add an update", Permission.NOTE, frozenset(BreachState),
           changes_case=False, aliases=("note", "add update", "timeline"),
           form=Form((Field("text", Kind.LONG_TEXT, "Update", "What has happened since?"),)),
           apply=service.update),
    Action("close", "Close", Permission.DECIDE, _OPEN, to_state=BreachState.CLOSED,
           style="danger", guard=service.close_guard, aliases=("finish",),
           confirm="Closing is final: afterwards the log entry can only be added to.",
           form=Form((
               Field("remedial", Kind.LONG_TEXT, "Remedial action",
                     "What was done to put it right and stop it happening again?"),
               Field("lessons", Kind.LONG_TEXT, "Lessons learned", "What was learned?"),
           )),
           apply=service.close),
)


def _late(ctx: Context, found_at: str | None) -> str | None:
    """Said at once when the 72 hours have already run out: the DPO must hear now."""
    if not found_at or found_at == UNKNOWN:
        return None
    due = breach_deadline(datetime.fromisoformat(found_at), ctx.tz).local_due
    return render("breach/summary.txt.j2", due=due, late=True) if due <= ctx.local_now else None


def _summary_notes(ctx: Context, values: Mapping[str, Any]) -> list[str]:
    if not values.get("found_at"):
        return []
    result = breach_deadline(datetime.fromisoformat(values["found_at"]), ctx.tz)
    return [render("breach/summary.txt.j2", due=result.local_due,
                   late=result.local_due <= ctx.local_now)]


def _row(row: str, **facts: Any) -> str:
    return render("breach/card.txt.j2", row=row, **facts)


def _yes_no(value: bool | None) -> str:
    return "Not known" if value is None else "Yes" if value else "No"


def _card_rows(ctx: Context, case: Breach) -> list[tuple[str, str]]:
    local = lambda moment: moment.astimezone(ctx.tz) if moment else None  # noqa: E731
    typed = lambda moment: describe_typed(moment.astimezone(ctx.tz))  # noqa: E731
    reporter = people.get(ctx.session, case.created_by_id)
    rows = [
        ("What happened", case.what_happened),
        ("Found", typed(case.found_at)),
        ("Aware from", _row("aware", case=case, at=local(case.aware_at))),
        ("Reported", _row("reported", at=local(case.reported_at), reporter=reporter)),
        ("Still happening", _yes_no(case.ongoing)),
        ("Happened", typed(case.happened_at) if case.happened_at else "Not known"),
        ("How found", case.how_found or "Not known"),
        ("Kind of incident", triage.label(triage.INCIDENTS, case.incident)
         if case.incident else "Not known"),
        ("Data", ", ".join(triage.label(triage.DATA_KINDS, k) for k in case.data_kinds)
         or "Not known"),
        ("Whose", ", ".join(triage.label(triage.WHOSE, w) for w in case.whose) or "Not known"),
        ("People", f"about {case.approx_people}" if case.approx_people is not None
         else "Not known"),
        ("Records", f"about {case.approx_records}" if case.approx_records is not None
         else "Not known"),
        ("Cyber incident", _yes_no(case.cyber)),
        *triage.shown_facts(case),
        ("Containment", case.containment or "Not known"),
    ]
    found = service.assessment(case)
    rows += [
        ("Severity", f"{found.severity.capitalize()}. {' '.join(found.severity_reasons)}"),
        ("Likelihood", f"{found.likelihood.capitalize()}. "
                       f"{' '.join(found.likelihood_reasons)}"),
        ("Recommendation", " ".join((found.summary, *found.notes))
         + (f" Like: {found.like}" if found.like else "")),
    ]
    if case.ico_decision is not None:
        by = {"who": people.get(ctx.session, case.ico_decided_by_id),
              "decided_at": local(case.ico_decided_at)}
        if case.ico_decision == IcoDecision.REPORTED:
            rows.append(("ICO", _row("ico_reported", case=case, at=local(case.ico_reported_at),
                                     **by)))
            if case.delay_reason:
                rows.append(("Reasons for delay", case.delay_reason))
        else:
            rows.append(("ICO", _row("ico_not_reportable", case=case, **by)))
    if case.people_decision is not None:
        by = {"who": people.get(ctx.session, case.people_decided_by_id),
              "decided_at": local(case.people_decided_at)}
        if case.people_decision == PeopleDecision.TELL:
            rows.append(("People affected", _row("people_told", case=case, **by)))
        else:
            rows.append(("People affected", _row(
                "people_not_told", case=case,
                exemption=service.EXEMPTIONS.get(case.people_exemption or "", ""), **by)))
            if case.people_override:
                rows.append(("Despite the record", case.people_override))
    for label, text in (("Account for the ICO", case.ico_account),
                        ("Account for the people affected", case.people_account)):
        if text:
            rows.append((label, text))
    for entry in service.updates(ctx.session, case):
        author = people.get(ctx.session, entry.author_id)
        rows.append((_row("update_title", at=local(entry.at)),
                     _row("update", entry=entry, author=author)))
    if case.state == BreachState.CLOSED:
        rows.append(("Remedial action", case.remedial or ""))
        rows.append(("Lessons learned", case.lessons or ""))
    return rows


def _deadline_text(ctx: Context, case: Breach) -> str | None:
    result = service.deadline(ctx, case)
    if case.ico_decision is not None:
        when = case.ico_reported_at or case.ico_decided_at
        return render("breach/deadline.txt.j2", decided=True, due=result.local_due,
                      late=when is not None and when > result.due)
    left = time_left(result.due, ctx.local_now)
    return render("breach/deadline.txt.j2", decided=False, due=result.local_due,
                  overdue=left.urgency == "overdue", left=left.left,
                  explanation=result.explanation)


_EVENT = "messages/breach_event.txt.j2"

BREACH = Workflow(
    channel_alert="messages/breach_channel_alert.txt.j2",
    headline="breach/headline.txt.j2",
    name="breach",
    prefix=service.PREFIX,
    title="Breach report",
    summary="Report a personal data breach (an email to the wrong person, a lost laptop...)",
    triggers=("breach", "wrong parent", "wrong person", "wrong email", "sent it to the wrong",
              "lost laptop", "lost usb", "lost my laptop", "hacked", "ransomware",
              "data leak",
              "wrong family", "wrong address", "wrong pupil", "wrong class",
              "memory stick", "usb stick", "pen drive", "stolen", "phishing", "lost a laptop",
              "lost my phone", "lost the register"),
    words=("lost", "stolen", "leak", "leaked", "wrong", "sent", "email", "emailed",
           "mistake", "accident", "laptop", "usb", "phone", "hacked", "virus", "phishing"),
    model=Breach,
    intake=INTAKE,
    start_permission=Permission.START_CASE,
    states={
        BreachState.AWAITING: "Reported: waiting for the DPO's decision",
        BreachState.DECIDED: "ICO decision taken",
        BreachState.CLOSED: "Closed",
    },
    open_states=_OPEN,
    actions=ACTIONS,
    build=service.build,
    reference_year=lambda ctx, case: case.found_at.astimezone(ctx.tz).year,
    created_facts=service.created_facts,
    # The DPO and deputies, privately, at once: reference, countdown, risk; no names.
    notices=(
        Notice((CREATED,), "new", (TEAM,), _EVENT, service.event_facts),
        Notice(("add_details", "more_details"), "details", (TEAM,), _EVENT, service.event_facts,
               when=service.reporter_adding),
        Notice(("report_to_ico", "not_reportable"), "decided", (TEAM,), _EVENT,
               service.event_facts),
    ),
    card_rows=_card_rows,
    gist="breach/gist.txt.j2",
    due=service.due,
    met_at=service.ico_met_at,
    deadline_text=_deadline_text,
    reminders=ClockReminders(
        hours_before=(48, 24, 12, 3, 0),  # 24, 48, 60, 69 and 72 hours after awareness
        recipients=("dpo", "deputy"),
        escalate_hours_before=24,  # the head joins from 48 hours if still undecided
        escalate_to=(Role.HEAD,),
        pending=lambda case: case.ico_decision is None,
    ),
    follow_up="add_details",
    reminder_handlers={ico_reference.SUBJECT: ico_reference.reminder},
    letters=letters.LETTERS,
    retention=Retention("breach_log_years",
                        lambda case: case.closed_at.date() if case.closed_at else None,
                        default_years=6),
    shortcut="Report a breach",
    export=Export("breaches", "breaches", "the breach log (Art 33(5))",
                  "The breach log (Art 33(5)): every breach, reported or not, with its "
                  "decisions.", "breaches", export.export_rows),
    summary_notes=_summary_notes,
    # Started and not saved: the person is reminded and the DPO team told.
    unfinished=Unfinished(timedelta(minutes=15), tell_team=True, any_hour=True),
)

__all__ = ["BREACH"]
