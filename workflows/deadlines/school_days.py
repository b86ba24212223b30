"""School days and the 15-school-day deadline for educational record requests.

Education (Pupil Information) (England) Regulations 2005, reg 5: a parent of a pupil at a
maintained school may ask in writing to see (free) or have a copy of (cost of supply at most)
the pupil's educational record, within 15 school days of receipt. A school day is a day the
school has a session, so it depends on the school's own term dates and closures; the bot keeps
them as a per-school term calendar imported from CSV.

CSV format (one header line, then one row per term or closure)::

    kind,start,end,name
    term,2026-09-02,2026-10-23,Autumn 1
    closure,2026-10-16,2026-10-16,INSET day
    term,2026-11-02,2026-12-18,Autumn 2

* ``kind`` is ``term`` or ``closure`` (any case). A term is a run of days the school is open on
  weekdays; a closure is a day or range of days with no sessions inside a term: an INSET day, a
  strike closure, a snow day. Half term may be given either as a gap between two terms or as a
  closure inside one term; both give the same school days.
* ``start`` and ``end`` are dates, ISO (``2026-09-02``) or UK style (``02/09/2026``, day first,
  as spreadsheets in English schools export them), read by the one strict reader every import
  uses (``parse_written_date``): "3/13/2026" or a year-less "2/9" is refused, not guessed.
  ``end`` must not be before ``start``. A closure with an empty ``end`` is the single day
  ``start``; a closure range counts every day.
* ``name`` is required; it is what the bot says when a day is skipped ("INSET day").
* Blank lines are ignored. Terms must not overlap.

A file with any bad row is refused as a whole, and the error lists every bad row as
"row N: reason", counting lines as a spreadsheet shows them (the header is row 1, blank lines
count), so the school fixes everything in one go rather than one error per upload.

Bank holidays are never school days, whatever the file says, so an English school does not
have to list Early May bank holiday as a closure.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from workflows.core.dates import DateParseError, parse_written_date
from workflows.core.wording import render
from workflows.deadlines.calendar import (
    bank_holiday_name,
    describe,
    normalise_region,
    require_date,
)
from workflows.deadlines.sar import Deadline

RULE_EDU_RECORD = "15 school days"
SCHOOL_DAYS_ALLOWED = 15
HEADER = ("kind", "start", "end", "name")


class CalendarError(ValueError):
    """A term calendar that cannot be used; the message is shown to the school as is.

    ``problems`` holds each "row N: reason" separately for interfaces that list them.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class Closure:
    """One day inside a term with no sessions (INSET day, strike, snow day)."""

    day: date
    name: str


@dataclass(frozen=True)
class Term:
    """A run of days, first and last included, on which the school is open on weekdays."""

    start: date
    end: date
    name: str


