"""Every import (consents, software register, term dates): one decoder, one strict day-first
date reader, bounded size and lengths, streamed, and one clear line for a bad file.

The refusals are read as the person importing sees them: from the real command, with no
traceback and no pupil's name, id or birthday in the output.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlmodel import select

from tests.conftest import School_, make_school, run_cli
from tests.test_consent import PUPILS, count, export, run_import
from workflows.consent.models import Consent, ConsentImport, Pupil
from workflows.core.dates import DateParseError, parse_written_date
from workflows.core.imports import MAX_BYTES_ENV, ImportRefused
from workflows.database import make_engine, session_scope, upgrade
from workflows.schools.models import School
from workflows.software.models import Software

XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)) * 40


@pytest.fixture
def cli(tmp_path: Path, cli_env: dict[str, str]) -> dict[str, str]:
    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    make_school(engine)
    engine.dispose()
    return cli_env


def refused(done, *expected: str) -> str:
    """The command failed with one clear message: no traceback, each expected phrase in it."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "File \"" not in done.stderr
    for phrase in expected:
        assert phrase in done.stderr, done.stderr
    return done.stderr


# --- the date reader --------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("31/08/2026", "2026-08-31"), ("2026-08-31", "2026-08-31"), ("31.08.2026", "2026-08-31"),
    ("3 Sep 2025", "2025-09-03"), ("Wednesday 3 September 2025", "2025-09-03"),
])
def test_written_dates_read_day_first(text: str, expected: str) -> None:
    assert parse_written_date(text).isoformat() == expected


@pytest.mark.parametrize("text,reason", [
    ("3/13/2026", "There is no month 13. I read dates day first"),
    ("September 2025", "Which day in September 2025?"),
    ("31/02/2026", "There is no 31 February 2026"),
    ("3/9/26", "has no year in full"),
    ("3/9", "has no year in full"),
    ("yesterday", "is not a date"),
    ("1/1/1800", "is not a plausible date"),
    ("Tuesday 3 September 2025", "is a Wednesday, not a Tuesday"),
])
def test_written_dates_that_are_not_sure_are_refused(text: str, reason: str) -> None:
    with pytest.raises(DateParseError, match=reason):
        parse_written_date(text)


# --- software register --------------------------------------------------------------------

def test_software_register_dates_are_strict_from_the_command(tmp_path: Path,
                                                             cli: dict[str, str]) -> None:
    file = tmp_path / "register.csv"
    file.write_text("Name,Status,Approved on,Review date\nIXL,approved,3/13/2026,\n"
                    "Seesaw,approved,,September 2025\nPurple Mash,approved,01/09/2025,\n")
    err = refused(run_cli("import", "software", str(file), env=cli),
                  "Line 2: IXL: the approval date: There is no month 13.",
                  "Line 3: Seesaw: the review date: Which day in September 2025?")
    assert "Purple Mash" not in err
    done = run_cli("import", "software", str(file), "--dry-run", env=cli)
    assert done.returncode == 2  # a dry run refuses the same file the same way


def test_software_register_binary_and_windows_1252(tmp_path: Path, cli: dict[str, str]) -> None:
    file = tmp_path / "register.xlsx"
    file.write_bytes(XLSX)
    refused(run_cli("import", "software", str(file), env=cli), "is not a CSV", "(.xlsx)")
    file = tmp_path / "register.csv"
    file.write_bytes("Name,Status,Conditions\nCaf\u00e9 Maths,approved,\u201cno photos\u201d\n"
                     .encode("cp1252"))
    done = run_cli("import", "software", str(file), env=cli)
    assert done.returncode == 0, done.stderr
    engine = make_engine(cli["DPO_BOT_DATABASE_URL"])
    with session_scope(engine) as session:
        product = session.exec(select(Software)).one()
        assert (product.name, product.conditions) == ("Caf\u00e9 Maths", "\u201cno photos\u201d")
    engine.dispose()


def test_software_register_field_lengths_checked_before_insert(school: School_) -> None:
    from workflows.software.importer import import_register

    data = f"Name,Status,Website\n{'X' * 201},approved,\nIXL,approved,{'w' * 301}\n".encode()
    with pytest.raises(ImportRefused) as refusal, session_scope(school.engine) as session:
        import_register(session, session.get(School, school.school_id), data,
                        file_name="r.csv", by_name="x", now=school.now)
    assert refusal.value.reasons == [
        "Line 2: name is 201 characters long; at most 200 fit.",
        "Line 3: website is 301 characters long; at most 300 fit.",
    ]
    with session_scope(school.engine) as session:
        assert session.exec(select(Software)).all() == []


# --- term dates -----------------------------------------------------------------------------

def test_term_dates_binary_non_utf8_and_strict_dates(tmp_path: Path, cli: dict[str, str]) -> None:
    file = tmp_path / "terms.csv"
    file.write_bytes(XLSX)
    refused(run_cli("calendar", "import", str(file), env=cli), "is not a CSV")
    file.write_bytes("kind,start,end,name\nterm,02/09/2026,23/10/2026,Autumn \u2013 1\n"
                     "closure,3/13/2026,,INSET\nterm,2/11/26,18/12/2026,Autumn 2\n"
                     .encode("cp1252"))
    refused(run_cli("calendar", "import", str(file), env=cli),
            "row 3: start date: There is no month 13.", "row 4: start date: \"2/11/26\" has no "
            "year in full")
    file.write_bytes("kind,start,end,name\nterm,02/09/2026,23/10/2026,Autumn \u2013 1\n"
                     .encode("cp1252"))
    done = run_cli("calendar", "import", str(file), env=cli)
    assert done.returncode == 0, done.stderr
    assert "Autumn \u2013 1" in run_cli("calendar", "show", env=cli).stdout


