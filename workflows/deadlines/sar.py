"""The subject access request (SAR) clock: one calendar month, pauses and the extension.

The rules (UK GDPR Art 12(3), DPA 2018 s.54 as amended by the Data (Use and Access) Act 2025,
ICO guidance on the right of access):

* Day one is the day the request arrives, working day or not; if the school reasonably asked
  for ID, a third party's authority or a fee, day one is the day the last of those arrived.
* The deadline is the same calendar date in the next month; when that date does not exist
  (31 January -> February) it is the last day of that month.
* Clarification stops the clock (s.54(3C)): the days from the day the school asks to the day
  the answer arrives, both included, do not count. They are added to the month-end-clamped date
  before any weekend roll.
* The result is moved forward to the next working day in the school's region.
* An extension makes it three months from day one; the requester must be told before the first
  month ends, so that notice is its own deadline, computed exactly like the one-month one.

Every step is also written out as plain-English sentences, because a DPO must be able to check
the working and show it to the ICO.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from workflows.core.wording import render
from workflows.deadlines.calendar import (
    is_working_day,
    month_name,
    normalise_region,
    require_date,
    why_not_working,
)

RULE_ONE_MONTH = "one calendar month"
RULE_EXTENDED = "three months (extended)"


@dataclass(frozen=True)
class Pause:
    """A clarification pause: the clock stops from ``start`` to ``end``, both days included."""

    start: date  # the day the school asked for clarification
    end: date | None  # the day the answer arrived; None = still paused


@dataclass(frozen=True)
class Deadline:
    """A computed deadline together with the working that produced it."""

    due: date | None  # None only while a pause is still open (clock stopped)
    explanation: tuple[str, ...]  # plain-English sentences, in order, showing the working
    day_one: date
    rule: str
    paused_days: int = 0
    unrolled: date | None = None  # the date before the move to a working day
    # SAR only: the last day to tell the requester about an extension.
    extension_notice_due: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, the explanation as a list, "due" always present."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


class DeadlineError(ValueError):
    """Dates that cannot describe a real request; the message is shown to the user as is."""


@dataclass(frozen=True)
class _Period:
    """One stretch of stopped clock after overlapping pauses are merged."""

    start: date
    end: date | None
    count: int  # how many recorded pauses it merges

    @property
    def days(self) -> int:
        assert self.end is not None
        return (self.end - self.start).days + 1


def _merge(pauses: Sequence[Pause]) -> list[_Period]:
    """Merge overlapping pauses so that no day is counted twice.

    Pauses that merely touch stay separate: no day is shared, and the explanation then lists
    each clarification exactly as it was recorded.
    """
    periods: list[_Period] = []
    for pause in sorted(pauses, key=lambda p: (p.start, p.end is None, p.end or p.start)):
        if periods:
            last = periods[-1]
            if last.end is None or pause.start <= last.end:
                end = None if last.end is None or pause.end is None else max(last.end, pause.end)
                periods[-1] = _Period(last.start, end, last.count + 1)
                continue
        periods.append(_Period(pause.start, pause.end, 1))
    return periods


def _roll_sentence(unrolled: date, due: date, region: str) -> str:
    """Say why ``unrolled`` is not a working day and where the deadline lands instead (the
    template drops the weekday of a day that is "a Saturday": it would repeat itself)."""
    if unrolled == due:
        return _say("working_day", day=unrolled)
    skipped = [(unrolled + timedelta(days=n), why_not_working(unrolled + timedelta(days=n), region))
               for n in range((due - unrolled).days)]
    return _say("rolled", skipped=skipped, due=due)


def _roll(day: date, region: str) -> date:
    while not is_working_day(day, region):
        day += timedelta(days=1)
    return day


def _clamp_sentence(day_one: date, months: int) -> str | None:
    """The month-end rule, spelled out, when it changed the date."""
    target = day_one + relativedelta(months=months)
    if target.day == day_one.day:
        return None
    return _say("month_end", day_one=day_one, from_month=month_name(day_one.month),
                to_month=month_name(target.month))


def sar_deadline(
    received: date,
    *,
    region: str = "ENG",
    clock_start: date | None = None,
    clock_start_reason: str | None = None,
    pauses: Sequence[Pause] = (),
    extended: bool = False,
) -> Deadline:
    """The deadline for a SAR (and erasure, rectification and the other rights requests).

    ``clock_start`` is the latest of the days ID, authority or a fee that the school asked for
    arrived; ``clock_start_reason`` names it for the explanation (e.g. "the requester's ID").
    ``pauses`` are clarification pauses; an open one (no end) means the clock is stopped and
    there is no due date until the answer arrives. ``extended`` gives three months instead of
    one; the extension notice deadline is returned either way so the workflow can refuse an
    extension recorded too late.
    """
    received = require_date(received, "date the request was received")
    region = normalise_region(region)
    if clock_start is not None:
        clock_start = require_date(clock_start, "clock start date")
        if clock_start < received:
            raise DeadlineError(_say("starts_before_request", start=clock_start,
                                     received=received))
    day_one = clock_start if clock_start is not None else received

    for pause in pauses:
        require_date(pause.start, "date clarification was asked for")
        if pause.end is not None:
            require_date(pause.end, "date the clarification arrived")
        if pause.start < day_one:
            raise DeadlineError(_say("pause_before_day_one", start=pause.start, day_one=day_one))
        if pause.end is not None and pause.end < pause.start:
            raise DeadlineError(_say("answer_before_question", start=pause.start,
                                     end=pause.end))

    explanation: list[str] = []
    if day_one == received:
        explanation.append(_say("day_one_received", day_one=day_one,
                                working=is_working_day(day_one, region)))
    else:
        # Phrased so that any reason reads well, however long ("the written authority of ...").
        explanation.append(_say("day_one_started", day_one=day_one, received=received,
                                reason=clock_start_reason))

    month_date = day_one + relativedelta(months=1)
    explanation.append(_say("month", month=month_date))
    if clamp := _clamp_sentence(day_one, 1):
        explanation.append(clamp)

    base = month_date
    if extended:
        base = day_one + relativedelta(months=3)
        explanation.append(_say("extended", base=base))
        if clamp := _clamp_sentence(day_one, 3):
            explanation.append(clamp)
    rule = RULE_EXTENDED if extended else RULE_ONE_MONTH

    periods = _merge(pauses)
    closed = [p for p in periods if p.end is not None]
    paused_days = sum(p.days for p in closed)

    # A pause can only stop a running clock: one asked for after the deadline (as moved by the
    # earlier pauses) had passed would quietly revive an expired deadline, so refuse it.
    added = 0
    for period in periods:
        running_due = _roll(base + timedelta(days=added), region)
        if period.start > running_due:
            raise DeadlineError(_say("pause_after_deadline", start=period.start,
                                     due=running_due))
        if period.end is not None:
            added += period.days

    for period in closed:
        explanation.append(_say("paused", start=period.start, end=period.end, days=period.days,
                                count=period.count))
    if len(closed) > 1:
        explanation.append(_say("in_all", days=paused_days))

    open_period = next((p for p in periods if p.end is None), None)
    if open_period is not None:
        explanation.append(_say("stopped", start=open_period.start))
        return Deadline(
            due=None,
            explanation=tuple(explanation),
            day_one=day_one,
            rule=rule,
            paused_days=paused_days,
            unrolled=None,
            extension_notice_due=None,
        )

    unrolled = base + timedelta(days=paused_days)
    if paused_days:
        explanation.append(_say("added", days=paused_days, base=base, unrolled=unrolled))
    due = _roll(unrolled, region)
    explanation.append(_roll_sentence(unrolled, due, region))

    notice_unrolled = month_date + timedelta(days=paused_days)
    notice_due = _roll(notice_unrolled, region)
    if extended:
        explanation.append(_say("notice", due=notice_due, days=paused_days,
                                rolled=notice_unrolled != notice_due))

    return Deadline(
        due=due,
        explanation=tuple(explanation),
        day_one=day_one,
        rule=rule,
        paused_days=paused_days,
        unrolled=unrolled,
        extension_notice_due=notice_due,
    )


def _say(line: str, **facts: Any) -> str:
    return render("deadlines/sar.txt.j2", line=line, **facts)
