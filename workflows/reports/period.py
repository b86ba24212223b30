"""Which days a report covers: a named term (from the school's calendar) or two dates.

Governors think in terms, so ``autumn-2026`` is the usual way to ask. A school that imported its
term dates (``dpo-bot calendar import``) gets its own first and last day of that term (half
terms are joined: "Autumn 1" and "Autumn 2" are one autumn term); a school without them gets
the usual English term months, and the report says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from workflows.core.wording import render
from workflows.deadlines.school_days import TermCalendar

SEASONS = ("spring", "summer", "autumn")  # in the order they come in a calendar year
# The usual months when a school has no calendar: autumn September to December, spring
# January to March (Easter moves), summer April to August, so no day falls between terms.
_MONTHS = {"spring": (1, 3), "summer": (4, 8), "autumn": (9, 12)}


class PeriodError(ValueError):
    """A term or dates that cannot be read; the message is shown as it is."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # the last day, inclusive
    season: str | None = None  # None: dates given rather than a term
    year: int | None = None
    from_calendar: bool = False

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def key(self) -> str | None:
        return f"{self.season}-{self.year}" if self.season else None


def parse_term(text: str) -> tuple[str, int]:
    """``autumn-2026`` (or "Autumn 2026") as (season, year)."""
    found = re.fullmatch(r"\s*(spring|summer|autumn)[\s_-]*(\d{4})\s*", text.lower())
    if not found:
        raise PeriodError(render("reports/lines.txt.j2", line="not_a_term", text=text))
    return found.group(1), int(found.group(2))


def term(season: str, year: int, calendar: TermCalendar | None) -> Period:
    """The term from the school's calendar when it has that term, else the usual months."""
    if calendar is not None:
        parts = [t for t in calendar.terms
                 if t.name.strip().lower().startswith(season) and t.start.year == year]
        if parts:
            return Period(min(t.start for t in parts), max(t.end for t in parts), season, year,
                          from_calendar=True)
    first, last = _MONTHS[season]
    end = date(year, last + 1, 1) - timedelta(days=1) if last < 12 else date(year, 12, 31)
    return Period(date(year, first, 1), end, season, year)


def previous(period: Period, calendar: TermCalendar | None) -> Period:
    """The term before (summer before autumn), or as many days just before two dates."""
    if period.season is None or period.year is None:
        length = period.end - period.start
        end = period.start - timedelta(days=1)
        return Period(end - length, end)
    index = SEASONS.index(period.season)
    year = period.year if index else period.year - 1
    return term(SEASONS[index - 1], year, calendar)


def between(start: date, end: date) -> Period:
    if end < start:
        raise PeriodError(render("reports/lines.txt.j2", line="backwards", start=start, end=end))
    return Period(start, end)
