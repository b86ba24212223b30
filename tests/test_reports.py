"""The governors' report: figures against a generated term, the HTML opened in Chromium, the
PDF read back, no planted name anywhere, and who may have it. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, select

from tests.conftest import PARENT_SAR, School_, make_school, run_cli
from tests.term_activity import Summary, fill_term
from workflows.audit.models import AuditEvent
from workflows.core.ui import File
from workflows.database import session_scope
from workflows.deadlines.school_days import TermCalendar
from workflows.people.models import Person, Role
from workflows.reports import figures
from workflows.reports.period import Period, parse_term, previous, term
from workflows.schools.models import School

ROOT = Path(__file__).parent.parent
# The README's consent sample: its pupils' names are planted too.
ARBOR = ROOT / "docs" / "consent-samples" / "arbor.csv"
A4_POINTS = (595.3, 841.9)
PRINTABLE_PX = 680  # A4's 210 mm less the report's 15 mm margins, at 96 px to the inch


def _names_in_arbor() -> set[str]:
    rows = ARBOR.read_text(encoding="utf-8").splitlines()[1:]
    return {f"{cells[1]} {cells[2]}" for cells in (row.split(",") for row in rows) if cells[1]}


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


class Trust:
    """Two schools in one database: Hillside after the README's walk-throughs and a term of
    activity; Oakwood with a generated summer and autumn term."""

    def __init__(self, engine: Engine, env: dict[str, str]) -> None:
        self.engine, self.env = engine, env | {"DPO_BOT_DATABASE_URL": _url(engine)}
        self.hillside = make_school(engine)
        self.oakwood = make_school(engine, "Oakwood Primary", "oakwood")
        self.planted: set[str] = {"Jane Parent", "Tom Parent"} | _names_in_arbor()

    def readme(self) -> None:
        """The README's steps at Hillside: term dates, a SAR in the chat, the consent export."""
        done = run_cli("calendar", "import", str(ROOT / "docs" / "term-dates-example.csv"),
                       "--school", "hillside", env=self.env)
        assert done.returncode == 0, done.stderr
        assert "Saved as SAR-2026-0001." in self.hillside.says("sam", *PARENT_SAR, "yes")
        done = run_cli("import", "consents", str(ARBOR), "--school", "hillside", env=self.env)
        assert done.returncode == 0, done.stderr

    def fill(self, school: School_, term_key: str, seed: int) -> Summary:
        with session_scope(self.engine) as session:
            made = fill_term(session, session.get_one(School, school.school_id), term_key, seed)
        self.planted |= made.planted
        return made


@pytest.fixture
def trust(engine: Engine, cli_env: dict[str, str]) -> Trust:
    return Trust(engine, cli_env)


def _figures(engine: Engine, school_id: int, term_key: str) -> tuple[figures.Figures, Period]:
    with Session(engine) as session:
        school = session.get_one(School, school_id)
        calendar = TermCalendar.from_csv(school.term_calendar_csv or "")
        period = term(*parse_term(term_key), calendar)
        return figures.count(session, school, period, date(2026, 12, 5)), period


def _check(found: figures.Figures, made: Summary, *, before: Summary | None = None) -> None:
    """``before``: the term before, whose undecided requests and unreviewed products are
    still waiting at this term's end."""
    rights, breaches = found.rights, found.breaches
    assert (rights.received, rights.closed, rights.on_time, rights.judged, rights.extended,
            rights.educational) == (made.sars_received, made.sars_closed, made.sars_on_time,
                                    made.sars_closed, made.sars_extended, made.educational)
    assert sorted(rights.days) == sorted(made.sar_days)
    assert rights.on_time_percent == round(100 * made.sars_on_time / made.sars_closed)
    assert breaches.total == made.breaches and dict(breaches.by_kind) == made.breach_kinds
    assert (breaches.reported, breaches.not_reportable, breaches.people_told) == (
        made.reported, made.not_reportable, made.people_told)
    assert breaches.undecided == made.breaches - made.reported - made.not_reportable
    assert sum(breaches.by_risk.values()) == made.breaches
    assert (found.disclosures.received, found.disclosures.disclosed, found.disclosures.refused,
            found.disclosures.on_target) == (made.disclosures, made.disclosed, made.refused,
                                             made.disclosures_on_target)
    software = found.software
    assert (software.requested, software.approved, software.rejected, software.waiting,
            software.reviews_overdue) == (
        made.software_requested, made.software_approved, made.software_rejected,
        made.software_waiting + (before.software_waiting if before else 0),
        made.reviews_overdue + (before.reviews_overdue if before else 0))
    assert (found.consent.pupils, found.consent.withdrawals) == (made.pupils, made.withdrawals)


