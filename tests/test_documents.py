"""The documents a school hands over, made from what the bot holds and read back with the
libraries that read them: the privacy notice's software list (HTML, Markdown), the ROPA
starter (xlsx with openpyxl, CSV with csv) and letters as Word documents (python-docx), on
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlmodel import Session, select

from tests.conftest import PARENT_SAR, School_, make_school, run_cli
from tests.test_software import MATHS_APP, REF, run_import
from workflows.core.letters import draft
from workflows.database import make_engine, session_scope, upgrade
from workflows.documents import ropa as records
from workflows.documents.software_list import software_list
from workflows.documents.word import LetterheadError, letter_docx, read_letterhead
from workflows.schools.models import School
from workflows.software.models import Software, SoftwareRequest

ASK = "Ask our Data Protection Officer"
# What a hostile register could hold: a link, a script, a formula, a heading, a mention.
NASTY = """App,Website,Status,Data,Conditions,DPIA,Approved by,Date approved,Review date
Purple Mash,purplemash.com,Approved,"names, class, assessment",,Done,Mrs Patel,01/09/2025,
ClassDojo,classdojo.com,Rejected,"names, photos, behaviour",,required,Mrs Patel,,
[x](javascript:alert(1)),,Approved,names,,n/a,Mrs Patel,01/09/2025,
<script>alert(1)</script>,,Approved,names,,n/a,Mrs Patel,01/09/2025,
"=HYPERLINK(""http://evil.example"",""x"")",,Approved,names,,n/a,Mrs Patel,01/09/2025,
"""


def approve_maths_app(school: School_) -> None:
    school.says("sam", *MATHS_APP, "yes")
    school.says("dee", f"approve {REF}", "skip", "done", "DPIA-1, signed off", "yes")


def the_school(school: School_, session: Session) -> School:
    found = session.get(School, school.school_id)
    assert found is not None
    return found


class Links(HTMLParser):
    """Every element and link target in an HTML fragment, as a browser would parse it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


def test_the_software_list_holds_approved_products_only_and_keeps_text_literal(
        school: School_) -> None:
    approve_maths_app(school)
    run_import(school, NASTY)
    with session_scope(school.engine) as session:
        found = the_school(school, session)
        html = software_list(session, found, "Dee Dpo", "html")
        markdown = software_list(session, found, "Dee Dpo", "md")

    # Approved products in, by name; the rejected one out.
    for text in (html, markdown):
        assert "Programs used by pupils" in text
        assert "Purple Mash" in text and "Maths Whizz" in text
        assert "ClassDojo" not in text
    # What the request said: the year groups, the vendor's notice; "don't know" is marked.
    maths = next(row for row in html.split("<tr>") if "Maths Whizz" in row)
    assert "Years 3 to 6 and their teachers" in maths
    assert "Maths practice at home and in class" in maths
    assert '<a href="https://www.mathswhizz.co.uk/privacy"' in maths
    assert "Pupils&#39; names, Assessment or progress" in maths
    assert maths.count(ASK) == 1  # where the data is stored: nobody knew
    # An imported product has no request: what the register does not know is for the DPO.
    purple = next(row for row in html.split("<tr>") if "Purple Mash" in row)
    assert purple.count(ASK) == 4 and 'href="https://purplemash.com"' in purple

    # HTML: the script is text, and the only links are the vendors' web addresses.
    parsed = Links()
    parsed.feed(html)
    assert "script" not in parsed.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert parsed.hrefs and all(h.startswith("https://") for h in parsed.hrefs)
    # Markdown: no link, HTML or formula from a product's name.
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "[x](javascript" not in markdown and r"\[x\]\(javascript\:alert\(1\)\)" in markdown
    assert "](<https://www.mathswhizz.co.uk/privacy>)" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == 5 for line in rows)  # no cell split by a typed "|"

    # Rejected later in the register: it drops out of the next list.
    run_import(school, NASTY.replace("Purple Mash,purplemash.com,Approved",
                                     "Purple Mash,purplemash.com,Rejected"))
    with session_scope(school.engine) as session:
        again = software_list(session, the_school(school, session), "Dee Dpo", "html")
    assert "Purple Mash" not in again and "Maths Whizz" in again


