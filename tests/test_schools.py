"""Many schools in one deployment: each sees only its own, and a trust DPO sees them together."""

from __future__ import annotations

import csv
import io
import subprocess

from sqlmodel import select

from tests.conftest import PARENT_SAR, School_, make_school, run_cli
from workflows.database import make_engine, session_scope, upgrade
from workflows.people.models import Person, Role
from workflows.sar.models import RightsRequest

# Oakwood's first request, from someone else: the same reference as Hillside's first.
OAKWOOD_SAR = tuple("Omar Okoro" if answer == "Jane Parent" else answer for answer in PARENT_SAR)


def _trust(school: School_) -> School_:
    """A second school; Dee is the DPO at both (one email), Vic a deputy at the first only."""
    other = make_school(school.engine, slug="oakwood", name="Oakwood Academy")
    with session_scope(school.engine) as session:
        session.get(Person, school.people["dee"]).email = "dee@trust.example"
        moved = session.get(Person, other.people["dee"])
        moved.email, moved.role = "Dee@Trust.example", Role.DEPUTY  # a deputy there
    return other


def test_a_trust_dpo_sees_every_schools_open_cases_and_nobody_else_does(school: School_) -> None:
    other = _trust(school)
    school.says("sam", *PARENT_SAR, "yes")  # SAR at Hillside
    other.says("sam", "report a breach", "Lost a USB stick with the class list", "now", "no",
               "yes")  # breach at Oakwood
    trust = school.says("dee", "trust")
    assert "Open cases at 2 schools: Hillside Primary, Oakwood Academy" in trust
    lines = trust.splitlines()
    hillside = next(line for line in lines if line.startswith("Hillside Primary | SAR-"))
    oakwood = next(line for line in lines if line.startswith("Oakwood Academy | BRE-"))
    assert lines.index(oakwood) < lines.index(hillside)  # 72 hours before a month
    assert "Jane Parent" not in trust and "USB" not in trust  # references only

    # Vic is a deputy at Hillside only: the trust view is Hillside's list.
    assert "Open cases at 1 school: Hillside Primary" in school.says("vic", "trust")
    assert "BRE-" not in school.says("vic", "trust")
    # Staff have no trust view at all.
    assert "The trust view is for the DPO team" in school.says("sam", "trust")


def test_no_school_sees_anothers_cases(school: School_) -> None:
    other = _trust(school)
    school.says("sam", *PARENT_SAR, "yes")  # Hillside's SAR-2026-0001
    other.says("sam", *PARENT_SAR, "yes")
    other.says("sam", *PARENT_SAR, "yes")  # Oakwood's SAR-2026-0002: Hillside has none
    theirs = "SAR-2026-0002"
    # Hillside's DPO, asking at Hillside, cannot open, act on or list Oakwood's case.
    assert "can't find a case" in school.says("dee", theirs)
    assert "can't find a case" in school.says("dee", f"take {theirs}")
    assert "can't find a case" in school.says("dee", f"letter {theirs} acknowledgement")
    assert "can't find a case" in school.says("dee", f"history {theirs}")
    listed = school.says("dee", "cases")
    assert "SAR-2026-0001" in listed and theirs not in listed
    assert theirs not in school.says("dee", "digest")


def test_the_same_reference_at_two_schools_is_two_cases(school: School_) -> None:
    other = _trust(school)
    assert "Saved as SAR-2026-0001." in school.says("sam", *PARENT_SAR, "yes")
    assert "Saved as SAR-2026-0001." in other.says("sam", *OAKWOOD_SAR, "yes")
    # Each school's reference opens that school's case, and only that one.
    here, there = school.says("dee", "SAR-2026-0001"), other.says("dee", "SAR-2026-0001")
    assert "Jane Parent" in here and "Omar Okoro" not in here
    assert "Omar Okoro" in there and "Jane Parent" not in there
    # Acting on it at Oakwood changes Oakwood's case alone.
    assert "is yours now" in other.says("dee", "take SAR-2026-0001", "yes")
    with session_scope(school.engine) as session:
        owners = {r.school_id: r.owner_id for r in session.exec(select(RightsRequest))}
    assert owners == {school.school_id: None, other.school_id: other.people["dee"]}
    assert "| take |" in other.says("dee", "history SAR-2026-0001")
    assert "| take |" not in school.says("dee", "history SAR-2026-0001")
    letter = other.says("dee", "letter SAR-2026-0001 acknowledgement")
    assert "Omar Okoro" in letter and "Jane Parent" not in letter
    # The trust view lists both, each under its own school.
    trust = school.says("dee", "trust")
    assert "Hillside Primary | SAR-2026-0001" in trust
    assert "Oakwood Academy | SAR-2026-0001" in trust


