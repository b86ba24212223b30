"""Read the dates and times school staff type into the chat, the way people in England type them.

Dates are day first ("3/9" is 3 September) and never silently reinterpreted. That is why the
absolute forms are matched here rather than handed to ``dateutil.parser.parse(dayfirst=True)``:
its ``dayfirst`` is only a preference ("3/13/2026" quietly becomes 13 March), it fills missing
parts from today ("September" becomes the 23rd), it ignores a weekday that contradicts the date,
maps "99" to 1999 and reads "2.15pm" as 14:00. We still take the month and weekday names from
dateutil's ``parserinfo`` and do every calendar step with ``relativedelta``.

Every refusal is a ``DateParseError`` whose message is shown to the teacher as it is.
"""

from __future__ import annotations

import calendar
import re
import string
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from dateutil.parser import parserinfo
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

from workflows.core.spelled import MONTH_NAMES as _MONTH_NAMES
from workflows.core.spelled import WEEKDAY_NAMES as _WEEKDAY_NAMES
from workflows.core.spelled import describe_date, describe_datetime, describe_typed
from workflows.core.text import fold
from workflows.core.wording import render

__all__ = [
    "DateParseError",
    "describe_date",
    "describe_datetime",
    "describe_typed",
    "parse_date",
    "parse_datetime",
    "parse_written_date",
]


class DateParseError(ValueError):
    """The message is shown to a teacher in the chat as-is: say what was not understood and give
    2-3 examples that work."""


# Spellings staff use that dateutil's English vocabulary lacks; keyed by the full name.
_EXTRA_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Tuesday": ("Tues",),
    "Wednesday": ("Weds",),
    "Thursday": ("Thur", "Thurs"),
}


class _UKNames(parserinfo):
    """dateutil's month and weekday names, plus the extra abbreviations teachers type."""

    # dateutil reads any number of spellings a day; its stub types the list as pairs.
    WEEKDAYS = [(*names, *_EXTRA_SPELLINGS.get(names[-1], ()))  # type: ignore[misc]
                for names in parserinfo.WEEKDAYS]


_NAMES = _UKNames(dayfirst=True)
_RELATIVE_WEEKDAYS = (MO, TU, WE, TH, FR, SA, SU)


_STRIP = string.whitespace + string.punctuation + "“”‘’…"

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_COUNT = r"(?P<count>\d{1,4}|" + "|".join(_NUMBER_WORDS) + ")"

# One of each unit a teacher might count back in.
_DATE_UNITS: dict[str, relativedelta] = {
    "day": relativedelta(days=1),
    "week": relativedelta(weeks=1),
    "fortnight": relativedelta(weeks=2),
    "month": relativedelta(months=1),
    "year": relativedelta(years=1),
}
_TIME_UNITS: dict[str, int] = {"hour": 60, "hr": 60, "minute": 1, "min": 1}

_FIXED_DAYS = {
    "today": 0,
    "now": 0,
    "yesterday": -1,
    "tomorrow": 1,
    "the day before yesterday": -2,
    "day before yesterday": -2,
    "the day after tomorrow": 2,
    "day after tomorrow": 2,
}


def _compile(pattern: str) -> re.Pattern[str]:
    """ASCII-only classes, so that no exotic Unicode digit is taken for a day of the month."""
    return re.compile(pattern, re.ASCII)


_RELATIVE_DAYS = _compile(
    rf"^(?:(?P<in>in) )?{_COUNT} (?P<unit>{'|'.join(_DATE_UNITS)})s?(?P<ago> ago)?$"
)
_RELATIVE_TIME = _compile(
    rf"^(?:(?P<in>in) )?(?:{_COUNT} (?P<unit>{'|'.join(_TIME_UNITS)})s?|(?P<half>half an hour))"
    r"(?P<ago> ago)?$"
)
_WEEKDAY = _compile(r"^(?:on )?(?:(?P<which>last|this|next) )?(?P<name>[a-z]+)$")
_VAGUE_PERIOD = _compile(r"\b(?P<which>last|this|next) (?P<period>week|month|year)\b")

