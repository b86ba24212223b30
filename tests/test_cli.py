"""The command line's own shape: its closed lists are Typer choices that `--help` lists, setup
asks a bad answer again (the rules are the core's), and a real process still starts it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import get_args

import pytest
from sqlmodel import Session, select

from bot.cli import choices
from tests.conftest import run_cli, spawn_cli
from workflows.consent.formats import FORMATS
from workflows.deadlines import REGIONS
from workflows.people.models import Role
from workflows.schools import setup
from workflows.schools.models import School

ROOT = Path(__file__).parent.parent


def test_the_choices_are_the_cores_tables() -> None:
    assert get_args(choices.Region) == REGIONS
    assert get_args(choices.Role) == tuple(role.value for role in Role)
    assert get_args(choices.ConsentFormat) == FORMATS
    assert get_args(choices.ExportFormat) == ("csv", "json")


@pytest.mark.parametrize(("command", "listed"), [
    (("export", "sars"), "csv|json"),
    (("people", "add"), "staff|dpo|deputy|head"),
    (("people", "role"), "staff|dpo|deputy|head"),
    (("chat",), "staff|dpo|deputy|head"),
    (("import", "consents"), "sims|arbor|bromcom|generic"),
    (("deadline", "sar"), "eng|wls|sct|nir"),
    (("setup",), "ENG, WLS, SCT, NIR (or England, Wales, Scotland, Northern Ireland)"),
    (("setup",), "everyone|listed"),
])
def test_help_lists_each_choice(cli_env: dict[str, str], command: tuple[str, ...],
                                listed: str) -> None:
    done = run_cli(*command, "--help", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert listed in done.stdout


def test_a_wrong_choice_is_refused_before_the_command_runs(cli_env: dict[str, str]) -> None:
    done = run_cli("import", "consents", __file__, "--format", "excel", env=cli_env)
    assert (done.returncode, done.stdout) == (2, "")
    assert "'excel' is not one of 'sims', 'arbor', 'bromcom', 'generic'." in done.stderr
    done = run_cli("people", "add", "Ann Office", "--role", "DPO", env=cli_env)  # any case
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Ann Office is dpo at ")


def test_setup_asks_a_bad_answer_again(cli_env: dict[str, str]) -> None:
    answers = ["Hillside Primary", "XX", "wales", "Mars/Base", "Europe/London", "n",
               "9-5", "8.30am-5pm", "Dee Dpo", "", "Vic Deputy, , Val Second", "Hal Head", "2",
               "no-such-terms.csv", "", "12"]
    done = run_cli("setup", env=cli_env, stdin="\n".join(answers) + "\n")
    assert done.returncode == 0, done.stdout + done.stderr
    for refusal in ("Unknown region 'XX'", "Unknown time zone “Mars/Base”",
                    "Give working hours like 08:00-18:00 or 8am-6pm.",
                    "Term dates not imported"):
        assert refusal in done.stdout + done.stderr
    # What was saved is read back, then what to do next.
    assert done.stdout.endswith("""Saved for Hillside Primary (--school default):
  Bank holidays: Wales (WLS); time zone Europe/London
  Not LA-maintained (academy, free or independent school): no educational record right; \
a SAR applies
  Reminders: on working days, 08:30-17:00; breach nudges at any hour
  DPO: Dee Dpo
  Deputies: Vic Deputy, Val Second
  Head teacher: Hal Head
  Closed SAR records kept: 2 years after the academic year they close in
  Term dates: none yet (educational record deadlines need them: dpo-bot calendar import FILE)
  Photo consent: a yes lasts 12 months; every member of staff may look pupils up (audited)
  Address on letters: none yet (dpo-bot setup --address "1 High Street, Town, AB1 2CD")
  Letterhead for Word letters: none (plain letters; dpo-bot setup --letterhead FILE.docx)
