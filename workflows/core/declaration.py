"""A workflow as data: its form, states, actions, permissions and deadlines.

The engine (``workflows.core.engine``) runs these declarations; adapters render them.
Adding a workflow means declaring one of these, not writing per-platform branches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from workflows.core.context import Context
from workflows.core.fields import Form
from workflows.core.timeleft import TimeLeft, time_left
from workflows.core.ui import Document, Reply
from workflows.people.models import Role
from workflows.people.permissions import Permission

if TYPE_CHECKING:
    from sqlmodel import Session

    from workflows.schools.models import School


class Case(Protocol):
    """What the engine needs of any case table: the bound of every declaration's case type.

    Read-only here so that a table whose ``state`` is its own enum still is a ``Case``.
    """

    @property
    def id(self) -> int | None: ...
    @property
    def school_id(self) -> int: ...
    @property
    def reference(self) -> str | None: ...
    @property
    def state(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def owner_id(self) -> int | None: ...
    @property
    def created_by_id(self) -> int: ...


# The case table a declaration is about (``Workflow[RightsRequest]``): every callable in it
# receives that table, so a flow's functions are checked against its own columns.
C = TypeVar("C", bound=Case)


@dataclass(frozen=True)
class Action(Generic[C]):
    """Something a person does to a case: who may, from which states, what it asks."""

    name: str
    label: str
    permission: Permission
    from_states: frozenset[str]
    # None: the state does not change. A callable reads the case after the effect, for a
    # target that depends on it (ID recorded: open once nothing else is awaited). The engine
    # sets it; ``apply`` never moves the state itself.
    to_state: str | Callable[[C], str] | None = None
    form: Form = Form(())
    confirm: str | None = None  # irreversible actions are confirmed first
    style: str = "default"
    aliases: tuple[str, ...] = ()
    # Extra guard beyond state: returns why the action is not available now, or None.
    guard: Callable[[Context, C], str | None] | None = None
    # The decision this action records is taken once per case: returns who took it, and
    # when, if it was (refused like a guard, before any question is asked).
    once: Callable[[Context, C], str | None] | None = None
    # The domain effect: mutates the case (and adds related rows) or raises Invalid; the
    # engine, not the effect, moves the state (``to_state``) and sends the ``notices``.
    apply: Callable[[Context, C, Mapping[str, Any]], str | None] | None = None
    changes_case: bool = True  # a note is appended without bumping the case version
    # What the audit keeps of the case as it was before the effect (a corrected date's old
    # value), so a correction never silently rewrites a record.
    was: Callable[[Context, C, Mapping[str, Any]], dict[str, Any]] | None = None
    # Shown before the first question, to those who may take the action (e.g. the internal
    # description to write a letter's own account from, never to be copied into it).
    intro: Callable[[Context, C], str | None] | None = None
    # The answers that explain the decision (a reason, a basis), in the Why of the case's
    # history; a correction's old and new values (``was``) are shown beside them.
    why: tuple[str, ...] = ()
    # A window's title (a Slack modal shows 24 characters) where the label is longer.
    title: str | None = None

    @property
    def heading(self) -> str:
        return self.title or self.label

    def refusal(self, ctx: Context, case: C) -> str | None:
        """Why it can't be taken now beyond its states (decided already, a guard), or None."""
        for check in (self.once, self.guard):
            if check is not None and (reason := check(ctx, case)):
                return reason
        return None

    def available(self, ctx: Context, case: C) -> bool:
        return case.state in self.from_states and self.refusal(ctx, case) is None

    def target(self, case: C) -> str | None:
        """The state the case moves to once the effect is applied (None: it stays)."""
        return self.to_state(case) if callable(self.to_state) else self.to_state


# Who a notice goes to: the people who decide at the school, the case's owner, the person
# who logged it; any other word is a role ("head").
TEAM, OWNER, REQUESTER = "team", "owner", "requester"
CREATED = "created"  # the event a notice on a new case is declared on


@dataclass(frozen=True)
class Notice(Generic[C]):
    """A message the engine queues when something happens to a case, in the same transaction.

    ``on``: ``CREATED`` or action names. ``to``: ``TEAM``, ``OWNER``, ``REQUESTER`` or role
    values, in the order they are told. The template gets ``event``, ``case``, ``actor`` and
    what ``facts(ctx, case, values)`` adds; ``when`` narrows it to some cases.
    ``confirm``: the person who acted is told whether it reached the single recipient (a
    requester who has left is audited as ``<workflow>.<to>_unreachable``).
    """

    on: tuple[str, ...]
    event: str
    to: tuple[str, ...]
    template: str
    facts: Callable[[Context, C, Mapping[str, Any]], Mapping[str, Any]] | None = None
    when: Callable[[Context, C], bool] | None = None
    confirm: bool = False