_ORDINAL = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:[ /-](?P<year>\d{4}|\d{2}))?"
_ISO = _compile(r"^(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})$")
_NUMERIC = _compile(
    r"^(?P<day>\d{1,2})(?P<sep>[-/.])(?P<month>\d{1,2})(?:(?P=sep)(?P<year>\d{4}|\d{2}))?$"
)
_DAY_MONTH = _compile(rf"^(?P<day>\d{{1,2}}){_ORDINAL}[ /-]?(?:of )?(?P<month>[a-z]+){_YEAR}$")
_MONTH_DAY = _compile(rf"^(?P<month>[a-z]+)[ /-]?(?:the )?(?P<day>\d{{1,2}}){_ORDINAL}{_YEAR}$")
_MONTH_ONLY = _compile(r"^(?P<month>[a-z]+)(?: (?P<year>\d{4}))?$")
_DAY_ONLY = _compile(rf"^(?P<day>\d{{1,2}}){_ORDINAL}$")

_CLOCK = (
    r"(?:(?P<h12>\d{1,2})(?:[:.](?P<m12>\d{2}))? ?(?P<ampm>am|pm)"
    r"|(?P<h24>\d{1,2})(?P<sep>[:.])(?P<m24>\d{2})"
    r"|(?:12 )?(?P<word>noon|midday|midnight))"
)
_CLOCK_ONLY = _compile(rf"^{_CLOCK}$")
_TIME_LAST = _compile(rf"^(?:(?P<date>.*?) )?(?:(?P<at>at|@) ?)?{_CLOCK}$")
_TIME_FIRST = _compile(rf"^{_CLOCK}(?: (?:on )?(?P<date>.+))?$")
_BARE_HOUR = _compile(r"(?:^| )(?:at|@) ?(?P<hour>\d{1,2})$")
_LOOKS_LIKE_TIME = _compile(
    r"\d:\d{2}|\d ?[ap]m\b|\b(?:noon|midday|midnight|o'?clock|hours?|hrs?|minutes?|mins?)\b"
)
_VAGUE_TIME = _compile(r"\b(?:morning|afternoon|evening|tonight|night|lunch ?time|lunch)\b")


def _normalise(text: str) -> str:
    """One lower-case spelling per input, so the patterns need not allow for case or commas."""
    return re.sub(r"(?<![a-z])([ap])\.m\b\.?", r"\1m", fold(text, apart=",")).strip(_STRIP)


def _quote(text: str) -> str:
    """Echo what was typed, but never a wall of text back into the chat."""
    shown = " ".join(text.split())
    if len(shown) > 40:
        shown = shown[:37] + "…"
    return f'"{shown}"'


def _not_understood(text: str, s: str, what: str, examples: str) -> DateParseError:
    """The catch-all refusal: echo what was typed and show forms that work."""
    if not s:
        return _refused("not_caught", what=what, examples=examples)
    return _refused("not_understood", typed=_quote(text), what=what, examples=examples)


def _refused(reason: str, **facts: Any) -> DateParseError:
    return DateParseError(render("dates/refused.txt.j2", reason=reason, **facts))


def _too_far() -> DateParseError:
    return _refused("too_far")


def _shift(day: date, delta: relativedelta) -> date:
    """relativedelta raises plain ValueError/OverflowError off the end of the calendar."""
    try:
        return day + delta
    except (OverflowError, ValueError) as error:
        raise _too_far() from error


def _count(word: str) -> int:
    return _NUMBER_WORDS.get(word) or int(word)


def _day_month(day: int, month: int, year: int | None = None) -> str:
    text = f"{day} {_MONTH_NAMES[month - 1]}"
    return text if year is None else f"{text} {year}"


# --- dates -------------------------------------------------------------------------------------


def _relative_day(s: str, today: date) -> date | None:
    if s in _FIXED_DAYS:
        return _shift(today, relativedelta(days=_FIXED_DAYS[s]))
    match = _RELATIVE_DAYS.match(s)
    if match is None or bool(match["in"]) == bool(match["ago"]):
        return None  # "3 days" alone, or "in 3 days ago": not a direction we can trust
    amount = _count(match["count"]) * (1 if match["in"] else -1)
    return _shift(today, _DATE_UNITS[match["unit"]] * amount)