Hillside Primary is set up. Try it: dpo-bot chat --user "Dee Dpo" --role dpo
""")
    from workflows.database import make_engine

    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    with Session(engine) as session:
        found = session.exec(select(School)).one()
        assert (found.region, found.maintained, found.work_start, found.work_end) == (
            "WLS", False, time(8, 30), time(17, 0))
    engine.dispose()
    people = run_cli("people", "list", env=cli_env).stdout
    assert all(name in people for name in ("Dee Dpo", "Vic Deputy", "Val Second", "Hal Head"))


def test_setup_rules_refuse_what_is_not_a_setup(tmp_path: Path) -> None:
    assert setup.names(" Vic Deputy, ,Val Second ,") == ("Vic Deputy", "Val Second")
    assert setup.check_hours("08:00-18:00") == (time(8), time(18))
    assert setup.check_hours("8am-6pm") == (time(8), time(18))
    assert setup.check_hours("8.30am to 12pm") == (time(8, 30), time(12))
    assert [setup.check_region(r) for r in ("england", "Wls", " Northern Ireland")] == [
        "ENG", "WLS", "NIR"]
    with pytest.raises(ValueError, match="Unknown region 'Kent'"):
        setup.check_region("Kent")
    for bad in ("18:00-08:00", "all day", "9-5", "13pm-2pm"):
        with pytest.raises(ValueError):
            setup.check_hours(bad)
    with pytest.raises(ValueError, match="Unknown time zone"):
        setup.check_timezone("Europe/Nowhere")
    assert setup.check_calendar("  ") is None
    binary = tmp_path / "terms.xlsx"
    binary.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    with pytest.raises(ValueError, match="Term dates not imported: The file is not a CSV"):
        setup.check_calendar(str(binary))
    answers = setup.Setup(name="X", region="ENG", timezone="Europe/London", maintained=True,
                          hours=(time(8), time(18)), sar_years=1, consent_months=12,
                          dpo=" Dee Dpo ", deputies=("Vic Deputy",))
    assert answers.team() == [("Dee Dpo", Role.DPO, None), ("Vic Deputy", Role.DEPUTY, None)]


def test_help_imports_no_database_code() -> None:
    """`dpo-bot --help` stays fast: the choices mirror the core's tables rather than import
    them, and everything heavy is imported inside the command that needs it."""
    code = ("import sys, bot.cli; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sqlalchemy', 'sqlmodel', 'holidays', 'workflows', 'alembic'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def test_python_m_bot_cli_is_the_same_command(cli_env: dict[str, str]) -> None:
    """What bench/ and the Slack runner tests start: a fresh process, its exit status and its
    one-line refusal on stderr."""
    done = spawn_cli("deadline", "sar", "2024-11-25", "--json", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["due"] == "2024-12-27"
    done = spawn_cli("deadline", "sar", "the 31st of Smarch", env=cli_env)
    assert (done.returncode, done.stdout) == (2, "")
    assert "RECEIVED: Sorry, I didn't understand" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [("deadline", "sar")])
def test_the_region_default_is_one_of_the_choices_listed(cli_env: dict[str, str],
                                                         command: tuple[str, ...]) -> None:
    """Typer lists a case-blind choice in lower case: the default is shown the same way (and
    still reaches the command as the core's ENG)."""
    shown = run_cli(*command, "--help", env=cli_env).stdout
    assert "eng|wls|sct|nir" in shown and "[default: eng]" in shown
    assert "ENG" not in shown


def test_the_default_region_reaches_the_command_as_the_cores(cli_env: dict[str, str]) -> None:
    # 25 August 2025 is a bank holiday in England, not in Scotland.
    england = json.loads(run_cli("deadline", "sar", "2025-07-25", "--json", env=cli_env).stdout)
    scotland = json.loads(run_cli("deadline", "sar", "2025-07-25", "--region", "sct", "--json",
                                  env=cli_env).stdout)
    assert (england["due"], scotland["due"]) == ("2025-08-26", "2025-08-25")


def test_a_letter_prints_plain_and_save_writes_it(cli_env: dict[str, str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal shows a letter with no box to copy borders from, and “save” (just after
    it) writes it to a file that does not exist yet."""
    from tests.conftest import PARENT_SAR, make_school
    from workflows.database import make_engine, upgrade

    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    make_school(engine).says("sam", *PARENT_SAR, "yes")
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "letters" / "jane.txt"
    elsewhere.parent.mkdir()
    done = run_cli("chat", "--user", "Dee Dpo", "--no-reminders", env=cli_env, stdin="\n".join((
        "letter SAR-2026-0001 acknowledgement", "save", "save",
        "letter SAR-2026-0001 acknowledgement", f"save as {elsewhere}")) + "\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    dear = next(line for line in lines if "Dear Jane Parent" in line)
    assert dear == "Dear Jane Parent,"  # no border, no padding
    assert not any("│" in line for line in lines)
    assert "“save” writes it to acknowledgement-sar-2026-0001.txt" in done.stdout
    saved = (tmp_path / "acknowledgement-sar-2026-0001.txt").read_text(encoding="utf-8")
    assert "Dear Jane Parent," in saved and "Our reference: SAR-2026-0001" in saved
    assert "│" not in saved and "─" not in saved
    # Saved again: the file is never overwritten.
    assert done.stdout.count("Written to acknowledgement-sar-2026-0001.txt") == 1
    assert "acknowledgement-sar-2026-0001.txt already exists, so nothing was written" in \
        done.stdout
    assert elsewhere.read_text(encoding="utf-8") == saved


def test_deadline_reads_dates_as_the_chat_does(cli_env: dict[str, str]) -> None:
    import time_machine

    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=UTC), tick=False):
        done = run_cli("deadline", "sar", "yesterday", env=cli_env)
        assert done.returncode == 0, done.stderr
        assert "Day one is Friday 4 December 2026" in done.stdout
        done = run_cli("deadline", "sar", "3/9/2026", "--paused", "10 September 2026",
                       "2026-09-14", env=cli_env)
        assert done.returncode == 0, done.stderr
        assert "Day one is Thursday 3 September 2026" in done.stdout
    done = run_cli("deadline", "sar", "someday", env=cli_env)
    assert done.returncode == 2
    assert "RECEIVED: Sorry, I didn't understand \"someday\" as a date." in done.stderr