@dataclass(frozen=True)
class TermCalendar:
    """A school's term dates and closures: what decides whether a day is a school day."""

    terms: tuple[Term, ...]
    closures: tuple[Closure, ...]

    def __post_init__(self) -> None:
        # Sorted and de-duplicated so that equal calendars compare equal however they were
        # built, which is what makes the CSV round trip exact.
        object.__setattr__(self, "terms", tuple(sorted(self.terms, key=_term_key)))
        object.__setattr__(
            self, "closures", tuple(sorted(set(self.closures), key=lambda c: (c.day, c.name)))
        )
        for earlier, later in zip(self.terms, self.terms[1:], strict=False):
            if later.start <= earlier.end:
                raise CalendarError(
                    f"Term {later.name!r} ({describe(later.start)}) starts before term "
                    f"{earlier.name!r} ends ({describe(earlier.end)}); terms must not overlap."
                )
        self._closure_names()  # builds the lookup once; see _closure_names

    @classmethod
    def from_csv(cls, text: str) -> TermCalendar:
        """Parse the CSV described in the module docstring; refuse the file if any row is bad."""
        # The one CSV reader every import uses (a byte order mark, a broken quote, a cell too
        # long), imported here so that the deadline rules alone do not load the database layer.
        from workflows.core.imports import CsvFile, ImportRefused

        problems: list[str] = []
        terms: list[tuple[int, Term]] = []
        closures: list[Closure] = []
        header_seen = False
        try:
            rows = list(CsvFile(text.encode("utf-8")).rows()) if text.strip() else []
        except ImportRefused as error:
            raise CalendarError("\n".join(error.reasons), tuple(error.reasons)) from None
        for number, row in rows:
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if not header_seen:
                header_seen = True
                if tuple(c.lower() for c in _trim_trailing(cells)) != HEADER:
                    problems.append(
                        f"row {number}: the first row must be the header {','.join(HEADER)}"
                    )
                continue
            problems.extend(_parse_row(number, cells, terms, closures))

        if not header_seen:
            raise CalendarError(
                f"The term calendar is empty: it needs the header {','.join(HEADER)} and at "
                "least one term row."
            )
        problems.extend(_overlaps(terms))
        if not problems and not terms:
            problems.append("the file has no term rows, so it has no school days")
        if problems:
            problems.sort(key=_row_number)
            raise CalendarError(
                "The term calendar could not be imported; nothing was changed. Please fix:\n"
                + "\n".join(f"- {p}" for p in problems),
                tuple(problems),
            )
        return cls(terms=tuple(term for _, term in terms), closures=tuple(closures))

    def to_csv(self) -> str:
        """The calendar as CSV (ISO dates); reading it back with ``from_csv`` gives it back."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for term in self.terms:
            writer.writerow(("term", term.start.isoformat(), term.end.isoformat(), term.name))
        # Consecutive days with the same name go back into one range, as a school would write it.
        runs: list[tuple[date, date, str]] = []
        for closure in sorted(self.closures, key=lambda c: (c.name, c.day)):
            if runs and runs[-1][2] == closure.name and runs[-1][1] + timedelta(1) == closure.day:
                runs[-1] = (runs[-1][0], closure.day, closure.name)
            else:
                runs.append((closure.day, closure.day, closure.name))
        for start, end, name in sorted(runs):
            writer.writerow(("closure", start.isoformat(), end.isoformat(), name))
        return out.getvalue()

    def term_for(self, day: date) -> Term | None:
        """The term ``day`` falls in, or None in the holidays."""
        for term in self.terms:
            if term.start <= day <= term.end:
                return term
        return None

    def is_school_day(self, day: date, region: str) -> bool:
        """Inside a term, Monday to Friday, not a closure and not a bank holiday in ``region``."""
        day = require_date(day)
        region = normalise_region(region)
        return (
            self.term_for(day) is not None
            and day.weekday() < 5
            and self.closure_name(day) is None
            and bank_holiday_name(day, region) is None
        )

    def covers(self, day: date) -> bool:
        """Whether the calendar runs as far as ``day`` (on or before the last day of term)."""
        return bool(self.terms) and day <= self.terms[-1].end

    def closure_name(self, day: date) -> str | None:
        """The name of the closure on ``day``; two closures on one day are named together."""
        return self._closure_names().get(day)

    def _closure_names(self) -> dict[date, str]:
        # Cached on the instance (the dataclass is frozen, so via object.__setattr__) because
        # counting school days looks up every day in turn.
        cached = self.__dict__.get("_closure_lookup")
        if cached is None:
            cached = {}
            for closure in self.closures:
                if closure.day in cached:
                    cached[closure.day] += f" and {closure.name}"
                else:
                    cached[closure.day] = closure.name
            object.__setattr__(self, "_closure_lookup", cached)
        return cached


def _term_key(term: Term) -> tuple[date, date, str]:
    return (term.start, term.end, term.name)


def _row_number(problem: str) -> int:
    match = re.match(r"row (\d+):", problem)
    return int(match.group(1)) if match else 0


def _trim_trailing(cells: list[str]) -> list[str]:
    """Drop empty cells at the end of a row: spreadsheets pad rows with trailing commas."""
    cells = list(cells)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _parse_date(column: str, text: str, problems: list[str], number: int) -> date | None:
    """A strict day-first date, or None with the row's reason in ``problems``."""
    if not text:
        problems.append(f"row {number}: the {column} date is missing")
        return None
    try:
        return parse_written_date(text)
    except DateParseError as error:
        problems.append(f"row {number}: {column} date: {error}")
        return None