def _named_weekday(s: str, today: date, prefer_past: bool) -> date | None:
    match = _WEEKDAY.match(s)
    if match is None or (index := _NAMES.weekday(match["name"])) is None:
        return None
    weekday = _RELATIVE_WEEKDAYS[index]
    which = match["which"]
    if which == "last":  # strictly before today: on a Friday, "last Friday" is a week ago
        return _shift(today, relativedelta(days=-1, weekday=weekday(-1)))
    if which == "next":  # strictly after today
        return _shift(today, relativedelta(days=+1, weekday=weekday(+1)))
    # Bare, "on" or "this": the nearest one in the direction the caller expects.
    return _shift(today, relativedelta(weekday=weekday(-1 if prefer_past else +1)))


def _month_number(word: str) -> int | None:
    return _NAMES.month(word)


def _full_year(digits: str) -> int:
    """Two-digit years are this century: staff typing "3/9/26" never mean 1926."""
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def _resolve(
    day: int,
    month: int,
    year: int | None,
    *,
    today: date,
    prefer_past: bool,
    numeric: bool = False,
) -> date:
    """Turn typed parts into a date, explaining precisely which part is impossible."""
    if not 1 <= month <= 12:
        swapped = numeric and 1 <= day <= 12 and 1 <= month <= 31
        raise _refused("no_month", month=month, day=day,
                       swapped=_day_month(month, day) if swapped else None)
    name = _MONTH_NAMES[month - 1]
    if day < 1:
        raise _refused("no_day", day=day, month=name)
    if year is not None:
        if year < 1:
            raise _refused("no_year", year=year)
        length = calendar.monthrange(year, month)[1]
        if day > length:
            raise _refused("short_month", written=_day_month(day, month, year), month=name,
                           year=year, length=length)
        return date(year, month, day)
    if month == 2 and day > 29:
        raise _refused("february", written=_day_month(day, month))
    length = calendar.monthrange(2000, month)[1]  # 2000 was a leap year; February is above
    if day > length:
        raise _refused("short_month", written=_day_month(day, month), month=name, year=None,
                       length=length)
    # No year typed: the latest one not after today, or the earliest not before it. Leap days
    # recur within eight years, so nine candidate years always hold one.
    step = -1 if prefer_past else 1
    for offset in range(9):
        try:
            candidate = date(today.year + step * offset, month, day)
        except ValueError:  # 29 February outside a leap year, or off the end of the calendar
            continue
        if (candidate <= today) if prefer_past else (candidate >= today):
            return candidate
    raise _too_far()


def _absolute_date(s: str, today: date, prefer_past: bool) -> date | None:
    s = s.removeprefix("on ")
    named: int | None = None
    first, _, rest = s.partition(" ")
    if rest and (named := _NAMES.weekday(first)) is not None:
        s = rest
    s = s.removeprefix("the ")
    resolve = partial(_resolve, today=today, prefer_past=prefer_past)

    if match := _ISO.match(s):
        result = resolve(int(match["day"]), int(match["month"]), int(match["year"]))
    elif match := _NUMERIC.match(s):
        year = _full_year(match["year"]) if match["year"] else None
        result = resolve(int(match["day"]), int(match["month"]), year, numeric=True)
    elif (match := _DAY_MONTH.match(s) or _MONTH_DAY.match(s)) and (
        month := _month_number(match["month"])
    ):
        year = _full_year(match["year"]) if match["year"] else None
        result = resolve(int(match["day"]), month, year)
    elif (match := _MONTH_ONLY.match(s)) and (month := _month_number(match["month"])):
        raise _refused("which_day_in", month=_MONTH_NAMES[month - 1], year=match["year"],
                       written=_day_month(3, month, int(match["year"]) if match["year"] else None))
    elif (match := _DAY_ONLY.match(s)) and 1 <= (day := int(match["day"])) <= 31:
        raise _refused("which_month", day=day)
    else:
        return None

    if named is not None and result.weekday() != named:
        raise _refused("weekday", written=_day_month(result.day, result.month, result.year),
                       weekday=_WEEKDAY_NAMES[result.weekday()], named=_WEEKDAY_NAMES[named])
    return result


