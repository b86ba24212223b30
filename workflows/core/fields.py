"""Form fields declared once, asked in any adapter.

A field turns what a person typed into a stored value (JSON-ready), or refuses with a
message that says exactly what was wrong. Answers are stored as JSON in the conversation,
so dates travel as ISO strings and become ``date``/``datetime`` only when read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from itertools import product
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlmodel import col, or_, select

from workflows.core.context import Context
from workflows.core.dates import (
    DateParseError,
    describe_date,
    describe_typed,
    parse_date,
    parse_datetime,
)
from workflows.core.text import fold
from workflows.core.wording import render
from workflows.people.models import Person


class Kind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"  # any number of the choices: "1, 4", "names and photos"
    YES_NO = "yes_no"
    DATE = "date"
    DATETIME = "datetime"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    NUMBER = "number"
    # Someone the school set up, among those the declaration allows (``Field.people``).
    PERSON = "person"


# Kinds whose form control takes no words: "don't know" there is left empty (``blank_unknown``).
TYPED = frozenset({Kind.DATE, Kind.DATETIME, Kind.EMAIL, Kind.PHONE, Kind.URL, Kind.NUMBER})


class Invalid(ValueError):
    """An answer that cannot be taken; the message is shown to the person as-is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    aliases: tuple[str, ...] = ()


Answers = Mapping[str, Any]


def refusal(reason: str, **facts: Any) -> str:
    """Why a typed answer is not taken, worded in ``templates/fields``."""
    return render("fields/refusal.txt.j2", reason=reason, **facts)
# A check sees the parsed value, every answer so far and the context; it returns a
# message when the answer cannot stand.
Check = Callable[[Any, Answers, Context], str | None]


@dataclass(frozen=True)
class After:
    """An event a typed date cannot come before: an earlier answer, or a date on the case.

    ``when`` sees the context, the answers so far and the case being acted on (None while
    a case is being reported), and gives the date or moment, or None when there is none.
    """

    label: str  # "the ID was asked for"
    when: Callable[[Context, Answers, Any], date | datetime | str | None]


def case_at(attribute: str, label: str) -> After:
    """Not before a date stored on the case."""
    return After(label, lambda ctx, answers, case: getattr(case, attribute, None))


@dataclass(frozen=True)
class Plausible:
    """How far back a typed date may reasonably go.

    Older than ``confirm_days`` is read back and must be confirmed ("That is 14 months ago:
    is that right?"); before ``floor`` it is refused, with ``floor_reason``.
    """

    confirm_days: int | None
    floor: Callable[[Context], date]
    floor_reason: str  # "{floor}" is the date spelled out

    def problem(self, day: date, ctx: Context) -> str | None:
        floor = self.floor(ctx)
        if day < floor:
            return refusal("implausible", day=day,
                           floor_reason=self.floor_reason.format(floor=describe_date(floor)))
        return None

    def doubt(self, day: date, ctx: Context) -> str | None:
        if self.confirm_days is None or (ctx.today - day).days <= self.confirm_days:
            return None
        return refusal("long_ago", gap=how_long_ago(day, ctx.today))


def how_long_ago(day: date, today: date) -> str:
    """"3 weeks", "14 months", "2 years": how a person says a gap."""
    gap = relativedelta(today, day)
    months = gap.years * 12 + gap.months
    if months >= 24:
        return f"{gap.years} years"
    if months >= 2:
        return f"{months} months"
    days = (today - day).days
    if days >= 14:
        return f"{days // 7} weeks"
    return f"{days} day{'s' if days != 1 else ''}"


def first_use_floor(ctx: Context) -> date:
    """The oldest a clock-starting date may be: a year before the school began using the bot
    (a request or breach from before then was handled outside it), and never more than six
    years ago (longer than the bot keeps any record)."""
    began = min(ctx.school.created_at.astimezone(ctx.tz).date(), ctx.today) if (
        ctx.school.created_at) else ctx.today
    return max(began - relativedelta(years=1), ctx.today - relativedelta(years=6))


FIRST_USE_REASON = ("it is before {floor}, more than a year before the school began using "
                    "dpo-bot (or more than six years ago). Please check the date you typed.")


def six_years_floor(ctx: Context) -> date:
    return ctx.today - relativedelta(years=6)


SIX_YEARS_REASON = ("it is before {floor}, more than six years ago: longer than the breach "
                    "log keeps any entry. Please check the date you typed.")