def test_the_ropa_has_the_icos_columns_a_row_per_activity_and_no_formula(
        school: School_, tmp_path: Path) -> None:
    approve_maths_app(school)
    run_import(school, NASTY.replace("Purple Mash", "Arbor"))
    with session_scope(school.engine) as session:
        made = records.ropa(session, the_school(school, session), "Dee Dpo")
    xlsx, text = records.to_xlsx(made), records.to_csv(made)

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert table == list(csv.reader(io.StringIO(text)))  # the CSV is the same table
    head = table[0]
    for column in ("Purpose of processing", "Categories of individuals",
                   "Categories of personal data", "Categories of recipients",
                   "Retention schedule (if possible)",
                   "General description of technical and organisational security measures "
                   "(if possible)"):
        assert column in head
    by_activity = {row[0]: dict(zip(head, row, strict=True)) for row in table[1:]}
    # The MIS (Arbor, from the register), each approved product, the bot; not the rejected.
    assert list(by_activity)[0] == "Management information system (MIS): Arbor"
    assert "Maths Whizz" in by_activity and "ClassDojo" not in by_activity
    assert list(by_activity)[-1].startswith("dpo-bot (this bot)")
    maths = by_activity["Maths Whizz"]
    assert maths["Categories of individuals"] == "Years 3 to 6 and their teachers"
    assert maths["Categories of personal data"] == "Pupils' names; Assessment or progress"
    assert maths["Where this row came from"] == f"Software register, approved through request {REF}"
    assert maths["Location of personal data"] == "DPO TO COMPLETE"  # "don't know"
    assert maths["Retention schedule (if possible)"] == "DPO TO COMPLETE"
    bot = by_activity[list(by_activity)[-1]]
    assert bot["Retention schedule (if possible)"].startswith("Chats 30 days")
    assert "DPO TO COMPLETE" not in bot["Purpose of processing"]
    # A cell the DPO must complete is highlighted; a filled one is not.
    row = 1 + list(by_activity).index("Maths Whizz") + 1
    retention = head.index("Retention schedule (if possible)") + 1
    purpose = head.index("Purpose of processing") + 1
    assert sheet.cell(row=row, column=retention).fill.start_color.rgb.endswith("FFF2CC")
    assert sheet.cell(row=row, column=purpose).fill.fill_type is None
    # A formula typed as a product's name stays text in both.
    formula = next(name for name in by_activity if "HYPERLINK" in name)
    assert formula.startswith("'=")
    assert not any(isinstance(c, str) and c.startswith(("=", "+", "-", "@"))
                   for line in table for c in line)
    assert all(cell.data_type == "s" for line in sheet.iter_rows() for cell in line)


def test_the_ropa_names_no_mis_it_does_not_know(school: School_) -> None:
    with session_scope(school.engine) as session:
        made = records.ropa(session, the_school(school, session), "Dee Dpo")
    assert [r["activity"] for r in made.rows] == [
        "Management information system (MIS): DPO TO COMPLETE (which system)",
        "dpo-bot (this bot): data protection requests, breaches, photo consent and software "
        "approval"]


def letterhead(path: Path) -> Path:
    """A school's letterhead as Word writes one: the crest in the header, a line on page one."""
    made = docx.Document()
    made.sections[0].header.paragraphs[0].text = "HILLSIDE PRIMARY · Learning together"
    made.add_paragraph("Head teacher: Hal Head")
    made.save(str(path))
    return path


def body_of(word: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(word)).paragraphs]