Handler = Callable[[Context, str, re.Match[str]], list[Reply]]


@dataclass(frozen=True)
class Route:
    """A question answered straight away, without a form (“is IXL approved?”, “consent Amelia
    for the website”): declared by the part that answers it, matched by ``core.router``.

    ``handler(ctx, channel_key, match)`` returns the replies; ``lookup``: it only reads, so
    it may be asked anywhere (a slash command in any channel, a home-tab button).
    """

    pattern: re.Pattern[str]
    handler: Callable[[Context, str, re.Match[str]], list[Reply]]
    lookup: bool = False
    # How a person would ask it, offered as “Did you mean …?” when a message reads close to
    # ``words`` (typos allowed) but matched nothing.
    example: str = ""
    words: tuple[str, ...] = ()
    # A whole-message command that may be typed in the middle of a form (“cases”): it is
    # answered and the form waits, instead of being read as the answer to its question.
    aside: bool = False

    @classmethod
    def of(cls, pattern: str, handler: Callable[[Context, str, re.Match[str]], list[Reply]],
           *, lookup: bool = False, example: str = "", words: tuple[str, ...] = (),
           aside: bool = False) -> Route:
        return cls(re.compile(pattern, re.IGNORECASE), handler, lookup, example, words, aside)


@dataclass(frozen=True)
class DeadlineReminders:
    """Nudges before a deadline, on the day, and daily once overdue, in working hours."""

    days_before: tuple[int, ...] = (14, 7, 2)
    on_the_day: bool = True
    overdue_daily: bool = True
    escalate_after_overdue_days: int = 2
    recipients: tuple[str, ...] = ("owner", "dpo")  # "owner", or a role
    escalate_to: tuple[Role, ...] = (Role.DEPUTY, Role.HEAD)
    working_hours_only: bool = True


@dataclass(frozen=True)
class ClockReminders(Generic[C]):
    """Nudges counted in hours before a deadline that is a moment (a breach's 72 hours).

    They go out at any hour unless ``working_hours_only``; ``escalate_hours_before`` adds
    the ``escalate_to`` roles to the nudges from then on. ``pending`` says whether the
    decision the clock is for is still awaited (a breach stays open after it).
    """

    hours_before: tuple[int, ...] = (48, 24, 12, 3, 0)
    recipients: tuple[str, ...] = ("dpo", "deputy")
    escalate_hours_before: int | None = 24
    escalate_to: tuple[Role, ...] = (Role.HEAD,)
    working_hours_only: bool = False
    pending: Callable[[C], bool] | None = None


@dataclass(frozen=True)
class Unfinished:
    """A form started and not saved is a risk: nudge its person ``after`` this long quiet.

    ``tell_team``: the DPO team is told too that one was started, with who started it and
    nothing of what it says (a breach's clock may be running before anyone saves it).
    ``any_hour``: sent outside the school's working hours too.
    """

    after: timedelta
    tell_team: bool = False
    any_hour: bool = False


@dataclass(frozen=True)
class Retention(Generic[C]):
    """How long a finished case is kept (DOMAIN.md 6): a school setting, counted from its end.

    ``setting`` names the years in ``School.retention``, ``default_years`` what a school
    that has not set it keeps; ``ended`` gives the day the case finished (None while it is
    open); ``to_academic_year_end`` keeps it to the end of the academic year it finished in
    (31 August) before the years are counted.
    """

    setting: str
    ended: Callable[[C], date | None]
    default_years: int
    to_academic_year_end: bool = False


