"""What a valid school setup is: each answer checked as it is given, then the whole setup
applied in one transaction. `dpo-bot setup` only asks and prints; the rules live here.

Each ``check_*`` raises ValueError with a message a person can act on, so an interface can
ask the same question again instead of refusing at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.consent import service as consent
from workflows.core.context import Context
from workflows.core.imports import CsvFile, ImportRefused
from workflows.core.wording import render
from workflows.deadlines import CalendarError, TermCalendar
from workflows.deadlines.calendar import REGION_NAMES, UnknownRegion, normalise_region
from workflows.people import service as people
from workflows.people.models import Role
from workflows.schools.service import parse_hours, set_email_domains

# Term dates are a few dozen lines: 1 MB is far more than any school's calendar.
TERM_DATES_LIMIT = 1024 * 1024


def read_term_calendar(file: Path) -> TermCalendar:
    """The term-dates file, decoded as every import is; CalendarError says why it can't be."""
    try:
        text = CsvFile(file, limit=TERM_DATES_LIMIT).text()
    except ImportRefused as error:
        raise CalendarError("\n".join(error.reasons)) from None
    return TermCalendar.from_csv(text)


def check_timezone(text: str) -> str:
    try:
        ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Unknown time zone “{text}” (use e.g. Europe/London).") from None
    return text.strip()


def check_hours(text: str) -> tuple[time, time]:
    return parse_hours(text)


def check_region(text: str) -> str:
    """The bank-holiday region's code, from a code in any case or the country's name."""
    try:
        return normalise_region(text)
    except UnknownRegion as error:
        raise ValueError(str(error)) from None


def check_calendar(path: str) -> TermCalendar | None:
    """A term-dates file to import, or None for none given."""
    if not path.strip():
        return None
    try:
        return read_term_calendar(Path(path.strip()))
    except (OSError, CalendarError) as error:
        raise ValueError(f"Term dates not imported: {error}") from None


def check_address(text: str) -> str:
    """The postal address one line per line: typed on one line, commas part it."""
    lines = [line.strip() for line in text.replace("\n", ",").split(",") if line.strip()]
    return "\n".join(lines)


def check_letterhead(path: str) -> str:
    """A letterhead .docx that Word documents can be built on, as an absolute path ("" for none)."""
    if not path.strip():
        return ""
    from workflows.documents.word import LetterheadError, read_letterhead

    found = Path(path.strip()).expanduser().resolve()
    try:
        read_letterhead(found)
    except LetterheadError as error:
        raise ValueError(str(error)) from None
    return str(found)


def names(text: str) -> tuple[str, ...]:
    """A comma-separated list of names as a person types it; blanks dropped."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


@dataclass(frozen=True)
class Setup:
    """A school's answers to setup, each already checked."""

    name: str
    region: str
    timezone: str
    maintained: bool
    hours: tuple[time, time]
    sar_years: int
    consent_months: int
    urgent_hours: tuple[time, time] | None = None
    dpo: str = ""
    dpo_email: str | None = None
    deputies: tuple[str, ...] = ()
    head: str = ""
    calendar: TermCalendar | None = None
    email_domains: tuple[str, ...] | None = None  # None keeps the school's own
    consent_restricted: bool | None = None  # None keeps the school's own
    address: str | None = None  # None keeps the school's own; "" removes it
    letterhead: str | None = None  # None keeps the school's own; "" removes it

    def team(self) -> list[tuple[str, Role, str | None]]:
        """The DPO team as named; a blank answer names no one."""
        named = [(self.dpo, Role.DPO, self.dpo_email or None), (self.head, Role.HEAD, None)]
        named += [(deputy, Role.DEPUTY, None) for deputy in self.deputies]
        return [(name.strip(), role, email) for name, role, email in named if name.strip()]


def apply(ctx: Context, setup: Setup) -> list[str]:
    """Set ``ctx.school`` up as answered; returns what the people service said (a DPO or head
    handed over). Raises SchoolRefused for an email domain that is not one."""
    found = ctx.school
    found.name, found.region, found.timezone = setup.name.strip(), setup.region, setup.timezone
    found.maintained = setup.maintained
    found.work_start, found.work_end = setup.hours
    found.urgent_start, found.urgent_end = setup.urgent_hours or (None, None)
    found.retention = {**found.retention, "sar_closed_years": setup.sar_years}
    if setup.calendar is not None:
        found.term_calendar_csv = setup.calendar.to_csv()
    if setup.email_domains is not None:
        set_email_domains(found, setup.email_domains)
    if setup.address is not None:
        found.address = setup.address or None
    if setup.letterhead is not None:
        found.letterhead = setup.letterhead or None
    found.configured = True
    ctx.session.add(found)
    if consent.validity_months(ctx.session, found) != setup.consent_months:
        consent.set_validity_months(ctx.session, found, setup.consent_months, by_name="setup")
    if setup.consent_restricted is not None:
        consent.set_lookups_restricted(ctx.session, found, setup.consent_restricted)
    said: list[str] = []
    for name, role, email in setup.team():
        # Each through the audited people service: a new DPO or head hands the role over.
        person = people.named(ctx.session, ctx.school_id, name)
        if person is not None and (person.role != role or not person.active):
            said += people.change_role(ctx, name, role)[1]
        said += people.add(ctx, name, role, email)[1]
    return said


def saved(ctx: Context) -> str:
    """What the school's setup now holds, read back from the database, so the person who ran
    setup sees what was saved rather than what they meant to type."""
    found = ctx.school
    team = {role.value: [p.name for p in people.by_role(ctx.session, ctx.school_id, role)]
            for role in (Role.DPO, Role.DEPUTY, Role.HEAD)}
    calendar = TermCalendar.from_csv(found.term_calendar_csv) if found.term_calendar_csv else None
    return render("schools/setup_saved.txt.j2", school=found, team=team,
                  region=REGION_NAMES.get(found.region, found.region),
                  terms=calendar.terms if calendar else (),
                  consent_months=consent.validity_months(ctx.session, found),
                  consent_restricted=consent.lookups_restricted(ctx.session, found))