# Stored for "don't know" where a field takes it as an answer (``Field.unknown``): an open
# question for whoever decides, shown as such, rather than a skipped question.
UNKNOWN = "unknown"
DONT_KNOW = {"don't know", "dont know", "do not know", "not sure", "unsure", "unknown",
             "no idea", "idk"}
# Words only: a "1" typed at a yes/no question is a slip (a choice number, a count), not a yes.
_YES = {"yes", "y", "yeah", "yep"}
_NO = {"no", "n", "nope"}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_PHONE = re.compile(r"^\+?[\d\s()-]{7,20}$")
_URL = re.compile(r"^(https?://)?[\w-]+(\.[\w-]+)+(:\d+)?([/?#]\S*)?$", re.IGNORECASE)
_SLACK_USER = re.compile(r"[UW](?=[A-Z]*\d)[A-Z0-9]{6,}")  # U024BE7LH: a digit in it
_NUMBER = re.compile(r"^(?:about |around |roughly |~)?(\d[\d,]*)$")
# The same everywhere: Slack's text input holds 3,000 characters, so the chat and Teams keep
# no more, and a longer paste in the chat is cut there and the person told (``conversation``).
LONG_TEXT_LIMIT = 3000
DEFAULT_MAX = {Kind.LONG_TEXT: LONG_TEXT_LIMIT}


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    label: str
    question: str
    help: str = ""
    choices: tuple[Choice, ...] = ()
    optional: bool = False
    max_length: int | None = None
    ask_if: Callable[[Answers], bool] | None = None
    checks: tuple[Check, ...] = ()
    # "Don't know" is a real answer here, stored as UNKNOWN (a choice field lists it too).
    unknown: bool = False
    # The earlier answers ``ask_if`` reads: until they are given, the question is counted.
    depends: tuple[str, ...] = ()
    # Dates: the events this one cannot come before, or after, and how far back it may go.
    after: tuple[After, ...] = ()
    until: tuple[After, ...] = ()
    plausible: Plausible | None = None
    # Said as soon as the answer is taken, when it changes what the person should do now
    # (a breach found more than 72 hours ago is already late).
    alert: Callable[[Any, Context], str | None] | None = None
    # A person field: whom it may name, and why only they (a reason in
    # ``templates/fields/refusal.txt.j2``), said to whoever names someone else.
    people: Callable[[Context], Sequence[Person]] | None = None
    people_why: str = ""
    # Bound for a form whose control cannot list them all (``bound``): asked by name.
    by_name: bool = False
    # What the form offers before anything is typed, where one answer is nearly always
    # right (when a breach was found: now); never what a person must think about.
    default: Callable[[Context], Any] | None = None

    def __post_init__(self) -> None:
        if (self.kind is Kind.PERSON) != (self.people is not None):
            raise ValueError(f"{self.name}: a person field, and only one, says whom it allows")

    @property
    def limit(self) -> int:
        return self.max_length or DEFAULT_MAX.get(self.kind, 200)

    def applies(self, answers: Answers) -> bool:
        return self.ask_if is None or self.ask_if(answers)

    def parse(self, raw: str, answers: Answers, ctx: Context, case: Any = None) -> Any:
        """Turn typed text into a stored value, or raise Invalid.

        ``case`` is the case an action's form is about (None at intake): dates are checked
        against the events on it they follow.
        """
        text = (raw or "").strip()
        if not text:
            raise Invalid(refusal("empty", question=self.question), self.name)
        if len(text) > self.limit:
            raise Invalid(refusal("too_long", length=len(text), label=self.label,
                                  limit=self.limit), self.name)
        if self.takes_unknown(text):
            return UNKNOWN
        value = _PARSERS[self.kind](self, text, ctx)
        for check in self.checks:
            problem = check(value, answers, ctx)
            if problem:
                raise Invalid(problem, self.name)
        if self.kind in (Kind.DATE, Kind.DATETIME):
            self._check_when(value, answers, ctx, case)
        return value

    def _check_when(self, value: str, answers: Answers, ctx: Context, case: Any) -> None:
        """No event before the one it follows, and nothing absurdly old."""
        for after in self.after:
            bound = after.when(ctx, answers, case)
            if bound is not None and before(value, bound, ctx):
                raise Invalid(refusal("before", bound_label=after.label,
                                      bound=describe_moment(bound, ctx)), self.name)
        for bound_by in self.until:
            bound = bound_by.when(ctx, answers, case)
            if bound is not None and before(bound, value, ctx):
                raise Invalid(refusal("after", bound_label=bound_by.label,
                                      bound=describe_moment(bound, ctx)), self.name)
        if self.plausible is not None:
            problem = self.plausible.problem(local_day(value, ctx), ctx)
            if problem:
                raise Invalid(problem, self.name)

    def doubt(self, value: Any, ctx: Context) -> str | None:
        """What to read back and have confirmed before this answer counts (a date long ago)."""
        if self.plausible is None or value is None or value == UNKNOWN:
            return None
        return self.plausible.doubt(local_day(value, ctx), ctx)

    def display(self, value: Any) -> str:
        """How a stored value reads back to a person."""
        if value is None:
            return "(not given)"
        if self.unknown and value == UNKNOWN:
            return "Don't know"
        if self.kind is Kind.CHOICE:
            return self.choice(value).label
        if self.kind is Kind.MULTI_CHOICE:
            return ", ".join(self.choice(v).label for v in value)
        if self.kind is Kind.YES_NO:
            return "Yes" if value else "No"
        if self.kind is Kind.DATE:
            return describe_date(date.fromisoformat(value))
        if self.kind is Kind.DATETIME:
            return describe_typed(datetime.fromisoformat(value))
        if self.kind is Kind.PERSON:  # a name alone in a record from before the kind
            return str(value["name"] if isinstance(value, dict) else value)
        return str(value)

    @property
    def blank_unknown(self) -> bool:
        """A form's control for this field cannot take "don't know" (a date picker, a URL
        box): there, leaving it empty says it."""
        return self.unknown and self.kind in TYPED

    def shown(self, value: Any, ctx: Context) -> str:
        """A stored answer as its form control shows it, which reads back unchanged: a
        date-time as "2026-07-03 09:00" on the school's clock (pickers split it in two)."""
        if value is None or (value == UNKNOWN and self.blank_unknown):
            return ""
        if self.kind is Kind.YES_NO and value != UNKNOWN:
            return "yes" if value else "no"
        if self.kind is Kind.DATE:
            return str(value)[:10]
        if self.kind is Kind.MULTI_CHOICE:
            return ",".join(value)  # what a multi-select sends back
        if self.kind is Kind.DATETIME:
            return datetime.fromisoformat(value).astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")
        if self.kind is Kind.PERSON:
            person = ctx.session.get(Person, value["id"])
            return account(person, ctx.adapter) if person is not None else ""
        return str(value)

    def offered(self, ctx: Context) -> tuple[Choice, ...]:
        """The choices a form lists: a person field's are the people it allows, each by the
        account the adapter in use knows them by."""
        if self.people is None:
            return self.choices
        return tuple(Choice(account(p, ctx.adapter), p.name) for p in self.people(ctx))

    def listed(self, ctx: Context) -> tuple[Choice, ...]:
        """The choices a chat lists by number: a person field's people only while the list
        is short enough to read (``PEOPLE_LISTED``); beyond that it asks for a name."""
        offered = self.offered(ctx)
        return offered if self.people is None or len(offered) <= PEOPLE_LISTED else ()

    def bound(self, ctx: Context, most: int | None = None) -> Field:
        """This field as a form shows it to ``ctx``'s person: its people listed, or, where
        they are more than the control can list (``most``), asked for by name."""
        if self.people is None:
            return self
        offered = self.offered(ctx)
        if most is not None and len(offered) > most:
            return replace(self, choices=(), by_name=True)
        return replace(self, choices=offered)

    @property
    def picked(self) -> bool:
        """Shown as choices to pick from, not a box to type in."""
        return (self.kind in (Kind.CHOICE, Kind.YES_NO, Kind.MULTI_CHOICE, Kind.PERSON)
                and not self.by_name)

    def initial(self, ctx: Context) -> str | None:
        """What a new form shows in this field's control before anything is entered."""
        return None if self.default is None else self.shown(self.default(ctx), ctx)

    def takes_unknown(self, text: str) -> bool:
        """Whether ``text`` is "don't know" and this field accepts that as an answer."""
        return self.unknown and fold(text, strip=" .!") in DONT_KNOW

    def candidates(self) -> tuple[Any, ...]:
        """Every answer that could lead somewhere different (text stands for all texts)."""
        given = {Kind.CHOICE: tuple(c.value for c in self.choices),
                 Kind.YES_NO: (True, False)}.get(self.kind, ("…",))
        return (given + ((UNKNOWN,) if self.unknown else ())
                + ((None,) if self.optional else ()))

    def choice(self, value: str) -> Choice:
        return next(c for c in self.choices if c.value == value)

    def choices_hint(self) -> str:
        return "; ".join(f"{i}. {c.label}" for i, c in enumerate(self.choices, 1))