# --- consents ------------------------------------------------------------------------------

def test_consent_cell_over_the_csv_limit_is_one_clear_line(tmp_path: Path,
                                                           cli: dict[str, str]) -> None:
    file = tmp_path / "sims.csv"
    file.write_bytes(export("sims", extra_rows=[
        ["1009", "Secret" + "x" * 200_000, "Name", "", "4", "4B", "01/01/2017", "", "", "",
         *["Yes"] * 9]]))
    err = refused(run_cli("import", "consents", str(file), env=cli),
                  "row 8: a cell is longer than 131,072 characters")
    assert "Secret" not in err and "Amelia" not in err


def test_consent_binary_file(tmp_path: Path, cli: dict[str, str]) -> None:
    file = tmp_path / "sims.xlsx"
    file.write_bytes(XLSX)
    refused(run_cli("import", "consents", str(file), env=cli), "is not a CSV")


def test_a_file_beyond_the_bound_is_refused_before_reading(tmp_path: Path,
                                                           cli: dict[str, str]) -> None:
    file = tmp_path / "sims.csv"
    file.write_bytes(export("sims"))
    size = file.stat().st_size
    err = refused(run_cli("import", "consents", str(file), env=cli | {MAX_BYTES_ENV: "0.0005"}),
                  "imports take at most 0.0 MB", MAX_BYTES_ENV)
    assert f"{size / 1048576:.1f} MB" in err
    assert run_cli("import", "consents", str(file), env=cli).returncode == 0


def test_consent_lengths_checked_before_insert(school: School_) -> None:
    long_name = "Aurelia" * 15  # 105 characters: the column holds 100
    with pytest.raises(ImportRefused) as refusal:
        run_import(school, export("sims", extra_rows=[
            ["1009", long_name, "Lee", "", "4", "4B", "01/01/2017", "", "", "", *["Yes"] * 9],
            ["X" * 40, "Ava", "Lee", "", "4", "4B", "01/01/2017", "", "", "", *["Yes"] * 9]]))
    assert refusal.value.reasons == [
        "row 8: the legal first name is 105 characters long; at most 100 fit",
        "row 9: the MIS id is 40 characters long; at most 32 fit",
    ]
    assert count(school, Pupil) == 0


def sims_rows(n: int, bad_at: int | None = None) -> bytes:
    """n pupils in a SIMS export; row ``bad_at`` (as a spreadsheet counts) has an impossible
    birthday."""
    base = export("sims", pupils=PUPILS[:1]).decode()
    header, first = base.splitlines()[:2]
    cells = next(csv.reader([first]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write(header + "\n")
    for i in range(n):
        row = list(cells)
        row[0] = str(10_000 + i)
        row[6] = "30/02/2017" if i + 2 == bad_at else row[6]
        writer.writerow(row)
    return out.getvalue().encode()


def test_a_bad_last_row_after_many_batches_leaves_nothing(school: School_) -> None:
    """Rows are written in batches as they are read; a bad row at the end undoes them all."""
    with pytest.raises(ImportRefused) as refusal:
        run_import(school, sims_rows(2_600, bad_at=2_601))
    assert refusal.value.reasons == [
        "row 2601: the date of birth is not a whole day-first date (DD/MM/YYYY)"]
    assert count(school, Pupil) == count(school, Consent) == count(school, ConsentImport) == 0
    report = run_import(school, sims_rows(2_600))
    assert (report.rows, report.added) == (2_600, 2_600)
    assert count(school, Consent) == 2_600 * 9
    # A second file without the last 600: those pupils have left; the rest are unchanged.
    report = run_import(school, sims_rows(2_000))
    assert (report.unchanged, report.left, report.added) == (2_000, 600, 0)


def test_progress_reports_bytes_of_the_file(school: School_) -> None:
    data = sims_rows(2_500)
    seen: list[tuple[int, int]] = []
    run_import(school, data, progress=lambda done, total: seen.append((done, total)))
    assert len(seen) >= 3 and seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# --- what both importers share ----------------------------------------------------------------

def test_consent_refusal_shows_fifty_bad_rows_and_counts_the_rest(school: School_) -> None:
    rows = list(csv.reader(io.StringIO(sims_rows(60).decode())))
    for row in rows[1:]:
        row[6] = "30/02/2017"  # an impossible birthday on every row
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([rows[0], rows[1], [], *rows[2:]])  # a blank line is no row at all
    with pytest.raises(ImportRefused) as refusal:
        run_import(school, out.getvalue().encode())
    reasons = refusal.value.reasons
    assert len(reasons) == 51 and reasons[-1] == "... and 10 more rows with problems."
    assert reasons[:2] == [f"row {n}: the date of birth is not a whole day-first date "
                           "(DD/MM/YYYY)" for n in (2, 4)]


def test_software_refusal_shows_fifty_problems_and_counts_the_rest(school: School_) -> None:
    from workflows.software.importer import read

    lines = ["Name,Status", "", *(f"App {n},maybe" for n in range(55)), ",,", ""]
    with pytest.raises(ImportRefused) as refusal:
        read("\n".join(lines).encode())
    reasons = refusal.value.reasons
    assert len(reasons) == 51 and reasons[-1] == "... and 5 more problems."
    assert reasons[0].startswith("Line 3: App 0: status “maybe” is not one of")


@pytest.mark.parametrize("data", [b"\n\nName,Status\nIXL,approved\n", b" , \n"])
def test_a_blank_first_row_is_an_empty_file_for_both_importers(school: School_,
                                                              data: bytes) -> None:
    from workflows.software.importer import read

    for importer in (read, lambda d: run_import(school, d)):
        with pytest.raises(ImportRefused) as refusal:
            importer(data)
        assert refusal.value.reasons == ["The file is empty."]
