"""Who may have the governors' report, what it covers, and the audit line it leaves.

The command line and the chat's ``report`` both come here, so the rule is one: the DPO,
deputies, the head and governors (``Permission.REPORT``), or the shell user who runs the
installation. Each school the report covers gets an audit line (who, which period), as any
read of its cases does, though the report itself holds counts and references only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from workflows.audit import service as audit
from workflows.core.context import Context
from workflows.core.declaration import Route
from workflows.core.ui import Reply, Text
from workflows.core.wording import render
from workflows.deadlines.school_days import TermCalendar
from workflows.people.permissions import Permission, PermissionDenied, can
from workflows.reports.period import SEASONS, Period, PeriodError, between, parse_term, term

if TYPE_CHECKING:
    # The report's figures read the registry, which lists this module's route; and drawing
    # loads matplotlib: both wait until a report is asked for.
    from workflows.reports.render import Report


@dataclass(frozen=True)
class Asked:
    """A term (``season``, ``year``) or two dates; ``words`` as the report names it."""

    season: str | None = None
    year: int | None = None
    start: date | None = None
    end: date | None = None

    @property
    def words(self) -> str:
        if self.season:
            return f"{self.season.title()} term {self.year}"
        return render("reports/label.txt.j2", key="dates", start=self.start, end=self.end)


def asked_term(text: str) -> Asked:
    season, year = parse_term(text)
    return Asked(season=season, year=year)


def asked_dates(start: date, end: date) -> Asked:
    between(start, end)
    return Asked(start=start, end=end)


def current_term(ctx: Context) -> Asked:
    """The term today falls in (by the school's calendar, else the usual months); in a
    holiday, the term just ended."""
    today = ctx.today
    calendar = (TermCalendar.from_csv(ctx.school.term_calendar_csv)
                if ctx.school.term_calendar_csv else None)
    candidates: list[Period] = [term(season, year, calendar) for year in (today.year - 1,
                                                                          today.year)
                                for season in SEASONS]
    started = [p for p in candidates if p.start <= today]
    chosen = max(started, key=lambda p: p.start)
    return Asked(season=chosen.season, year=chosen.year)


def may_have(ctx: Context) -> bool:
    # The shell user (no saved record) runs the installation and can read the database.
    return ctx.person.id is None or can(ctx.person, Permission.REPORT)


def make(contexts: list[Context], asked: Asked, out: Path) -> Report:
    """The report for each context's school, written to ``out`` (.html or .pdf), audited."""
    from workflows.reports import render as report_render

    for ctx in contexts:
        if not may_have(ctx):
            raise PermissionDenied(render("reports/lines.txt.j2", line="refused"))
    first = contexts[0]
    made = report_render.build(first.session, [c.school for c in contexts], season=asked.season,
                               year=asked.year, start=asked.start, end=asked.end,
                               today=first.today, asked=asked.words)
    if out.suffix.lower() == ".pdf":
        out.write_bytes(report_render.pdf(made))
    else:
        out.write_text(report_render.html(made), encoding="utf-8")
    for ctx in contexts:
        audit.record(ctx, "report.governors", "report", None, None, period=asked.words,
                     schools=len(contexts), file=out.suffix.lower().lstrip("."))
    return made


def chat_report(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    """``report`` (this term) or ``report autumn-2026``: in the terminal, the PDF is written
    to the folder the chat runs in. Slack and Teams cannot take a file from here yet."""
    if not may_have(ctx):
        return [Text(render("reports/lines.txt.j2", line="refused"), "warning")]
    try:
        asked = asked_term(match["term"]) if match["term"] else current_term(ctx)
    except PeriodError as error:
        return [Text(str(error), "warning")]
    if ctx.adapter != "terminal":
        return [Text(render("reports/lines.txt.j2", line="elsewhere", period=asked.words),
                     "info")]
    out = Path.cwd() / f"governors-report-{asked.season}-{asked.year}.pdf"
    made = make([ctx], asked, out)
    return [Text(render("reports/lines.txt.j2", line="written", period=asked.words,
                        path=str(out), pages=len(made.sections)), "success")]


ROUTES = (
    Route.of(r"^(?:governors'? )?report(?: for)?(?: (?P<term>(?:spring|summer|autumn)"
             r"[\s_-]*\d{4}))?[.!?]?$", chat_report,
             example="report autumn-2026", words=("governors", "termly")),
)
