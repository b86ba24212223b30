"""The school and its settings: created by `dpo-bot setup`, read by every workflow."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer
from sqlmodel import Session, col, select

from workflows.core.dates import parse_time
from workflows.core.wording import render
from workflows.database import one_of, saved_id
from workflows.deadlines import TermCalendar, is_working_day
from workflows.schools.models import School

DEFAULT_SLUG = "default"


def get_default(session: Session) -> School:
    """The school a single-school deployment uses; created with defaults on first use."""
    school = session.exec(select(School).order_by(col(School.id)).limit(1)).first()
    if school is None:
        school = School(slug=DEFAULT_SLUG, name="Our School")
        session.add(school)
        session.flush()
    return school


def by_slug(session: Session, slug: str) -> School | None:
    return session.exec(select(School).where(School.slug == slug)).first()


def chosen(session: Session, slug: str | None) -> School | None:
    """The school a command or a process serves: the one named, or the first."""
    return by_slug(session, slug) if slug else get_default(session)


def served(session: Session, slug: str | None) -> tuple[int, ...]:
    """The schools a Slack app or Teams bot serves: the one named, or every school here."""
    if slug:
        school = by_slug(session, slug)
        if school is None:
            raise ValueError(f"No school called “{slug}”.")
        return (saved_id(school),)
    ids = tuple(saved_id(s) for s in session.exec(select(School).order_by(col(School.id))))
    return ids or (saved_id(get_default(session)),)


def among(session: Session, column: Any, served: Sequence[int]) -> ColumnElement[bool]:
    """``column`` is one of the ``served`` schools: a hosted bot serves tens of thousands,
    and each delivery pass names them (``database.one_of``)."""
    return one_of(session, column, served, Integer())


SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")


class SchoolRefused(ValueError):
    """A school that cannot be added; the message says why."""


def add(session: Session, slug: str, name: str, email_domains: Sequence[str] = ()) -> School:
    """Another school in this deployment (a trust's, a local authority's), with defaults.

    Its people, settings, term dates and every record are its own; ``--school SLUG`` on each
    command picks it. Its staff email domains place newcomers when one Slack workspace or
    Teams tenant serves several schools.
    """
    if not SLUG.fullmatch(slug):
        raise SchoolRefused(render("schools/refused.txt.j2", reason="slug", slug=slug))
    if by_slug(session, slug) is not None:
        raise SchoolRefused(render("schools/refused.txt.j2", reason="taken", slug=slug))
    school = School(slug=slug, name=" ".join(name.split()) or slug)
    set_email_domains(school, email_domains)
    session.add(school)
    session.flush()
    return school


def set_email_domains(school: School, email_domains: Sequence[str]) -> None:
    """Where newcomers belong (see ``membership.place``); none clears them."""
    domains = [d.strip().lower().lstrip("@") for d in email_domains if d.strip()]
    for domain in domains:
        if not DOMAIN.fullmatch(domain):
            raise SchoolRefused(render("schools/refused.txt.j2", reason="domain",
                                       domain=domain))
    school.email_domains = ",".join(dict.fromkeys(domains)) or None


def term_calendar(school: School) -> TermCalendar | None:
    if not school.term_calendar_csv:
        return None
    return TermCalendar.from_csv(school.term_calendar_csv)


def school_days_after(school: School, start: date, days: int) -> date:
    """The ``days``-th school day after ``start``: term dates if the school has them, else
    its working days (a school target, not a legal deadline: no calendar is required)."""
    calendar = term_calendar(school)
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if calendar is not None and calendar.covers(day):
            if calendar.is_school_day(day, school.region):
                counted += 1
        elif is_work_day(school, day):
            counted += 1
    return day


def is_work_day(school: School, day: date) -> bool:
    """A day staff read messages: one of the school's working weekdays, not a bank holiday."""
    return day.weekday() in school.weekday_set and is_working_day(day, school.region)


def work_window_start(school: School, day: date) -> datetime:
    """The moment messages may start on ``day``, as an aware datetime in UTC-comparable form."""
    return datetime.combine(day, school.work_start, tzinfo=ZoneInfo(school.timezone))


def next_work_moment(school: School, moment: datetime) -> datetime:
    """``moment`` itself if it is inside working hours, else the next start of working hours."""
    local = moment.astimezone(ZoneInfo(school.timezone))
    day = local.date()
    if is_work_day(school, day) and school.work_start <= local.time() < school.work_end:
        return moment
    if is_work_day(school, day) and local.time() < school.work_start:
        return work_window_start(school, day)
    day += timedelta(days=1)
    while not is_work_day(school, day):
        day += timedelta(days=1)
    return work_window_start(school, day)


def next_urgent_moment(school: School, moment: datetime) -> datetime:
    """For nudges that may go at any hour: ``moment``, unless the school set quiet hours."""
    if school.urgent_start is None or school.urgent_end is None:
        return moment
    local = moment.astimezone(ZoneInfo(school.timezone))
    if school.urgent_start <= local.time() < school.urgent_end:
        return moment
    day = local.date() if local.time() < school.urgent_start else local.date() + timedelta(days=1)
    return datetime.combine(day, school.urgent_start, tzinfo=ZoneInfo(school.timezone))


def previous_work_day(school: School, day: date) -> date:
    while not is_work_day(school, day):
        day -= timedelta(days=1)
    return day


def next_work_day(school: School, day: date) -> date:
    while not is_work_day(school, day):
        day += timedelta(days=1)
    return day


def parse_hours(text: str) -> tuple[time, time]:
    """'08:00-18:00', '8am-6pm', '8.30am to 5pm' -> (start, end); ValueError says how."""
    try:
        start_text, end_text = re.split(r"\s*(?:-|–|—|\bto\b)\s*", text.strip(),
                                        flags=re.IGNORECASE)
        start, end = parse_time(start_text), parse_time(end_text)
    except ValueError:
        raise ValueError("Give working hours like 08:00-18:00 or 8am-6pm.") from None
    if end <= start:
        raise ValueError("Working hours must end after they start.")
    return start, end