# --- the figures ---------------------------------------------------------------------------

def test_figures_are_the_generated_terms_counts_and_last_term_reads_as_it_stood(
        trust: Trust) -> None:
    summer = trust.fill(trust.oakwood, "summer-2026", seed=7)
    autumn = trust.fill(trust.oakwood, "autumn-2026", seed=8)
    found, period = _figures(trust.engine, trust.oakwood.school_id, "autumn-2026")
    # The generator's own calendar: autumn's two halves joined into one term.
    assert (period.start, period.end, period.from_calendar) == (
        date(2026, 9, 2), date(2026, 12, 18), True)
    _check(found, autumn, before=summer)
    before, _ = _figures(trust.engine, trust.oakwood.school_id, "summer-2026")
    _check(before, summer)
    # Summer's coverage, replayed from the history, is what it was after summer's imports:
    # the social-media "yes" of a third of the pupils, the website less two withdrawals.
    assert before.consent.coverage()["social media"] == round(100 * 4 / 12)
    assert before.consent.coverage()["the school website"] == round(100 * 10 / 12)


def test_a_term_without_a_calendar_takes_the_usual_months() -> None:
    autumn = term("autumn", 2026, None)
    assert (autumn.start, autumn.end, autumn.from_calendar) == (
        date(2026, 9, 1), date(2026, 12, 31), False)
    assert (previous(autumn, None).start, previous(autumn, None).end) == (
        date(2026, 4, 1), date(2026, 8, 31))
    spring = term("spring", 2027, None)
    assert previous(spring, None) == autumn
    assert (spring.start, spring.end) == (date(2027, 1, 1), date(2027, 3, 31))


# --- the report, opened ----------------------------------------------------------------------

def _report(trust: Trust, out: Path) -> str:
    done = run_cli("report", "governors", "--term", "autumn-2026", "--school", "all",
                   "--out", str(out), env=trust.env)
    assert done.returncode == 0, done.stderr
    assert "3 sections" in done.stdout
    return done.stdout


@pytest.fixture
def filled(trust: Trust) -> Trust:
    trust.readme()
    trust.fill(trust.hillside, "autumn-2026", seed=3)
    trust.fill(trust.oakwood, "summer-2026", seed=4)
    trust.fill(trust.oakwood, "autumn-2026", seed=5)
    return trust


def _planted_in(text: str, planted: set[str]) -> list[str]:
    """Any planted full name, or the surname alone, found in ``text`` (any case)."""
    folded = " ".join(text.split()).lower()
    words = {name.lower() for name in planted} | {name.split()[-1].lower() for name in planted
                                                  if name.split()[-1] not in ("Parent",)}
    return sorted(word for word in words if word in folded)


def test_the_pdf_reads_back_with_its_charts_and_names_nobody(filled: Trust,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    _report(filled, out)
    reader = PdfReader(out)
    text = "\n".join(page.extract_text() for page in reader.pages)
    print(f"PDF: {out} ({len(reader.pages)} pages)")
    assert len(reader.pages) >= 4
    assert all((round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1))
               == A4_POINTS for p in reader.pages)
    # A summary first, then one section per school after the whole.
    headings = [line for line in text.splitlines() if line in (
        "Summary: The whole trust (2 schools)", "The whole trust (2 schools)",
        "Hillside Primary", "Oakwood Primary")]
    assert headings == ["Summary: The whole trust (2 schools)", "The whole trust (2 schools)",
                        "Hillside Primary", "Oakwood Primary"]
    assert "SAR-2026-0001" in text and "Subject access and other rights requests" in text
    # The README's Arbor sample lists withdrawals from before: not this term's. The whole has
    # the generated terms' three withdrawals at each school.
    assert "Withdrawals 6 3" in text
    # Each kind against last term: Oakwood's summer and autumn both had one cyber attack.
    oakwood = text[text.index("\nOakwood Primary\n"):]
    assert "Cyber attack 1 1" in oakwood and "Of which educational record 1 1" in oakwood
    # Hillside's calendar (the README's) has no summer 2026: last term is the usual months.
    assert "The term calendar of Hillside Primary does not cover" in " ".join(text.split())
    # A one-page summary first: the key figures and the trend, no detail yet.
    first = reader.pages[0].extract_text()
    assert "Summary" in first and "Subject access and other rights requests" not in first
    # Three charts for each of the three sections (trend, breaches by kind, consent), each
    # placed inside the page's margins.
    assert sum(len(page.images) for page in reader.pages) == 9
    placed = _images_placed(reader)
    assert len(placed) == 9
    assert all(left >= 42 and right <= A4_POINTS[0] - 42 and bottom >= 42
               and top <= A4_POINTS[1] - 42 for left, right, bottom, top in placed), placed
    assert _planted_in(text, filled.planted) == []
    assert not any(name.encode() in out.read_bytes() for name in filled.planted)