def _date_from(s: str, today: date, prefer_past: bool) -> date | None:
    """Every accepted date form, in order; None when none of them fits."""
    return (
        _relative_day(s, today)
        or _named_weekday(s, today, prefer_past)
        or _absolute_date(s, today, prefer_past)
    )


def _vague_period(s: str) -> DateParseError | None:
    match = _VAGUE_PERIOD.search(s)
    if match is None:
        return None
    return _refused("vague_period", which=match["which"], period=match["period"])


def parse_date(text: str, *, today: date, prefer_past: bool = True) -> date:
    """Read a date typed by school staff, day first, relative to ``today``.

    With no year typed, ``prefer_past`` picks the latest such date on or before today (a teacher
    typing "25 Dec" on 5 January means last Christmas); otherwise the first on or after today.
    Future dates are returned like any other: whether they make sense is for the caller to say.
    """
    s = _normalise(text)
    try:
        result = _date_from(s, today, prefer_past) if s else None
    except OverflowError as error:
        raise _too_far() from error
    if result is not None:
        return result
    if vague := _vague_period(s):
        raise vague
    if _LOOKS_LIKE_TIME.search(s):
        raise _refused("date_only")
    raise _not_understood(text, s, "a date", "date")


_FULL_YEAR = _compile(r"(?:^|[ /.-])\d{4}$|^\d{4}[-/.]")
# A file's dates are records (births, forms, terms): outside these years one is a typo.
WRITTEN_YEARS = range(1900, 2101)


def parse_written_date(text: str) -> date:
    """Read a date written in a file (an MIS export, a register, term dates), day first.

    Stricter than ``parse_date``: a file has no "today" to read "yesterday" or a year-less "3/9"
    against, and no one to ask which year "3/9/98" meant, so only a whole date with the year in
    full is taken. Each refusal says why ("There is no month 13. I read dates day first...").
    """
    s = _normalise(text)
    if not s:
        raise _refused("empty")
    result = _absolute_date(s, date(2000, 1, 1), prefer_past=True)
    if result is None:
        raise _refused("not_a_date", typed=_quote(text))
    if not _FULL_YEAR.search(s):
        raise _refused("no_full_year", typed=_quote(text))
    if result.year not in WRITTEN_YEARS:
        raise _refused("implausible", typed=_quote(text), first_year=WRITTEN_YEARS.start,
                       last_year=WRITTEN_YEARS.stop - 1)
    return result


def parse_iso_date(text: str) -> date:
    """A date a command line is given: ISO only (2026-09-03), since a script is never asked
    which day “3/9” meant. Raises ValueError."""
    return date.fromisoformat(text.strip())


def parse_iso_moment(text: str) -> datetime:
    """A moment a command line is given: ISO only (2026-10-23T17:00, an offset optional).
    Raises ValueError."""
    return datetime.fromisoformat(text.strip())


# --- times -------------------------------------------------------------------------------------


def _clock(match: re.Match[str]) -> time:
    """The time of day named by a _CLOCK match, refusing hours and minutes that cannot be."""
    if match["word"]:
        return time(0) if match["word"] == "midnight" else time(12)
    if match["ampm"]:
        hour, minute, ampm = int(match["h12"]), int(match["m12"] or 0), match["ampm"]
        typed = f"{match['h12']}{':' + match['m12'] if match['m12'] else ''}{ampm}"
        if hour == 0:
            raise _refused("ampm_zero", typed=typed)
        if hour > 12:
            raise _refused("ampm_hour", typed=typed, hour=hour, minute=minute, ampm=ampm)
        if minute > 59:
            raise _refused("minutes", typed=typed)
        return time(hour % 12 + (12 if ampm == "pm" else 0), minute)
    hour, minute = int(match["h24"]), int(match["m24"])
    typed = f"{match['h24']}{match['sep']}{match['m24']}"
    if hour > 23:
        raise _refused("hours", typed=typed, midnight=hour == 24 and minute == 0)
    if minute > 59:
        raise _refused("minutes", typed=typed)
    return time(hour, minute)


