"""Working days and bank holidays for the four UK regions.

Every legal deadline the bot computes ends with "moved to the next working day", and which days
are bank holidays depends on the school's region (Scotland has 2 January and an early August
holiday; Northern Ireland has St Patrick's Day). Bank holidays come from the ``holidays``
package, always with ``subdiv``: ``country_holidays("GB")`` on its own silently drops Easter
Monday and the August bank holiday, which would put real deadlines on days the office is shut.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

import holidays

REGIONS = ("ENG", "WLS", "SCT", "NIR")
Region = Literal["ENG", "WLS", "SCT", "NIR"]

REGION_NAMES = {
    "ENG": "England",
    "WLS": "Wales",
    "SCT": "Scotland",
    "NIR": "Northern Ireland",
}

# Spelled out rather than taken from strftime so the words never depend on the server's locale.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# The holidays object fills in a year the first time a date in it is looked up; that mutates
# shared state, so lookups are serialised to stay safe under a threaded chat server.
_LOCK = threading.Lock()


class UnknownRegion(ValueError):
    """A region code the bot does not know; the message lists the ones it does."""

    def __init__(self, region: object) -> None:
        super().__init__(
            f"Unknown region {region!r}: use one of {', '.join(REGIONS)} "
            "(England, Wales, Scotland, Northern Ireland)."
        )
        self.region = region


def require_date(value: object, what: str = "date") -> date:
    """Refuse datetimes: turning a UTC timestamp into a day is the caller's (timezone) job.

    A ``datetime`` is a ``date`` to Python, so without this check a stored UTC timestamp just
    after midnight in summer would silently count as the previous day.
    """
    if isinstance(value, datetime):
        raise TypeError(
            f"The {what} must be a date, not a datetime: convert the timestamp to the school's "
            "local (Europe/London) date first."
        )
    if not isinstance(value, date):
        raise TypeError(f"The {what} must be a date, not {type(value).__name__}.")
    return value


def normalise_region(region: str) -> Region:
    """The canonical region code; lower case, stray spaces and the country's name ("england")
    are forgiven."""
    code = region.strip().upper() if isinstance(region, str) else region
    code = {name.upper(): key for key, name in REGION_NAMES.items()}.get(code, code)
    if code not in REGIONS:
        raise UnknownRegion(region)
    return code  # type: ignore[return-value]


@lru_cache(maxsize=len(REGIONS))
def _holidays_for(region: str) -> holidays.HolidayBase:
    # No ``years=``: the object expands lazily to whatever year is looked up, so deadlines in
    # any year (including ones computed years later for the audit trail) get real holidays.
    return holidays.country_holidays("GB", subdiv=region)


def bank_holiday_name(day: date, region: str) -> str | None:
    """The bank holiday on ``day`` in ``region`` (e.g. "Easter Monday"), or None."""
    day = require_date(day)
    table = _holidays_for(normalise_region(region))
    with _LOCK:
        if day not in table:
            return None
        return table.get(day)


def is_working_day(day: date, region: str) -> bool:
    """Monday to Friday and not a bank holiday in ``region``."""
    day = require_date(day)
    return day.weekday() < 5 and bank_holiday_name(day, region) is None


def next_working_day(day: date, region: str) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    day = require_date(day)
    while not is_working_day(day, region):
        day += timedelta(days=1)
    return day


def describe(day: date) -> str:
    """A date as a letter to a parent would write it: "Friday 27 December 2024"."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def describe_short(day: date) -> str:
    """A date without the weekday ("1 February 2025"), for sentences that name the weekday."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def month_name(month: int) -> str:
    """The English name of a month (1-12), locale-independent."""
    return _MONTHS[month - 1]


def why_not_working(day: date, region: str) -> str:
    """Why ``day`` is not a working day, as the end of a sentence starting with the date.

    Bank holidays are named first because "is Christmas Day" says more than "is a Saturday".
    """
    name = bank_holiday_name(day, region)
    if name is not None:
        observed = " (observed)"
        if name.endswith(observed):
            return f"the substitute bank holiday for {name[: -len(observed)]}"
        return name
    if day.weekday() >= 5:
        return f"a {_WEEKDAYS[day.weekday()]}"
    return "a working day"