def test_cli_commands_keep_to_the_school_asked_for(cli_env: dict[str, str]) -> None:
    env = cli_env
    engine = make_engine(env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    hillside = make_school(engine)
    oakwood = make_school(engine, slug="oakwood", name="Oakwood Academy")
    hillside.says("sam", *PARENT_SAR, "yes")
    make_school(engine, slug="st-marys", name="St Mary's")  # nothing logged yet
    oakwood.says("sam", *OAKWOOD_SAR, "yes")  # also SAR-2026-0001, Oakwood's own
    engine.dispose()

    def cli(*args: str) -> str:
        done = run_cli(*args, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def register(slug: str) -> list[tuple[str, str]]:
        rows = csv.DictReader(io.StringIO(cli("export", "sars", "--school", slug)))
        return [(row["reference"], row["requester"]) for row in rows]

    assert register("hillside") == [("SAR-2026-0001", "Jane Parent")]
    assert register("oakwood") == [("SAR-2026-0001", "Omar Okoro")]
    assert register("st-marys") == []
    assert "SAR-" not in cli("digest", "--school", "st-marys")
    assert oakwood.school_id != hillside.school_id


def test_cli_adds_a_second_school_with_its_own_team_and_settings(
        cli_env: dict[str, str]) -> None:
    env = cli_env

    def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = run_cli(*args, env=env)
        assert done.returncode == code, done.stdout + done.stderr
        return done

    cli("setup", "--name", "Hillside Primary", "--region", "ENG", "--timezone",
        "Europe/London", "--maintained", "--hours", "08:00-18:00", "--dpo", "Dee Dpo",
        "--dpo-email", "dee@trust.example", "--deputies", "", "--head", "Hal Head",
        "--sar-years", "1", "--calendar", "", "--consent-months", "12")
    assert "No school called “oakwood”" in cli("people", "list", "--school", "oakwood",
                                               code=2).stderr
    assert "cannot be a school's short name" in cli("schools", "add", "Oak Wood", "--name",
                                                    "Oakwood", code=2).stderr
    assert "is not an email domain" in cli("schools", "add", "oakwood", "--name", "Oakwood",
                                           "--email-domain", "oakwood", code=2).stderr
    assert "Next: dpo-bot setup --school oakwood" in cli(
        "schools", "add", "oakwood", "--name", "Oakwood Academy", "--email-domain",
        "@Oakwood.sch.uk", "--email-domain", "trust.example").stdout
    assert "already a school called oakwood" in cli("schools", "add", "oakwood", "--name",
                                                    "Again", code=2).stderr
    cli("setup", "--school", "oakwood", "--name", "Oakwood Academy", "--region", "ENG",
        "--timezone", "Europe/London", "--no-maintained", "--hours", "08:30-17:00", "--dpo",
        "Dee Dpo", "--dpo-email", "dee@trust.example", "--deputies", "Olu Deputy", "--head",
        "Ola Head", "--sar-years", "2", "--calendar", "", "--consent-months", "24")
    listed = cli("schools", "list").stdout
    assert "oakwood" in listed and "Oakwood Academy" in listed and "Hillside Primary" in listed
    assert "oakwood.sch.uk,trust.example" in listed
    oakwood_people = cli("people", "list", "--school", "oakwood").stdout
    assert "Olu Deputy" in oakwood_people and "Hal Head" not in oakwood_people
    engine = make_engine(env["DPO_BOT_DATABASE_URL"])
    with session_scope(engine) as session:
        from workflows.schools.models import School

        schools = {s.slug: s for s in session.exec(select(School))}
        assert schools["oakwood"].maintained is False
        assert schools["oakwood"].retention["sar_closed_years"] == 2
        assert schools["default"].retention["sar_closed_years"] == 1
    engine.dispose()


def test_in_the_terminal_someone_at_two_schools_chooses_which(cli_env: dict[str, str]) -> None:
    """`dpo-bot chat` without --school: Dee (DPO at Hillside, deputy at Oakwood) switches."""
    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    hillside = make_school(engine)
    oakwood = make_school(engine, slug="oakwood", name="Oakwood Academy")
    with session_scope(engine) as session:
        session.get(Person, oakwood.people["dee"]).role = Role.DEPUTY
    hillside.says("sam", *PARENT_SAR, "yes")
    engine.dispose()

    done = run_cli("chat", "--user", "Dee Dpo", "--no-reminders", env=cli_env, stdin="\n".join((
        "school", "school nowhere", "cases", "school oakwood", "cases", "sar", "cancel",
        "school hillside", "cases")) + "\n")
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "You're working with Hillside Primary. Your schools:" in out
    assert "I don't know you at a school called “nowhere”" in out
    first, rest = out.split("You're now working with Oakwood Academy", 1)
    at_oakwood, back = rest.split("You're now working with Hillside Primary", 1)
    assert "SAR-2026-0001" in first and "SAR-2026-0001" not in at_oakwood
    assert "This is for Oakwood Academy" in at_oakwood  # the new request says where it goes
    assert "SAR-2026-0001" in back


def test_a_newcomer_is_linked_to_one_record_a_school(school: School_) -> None:
    """Two records with one email at a school (set up twice): the first is linked, and the
    newcomer is not refused for it."""
    from workflows.schools import membership

    oakwood = make_school(school.engine, slug="oakwood", name="Oakwood Academy")
    with session_scope(school.engine) as session:
        for found, name in ((school, "Tia Trust"), (oakwood, "Tia Trust"),
                            (school, "Tia Trust (again)")):
            session.add(Person(school_id=found.school_id, name=name, email="tia@trust.example"))
    with session_scope(school.engine) as session:
        served = (school.school_id, oakwood.school_id)
        newcomer = membership.Newcomer("Tia", "Tia@Trust.example", home="T0TRUST")
        person = membership.place(session, "slack", "U0TIA", served, newcomer, "T0TRUST")
        linked = session.exec(select(Person).where(Person.slack_user_id == "U0TIA")
                              .order_by(Person.id)).all()
    assert sorted(p.school_id for p in linked) == sorted(served)
    assert person.id == min(p.id for p in linked if p.school_id == school.school_id)


def test_an_accounts_records_are_those_at_the_schools_served_active_first(
        school: School_) -> None:
    """A bot serving some of a trust's schools sees only their records of the account."""
    from workflows.schools import membership

    oakwood = make_school(school.engine, slug="oakwood", name="Oakwood Academy")
    birch = make_school(school.engine, slug="birch", name="Birch Primary")
    with session_scope(school.engine) as session:
        for found, active in ((school, False), (oakwood, True), (birch, True)):
            session.add(Person(school_id=found.school_id, name="Tia Trust", active=active,
                               slack_user_id="U0TIA"))
    with session_scope(school.engine) as session:
        served = (school.school_id, oakwood.school_id)
        every = membership.records(session, "slack", "U0TIA", served, active=False)
        active = membership.records(session, "slack", "U0TIA", served)
        assert [s.id for s, _ in every] == [oakwood.school_id, school.school_id]
        assert [s.id for s, _ in active] == [oakwood.school_id]
        assert membership.records(session, "slack", "U0OTHER", served) == []


def test_among_the_served_schools_is_the_same_on_both_databases(school: School_) -> None:
    """``among``: an array parameter on PostgreSQL, an IN list on SQLite; the same rows."""
    from workflows.schools.models import School
    from workflows.schools.service import among

    other = make_school(school.engine, "Oak Academy", "oak").school_id
    third = make_school(school.engine, "Elm High", "elm").school_id
    with session_scope(school.engine) as session:
        def ids(served: tuple[int, ...]) -> set[int | None]:
            return {s.id for s in session.exec(select(School).where(
                among(session, School.id, served)))}

        assert ids((school.school_id, third)) == {school.school_id, third}
        assert ids((other,)) == {other}
        assert ids(()) == set()
        assert ids(tuple(range(third + 1, third + 30_000))) == set()  # a hosted service's
