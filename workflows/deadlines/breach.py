"""The 72-hour ICO clock for a personal data breach (UK GDPR Art 33; DOMAIN.md 3).

Counted in real hours from the moment the school became aware, in UTC, so a breach found on
the Friday before the clocks change still has 72 real hours: the wall clock at the deadline
then reads an hour different from the wall clock at the start, and the working says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflows.core.wording import render

HOURS = 72


@dataclass(frozen=True)
class BreachDeadline:
    """When the ICO must be told, with the working in plain English."""

    aware_at: datetime  # aware, UTC
    due: datetime  # aware, UTC
    local_aware_at: datetime  # in the school's time zone
    local_due: datetime
    explanation: tuple[str, ...]
    clock_change: datetime | None = None  # the moment (UTC) the clocks changed, if inside
    rule: str = "72 hours from awareness (UK GDPR Art 33)"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: "due" in school time with its UTC offset; "due_utc" beside it."""
        return {
            "due": self.local_due.isoformat(),
            "due_utc": self.due.isoformat(),
            "aware_at": self.local_aware_at.isoformat(),
            "aware_at_utc": self.aware_at.isoformat(),
            "hours": HOURS,
            "rule": self.rule,
            "clock_change": self.clock_change.isoformat() if self.clock_change else None,
            "explanation": list(self.explanation),
        }


def _zone(moment: datetime) -> str:
    name = moment.tzname() or ""
    offset = moment.utcoffset() or timedelta(0)
    hours = int(offset.total_seconds() // 3600)
    return f"{name}, UTC{'+' if hours >= 0 else '-'}{abs(hours)}" if hours else f"{name}, UTC"


def breach_deadline(aware_at: datetime, tz: ZoneInfo) -> BreachDeadline:
    """``aware_at`` must be aware; a naive one is ambiguous, so it is refused."""
    if aware_at.tzinfo is None or aware_at.utcoffset() is None:
        raise ValueError("breach_deadline needs an aware datetime (with its time zone)")
    start = aware_at.astimezone(UTC)
    due = start + timedelta(hours=HOURS)  # arithmetic in UTC: real hours, never wall hours
    local_start, local_due = start.astimezone(tz), due.astimezone(tz)
    change = _clock_change(start, due, tz)
    lines = [
        _say("aware", at=local_start, zone=_zone(local_start)),
        _say("rule"),
        _say("due", at=local_due, zone=_zone(local_due)),
    ]
    if change is not None:
        forward = (local_due.utcoffset() or timedelta(0)) > (
            local_start.utcoffset() or timedelta(0))
        lines.append(_say("clock_change", forward=forward, change=change.astimezone(tz),
                          start=local_start, due=local_due))
    return BreachDeadline(aware_at=start, due=due, local_aware_at=local_start,
                          local_due=local_due, explanation=tuple(lines), clock_change=change)


def _clock_change(start: datetime, end: datetime, tz: ZoneInfo) -> datetime | None:
    """The first moment in (start, end] at which the school's UTC offset changes."""
    offset = start.astimezone(tz).utcoffset()
    moment = start
    while moment < end:  # hour by hour: UK changes happen on the hour
        moment += timedelta(hours=1)
        if moment.astimezone(tz).utcoffset() != offset:
            return moment
    return None


def _say(line: str, **facts: Any) -> str:
    return render("deadlines/breach.txt.j2", line=line, **facts)
