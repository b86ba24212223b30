"""Every Slack payload and Teams card the adapters make, for every workflow and state.

Each workflow is walked with real cases in a real database: its new-case form (empty, filled,
reopened with what was saved, sent back with an error under every field), the summary read
back, every question asked in a chat, the case in every state (as the DPO, as the person who
logged it, and as a shared channel sees it), every action's form, the letters, every
notification queued, the home tab, help and the case list. Every field is filled with each
of ``TRIES`` for its kind: realistic answers and the text that breaks cards (Slack and Teams
markup, Polish and Arabic, answers as long as a field takes). ``tests/cards`` checks them
with Slack's and Microsoft's own code; ``bench/payloads.py`` counts them.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.slack import blocks as slack
from bot.slack import home
from bot.teams import cards as teams
from workflows.core import engine as core
from workflows.core.chat import respond
from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.fields import Field, Form, FormErrors, Invalid, Kind
from workflows.core.ui import Card, Option, Question, Reply, Summary
from workflows.database import session_scope
from workflows.notifications.models import Notification
from workflows.notifications.outbox import Outgoing, _workflow
from workflows.people.models import Person, Role
from workflows.registry import WORKFLOWS
from workflows.schools.models import School

SLACK_MARKUP = ("*bold* _it_ ~s~ `code` ```block``` > quote <!channel> <@U1> "
                "<https://evil.example|click> https://evil.example &amp; :skull:")
TEAMS_MARKUP = ("{{DATE(2017-02-14T06:08:39Z, SHORT)}} ${name} **bold** [click]"
                "(https://evil.example) <at>Dee</at> \u202eevil")
POLISH = "Zażółć gęślą jaźń: uczeń zgubił pendrive’a z ocenami klasy 5b. "
ARABIC = "فقد المعلم حاسوبًا محمولًا يحتوي على درجات التلاميذ. "
HUGE = 3000  # the longest answer any field takes (Slack's text input)

# What each kind of field is filled with, one try after another. A new kind needs its row
# here: ``tries`` refuses a field whose kind has none, so it cannot go unchecked.
TRIES: dict[Kind, tuple[str, ...]] = {
    Kind.TEXT: ("Jane Parent", SLACK_MARKUP, TEAMS_MARKUP, POLISH, ARABIC, POLISH * 60),
    Kind.LONG_TEXT: ("All behaviour records for Tom held by the class teacher",
                     SLACK_MARKUP, TEAMS_MARKUP, POLISH * 60, ARABIC * 60,
                     (SLACK_MARKUP + " " + TEAMS_MARKUP + " ") * 20),
    Kind.EMAIL: ("jane@example.org", "*jane*_x_~y~@evil.example", "${name}@evil.example",
                 "zażółć@przykład.pl", "jane@example.org", "jane@example.org"),
    Kind.PHONE: ("01234 567890", "+44 (0)20 7946 0000"),
    Kind.URL: ("https://example.org/privacy", "https://evil.example/*x*_y_~z~",
               "evil.example/{{DATE(2017-02-14T06:08:39Z,SHORT)}}", "https://przykład.pl/ż"),
    Kind.NUMBER: ("3", "1,200", "0", "about 40"),
    Kind.DATE: ("yesterday", "2 weeks ago", "today"),
    Kind.DATETIME: ("yesterday 14:00", "today 08:05", "3 days ago 23:59"),
    # Choices are picked by number (1st, 2nd, ...): their labels are the workflow's words.
    Kind.CHOICE: ("1", "2", "3", "4"),
    Kind.MULTI_CHOICE: ("1", "1, 2", "2, 3", "1, 2, 3, 4"),
    Kind.YES_NO: ("no", "yes"),
    # A colleague the field allows, by number in its list or by name.
    Kind.PERSON: ("1", "Vic Deputy", "2"),
}
# Fields whose check reads what was typed, with an answer it takes, for a try it refuses.
MEANT = {"whose": "30 pupils and 2 staff", "person": "Vic Deputy"}
ROUNDS = max(len(t) for t in TRIES.values())


def tries(f: Field, round_: int) -> str:
    """The answer ``f`` gets in this round, no longer than it takes."""
    found = TRIES[f.kind]
    text = found[round_ % len(found)]
    if f.kind in (Kind.CHOICE, Kind.MULTI_CHOICE):
        count = len(f.choices)
        text = ", ".join(n for n in text.split(", ") if int(n) <= count) or "1"
    return text[:f.limit]


@dataclass
class Payloads:
    """What the adapters would send, each with where it came from (for a failure's message)."""

    slack_blocks: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    slack_views: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    teams_cards: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def replies(self, where: str, replies: list[Reply]) -> None:
        self.slack_blocks.append((where, slack.message_blocks(replies)))
        self.teams_cards.append((where, teams.message_card(replies, refresh_for=["29:dee"],
                                                           school_id=1)))


def _answers(ctx: Context, form: Form, round_: int, case: Any = None
             ) -> tuple[dict[str, str], dict[str, Any]]:
    """What was typed in each field this round, and what the form made of it. A try the
    form refuses in this case (a date before the event it follows) gives way to the next
    try of its kind, and then to ``MEANT``."""
    raw = {f.name: tries(f, round_) for f in form.fields}
    for attempt in range(1, ROUNDS + 3):
        try:
            return raw, form.values(form.parse_all(raw, ctx, case))
        except FormErrors as refused:
            errors = refused.errors
            for name in errors:
                raw[name] = (tries(form.field(name), round_ + attempt) if attempt <= ROUNDS
                             else MEANT.get(name, raw[name]))
    raise AssertionError(f"no try fills the form: {errors}")


def _forms(out: Payloads, where: str, form: Form, raw: Mapping[str, str], card: Card,
           action: core.Action[Any] | None, workflow: Workflow[Any], ctx: Context) -> None:
    """A form as shown to ``ctx``'s person, filled with ``raw``; Teams' sent back with an
    error under every field when it is filled (Slack shows errors in its own dialog, from a
    response). Teams lists a person field's people (``Form.bound``), as its listeners do."""
    errors = ({f.name: "That is not a date: *really* ${name} {{DATE(x)}}" for f in form.fields}
              if raw else {})
    out.slack_views.append((where, slack.modal(title=workflow.title, callback_id="form",
                                               blocks=slack.form_blocks(form, raw))))
    if action is None:
        out.teams_cards.append((where, teams.intake_form(
            workflow.name, workflow.title, form.bound(ctx), raw, errors, note=SLACK_MARKUP,
            about=TEAMS_MARKUP, school_id=1)))
        return
    out.teams_cards.append((where, teams.decision_form(
        card, action.label, action.name, "x|1|1", form.bound(ctx), action.confirm, raw, errors,
        note=TEAMS_MARKUP, school_id=1)))


def _questions(out: Payloads, where: str, form: Form, raw: Mapping[str, str]) -> None:
    fields = form.fields
    for step, f in enumerate(fields, 1):
        options = tuple(Option(c.value, c.label) for c in f.choices)
        question = Question(f.name, f.question, f.help, f.kind.value, step, len(fields),
                            f.optional, options, current=raw.get(f.name))
        out.replies(f"{where} question {f.name}", [question])


def walk_workflow(out: Payloads, session: Session, people: Mapping[str, Person],
                  workflow: Workflow[Any], round_: int, now: datetime) -> None:
    def as_(who: str) -> Context:
        return Context.of(session, people[who], "slack", now=now)

    where = f"{workflow.name} round {round_}"
    staff = as_("staff")
    raw, values = _answers(staff, workflow.intake, round_)
    summary_rows = tuple((f.label, f.display(values.get(f.name)))
                         for f in workflow.intake.active(values))
    notes = tuple(workflow.summary_notes(staff, values)) if workflow.summary_notes else ()
    summary = Summary(title=workflow.title, rows=summary_rows, notes=notes)
    out.slack_views.append((f"{where} summary", slack.summary_view(
        summary, callback_id="summary", metadata={"workflow": workflow.name})))
    out.teams_cards.append((f"{where} summary", teams.summary_card(summary, workflow.name, 1, 1)))
    out.replies(f"{where} chat summary", [summary])
    _questions(out, f"{where} intake", workflow.intake, raw)
    case = _create(staff, workflow, values)
    dpo = as_("dpo")
    blank = core.card(dpo, workflow, case)
    _forms(out, f"{where} intake empty", workflow.intake, {}, blank, None, workflow, staff)
    _forms(out, f"{where} intake reopened", workflow.intake,
           workflow.intake.shown(values, staff), blank, None, workflow, staff)
    asked: set[str] = set()  # an action's form is the same in every state it is offered in
    for state, case, path in _states(session, as_, workflow, values, round_):
        here = f"{where} {state} (after {' → '.join(path) or 'logging it'})"
        for who in ("dpo", "staff"):
            shown = core.card(as_(who), workflow, case)
            out.replies(f"{here} as {who}", [shown])
            out.slack_blocks.append((here, slack.card_blocks(replace(shown, footer=POLISH))))
            out.teams_cards.append((here, teams.case_card(
                shown, with_buttons=True, refresh_for=["29:dee"], school_id=1)))
            out.replies(f"{here} in a channel", [shown.for_channel()])
        for action in workflow.actions:
            if not action.form.fields or not action.available(dpo, case) or (
                    action.name in asked):
                continue
            asked.add(action.name)
            action_raw, answers = _answers(dpo, action.form, round_, case)
            _forms(out, f"{here} {action.name}", action.form,
                   action.form.shown(answers, dpo), blank, action, workflow, dpo)
            _questions(out, f"{here} {action.name}", action.form, action_raw)
        for name, letter in workflow.letters.items():
            out.replies(f"{here} letter {name}", [letter(dpo, case)])


def _action_answers(ctx: Context, action: core.Action[Any], case: Any, round_: int
                    ) -> dict[str, str]:
    return _answers(ctx, action.form, round_, case)[0] if action.form.fields else {}


_FRESH = itertools.count()


def _create(ctx: Context, workflow: Workflow[Any], values: Mapping[str, Any]) -> Any:
    """A new case from ``values``. An answer that must be new each time (a product already
    waiting for approval, found by a close name or its website) is made another: its first
    words and a token, and a website of that token."""
    answers = dict(values)
    for _ in range(10):
        savepoint = ctx.session.begin_nested()
        try:
            case = core.create(ctx, workflow, answers)
        except Invalid as refused:
            savepoint.rollback()
            if refused.field is None or not isinstance(values.get(refused.field), str):
                raise
            token = hashlib.sha256(f"{next(_FRESH)}".encode()).hexdigest()[:12]
            answers[refused.field] = f"{str(values[refused.field])[:12]} {token}"
            for f in workflow.intake.fields:
                if f.kind is Kind.URL and isinstance(values.get(f.name), str):
                    answers[f.name] = f"https://app-{token}.example/"
            continue
        savepoint.commit()
        return case
    raise AssertionError(f"{workflow.name}: no new case from {values}")


def _states(session: Session, as_: Any, workflow: Workflow[Any], values: Mapping[str, Any],
            round_: int) -> Iterator[tuple[str, Any, list[str]]]:
    """Every state a case can reach by the DPO's actions, each on a case of its own taken
    there the first way found (a state set by hand would lack what its actions store)."""
    dpo = as_("dpo")

    def replay(path: list[str]) -> Any:
        """A new case taken along ``path``; None if its last step is refused (a guard: the
        ID asked for has not arrived), as it would be for the DPO."""
        case = _create(as_("staff"), workflow, values)
        for name in path:
            action = workflow.action(name)
            decided = core.decide(dpo, workflow, action, case.reference, case.version,
                                  _action_answers(dpo, action, case, round_))
            if not decided.ok:
                return None
        return case

    # A state is new again when other actions open up in it (disclosing, once the requester
    # is verified), so the actions that change a case without moving it are followed too.
    seen: set[tuple[str, tuple[str, ...]]] = set()
    waiting: list[list[str]] = [[]]
    while waiting:
        path = waiting.pop(0)
        case = replay(path)
        if case is None:
            continue
        offered = tuple(a.name for a in workflow.actions if a.available(dpo, case))
        if (case.state, offered) in seen:
            continue
        seen.add((case.state, offered))
        yield case.state, case, path
        waiting += [[*path, name] for name in offered if workflow.action(name).changes_case]


def walk(engine: Engine, rounds: int = ROUNDS) -> Payloads:
    """Everything, for every workflow, ``rounds`` times with the next tries each time."""
    out = Payloads()
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        school = School(slug="every-payload", name="Szkoła Podstawowa nr 5 *im.* ${name}",
                        configured=True)
        session.add(school)
        session.flush()
        people = {}
        for key, name, role in (("staff", "Zoë *Ward* <!channel>", Role.STAFF),
                                ("dpo", "نادية {{DATE(2017-02-14T06:08:39Z)}}", Role.DPO),
                                ("deputy", "Vic Deputy", Role.DEPUTY)):
            person = Person(school_id=school.id, name=name, role=role, teams_user_id=f"29:{key}")
            session.add(person)
            session.flush()
            people[key] = person
        told = 0
        for round_ in range(rounds):
            for workflow in WORKFLOWS.values():
                walk_workflow(out, session, people, workflow, round_, now)
                session.flush()
                told = _notifications(out, session, now, told)
        for who in ("dpo", "staff"):
            ctx = Context.of(session, people[who], "slack", now=now)
            out.slack_views.append((f"home as {who}", home.view(ctx)))
            for said in ("help", "cases", "my cases"):
                out.replies(f"{said} as {who}", respond(ctx, f"every:{who}", said))
            starts = [(w.name, w.title) for w in WORKFLOWS.values()]
            out.teams_cards.append((f"start as {who}", teams.start_card(
                respond(ctx, f"every:{who}", "help"), starts)))
    return out


def _notifications(out: Payloads, session: Session, now: datetime, after: int) -> int:
    """Every kind of notification queued since ``after`` (one workflow's round), to each
    role, as its recipient gets it and as a channel would; returns the last one's id."""
    done: set[tuple[str, str]] = set()
    last = after
    for note in session.exec(select(Notification).where(col(Notification.id) > after)
                             .order_by(col(Notification.id))):
        last = note.id or last
        person = session.get_one(Person, note.person_id)
        if (note.kind, person.role) in done:
            continue
        done.add((note.kind, person.role))
        outgoing = Outgoing(note, Context.of(session, person, "slack", now=now), _workflow(note))
        where = f"notification {note.kind} to {person.role}"
        out.replies(where, outgoing.replies())
        out.replies(f"{where} shared", outgoing.replies(shared=True))
        out.teams_cards.append((f"{where} sent", teams.message_card(
            outgoing.replies(), school_id=1, refresh_for=["29:dee"],
            summary=outgoing.headline())))
    return last

