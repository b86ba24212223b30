"""The governors' report as HTML (charts as inline SVG) and as PDF (the same charts as PNG).

Both come from one template, ``reports/governors.html.j2``, so the wording is written once:
the browser's page has CSS and SVG; the PDF's flavour is the plain HTML fpdf2 lays out
itself (pure Python, fonts embedded: nothing to install beyond pip). Every school's
section and the trust's whole are built the same way; the report holds references and
counts, never a name, and the reading is audited at each school it covers.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from workflows.core.wording import render
from workflows.deadlines.school_days import TermCalendar
from workflows.reports import figures
from workflows.reports.charts import Chart, breakdown, compare
from workflows.reports.period import Period, previous, term
from workflows.schools.models import School


def label(key: str, **facts: Any) -> str:
    """A short label (a measure, a kind of breach), worded in ``reports/label.txt.j2``."""
    return render("reports/label.txt.j2", key=key, **facts)


@dataclass
class Section:
    """One school, or the trust's whole: this period, the one before, charts, open items."""

    name: str
    now: figures.Figures
    before: figures.Figures
    period: Period
    previous: Period
    items: list[figures.OpenItem] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    whole: bool = False


@dataclass
class Report:
    title: str
    sections: list[Section]
    made: date
    # Schools whose term or last term came from the usual months: no calendar covers it.
    usual_months: list[str]
    asked: str  # the term or the dates asked for, as typed
    terms: bool = True  # a term against the term before, or dates against the days before

    @property
    def summary(self) -> Section:
        return self.sections[0]


def build(session: Session, schools: list[School], *, season: str | None = None,
          year: int | None = None, start: date | None = None, end: date | None = None,
          today: date, asked: str) -> Report:
    """The report's figures and charts for ``schools`` (the whole first when several)."""
    sections: list[Section] = []
    usual: list[str] = []
    for school in schools:
        calendar = (TermCalendar.from_csv(school.term_calendar_csv)
                    if school.term_calendar_csv else None)
        if season is not None and year is not None:
            period = term(season, year, calendar)
        else:
            assert start is not None and end is not None
            period = Period(start, end)
        before = previous(period, calendar)
        if season is not None and not (period.from_calendar and before.from_calendar):
            usual.append(school.name)
        sections.append(Section(school.name, figures.count(session, school, period, today),
                                figures.count(session, school, before, today), period, before,
                                figures.open_items(session, school)))
    if len(sections) > 1:
        whole = Section(label("whole", schools=len(sections)), figures.Figures(),
                        figures.Figures(), _span(s.period for s in sections),
                        _span(s.previous for s in sections), whole=True)
        for section in sections:
            whole.now += section.now
            whole.before += section.before
            whole.items += section.items
        whole.items.sort(key=lambda i: (i.due is None, i.due or date.max, i.reference))
        sections.insert(0, whole)
    terms = season is not None
    for section in sections:
        section.charts = _charts(section, terms)
    return Report(label("title"), sections, today, usual, asked, terms)


def _span(periods: Iterable[Period]) -> Period:
    chosen = list(periods)
    return Period(min(p.start for p in chosen), max(p.end for p in chosen))


def _charts(section: Section, terms: bool) -> list[Chart]:
    now, before = section.now, section.before
    this, last = label("this_period", terms=terms), label("last_period", terms=terms)
    measures = [
        (label("sars_received"), now.rights.received, before.rights.received),
        (label("sars_closed"), now.rights.closed, before.rights.closed),
        (label("breaches"), now.breaches.total, before.breaches.total),
        (label("reported"), now.breaches.reported, before.breaches.reported),
        (label("disclosures"), now.disclosures.received, before.disclosures.received),
        (label("software_requested"), now.software.requested, before.software.requested),
    ]
    charts = [compare(label("trend_title", terms=terms), [m[0] for m in measures],
                      [m[1] for m in measures], [m[2] for m in measures], this, last,
                      label("trend_alt", measures=measures, this=this, last=last))]
    kinds = [(label(f"incident_{kind}"), n) for kind, n in now.breaches.by_kind.items()]
    if kinds:
        charts.append(breakdown(label("kinds_title"), kinds, label("counts_alt", rows=kinds)))
    coverage = list(now.consent.coverage().items())
    if coverage:
        charts.append(breakdown(label("consent_title"), coverage,
                                label("counts_alt", rows=coverage, percent=True), percent=True))
    return charts


def html(report: Report) -> str:
    """The report as one self-contained HTML page (styles and SVG inline)."""
    return render("reports/governors.html.j2", report=report, pdf=False, image=None,
                  labels=label)


def pdf(report: Report) -> bytes:
    """The same report as a PDF: text, tables and the charts as images, fonts embedded."""
    from fpdf import FPDF, FontFace
    from matplotlib import get_data_path

    fonts = Path(get_data_path()) / "fonts" / "ttf"
    document = FPDF(format="A4")
    document.set_margins(15, 15, 15)
    document.set_auto_page_break(True, 15)
    document.set_title(report.title)
    document.set_creator("dpo-bot")
    # DejaVu ships inside matplotlib: a Unicode font embedded in the file, nothing to install.
    document.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    document.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    document.add_font("DejaVu", "I", str(fonts / "DejaVuSans-Oblique.ttf"))
    document.add_font("DejaVu", "BI", str(fonts / "DejaVuSans-BoldOblique.ttf"))
    document.set_font("DejaVu", size=10)
    with tempfile.TemporaryDirectory() as folder:
        images: dict[int, str] = {}
        for section in report.sections:
            for chart in section.charts:
                path = Path(folder) / f"chart{len(images)}.png"
                path.write_bytes(chart.png)
                images[id(chart)] = str(path)
        pages = render("reports/governors.html.j2", report=report, pdf=True,
                       image=lambda chart: images[id(chart)],
                       labels=label).split("<!-- page -->")
        for page in pages:
            if not page.strip():
                continue
            document.add_page()
            document.write_html(page, font_family="DejaVu",
                                table_line_separators=True,
                                tag_styles={"h1": FontFace(size_pt=16, emphasis="B"),
                                            "h2": FontFace(size_pt=13, emphasis="B"),
                                            "h3": FontFace(size_pt=11, emphasis="B")})
    return bytes(document.output())