def test_a_letter_as_a_word_document_is_the_chat_letter_on_the_letterhead(
        school: School_, tmp_path: Path) -> None:
    school.says("sam", *PARENT_SAR, "yes")  # SAR-2026-0001, Jane Parent about Tom
    other = [("Bob Other" if a == "Jane Parent" else "Amy Other" if a == "Tom Parent"
              else "bob@example.org" if a == "jane@example.org" else a) for a in PARENT_SAR]
    school.says("sam", *other, "yes")  # SAR-2026-0002, another family
    with session_scope(school.engine) as session:
        found = the_school(school, session)
        found.address = "1 School Lane\nHillside\nHS1 2AB"
        session.add(found)
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        letter = draft(ctx, "SAR-2026-0001", "acknowledgement")
        plain = letter_docx(letter, ctx.school)
        ctx.school.letterhead = str(letterhead(tmp_path / "letterhead.docx"))
        headed = letter_docx(letter, ctx.school)

    # The same text as the chat shows, paragraph by paragraph, the school's block first.
    shown = school.says("dee", "letter SAR-2026-0001 acknowledgement")
    assert "Hillside Primary\n1 School Lane\nHillside\nHS1 2AB\n\nJane Parent" in shown
    paragraphs = body_of(plain)
    assert paragraphs[0] == "Hillside Primary\n1 School Lane\nHillside\nHS1 2AB"
    assert docx.Document(io.BytesIO(plain)).paragraphs[0].alignment == 2  # right
    assert "Our reference: SAR-2026-0001" in paragraphs
    assert "Monday 23 November 2026" in paragraphs
    assert "Dear Jane Parent," in paragraphs
    assert " ".join(shown.split()) == " ".join(" ".join(paragraphs).split())
    assert not any(name in " ".join(paragraphs) for name in ("Bob Other", "Amy Other"))
    # On the letterhead: its header and first page kept, the letter after them.
    word = docx.Document(io.BytesIO(headed))
    assert word.sections[0].header.paragraphs[0].text == "HILLSIDE PRIMARY · Learning together"
    assert [p.text for p in word.paragraphs][:2] == [
        "Head teacher: Hal Head", "Hillside Primary\n1 School Lane\nHillside\nHS1 2AB"]
    assert "Dear Jane Parent," in [p.text for p in word.paragraphs]


def test_every_letter_of_every_workflow_makes_a_word_document(school: School_) -> None:
    """Each SAR letter and breach document, as a .docx read back: the school's block first
    (a form like the ICO report draft, which has none of its own, gets it), then the chat's
    text word for word."""
    from tests.test_breach import report
    from workflows.registry import WORKFLOWS

    school.says("sam", *PARENT_SAR, "yes")
    report(school)
    made = 0
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        for workflow, reference in (("sar", "SAR-2026-0001"), ("breach", "BRE-2026-0001")):
            for kind in WORKFLOWS[workflow].letters:
                letter = draft(ctx, reference, kind)
                paragraphs = body_of(letter_docx(letter, ctx.school))
                assert paragraphs[0] == "Hillside Primary", kind
                assert any(reference in p for p in paragraphs), kind
                text = letter.body.removeprefix("Hillside Primary\n")
                assert " ".join(" ".join(paragraphs[1:]).split()) == " ".join(text.split()), kind
                made += 1
    assert made == len(WORKFLOWS["sar"].letters) + len(WORKFLOWS["breach"].letters) == 9


def test_a_letterhead_that_is_not_a_word_document_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "letterhead.docx"
    text.write_text("not a document", encoding="utf-8")
    with pytest.raises(LetterheadError, match="cannot be opened as a Word document"):
        read_letterhead(text)
    with pytest.raises(LetterheadError, match="must be a Word .docx file"):
        read_letterhead(tmp_path / "letterhead.pdf")