def _images_placed(reader: PdfReader) -> list[tuple[float, float, float, float]]:
    """(left, right, bottom, top) of every image drawn, from each page's own operators."""
    placed = []
    for page in reader.pages:
        stream = page.get_contents().get_data().decode("latin-1")
        for found in re.finditer(r"([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm\s*/I", stream):
            width, height, x, y = map(float, found.groups())
            placed.append((x, x + width, y, y + height))
    return placed


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it): the HTML is "
                    "not opened in a browser here")
    return found


def _browse(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}", *args],
        capture_output=True, text=True, timeout=120)


MEASURE = """<script>
const width = document.documentElement.clientWidth;
const wide = [...document.querySelectorAll('body *')].filter(
  e => e.getBoundingClientRect().right > width + 0.5).map(e => e.tagName);
const charts = [...document.querySelectorAll('figure.chart svg')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {width: box.width, height: box.height, paths: svg.querySelectorAll('path').length};
});
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify({width, scroll: document.documentElement.scrollWidth, wide,
                                  charts});
document.body.appendChild(pre);
</script>"""


def test_the_html_opens_in_chromium_with_its_charts_inside_the_page(filled: Trust,
                                                                     tmp_path: Path) -> None:
    chromium = _chromium()
    out = tmp_path / "report.html"
    _report(filled, out)
    html = out.read_text(encoding="utf-8")
    assert _planted_in(html, filled.planted) == []
    assert html.count("<svg") == 9

    screenshot = tmp_path / "report.png"
    shot = _browse(chromium, tmp_path, f"--screenshot={screenshot}", "--window-size=794,3000",
                   out.as_uri())
    assert screenshot.exists() and screenshot.stat().st_size > 10_000, shot.stderr
    print(f"screenshot: {screenshot}")

    # Laid out at the printable width of A4: nothing reaches past it.
    measured = tmp_path / "measured.html"
    measured.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = _browse(chromium, tmp_path, "--dump-dom", f"--window-size={PRINTABLE_PX},1000",
                  measured.as_uri())
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stderr
    facts = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert facts["scroll"] <= facts["width"] and facts["wide"] == [], facts
    assert len(facts["charts"]) == 9
    assert all(c["width"] > 300 and c["height"] > 100 and c["paths"] > 10
               for c in facts["charts"]), facts["charts"]

    # Printed, every page is A4 and the text is the report's.
    printed = tmp_path / "printed.pdf"
    _browse(chromium, tmp_path, f"--print-to-pdf={printed}", "--no-pdf-header-footer",
            out.as_uri())
    pages = PdfReader(printed).pages
    assert len(pages) >= 3
    assert all((round(float(p.mediabox.width)), round(float(p.mediabox.height))) == (595, 842)
               for p in pages)
    assert "Data protection report for governors" in pages[0].extract_text()


