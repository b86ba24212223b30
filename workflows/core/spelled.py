"""Dates spelled out in full, the way a letter to a parent writes them ("Thursday 3
September 2026"): what the templates' date filters and the date parser both use, so that
neither depends on the other."""

from __future__ import annotations

from datetime import date, datetime

from dateutil.parser import parserinfo

# Fixed English names rather than strftime("%A"), which follows the process locale.
WEEKDAY_NAMES = [names[-1] for names in parserinfo.WEEKDAYS]
MONTH_NAMES = [names[-1] for names in parserinfo.MONTHS]


def describe_date(day: date, today: date | None = None) -> str:
    """Spell a date out in full so nobody has to decode "03/09"; parse_date reads it back."""
    full = f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"
    if today is not None:
        word = {0: "today", -1: "yesterday", 1: "tomorrow"}.get(day.toordinal() - today.toordinal())
        if word:
            return f"{word} ({full})"
    return full


def describe_datetime(moment: datetime) -> str:
    """A moment on the 24-hour clock in its own zone, e.g. "Thursday 3 September 2026 at 14:05"."""
    return f"{describe_date(moment.date())} at {moment.hour:02d}:{moment.minute:02d}"


def describe_typed(moment: datetime) -> str:
    """A moment a person typed, in its own zone: a date typed without a time reads as the
    date alone, never "at 00:00" (the time was not given, not midnight)."""
    if (moment.hour, moment.minute) == (0, 0):
        return describe_date(moment.date())
    return describe_datetime(moment)