def test_the_command_line_writes_every_document(cli_env: dict[str, str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    school = make_school(engine)
    school.says("sam", *PARENT_SAR, "yes")
    approve_maths_app(school)
    engine.dispose()
    head = letterhead(tmp_path / "head.docx")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        done = run_cli(*args, env=cli_env)
        assert done.returncode == 0, done.stderr
        return done

    said = cli("setup", "--name", "Hillside Primary", "--region", "ENG", "--timezone",
               "Europe/London", "--maintained", "--hours", "08:00-18:00", "--dpo", "Dee Dpo",
               "--dpo-email", "", "--deputies", "", "--head", "Hal Head", "--sar-years", "1",
               "--calendar", "", "--consent-months", "12",
               "--address", "1 School Lane, Hillside, HS1 2AB", "--letterhead", str(head)).stdout
    assert "Address on letters: 1 School Lane, Hillside, HS1 2AB" in said
    assert f"Letterhead for Word letters: {head}" in said
    out = tmp_path / "ack.docx"
    cli("letter", "SAR-2026-0001", "acknowledgement", "--out", str(out), "--as", "Dee Dpo")
    word = docx.Document(str(out))
    assert word.sections[0].header.paragraphs[0].text.startswith("HILLSIDE PRIMARY")
    texts = [p.text for p in word.paragraphs]
    assert "Hillside Primary\n1 School Lane\nHillside\nHS1 2AB" in texts
    assert "Dear Jane Parent," in texts and "Our reference: SAR-2026-0001" in texts
    assert "Dear Jane Parent," in cli("letter", "SAR-2026-0001", "id", "request",
                                      "--as", "Dee Dpo").stdout
    refused = run_cli("letter", "SAR-2026-0001", "acknowledgement", "--as", "Sam Teacher",
                      env=cli_env)
    assert refused.returncode == 2 and "Only the DPO or a deputy" in refused.stderr
    which = run_cli("letter", "SAR-2026-0001", "poem", "--as", "Dee Dpo", env=cli_env)
    assert which.returncode == 2 and "Which letter?" in which.stderr
    listed = run_cli("letter", "SAR-2026-0001", "--as", "Dee Dpo", env=cli_env)
    assert listed.returncode == 2 and "acknowledgement, id request, clarification" in \
        listed.stderr

    cli("software-list", "--out", str(tmp_path / "apps.md"), "--as", "Dee Dpo")
    # The format follows the file's ending, or is asked for; HTML by default.
    assert "| [Maths Whizz](<https://mathswhizz.co.uk>) |" in (tmp_path / "apps.md").read_text(
        encoding="utf-8")
    assert '<a href="https://mathswhizz.co.uk" rel="noopener noreferrer">Maths Whizz</a>' in cli(
        "software-list", "--as", "Dee Dpo").stdout
    assert cli("software-list", "--format", "md", "--as", "Dee Dpo").stdout.startswith(
        "## Programs used by pupils")
    cli("ropa", "--out", str(tmp_path / "ropa.xlsx"), "--as", "Dee Dpo")
    cli("ropa", "--out", str(tmp_path / "ropa.csv"), "--as", "Dee Dpo")
    sheet = openpyxl.load_workbook(tmp_path / "ropa.xlsx").active
    assert sheet is not None
    assert [[c.value for c in row] for row in sheet.iter_rows()] == list(csv.reader(
        (tmp_path / "ropa.csv").open(encoding="utf-8")))

    # Terminal chat: “save as FILE.docx” just after a letter writes the Word document.
    monkeypatch.chdir(tmp_path)
    done = run_cli("chat", "--user", "Dee Dpo", "--no-reminders", env=cli_env, stdin="\n".join((
        "letter SAR-2026-0001 acknowledgement", "save as chat.docx")) + "\n")
    assert done.returncode == 0, done.stderr
    assert "Written to chat.docx" in done.stdout
    assert "Dear Jane Parent," in [p.text for p in docx.Document("chat.docx").paragraphs]


def test_a_word_letter_and_the_ropa_open_in_libreoffice(school: School_, tmp_path: Path) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed here: the .docx and .xlsx are read back with "
                    "python-docx and openpyxl in the other tests")
    school.says("sam", *PARENT_SAR, "yes")
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        (tmp_path / "letter.docx").write_bytes(letter_docx(
            draft(ctx, "SAR-2026-0001", "acknowledgement"), ctx.school))
        (tmp_path / "ropa.xlsx").write_bytes(records.to_xlsx(records.ropa(session, ctx.school,
                                                                          "Dee Dpo")))
    for name, target, expected in (("letter.docx", "txt:Text", "Dear Jane Parent,"),
                                   ("ropa.xlsx", "csv", "Purpose of processing")):
        done = subprocess.run([office, "--headless", "--convert-to", target, "--outdir",
                               str(tmp_path / "lo"), str(tmp_path / name)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        converted = tmp_path / "lo" / (Path(name).stem + "." + target.split(":")[0])
        assert expected in converted.read_text(encoding="utf-8")


def test_a_request_row_unknown_everywhere_is_for_the_dpo(school: School_) -> None:
    approve_maths_app(school)
    with session_scope(school.engine) as session:
        request = session.exec(select(SoftwareRequest)).one()
        request.privacy_notice = "unknown"  # as a register from before it kept the notice
        product = session.exec(select(Software)).one()
        product.privacy_notice = None
        session.add_all([request, product])
    with session_scope(school.engine) as session:
        html = software_list(session, the_school(school, session), "Dee Dpo", "html")
    assert html.count(ASK) == 2


def test_an_imported_register_with_the_notices_columns_fills_the_list(school: School_) -> None:
    run_import(school, """Product,Status,Purpose,Year groups,Stored in,Privacy notice,Data
TT Rockstars,Approved,Times tables practice,Years 2 to 6,UK,https://ttrockstars.com/privacy,names
IXL,Approved,Maths and English,Years 1 to 6,USA,javascript:alert(1),"names, assessment"
""")
    with session_scope(school.engine) as session:
        found = the_school(school, session)
        html = software_list(session, found, "Dee Dpo", "html")
        made = records.ropa(session, found, "Dee Dpo")
    rockstars = next(row for row in html.split("<tr>") if "TT Rockstars" in row)
    assert ASK not in rockstars
    for said in ("Times tables practice", "Years 2 to 6", "<td>UK</td>",
                 '<a href="https://ttrockstars.com/privacy"'):
        assert said in rockstars
    # A privacy notice that is not a web address is never a link: the DPO is asked.
    ixl = next(row for row in html.split("<tr>") if "IXL" in row)
    assert "javascript" not in ixl and ixl.count(ASK) == 1
    rows = {row["activity"]: row for row in made.rows}
    assert rows["TT Rockstars"]["transfers"] == "None: the data is stored in the UK"
    assert rows["IXL"]["location"] == rows["IXL"]["transfers"] == "USA"
    assert rows["IXL"]["safeguards"] is None  # for the DPO
    # The register's export carries the new columns and reads back in unchanged.
    from workflows.core.export import to_csv
    from workflows.software.export import export_rows

    with session_scope(school.engine) as session:
        exported = export_rows(session, the_school(school, session), "Dee Dpo")
    assert exported[1]["year_groups"] == "Years 2 to 6"
    assert len(run_import(school, to_csv(exported)).unchanged) == 2


def test_the_software_list_in_chromium_runs_nothing_typed(school: School_, tmp_path: Path) -> None:
    """The HTML in a real browser: the table is there, and a product's name that is markup
    stays text (nothing it holds runs, nothing links elsewhere). A screenshot is left in the
    test's folder."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed here (.ci/run installs Debian's chromium)")
    approve_maths_app(school)
    run_import(school, """Product,Status,Data
"<script>document.title='pwned'</script>",Approved,names
"<img src=x onerror=""document.title='pwned'"">",Approved,names
[x](javascript:alert(1)),Approved,names
""")
    with session_scope(school.engine) as session:
        html = software_list(session, the_school(school, session), "Dee Dpo", "html")
    page = tmp_path / "programs.html"
    page.write_text(f"<!doctype html><html><head><meta charset=utf-8><title>Programs</title>"
                    f"</head><body>{html}</body></html>", encoding="utf-8")
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="
              + str(tmp_path / "profile")]
    dom = subprocess.run([*common, "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    parsed = Links()
    parsed.feed(dom.stdout)
    assert "<title>Programs</title>" in dom.stdout and "pwned</title>" not in dom.stdout
    assert parsed.tags.count("tr") == 5 and "script" not in parsed.tags and "img" not in parsed.tags
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom.stdout
    assert parsed.hrefs == ["https://mathswhizz.co.uk", "https://www.mathswhizz.co.uk/privacy"]
    shot = subprocess.run([*common, "--window-size=1200,900", "--screenshot="
                           + str(tmp_path / "programs.png"), page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and (tmp_path / "programs.png").stat().st_size > 1000
    print(f"screenshot: {tmp_path / 'programs.png'}")
