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
from workflows.core.ui import File, Reply, Text
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


def made(contexts: list[Context], asked: Asked, kind: str) -> tuple[Report, bytes]:
    """The report for each context's school as ``kind`` ("html" or "pdf"), audited."""
    from workflows.reports import render as report_render

    for ctx in contexts:
        if not may_have(ctx):
            raise PermissionDenied(render("reports/lines.txt.j2", line="refused"))
    first = contexts[0]
    report = report_render.build(first.session, [c.school for c in contexts],
                                 season=asked.season, year=asked.year, start=asked.start,
                                 end=asked.end, today=first.today, asked=asked.words)
    content = (report_render.pdf(report) if kind == "pdf"
               else report_render.html(report).encode("utf-8"))
    for ctx in contexts:
        audit.record(ctx, "report.governors", "report", None, None, period=asked.words,
                     schools=len(contexts), file=kind)
    return report, content


def make(contexts: list[Context], asked: Asked, out: Path) -> Report:
    """The report for each context's school, written to ``out`` (.html or .pdf), audited."""
    report, content = made(contexts, asked, "pdf" if out.suffix.lower() == ".pdf" else "html")
    out.write_bytes(content)
    return report


def pdf_file(ctx: Context, asked: tuple[str, ...]) -> bytes:
    """The PDF a chat's ``report`` sends as a file (``File.asked``: the season and the year),
    made when it is sent: checked and audited then, whoever asked first."""
    season, year = asked
    return made([ctx], asked_term(f"{season}-{year}"), "pdf")[1]


def chat_report(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    """``report`` (this term) or ``report autumn-2026``: in the terminal, the PDF is written
    to the folder the chat runs in, which is the person's own; elsewhere it is a file the
    platform sends to the person alone, made as it is sent."""
    if not may_have(ctx):
        return [Text(render("reports/lines.txt.j2", line="refused"), "warning")]
    try:
        asked = asked_term(match["term"]) if match["term"] else current_term(ctx)
    except PeriodError as error:
        return [Text(str(error), "warning")]
    name = f"governors-report-{asked.season}-{asked.year}.pdf"
    if ctx.adapter != "terminal":
        return [File("report", (str(asked.season), str(asked.year)),
                     render("reports/lines.txt.j2", line="title", period=asked.words), name,
                     said=render("reports/lines.txt.j2", line="sending", period=asked.words),
                     elsewhere=render("reports/lines.txt.j2", line="elsewhere",
                                      period=asked.words))]
    out = Path.cwd() / name
    report = make([ctx], asked, out)
    return [Text(render("reports/lines.txt.j2", line="written", period=asked.words,
                        path=str(out), pages=len(report.sections)), "success")]


ROUTES = (
    Route.of(r"^(?:governors'? )?report(?: for)?(?: (?P<term>(?:spring|summer|autumn)"
             r"[\s_-]*\d{4}))?[.!?]?$", chat_report,
             example="report autumn-2026", words=("governors", "termly")),
)