@dataclass(frozen=True)
class Export:
    """The workflow's log as rows: ``dpo-bot export COMMAND``, and one file in ``export all``.

    ``rows`` audits its own read, so every export says who took the log away.
    """

    command: str  # dpo-bot export COMMAND
    file: str  # its name in the archive, before .csv and .json
    what: str  # the archive's list of contents
    help: str  # the command's --help
    noun: str  # what a row is, in “Wrote 3 breaches to …”
    rows: Callable[[Session, School, str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Workflow(Generic[C]):
    """One workflow, whole: a new one is this declaration in its own package, listed in
    ``workflows.registry``. The engine runs its lifecycle from it:

    - creation (``engine.create``): ``build`` → ``recompute`` → reference (``prefix``,
      ``reference_year``) → audit ``<name>.created`` with ``created_facts`` → the
      ``notices`` on ``CREATED`` → reminders planned from ``reminders``;
    - each action (``engine.perform``): permission, state, ``once`` and ``guard`` →
      compare-and-set on the version → ``apply`` → state set to ``to_state`` →
      ``recompute`` → audit ``<name>.<action>`` → the notices on the action → reminders;
    - words: ``triggers`` start it from free text and, with its name, prefix and title,
      name it to ``core.router``; ``routes`` answer questions about it without a form;
    - reminders: deadline nudges from ``reminders``, others from ``reminder_handlers``,
      which the sweep derives from the registry it is given.
    """

    name: str  # "sar": the subject type in reminders, audit and notifications
    prefix: str  # of case references: "SAR" in SAR-2026-0001
    title: str
    summary: str  # one line for the help menu
    triggers: tuple[str, ...]  # phrases that start it from free text
    model: type[C]
    intake: Form
    start_permission: Permission
    states: Mapping[str, str]  # state -> how it reads
    open_states: frozenset[str]
    actions: tuple[Action[C], ...]
    # Only what is the workflow's own of creation: checks across answers, and the new case
    # (not yet numbered). The engine (``engine.create``) numbers, recomputes, audits,
    # notifies and plans reminders.
    build: Callable[[Context, Mapping[str, Any]], C]
    # The year of a new case's reference (the year it arrived, not the year it was logged).
    reference_year: Callable[[Context, C], int]
    card_rows: Callable[[Context, C], list[tuple[str, str]]]
    due: Callable[[C], date | None]
    deadline_text: Callable[[Context, C], str | None]
    reminders: DeadlineReminders | ClockReminders[C] | None = None
    # What the ``<name>.created`` audit event keeps beyond the reference.
    created_facts: Callable[[C], Mapping[str, Any]] = lambda case: {}
    notices: tuple[Notice[C], ...] = ()
    # The intake question to reopen when the deadline can't be worked out at creation.
    deadline_question: str | None = None
    # Reminders that are not about its cases (a register's review dates): subject -> handler
    # (``reminders.messages.Handler``), found by the sweep through the registry.
    reminder_handlers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # Questions about what the workflow keeps, answered without starting it (the register).
    routes: tuple[Route, ...] = ()
    # A template for a school's shared alert channel: a reference and the countdown only,
    # never names or details (the DPO team gets those privately).
    channel_alert: str | None = None
    # A template for the one line a notification, the chat list and search show before the
    # message is opened: given ``reference``, ``title``, ``status``, the countdown (``left``,
    # ``urgency``, ``running``) and the ``event``; never names or details.
    headline: str = "messages/headline.txt.j2"
    # An action to carry on with straight after the intake is saved: the case (and its
    # clock) exists from the first answers, and the rest is asked as additions to it.
    follow_up: str | None = None
    # Called after every action, before reminders are planned: keeps cached deadlines true.
    recompute: Callable[[Context, C], None] | None = None
    letters: Mapping[str, Callable[[Context, C], Document]] = field(default_factory=dict)
    summary_notes: Callable[[Context, Mapping[str, Any]], list[str]] | None = None
    retention: Retention[C] | None = None  # None: kept while the product is used
    export: Export | None = None  # None: nothing of it leaves in a register
    # Its global shortcut in Slack's manifest.yml (the name, 24 characters at most); None:
    # started from /dpo, the DM and App Home only, with no manifest change.
    shortcut: str | None = None
    # When what the deadline asks for was done, while the case stays open (a breach's ICO
    # decision): from then on every listing reads the deadline as met, not overdue.
    met_at: Callable[[C], datetime | None] = lambda case: None
    # Words that make it a near guess when a message matched nothing (“I lost my phone”
    # with no trigger in it still suggests a breach report): offered, never started.
    words: tuple[str, ...] = ()
    # What one case is called, where a workflow covers several kinds (an educational-record
    # request is not a subject access request); None: the workflow's title.
    case_title: Callable[[C], str] | None = None
    # A template: who and what, in a few words, for `cases` (given ``case`` and ``by``, the
    # name of whoever logged it). Listed only to people who may see the case.
    gist: str | None = None
    # Its intake left unsaved: who is reminded, and when (``core.unfinished``).
    unfinished: Unfinished | None = None

    def notices_on(self, event: str) -> tuple[Notice[C], ...]:
        return tuple(n for n in self.notices if event in n.on)

    def action(self, name: str) -> Action[C]:
        return next(a for a in self.actions if a.name == name)

    def title_of(self, case: C) -> str:
        return self.case_title(case) if self.case_title else self.title

    def time_left(self, case: C, now: datetime) -> TimeLeft | None:
        """How long ``case`` has left (``now`` in school time); None with no clock."""
        due = self.due(case)
        return None if due is None else time_left(due, now, self.met_at(case))

    def is_open(self, case: C) -> bool:
        return case.state in self.open_states

    def clock_running(self, case: C) -> bool:
        """Whether its reminders still apply: open, and (for a clock) still undecided."""
        pending = getattr(self.reminders, "pending", None)
        return self.is_open(case) and (pending is None or pending(case))