def _parse_row(
    number: int, cells: list[str], terms: list[tuple[int, Term]], closures: list[Closure]
) -> list[str]:
    """Check one data row; append what it defines, return its problems ("row N: ...")."""
    problems: list[str] = []
    cells = _trim_trailing(cells)
    if len(cells) > len(HEADER):
        return [
            f"row {number}: has {len(cells)} columns; expected 4 ({','.join(HEADER)}) "
            "- put quotes around a name that contains a comma"
        ]
    kind, start_text, end_text, name = (cells + [""] * len(HEADER))[: len(HEADER)]
    kind = kind.lower()
    if kind not in ("term", "closure"):
        problems.append(f"row {number}: unknown kind {kind!r}; use term or closure")

    start = _parse_date("start", start_text, problems, number)
    if not end_text and kind == "closure":
        end = start  # a one-day closure needs no end date
    else:
        end = _parse_date("end", end_text, problems, number)
    if start is not None and end is not None and end < start:
        problems.append(f"row {number}: end {end.isoformat()} is before start {start.isoformat()}")
    if not name:
        problems.append(f"row {number}: the name is missing (e.g. Autumn 1, INSET day)")

    if problems or start is None or end is None:
        return problems
    if kind == "term":
        terms.append((number, Term(start=start, end=end, name=name)))
    else:
        day = start
        while day <= end:
            closures.append(Closure(day=day, name=name))
            day += timedelta(days=1)
    return problems


def _overlaps(terms: list[tuple[int, Term]]) -> list[str]:
    """Report each term that overlaps an earlier row, naming the row it clashes with."""
    problems = []
    for i, (number, term) in enumerate(terms):
        for other_number, other in terms[:i]:
            if term.start <= other.end and other.start <= term.end:
                problems.append(
                    f"row {number}: term {term.name!r} overlaps term {other.name!r} "
                    f"(row {other_number})"
                )
                break
    return problems


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as short runs, first and last ("Monday 26 October 2026 to Friday 30 October
    2026" reads better than five dates)."""
    runs: list[list[date]] = []
    for day in days:
        if runs and runs[-1][-1] + timedelta(days=1) == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return [(run[0], run[-1]) for run in runs]


def _say(line: str, **facts: Any) -> str:
    return render("deadlines/school_days.txt.j2", line=line, **facts)


def edu_record_deadline(received: date, calendar: TermCalendar, region: str = "ENG") -> Deadline:
    """The deadline to let a parent see, or give a copy of, an educational record.

    Decision on counting: the day of receipt is not counted, even when it is a school day
    (the request may arrive after the school day ends, and "within 15 school days of receipt"
    reads most naturally as 15 whole school days after it). School day 1 is the first school
    day after ``received`` and the deadline is the 15th. There is no roll to a working day:
    every counted day is already a school day.

    Raises ``CalendarError`` when the calendar ends before 15 school days are found, because
    guessing next year's term dates would give a wrong deadline.
    """
    received = require_date(received, "date the request was received")
    region = normalise_region(region)

    weekend_days = 0
    holiday_days = 0
    closures: dict[str, list[date]] = {}
    bank_holidays: dict[str, list[date]] = {}
    counted = 0
    first: date | None = None
    day = received
    while counted < SCHOOL_DAYS_ALLOWED:
        day += timedelta(days=1)
        if not calendar.covers(day):
            raise CalendarError(_say("beyond_calendar",
                                     last=calendar.terms[-1].end if calendar.terms else None))
        # Why a day is skipped, in the order a school would explain it: holidays first (a
        # Christmas Day in the holidays is just holidays), then weekends, then the school's own
        # closures, then bank holidays that fall in term.
        if calendar.term_for(day) is None:
            holiday_days += 1
        elif day.weekday() >= 5:
            weekend_days += 1
        elif (closure := calendar.closure_name(day)) is not None:
            closures.setdefault(closure, []).append(day)
        elif (holiday := bank_holiday_name(day, region)) is not None:
            bank_holidays.setdefault(holiday, []).append(day)
        else:
            counted += 1
            if first is None:
                first = day
    due = day
    assert first is not None

    explanation = [_say("received", received=received), _say("first", first=first)]
    skipped: list[dict[str, Any]] = []
    if weekend_days:
        skipped.append({"kind": "weekend", "days": weekend_days})
    if holiday_days:
        skipped.append({"kind": "holidays", "days": holiday_days})
    skipped += [{"kind": "closure", "name": name, "days": len(days), "runs": _runs(days)}
                for name, days in closures.items()]
    skipped += [{"kind": "bank_holiday", "name": name, "runs": _runs(days)}
                for name, days in bank_holidays.items()]
    total = (
        weekend_days
        + holiday_days
        + sum(len(d) for d in closures.values())
        + sum(len(d) for d in bank_holidays.values())
    )
    if total:
        explanation.append(_say("skipped", total=total, skipped=skipped))
    explanation.append(_say("due", due=due))
    return Deadline(
        due=due,
        explanation=tuple(explanation),
        day_one=first,
        rule=RULE_EDU_RECORD,
    )