def _text(field: Field, text: str, ctx: Context) -> str:
    return text


def _email(field: Field, text: str, ctx: Context) -> str:
    if not _EMAIL.match(text):
        raise Invalid(refusal("email", typed=text))
    return text


def _phone(field: Field, text: str, ctx: Context) -> str:
    if not _PHONE.match(text):
        raise Invalid(refusal("phone"))
    return text


def _url(field: Field, text: str, ctx: Context) -> str:
    if not _URL.match(text):
        raise Invalid(refusal("url", typed=text))
    return text


def _number(field: Field, text: str, ctx: Context) -> int:
    match = _NUMBER.match(text.strip().lower())
    if match is None:
        raise Invalid(refusal("number"))
    return int(match.group(1).replace(",", ""))


def _yes_no(field: Field, text: str, ctx: Context) -> bool:
    word = text.lower().strip(" .!")
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise Invalid(refusal("yes_no", unknown=field.unknown))


def split_list(text: str) -> list[str]:
    """The items of a list typed on one line: "1, 4", "names and photos", "3 4"."""
    items: list[str] = []
    for part in re.split(r"[,;/&+]|\band\b|\n", text.lower()):
        part = part.strip(" .")
        if re.fullmatch(r"[\d\s]+", part):
            items += part.split()  # "3 4" is two numbers
        elif part:
            items.append(part)
    return items