def test_user_text_in_the_report_is_escaped(trust: Trust, tmp_path: Path) -> None:
    """A consent use a school named itself reaches the tables as text, never as markup."""
    with session_scope(trust.engine) as session:
        school = session.get_one(School, trust.oakwood.school_id)
        fill_term(session, school, "autumn-2026", 2)
        from workflows.consent.models import ConsentCategory

        use = session.exec(select(ConsentCategory).where(
            ConsentCategory.school_id == school.id, ConsentCategory.key == "video")).one()
        use.label = "video <script>alert(1)</script>"
        session.add(use)
    done = run_cli("report", "governors", "--term", "autumn-2026", "--school", "oakwood",
                   "--out", str(tmp_path / "r.html"), env=trust.env)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_the_command_line_reads_dates_and_refuses_what_it_cannot_read(
        trust: Trust, tmp_path: Path) -> None:
    out = tmp_path / "dates.html"
    done = run_cli("report", "governors", "--from", "2026-09-01", "--to", "2026-10-31",
                   "--school", "oakwood", "--out", str(out), env=trust.env)
    assert done.returncode == 0, done.stderr
    html = " ".join(out.read_text(encoding="utf-8").split())
    # Against as many days (61) just before: 2 July to 31 August, and said so.
    assert "Tuesday 1 September 2026 to Saturday 31 October 2026" in html
    assert "Thursday 2 July 2026 to Monday 31 August 2026" in html
    assert "The days before" in html and "Last term" not in html
    for args, why in ((("--term", "winter-2026"), "is not a term"),
                      (("--from", "2026-10-01", "--to", "2026-09-01"), "before it starts"),
                      (("--from", "2026-10-01"), "both --from and --to"),
                      (("--term", "autumn-2026", "--out", str(tmp_path / "r.docx")),
                       "must end in .html or .pdf")):
        given = args if "--out" in args else (*args, "--out", str(tmp_path / "x.html"))
        done = run_cli("report", "governors", *given, env=trust.env)
        assert done.returncode == 2 and why in " ".join(done.stderr.split()), done.stderr
    assert not (tmp_path / "x.html").exists()


# --- who may have it ---------------------------------------------------------------------------

def _governor(school: School_) -> None:
    with session_scope(school.engine) as session:
        # Even given the consent flag by mistake, a governor looks no pupil up.
        person = Person(school_id=school.school_id, name="Gail Governor", role=Role.GOVERNOR,
                        consent_lookup=True)
        session.add(person)
        session.flush()
        school.people["gail"] = person.id


def test_a_governor_gets_the_report_in_the_terminal_and_nothing_with_a_name(
        school: School_, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _governor(school)
    assert "Saved as SAR-2026-0001." in school.says("sam", *PARENT_SAR, "yes")
    monkeypatch.chdir(tmp_path)
    said = school.says("gail", "report autumn-2026")
    written = tmp_path / "governors-report-autumn-2026.pdf"
    assert str(written) in said and written.exists(), said
    text = "\n".join(page.extract_text() for page in PdfReader(written).pages)
    assert "SAR-2026-0001" in text and "Parent" not in text
    # A governor opens no case, logs none, and looks no pupil up.
    assert "can't find a case SAR-2026-0001" in school.says("gail", "SAR-2026-0001")
    assert "SAR-2026-0001" not in school.says("gail", "cases")
    assert "does not allow you to start" in school.says(
        "gail", "I need to log a subject access request")
    assert "you are not on it" in school.says("gail", "consent Amelia Smith for the website")
    # Their help offers the report, not forms they may not start.
    helped = school.says("gail", "help")
    assert "“report” or “report autumn-2026”" in helped and "“sar”" not in helped, helped
    assert "“report”" not in school.says("sam", "help")
    with Session(school.engine) as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action == "report.governors")).all()
        assert [(e.actor_name, e.detail["period"]) for e in events] == [
            ("Gail Governor", "Autumn term 2026")]


def test_staff_are_refused_the_report(school: School_, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "chat"
    folder.mkdir()
    monkeypatch.chdir(folder)
    said = school.says("sam", "report")
    assert "for the DPO, deputies, the head and governors" in said
    assert list(folder.iterdir()) == []
    # The head may; "report" alone is the term we are in.
    school.now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    said = school.says("hal", "report")
    assert (folder / "governors-report-autumn-2026.pdf").exists(), said


def test_away_from_the_terminal_the_report_is_a_file_the_platform_sends(
        school: School_, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Declared, not made: the adapter makes it as it sends it; nothing goes on the server's
    disk, and where files cannot be sent the line says how else to get it."""
    monkeypatch.chdir(tmp_path)
    for adapter in ("slack", "teams", "google_chat"):
        school.adapter = adapter
        (file,) = school.say("dee", "report autumn-2026")
        assert isinstance(file, File)
        assert (file.maker, file.asked, file.name) == (
            "report", ("autumn", "2026"), "governors-report-autumn-2026.pdf")
        assert "dpo-bot report governors --term autumn-2026 --out report.pdf" in file.elsewhere
    assert not list(tmp_path.glob("*.pdf"))
