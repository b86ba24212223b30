"""Legal deadlines as pure functions: SAR one month (with pauses and extension), working days
in each UK region, and the 15-school-day educational record deadline.

No database and no clock: every function takes dates and returns dates with the working
written out, so the same answer can be shown to a DPO, stored, and re-checked later.
"""

from workflows.deadlines.calendar import (
    REGIONS,
    Region,
    UnknownRegion,
    bank_holiday_name,
    describe,
    is_working_day,
    next_working_day,
)
from workflows.deadlines.sar import Deadline, DeadlineError, Pause, sar_deadline
from workflows.deadlines.school_days import (
    CalendarError,
    Closure,
    Term,
    TermCalendar,
    edu_record_deadline,
)

__all__ = [
    "REGIONS",
    "CalendarError",
    "Closure",
    "Deadline",
    "DeadlineError",
    "Pause",
    "Region",
    "Term",
    "TermCalendar",
    "UnknownRegion",
    "bank_holiday_name",
    "describe",
    "edu_record_deadline",
    "is_working_day",
    "next_working_day",
    "sar_deadline",
]