def pick(choices: Sequence[Choice], typed: str, *, numbered: bool = True) -> Choice | None:
    """The choice ``typed`` names: its number in the list, its value, label or an alias, or
    the start of one label only (three letters at least)."""
    word = typed.strip(" .").lower()
    if not word:
        return None
    if numbered and word.isdigit():
        number = int(word)
        return choices[number - 1] if 1 <= number <= len(choices) else None
    for choice in choices:
        if word in {choice.value.lower(), choice.value.replace("_", " ").lower(),
                    choice.label.lower(), *(a.lower() for a in choice.aliases)}:
            return choice
    starts = [c for c in choices if c.label.lower().startswith(word)]
    return starts[0] if len(starts) == 1 and len(word) >= 3 else None


# A person as a form's list of people names them (Teams, the chat's numbered list); Slack's
# users_select sends a Slack user id instead.
PERSON_TOKEN = "person:"
# A whole staff listed in a chat would be read by nobody: beyond this many, a name is asked.
PEOPLE_LISTED = 20


def account(person: Person, adapter: str) -> str:
    """``person`` as a form's person control on ``adapter`` names them."""
    if adapter == "slack" and person.slack_user_id:
        return person.slack_user_id
    return f"{PERSON_TOKEN}{person.id}"


def _person(field: Field, text: str, ctx: Context) -> dict[str, Any]:
    """The person a number, a name or a control's account names, if the field allows them."""
    assert field.people is not None  # a person field says whom it allows (__post_init__)
    allowed = list(field.people(ctx))
    chosen = _named(field, text, ctx, allowed)
    if chosen.id not in {p.id for p in allowed}:
        raise Invalid(refusal("person_not_allowed", name=chosen.name,
                              why=field.people_why, allowed=_names(allowed)))
    return {"id": chosen.id, "name": chosen.name}


