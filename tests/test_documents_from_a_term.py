"""Every document from a fresh database filled as a school would fill it: the README's
walk-throughs and a generated term (``tests.term_activity``), then the governors' report, the
software list, the ROPA and each kind of letter, made by the real ``dpo-bot`` commands and
opened with the library that reads each (pypdf, openpyxl and csv, python-docx)."""

from __future__ import annotations

import csv
import html
from pathlib import Path

import docx
import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine

from tests.conftest import run_cli
from tests.term_activity import Summary
from tests.test_reports import Trust, _planted_in
from workflows.registry import WORKFLOWS


@pytest.fixture
def term_made(engine: Engine, cli_env: dict[str, str]) -> tuple[Trust, Summary]:
    trust = Trust(engine, cli_env)
    trust.readme()
    return trust, trust.fill(trust.hillside, "autumn-2026", seed=19)


def dpo_bot(trust: Trust, *args: str) -> str:
    """``dpo-bot ARGS`` at Hillside as its DPO; it must succeed."""
    done = run_cli(*args, "--school", "hillside", "--as", "Dee Dpo", env=trust.env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_report_the_software_list_the_ropa_and_every_letter_open(
        term_made: tuple[Trust, Summary], tmp_path: Path) -> None:
    trust, made = term_made

    # The governors' report: the PDF's pages, words and charts; the HTML's charts inside it.
    for kind in ("pdf", "html"):
        done = run_cli("report", "governors", "--term", "autumn-2026", "--school", "hillside",
                       "--out", str(tmp_path / f"report.{kind}"), env=trust.env)
        assert done.returncode == 0, done.stderr
    reader = PdfReader(tmp_path / "report.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    assert "Hillside Primary" in text and "Autumn term 2026" in text
    assert "SAR-2026-0001" in text  # the README's request, among the term's
    assert sum(len(page.images) for page in reader.pages) == 3  # trend, breaches, consent
    page = html.unescape((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert page.count("<svg") == 3 and "Hillside Primary" in page
    assert _planted_in(text, trust.planted) == [] and _planted_in(page, trust.planted) == []

    # The software list: each product approved, by request or in the imported register; none
    # rejected or still waiting (the register has no withdrawn product: a withdrawal is of
    # consent, not of software).
    assert made.listed and made.unlisted
    dpo_bot(trust, "software-list", "--out", str(tmp_path / "apps.html"))
    dpo_bot(trust, "software-list", "--out", str(tmp_path / "apps.md"))
    for listing in ("apps.html", "apps.md"):
        shown = html.unescape((tmp_path / listing).read_text(encoding="utf-8"))
        assert all(product in shown for product in made.listed), (listing, shown)
        assert not [product for product in made.unlisted if product in shown], listing

    # The ROPA: a row per approved product, the MIS and the bot, the same in both files.
    dpo_bot(trust, "ropa", "--out", str(tmp_path / "ropa.xlsx"))
    dpo_bot(trust, "ropa", "--out", str(tmp_path / "ropa.csv"))
    sheet = openpyxl.load_workbook(tmp_path / "ropa.xlsx").active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    with (tmp_path / "ropa.csv").open(encoding="utf-8", newline="") as read:
        assert cells == list(csv.reader(read))
    activities = [row[0] for row in cells[1:]]
    assert len(activities) == len(made.listed) + 2, activities
    assert all(any(product in str(a) for a in activities) for product in made.listed)
    assert not [p for p in made.unlisted if any(p in str(a) for a in activities)]

    # Every kind of letter, each for a case of the term it fits: the case's reference, the
    # school's name, and no other family's name.
    kinds = {kind for workflow in WORKFLOWS.values() for kind in workflow.letters}
    assert set(made.letters) == kinds
    for kind, reference in sorted(made.letters.items()):
        out = tmp_path / f"{kind}.docx"
        dpo_bot(trust, "letter", reference, kind, "--out", str(out))
        words = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
        assert reference in words and "Hillside Primary" in words, (kind, words)
        own = made.names[reference]
        if reference.startswith("SAR-"):  # to the requester by name (a breach's, “[name]”)
            assert [name for name in own if name in words], (kind, words)
        assert not [name for name in trust.planted - own if name in words], (kind, reference)
