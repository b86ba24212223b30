"""How long is left: one answer for a deadline that is a day (a SAR) or a moment (a breach).

Lists, home screens and the digest sort and describe every open case the same way, most
urgent first, whatever kind of clock it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from workflows.core.dates import describe_date, describe_datetime


@dataclass(frozen=True)
class TimeLeft:
    sort_key: datetime  # comparable across kinds: a day's deadline counts as its end
    short_due: str  # "Tue 22 Dec 2026" or "Tue 22 Dec 14:05"
    due: str  # in full
    left: str  # "29 days", "due today", "5 hours", "overdue by 2 days", "met in time"
    urgency: str  # "overdue", "soon", "ok", "met"

    @property
    def running(self) -> bool:
        """Still counting down (or past): not yet met."""
        return self.urgency != "met"


def time_left(due: date | datetime, now: datetime, met_at: datetime | None = None) -> TimeLeft:
    """``now`` is aware and in the school's time zone; a datetime ``due`` is aware.

    ``met_at``: when what the deadline asks for was done. A met deadline reads as met (in
    time, or late), never as overdue: the clock stopped when it was met.
    """
    if met_at is not None:
        late = (met_at > due if isinstance(due, datetime)
                else met_at.astimezone(now.tzinfo).date() > due)  # the school's day
        return replace(time_left(due, now), left="met late" if late else "met in time",
                       urgency="met")
    if isinstance(due, datetime):
        local = due.astimezone(now.tzinfo)
        seconds = (local - now).total_seconds()
        hours = int(abs(seconds) // 3600)
        span = f"{hours} hour{'s' if hours != 1 else ''}" if hours else (
            f"{int(abs(seconds) // 60)} minutes")
        return TimeLeft(
            sort_key=local,
            short_due=f"{local:%a %d %b %H:%M}",
            due=describe_datetime(local),
            left=span if seconds >= 0 else f"overdue by {span}",
            urgency="overdue" if seconds < 0 else "soon" if seconds <= 24 * 3600 else "ok",
        )
    days = (due - now.date()).days
    plural = "" if abs(days) == 1 else "s"
    return TimeLeft(
        sort_key=datetime.combine(due + timedelta(days=1), datetime.min.time(), now.tzinfo),
        short_due=f"{due:%a %d %b %Y}",
        due=describe_date(due),
        left=("due today" if days == 0 else f"{days} day{plural}" if days > 0
              else f"overdue by {-days} day{plural}"),
        urgency="overdue" if days < 0 else "soon" if days <= 7 else "ok",
    )