def _named(field: Field, text: str, ctx: Context, allowed: Sequence[Person]) -> Person:
    if text.isdigit() and len(allowed) <= PEOPLE_LISTED:
        number = int(text)
        if 1 <= number <= len(allowed):
            return allowed[number - 1]
        raise Invalid(refusal("person_number", count=len(allowed),
                              allowed=[p.name for p in allowed]))
    here = select(Person).where(Person.school_id == ctx.school_id, col(Person.active))
    token = text.removeprefix(PERSON_TOKEN)
    by_account = ctx.session.exec(here.where(or_(
        col(Person.slack_user_id) == text,
        col(Person.id) == (int(token) if token != text and token.isdigit() else -1)))).first()
    if by_account is not None:
        return by_account
    try:
        return colleague(allowed, text, "")
    except Invalid as error:
        if error.message:
            raise  # several of them answer to it
    names = _names(allowed)
    # Someone picked in Slack whom no record here is linked to, or a name no one has.
    nobody = (refusal("person_no_account", allowed=names)
              if ctx.adapter == "slack" and _SLACK_USER.fullmatch(text)
              else refusal("person_unknown", typed=text, allowed=names))
    return colleague(ctx.session.exec(here.order_by(col(Person.id))), text, nobody)


def _names(allowed: Sequence[Person]) -> list[str] | None:
    """The allowed people's names for a refusal to list, or None when they are too many to
    read (a school's whole staff): the refusal then says how to name one instead."""
    return [p.name for p in allowed] if len(allowed) <= PEOPLE_LISTED else None


def colleague(candidates: Iterable[Person], name: str, nobody: str) -> Person:
    """The one of ``candidates`` that ``name`` means: the one whose whole name it is, else the
    only one whose name holds it (case, accents and punctuation aside: “zoe obrien” is Zoë
    O'Brien). Otherwise ``Invalid`` on the person field, ``nobody`` when no one matches."""
    wanted = fold(name, words=True)
    matches = [p for p in candidates if wanted and wanted in fold(p.name, words=True)]
    exact = [p for p in matches if fold(p.name, words=True) == wanted]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]
    if not matches:
        raise Invalid(nobody, "person")
    raise Invalid(render("people/several.txt.j2", typed=name,
                         names=[p.name for p in matches[:8]]), "person")


def _choice(field: Field, text: str, ctx: Context) -> str:
    chosen = pick(field.choices, text)
    if chosen is None:
        # The question and its numbered list come straight after, so the list is not repeated.
        raise Invalid(refusal("choice", typed=text, count=len(field.choices)))
    return chosen.value


def _choices(field: Field, text: str, ctx: Context) -> list[str]:
    found: list[str] = []
    for item in split_list(text):
        chosen = pick(field.choices, item)
        if chosen is None:
            raise Invalid(refusal("multi_choice", typed=item, label=field.label,
                                  count=len(field.choices)))
        if chosen.value not in found:
            found.append(chosen.value)
    if not found:
        raise Invalid(refusal("empty", question=field.question))
    return found


def _date(field: Field, text: str, ctx: Context) -> str:
    try:
        return parse_date(text, today=ctx.today).isoformat()
    except DateParseError as error:
        raise Invalid(str(error)) from None


def _datetime(field: Field, text: str, ctx: Context) -> str:
    try:
        return parse_datetime(text, now=ctx.local_now).isoformat()
    except DateParseError as error:
        raise Invalid(str(error)) from None


_PARSERS: dict[Kind, Callable[[Field, str, Context], Any]] = {
    Kind.TEXT: _text,
    Kind.LONG_TEXT: _text,
    Kind.EMAIL: _email,
    Kind.PHONE: _phone,
    Kind.URL: _url,
    Kind.NUMBER: _number,
    Kind.YES_NO: _yes_no,
    Kind.CHOICE: _choice,
    Kind.MULTI_CHOICE: _choices,
    Kind.DATE: _date,
    Kind.DATETIME: _datetime,
    Kind.PERSON: _person,
}


# Defaults shared by workflows: for an event recorded as it happens.


def now_here(ctx: Context) -> str:
    """Now on the school's clock, to the minute (what a time picker holds)."""
    return ctx.local_now.replace(second=0, microsecond=0).isoformat()


def today_here(ctx: Context) -> str:
    return ctx.today.isoformat()


# Checks shared by workflows.


def not_in_future(value: str, answers: Answers, ctx: Context) -> str | None:
    moment = datetime.fromisoformat(value)
    if isinstance(moment, datetime) and "T" in value:
        if moment > ctx.now:
            return refusal("future_moment", moment=moment)
        return None
    if date.fromisoformat(value) > ctx.today:
        return refusal("future_day", day=date.fromisoformat(value))
    return None


def _moment(value: date | datetime | str) -> date | datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) and "T" in value else (
        date.fromisoformat(value) if isinstance(value, str) else value)