def parse_time(text: str) -> time:
    """A time of day typed on its own (“08:30”, “8.30am”, “noon”): a school's working hours."""
    s = _normalise(text)
    match = _CLOCK_ONLY.match(s)
    if match is None:
        raise _refused("not_a_time", typed=_quote(text))
    return _clock(match)


def _split_time(s: str) -> tuple[str, re.Match[str]] | None:
    """Separate "yesterday at 3pm" or "3pm yesterday" into its date text and its time match.

    "14.05" on its own could be 14 May or five past two, so it is refused rather than guessed;
    after a date or "at" it can only be a time.
    """
    for pattern in (_TIME_LAST, _TIME_FIRST):
        if match := pattern.match(s):
            date_text = match["date"] or ""
            at = bool(match.groupdict().get("at"))
            if date_text in ("at", "@"):  # the lazy date group swallowed "at" in "at 10am"
                date_text, at = "", True
            if match["sep"] == "." and not date_text and not at:
                raise _refused("date_or_time", typed=match["h24"], hour=int(match["h24"]),
                               minute=match["m24"])
            return date_text, match
    return None


def _bare_hour(hour: int) -> DateParseError:
    """ "at 3" leaves am or pm to guess, and a guessed time could misdate a breach report."""
    return _refused("bare_hour", hour=hour)


def _combine(day: date, clock: time, now: datetime) -> datetime:
    """Attach the wall time to the day in now's zone, refusing a time the clocks skipped."""
    moment = datetime.combine(day, clock, tzinfo=now.tzinfo)
    actual = moment.astimezone(UTC).astimezone(now.tzinfo)
    if actual.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise _refused("skipped_time", typed=f"{clock:%H:%M}", day=day,
                       actual=f"{actual:%H:%M}")
    return moment


def _relative_moment(s: str, now: datetime) -> datetime | None:
    """Count "2 hours ago" as elapsed time, in UTC, so it stays right across a clock change."""
    if s in ("now", "just now", "right now"):
        return now
    match = _RELATIVE_TIME.match(s)
    if match is None or bool(match["in"]) == bool(match["ago"]):
        return None
    minutes = 30 if match["half"] else _count(match["count"]) * _TIME_UNITS[match["unit"]]
    delta = timedelta(minutes=minutes if match["in"] else -minutes)
    return (now.astimezone(UTC) + delta).astimezone(now.tzinfo)


def _datetime_from(s: str, now: datetime, prefer_past: bool) -> datetime | None:
    if (moment := _relative_moment(s, now)) is not None:
        return moment
    if bare := _BARE_HOUR.search(s):
        raise _bare_hour(int(bare["hour"]))
    today = now.date()
    split = _split_time(s)
    if split is None:
        day = _date_from(s, today, prefer_past)
        return None if day is None else _combine(day, time(0), now)
    date_text, match = split
    clock = _clock(match)
    day = _date_from(date_text, today, prefer_past) if date_text else today
    return None if day is None else _combine(day, clock, now)


def parse_datetime(text: str, *, now: datetime, prefer_past: bool = True) -> datetime:
    """Read a date and time typed by school staff, in the zone of ``now``.

    A date with no time is that day at 00:00: when the time matters the caller asks for it.
    A time with no date is today, even if later than now. Relative times ("2 hours ago") are
    elapsed time. A wall time the clocks skipped is refused; one they repeated (autumn) is the
    first of the two.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_datetime needs a timezone-aware now")
    s = _normalise(text)
    try:
        result = _datetime_from(s, now, prefer_past) if s else None
    except OverflowError as error:
        raise _too_far() from error
    if result is not None:
        return result
    if vague := _vague_period(s):
        raise vague
    if _VAGUE_TIME.search(s):
        raise _refused("vague_time")
    raise _not_understood(text, s, "a date and time", "datetime")
