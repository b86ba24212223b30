"""People and roles: a role changes only through `dpo-bot people`, audited with who did it;
`chat --role` never changes anyone; command-line reads are audited as whoever ran them."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from typer.testing import CliRunner, Result

from bot.cli import app
from tests.conftest import School_, make_school
from tests.test_consent import export
from workflows.audit.models import AuditEvent
from workflows.core.fields import Invalid, colleague
from workflows.database import session_scope
from workflows.people.models import Person

LOGIN = "ops.admin"  # the operating-system user running the commands


def dpo_bot(engine: Engine, *args: str, stdin: str | None = None) -> Result:
    """``dpo-bot ARGS`` through typer's runner, on the test's database, as LOGIN."""
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(app, list(args), input=stdin, env={
        "DPO_BOT_DATABASE_URL": url, "LOGNAME": LOGIN, "USER": LOGIN, "COLUMNS": "200",
        "NO_COLOR": "1"})


def person(engine: Engine, name: str) -> Person | None:
    with session_scope(engine) as session:
        return session.exec(select(Person).where(Person.name == name)).first()


def trail(engine: Engine, prefix: str) -> list[tuple[str, str, dict]]:
    with session_scope(engine) as session:
        return [(e.actor_name, e.action, e.detail) for e in session.exec(
            select(AuditEvent).where(col(AuditEvent.action).startswith(prefix))
            .order_by(col(AuditEvent.id)))]


@pytest.fixture
def hillside(engine: Engine) -> School_:
    return make_school(engine)  # set up, with Dee Dpo as its DPO


def test_every_people_subcommand(hillside: School_, tmp_path: Path) -> None:
    engine = hillside.engine
    added = dpo_bot(engine, "people", "add", "Ann Office", "--slack-id", "U1", "--email",
                    "ann@school.example", "--consent")
    assert added.exit_code == 0, added.output
    assert added.output == ("Ann Office is staff at Hillside Primary. Recorded as done by "
                            f"{LOGIN} (command line).\n")
    ann = person(engine, "Ann Office")
    assert (ann.role, ann.slack_user_id, ann.email, ann.consent_lookup) == (
        "staff", "U1", "ann@school.example", True)

    # The same Slack member cannot be two people; a role never changes by adding details.
    taken = dpo_bot(engine, "people", "add", "Kim Teacher", "--slack-id", "U1")
    assert taken.exit_code == 2 and "Slack member U1 is already Ann Office" in taken.output
    sneaky = dpo_bot(engine, "people", "add", "Sam Teacher", "--role", "dpo")
    assert sneaky.exit_code == 2
    assert 'already staff at Hillside Primary; to make them dpo: dpo-bot people role ' \
           '"Sam Teacher" dpo' in sneaky.output
    assert person(engine, "Sam Teacher").role == "staff"
    assert person(engine, "Kim Teacher").slack_user_id is None
    details = dpo_bot(engine, "people", "add", "Sam Teacher", "--email", "sam@school.example")
    assert details.exit_code == 0 and person(engine, "Sam Teacher").email == "sam@school.example"
    # Without --role, someone already here keeps theirs.
    lookup = dpo_bot(engine, "people", "add", "Hal Head", "--consent")
    assert lookup.exit_code == 0 and "Hal Head is head at Hillside Primary" in lookup.output

    # Only the DPO (or whoever runs the installation) changes roles.
    refused = dpo_bot(engine, "people", "role", "Sam Teacher", "deputy", "--as", "Vic Deputy")
    assert refused.exit_code == 2
    assert "Your role (deputy) does not allow you to change" in refused.output
    unknown = dpo_bot(engine, "people", "role", "Sam Teacher", "deputy", "--as", "Mallory")
    assert unknown.exit_code == 2 and "No one called “Mallory”" in unknown.output
    wrong = dpo_bot(engine, "people", "role", "Sam Teacher", "boss")
    assert wrong.exit_code == 2
    assert "'boss' is not one of 'staff', 'dpo', 'deputy', 'head'" in wrong.output
    done = dpo_bot(engine, "people", "role", "Sam Teacher", "deputy", "--as", "Dee Dpo")
    assert done.exit_code == 0, done.output
    assert "Sam Teacher is deputy at Hillside Primary. Recorded as done by Dee Dpo." in done.output
    again = dpo_bot(engine, "people", "role", "Sam Teacher", "deputy")
    assert again.exit_code == 2 and "already deputy; nothing was changed" in again.output

    # One DPO: naming another hands the role over, and both changes are recorded.
    handed = dpo_bot(engine, "people", "role", "Vic Deputy", "dpo")
    assert handed.output.splitlines()[0] == "Dee Dpo is no longer dpo; now staff."
    assert person(engine, "Dee Dpo").role == "staff"

    gone = dpo_bot(engine, "people", "remove", "Kim Teacher")
    assert gone.exit_code == 0 and "Kim Teacher is removed from Hillside Primary" in gone.output
    assert person(engine, "Kim Teacher").active is False
    twice = dpo_bot(engine, "people", "remove", "Kim Teacher")
    assert twice.exit_code == 2 and "already removed" in twice.output
    nobody = dpo_bot(engine, "people", "remove", "Nobody")
    assert nobody.exit_code == 2 and "No one called “Nobody”" in nobody.output

    left = dpo_bot(engine, "chat", "--user", "Kim Teacher", "--no-reminders", stdin="cases\n")
    assert left.exit_code == 2 and "Kim Teacher was removed from Hillside Primary's people " \
        "list" in left.output

    listed = dpo_bot(engine, "people", "list").output
    assert "│ Kim Teacher │ removed" in listed and "│ Vic Deputy  │ dpo " in listed
    assert "ann@school.example" in listed

    history = dpo_bot(engine, "people", "history", "Sam Teacher")
    assert history.exit_code == 0
    lines = history.output.splitlines()
    assert "updated" in lines[0] and f"by {LOGIN} (command line) (cli)" in lines[0]
    assert "role changed  staff → deputy  by Dee Dpo (cli)" in lines[1]
    assert [a for _, a, _ in trail(engine, "person.")] == [
        "person.added", "person.updated", "person.updated", "person.role_changed",
        "person.role_changed", "person.role_changed", "person.removed", "person.listed",
        "person.viewed"]

    # The audit export carries every role change, with who made it.
    out = tmp_path / "all.zip"
    assert dpo_bot(engine, "export", "all", "--out", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("audit_trail.csv").decode())))
    changes = [(r["who"], r["detail"]) for r in rows if r["action"] == "person.role_changed"]
    assert changes[0][0] == "Dee Dpo" and '"new": "deputy"' in changes[0][1]
    assert rows[-1]["who"] == f"{LOGIN} (command line)"  # the export itself, by its maker


def test_chat_role_never_changes_a_stored_person(hillside: School_) -> None:
    engine = hillside.engine
    promoted = dpo_bot(engine, "chat", "--user", "Sam Teacher", "--role", "dpo",
                       "--no-reminders", stdin="cases\n")
    assert promoted.exit_code == 2
    assert ("Sam Teacher is staff at Hillside Primary, not dpo: a role changes only with "
            'dpo-bot people role "Sam Teacher" dpo') in promoted.output
    assert person(engine, "Sam Teacher").role == "staff"

    mallory = dpo_bot(engine, "chat", "--user", "Mallory", "--role", "dpo", "--no-reminders",
                      stdin="cases\n")
    assert mallory.exit_code == 2
    assert ("No one called “Mallory” at Hillside Primary, so I can't start you as dpo: the DPO "
            'adds people with dpo-bot people add "Mallory" --role dpo') in mallory.output
    assert person(engine, "Mallory") is None

    # Without --role a newcomer joins as staff, as in Slack or Teams, and that is recorded.
    joined = dpo_bot(engine, "chat", "--user", "Mallory", "--no-reminders",
                     stdin="take SAR-2026-0001\n")
    assert joined.exit_code == 0 and "You are Mallory (staff)" in joined.output
    assert person(engine, "Mallory").role == "staff"
    assert trail(engine, "person.") == [
        ("Mallory", "person.joined", {"name": "Mallory", "role": "staff", "why": "first chat"})]
    # Their own role is fine to name.
    same = dpo_bot(engine, "chat", "--user", "Dee Dpo", "--role", "dpo", "--no-reminders",
                   stdin="")
    assert same.exit_code == 0 and "You are Dee Dpo (dpo)" in same.output


def test_a_fresh_database_is_a_demo_until_it_has_a_dpo(engine: Engine) -> None:
    staff = dpo_bot(engine, "chat", "--user", "Sam Teacher", "--role", "staff",
                    "--no-reminders", stdin="help\nsar\ncancel\n")
    assert staff.exit_code == 0 and "Cancelled. Nothing was saved." in staff.output
    dee = dpo_bot(engine, "chat", "--user", "Dee Dpo", "--role", "dpo", "--no-reminders",
                  stdin="cases\n")
    assert dee.exit_code == 0 and "You are Dee Dpo (dpo)" in dee.output
    assert ("Dee Dpo", "person.joined") in [(w, a) for w, a, _ in trail(engine, "person.")]
    # Now the school has a DPO: no one else names themselves into the DPO team.
    vic = dpo_bot(engine, "chat", "--user", "Vic Deputy", "--role", "deputy", "--no-reminders")
    assert vic.exit_code == 2 and 'dpo-bot people add "Vic Deputy" --role deputy' in vic.output
    assert person(engine, "Vic Deputy") is None


def test_setup_records_the_team_it_names(engine: Engine) -> None:
    first = dpo_bot(engine, "setup", "--name", "Hillside Primary", "--region", "ENG",
                    "--timezone", "Europe/London", "--maintained", "--hours", "08:00-18:00",
                    "--dpo", "Dee Dpo", "--dpo-email", "", "--deputies", "Vic Deputy",
                    "--head", "Hal Head", "--sar-years", "1", "--calendar", "",
                    "--consent-months", "12")
    assert first.exit_code == 0, first.output
    again = dpo_bot(engine, "setup", "--name", "Hillside Primary", "--region", "ENG",
                    "--timezone", "Europe/London", "--maintained", "--hours", "08:00-18:00",
                    "--dpo", "Vic Deputy", "--dpo-email", "", "--deputies", "",
                    "--head", "Hal Head", "--sar-years", "1", "--calendar", "",
                    "--consent-months", "12")
    assert "Dee Dpo is no longer dpo; now staff." in again.output
    seen = [(w, a, d.get("name"), d.get("new") or d.get("role"))
            for w, a, d in trail(engine, "person.")]
    by = f"{LOGIN} (command line)"
    assert seen == [(by, "person.added", "Dee Dpo", "dpo"),
                    (by, "person.added", "Hal Head", "head"),
                    (by, "person.added", "Vic Deputy", "deputy"),
                    (by, "person.role_changed", "Dee Dpo", "staff"),
                    (by, "person.role_changed", "Vic Deputy", "dpo")]


def test_command_line_reads_are_audited_as_whoever_ran_them(hillside: School_,
                                                            tmp_path: Path) -> None:
    engine = hillside.engine
    file = tmp_path / "sims.csv"
    file.write_bytes(export("sims"))
    assert dpo_bot(engine, "import", "consents", str(file)).exit_code == 0
    shell = dpo_bot(engine, "consent", "Amelia Smith")
    assert shell.exit_code == 0, shell.output
    assert dpo_bot(engine, "consent-settings", "lookups", "listed").exit_code == 0
    as_sam = dpo_bot(engine, "consent", "Amelia Smith", "--as", "Sam Teacher")
    assert 'Dee Dpo runs: dpo-bot people add "Sam Teacher" --consent' in as_sam.output
    as_dee = dpo_bot(engine, "consent", "Amelia Smith", "--as", "Dee Dpo")
    assert as_dee.exit_code == 0
    unknown = dpo_bot(engine, "consent", "Amelia Smith", "--as", "Mallory")
    assert unknown.exit_code == 2 and "No one called “Mallory”" in unknown.output
    assert dpo_bot(engine, "software", "IXL").exit_code == 0
    assert dpo_bot(engine, "export", "sars", "--as", "Vic Deputy").exit_code == 0
    by = f"{LOGIN} (command line)"
    with session_scope(engine) as session:
        seen = [(e.actor_name, e.action, e.actor_id is None) for e in session.exec(
            select(AuditEvent).where(col(AuditEvent.action).not_like("consent.import%"),
                                     col(AuditEvent.action).not_like("consent.settings%"))
            .order_by(col(AuditEvent.id)))]
    # The shell user, never the DPO, unless the DPO was named; Mallory read nothing.
    assert seen == [(by, "consent.viewed", True), ("Sam Teacher", "consent.refused", False),
                    ("Dee Dpo", "consent.viewed", False), (by, "software.looked_up", True),
                    ("Vic Deputy", "sar.exported", True)]


def test_one_colleague_finder_folds_case_accents_and_punctuation() -> None:
    """``fields.colleague``: a whole name first, else the only name that holds what was typed;
    the refusal for no one is the caller's, for several the same everywhere."""
    team = [Person(school_id=1, name=n) for n in
            ("Zoë O'Brien", "Sam Teacher", "Kim Teacher", "Al Khan", "Alice Khan")]
    assert colleague(team, "zoe obrien", "nobody").name == "Zoë O'Brien"
    assert colleague(team, "SAM", "nobody").name == "Sam Teacher"
    assert colleague(team, "al khan", "nobody").name == "Al Khan"  # whole name wins
    with pytest.raises(Invalid) as several:
        colleague(team, "teacher", "nobody")
    assert (several.value.message, several.value.field) == (
        "Several people match “teacher”: Sam Teacher, Kim Teacher. Please type the full name.",
        "person")
    for typed in ("Zed", "  "):
        with pytest.raises(Invalid) as nobody:
            colleague(team, typed, f"No {typed}.")
        assert nobody.value.message == f"No {typed}."