def _timed(moment: date | datetime, ctx: Context) -> bool:
    """A moment with a time of day; a date typed without one is stored at 00:00 local."""
    if not isinstance(moment, datetime):
        return False
    local = moment.astimezone(ctx.tz) if moment.tzinfo else moment
    return (local.hour, local.minute) != (0, 0)


def local_day(value: date | datetime | str, ctx: Context) -> date:
    moment = _moment(value)
    if isinstance(moment, datetime):
        return moment.astimezone(ctx.tz).date() if moment.tzinfo else moment.date()
    return moment


def before(value: date | datetime | str, bound: date | datetime | str, ctx: Context) -> bool:
    """Whether ``value`` comes before ``bound``: by the minute when both have a time, else by
    the day (a date typed without a time is any time that day)."""
    mine, theirs = _moment(value), _moment(bound)
    if _timed(mine, ctx) and _timed(theirs, ctx):
        return mine < theirs
    return local_day(mine, ctx) < local_day(theirs, ctx)


def describe_moment(value: date | datetime | str, ctx: Context) -> str:
    """A date, or a date and time in the school's zone, as a person typed it."""
    moment = _moment(value)
    if isinstance(moment, datetime):
        return describe_typed(moment.astimezone(ctx.tz) if moment.tzinfo else moment)
    return describe_date(moment)


@dataclass(frozen=True)
class Form:
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        # A question asked only sometimes must say which earlier answers decide it: the
        # count shown counts it until they are given, so the count never grows.
        seen: set[str] = set()
        for f in self.fields:
            if f.ask_if is not None and (not f.depends or not set(f.depends) <= seen):
                raise ValueError(f"{f.name}: a conditional question must name, in depends, "
                                 "the earlier questions its condition reads")
            seen.add(f.name)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def active(self, answers: Answers) -> list[Field]:
        return [f for f in self.fields if f.applies(answers)]

    def counted(self, answers: Answers) -> list[Field]:
        """The questions to count: those that apply, and those a pending answer may still bring.

        A conditional question that declares what its condition reads (``depends``) is counted
        while any of those answers may still be given, so the count can shrink but never grow
        and no question appears after what was shown as the last.
        """
        found: list[Field] = []
        for f in self.fields:
            pending = [g for g in found if g.name in f.depends and g.name not in answers]
            names = [g.name for g in pending]
            if f.applies(answers) or (pending and any(
                    f.applies({**answers, **dict(zip(names, values, strict=True))})
                    for values in product(*(g.candidates() for g in pending)))):
                found.append(f)
        return found

    def next_unanswered(self, answers: Answers) -> Field | None:
        return next((f for f in self.active(answers) if f.name not in answers), None)

    def shown(self, answers: Answers, ctx: Context) -> dict[str, str]:
        """Every answer given as its control shows it (``Field.shown``): a form reopened
        with these and sent back unchanged gives the same answers."""
        return {f.name: f.shown(answers.get(f.name), ctx) for f in self.fields
                if answers.get(f.name) is not None}

    def initial(self, ctx: Context) -> dict[str, str]:
        """What a new form shows before anything is entered: each field's default."""
        return {f.name: shown for f in self.fields if (shown := f.initial(ctx))}

    def bound(self, ctx: Context, most: int | None = None) -> Form:
        """The form as ``ctx``'s person sees it: person fields list whom they allow, up to
        ``most`` people (a platform's limit on a list's length or a card's size)."""
        return Form(tuple(f.bound(ctx, most) for f in self.fields))

    def values(self, answers: Answers) -> dict[str, Any]:
        """The answers that count: those of fields that still apply, skipped ones as None."""
        return {f.name: answers.get(f.name) for f in self.active(answers)}

    def parse_all(self, raw: Mapping[str, str], ctx: Context, case: Any = None
                  ) -> dict[str, Any]:
        """Parse a whole submitted form (a modal or a card); every problem at once."""
        answers: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for f in self.fields:
            if not f.applies(answers):
                continue
            text = (raw.get(f.name) or "").strip()
            if not text and f.blank_unknown:
                answers[f.name] = UNKNOWN
                continue
            if not text:
                if f.optional:
                    answers[f.name] = None
                else:
                    errors[f.name] = refusal("required")
                continue
            try:
                answers[f.name] = f.parse(text, answers, ctx, case)
            except Invalid as error:
                errors[f.name] = error.message
        if errors:
            raise FormErrors(errors)
        return answers


class FormErrors(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
