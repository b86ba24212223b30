"""The consent import as a new user meets it: the samples in docs/ import as they are, --help
lists every format's columns, and a refusal names the format the file was taken for."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli.imports import CONSENT_COLUMNS
from tests.conftest import make_school, run_cli
from workflows.consent.formats import BUILTIN
from workflows.consent.models import Consent, Pupil, Status
from workflows.database import make_engine, session_scope, upgrade

SAMPLES = Path(__file__).parent.parent / "docs" / "consent-samples"


@pytest.fixture
def cli(cli_env: dict[str, str]) -> dict[str, str]:
    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    make_school(engine)
    engine.dispose()
    return cli_env


def _answers(env: dict[str, str]) -> dict[tuple[str, str], Status]:
    """(pupil's legal first name, use) -> the answer held."""
    engine = make_engine(env["DPO_BOT_DATABASE_URL"])
    with session_scope(engine) as session:
        pupils = {p.id: p.legal_first for p in session.exec(select(Pupil))}
        held = {(pupils[c.pupil_id], str(c.category_id)): c.status
                for c in session.exec(select(Consent))}
    engine.dispose()
    return held


@pytest.mark.parametrize("fmt", sorted(BUILTIN))
def test_each_builtin_sample_imports_recognised_by_its_columns(cli: dict[str, str],
                                                               fmt: str) -> None:
    file = SAMPLES / f"{fmt}.csv"
    with file.open(encoding="utf-8") as f:
        assert sorted(next(csv.reader(f))) == sorted(BUILTIN[fmt].wanted())
    done = run_cli("import", "consents", str(file), env=cli)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"Imported 4 pupils from {fmt}.csv ({fmt}): 4 added, 0 changed, "
                           "0 unchanged, 0 left.\n")
    held = _answers(cli)
    assert len(held) == 4 * 9
    assert {s for (name, _), s in held.items() if name == "Harry"} == {Status.WITHDRAWN}
    # Every sample tells the same story: Oliver's parents refused the website.
    assert Status.REFUSED in {s for (name, _), s in held.items() if name == "Oliver"}


def test_the_generic_sample_imports_with_its_mapping(cli: dict[str, str]) -> None:
    done = run_cli("import", "consents", str(SAMPLES / "generic.csv"), "--format", "generic",
                   "--mapping", str(SAMPLES / "generic-mapping.toml"), env=cli)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported 4 pupils from generic.csv (generic): 4 added")
    held = _answers(cli)
    assert len(held) == 4 * 2  # website and social media: the uses the mapping names
    assert sorted(str(s) for (name, _), s in held.items() if name == "Amelia") == [
        "given", "refused"]  # “Allowed” and “Not allowed”, the mapping's own words


def test_help_lists_every_column_of_every_format(cli_env: dict[str, str]) -> None:
    done = run_cli("import", "consents", "--help", env=cli_env)
    shown = " ".join(re.sub(r"[│╭╮╰╯─]", " ", done.stdout).split())
    for mapping in BUILTIN.values():
        for column in mapping.wanted():
            assert f" {column}," in shown or f" {column}." in shown, (mapping.name, column)
    assert "docs/consent-samples/generic-mapping.toml" in " ".join(CONSENT_COLUMNS.split())


def test_the_first_refusal_names_the_format_it_guessed(cli: dict[str, str],
                                                       tmp_path: Path) -> None:
    rows = list(csv.reader((SAMPLES / "sims.csv").open(encoding="utf-8")))
    cut = tmp_path / "export.csv"  # a SIMS report with the Apps column left out
    with cut.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(row[:-1] for row in rows)
    done = run_cli("import", "consents", str(cut), env=cli)
    assert done.returncode == 2
    assert ("This looks like a SIMS export, but it lacks the column Consent - Apps. "
            in done.stderr)
    done = run_cli("import", "consents", str(SAMPLES / "sims.csv"), "--format", "arbor",
                   env=cli)
    assert "This is not an Arbor export: it lacks the columns Arbor ID," in done.stderr
    assert done.stderr.count("Arbor ID") == 1 and "try --format sims" in done.stderr
    done = run_cli("import", "consents", str(SAMPLES / "generic.csv"), env=cli)
    assert "its columns are not those of an Arbor, SIMS or Bromcom export" in done.stderr
    assert "Give --format generic --mapping FILE" in done.stderr


def test_counts_of_one_are_singular(cli: dict[str, str], tmp_path: Path) -> None:
    rows = list(csv.reader((SAMPLES / "bromcom.csv").open(encoding="utf-8")))
    one = tmp_path / "one.csv"
    with one.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows[:2])
    done = run_cli("import", "consents", str(one), "--dry-run", env=cli)
    assert done.stdout.startswith("Would import 1 pupil from one.csv (bromcom): 1 added")
