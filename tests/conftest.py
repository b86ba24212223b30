"""Shared fixtures: a real database (SQLite file, and PostgreSQL when configured) and a
chat driver that talks to the real workflows the way an adapter does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from tests import databases
from workflows.core.chat import respond
from workflows.core.context import Context
from workflows.core.ui import Card, Question, Reply, Summary, Table, Text
from workflows.database import make_engine, session_scope, upgrade
from workflows.people.models import Person, Role
from workflows.schools.models import School

POSTGRES_URL = databases.POSTGRES_URL
DATABASES = ["sqlite", "postgresql"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    databases.finish()


@pytest.fixture(autouse=True)
def _databases_given_back() -> Iterator[None]:
    """A PostgreSQL database lent to a test goes back to the pool when the test ends."""
    yield
    databases.give_back()


def fresh_database_url(kind: str, tmp_path: Path) -> str:
    """A fresh database, migrated once per session and copied or emptied (tests/databases.py)."""
    if kind == "postgresql":
        return databases.postgres_run().migrated()
    return databases.sqlite_copy(tmp_path / "dpo-bot.db")


def empty_database(kind: str, tmp_path: Path) -> Engine:
    """A database with nothing in it yet, not even the schema, for a test to migrate."""
    if kind == "postgresql":
        return make_engine(databases.postgres_run().empty())
    return make_engine(f"sqlite:///{tmp_path / 'dpo-bot.db'}")


@pytest.fixture(params=DATABASES)
def engine(request, tmp_path) -> Iterator[Engine]:
    """A fresh database with the real migrations' schema: SQLite, then PostgreSQL."""
    engine = make_engine(fresh_database_url(request.param, tmp_path))
    yield engine
    engine.dispose()


@pytest.fixture(params=DATABASES)
def migrated_engine(request, tmp_path) -> Iterator[Engine]:
    """An empty database that the real migrations have just run on (tests/test_migrations)."""
    engine = empty_database(request.param, tmp_path)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=DATABASES)
def cut(request, tmp_path):
    """A fresh database that a test can make unreachable and bring back (``Cut``)."""
    from tests.test_faults import Cut

    database = Cut(request.param, tmp_path)
    yield database
    database.close()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url("sqlite", tmp_path))
    yield engine
    engine.dispose()


def text_of(replies: list[Reply]) -> str:
    """Everything a person would read, as one string (for assertions)."""
    parts: list[str] = []
    for r in replies:
        if isinstance(r, Text):
            parts.append(r.text)
        elif isinstance(r, Question):
            parts.append(r.prompt)
        elif isinstance(r, Summary):
            parts += [f"{a}: {b}" for a, b in r.rows] + list(r.notes)
        elif isinstance(r, Card):
            parts += [r.reference, r.status] + [f"{a}: {b}" for a, b in r.rows]
            parts += [r.deadline or ""] + [b.command for b in r.buttons]
        elif isinstance(r, Table):
            parts += [r.title, r.empty] + [" | ".join(row) for row in r.rows]
        else:
            parts.append(getattr(r, "body", str(r)))
    return "\n".join(parts)


@dataclass
class School_:
    """A school with its people, and a way to talk to the bot as any of them."""

    engine: Engine
    school_id: int
    people: dict[str, int] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    adapter: str = "terminal"

    def say(self, who: str, message: str, *, channel: str | None = None) -> list[Reply]:
        with session_scope(self.engine) as session:
            return respond(self.context(session, who), channel or f"test:{who}", message)

    def says(self, who: str, *messages: str) -> str:
        """Several lines in a row; returns what the last one answered, as text."""
        replies: list[Reply] = []
        for message in messages:
            replies = self.say(who, message)
        return text_of(replies)

    def context(self, session: Session, who: str) -> Context:
        return Context(
            session=session,
            school=session.get(School, self.school_id),
            person=session.get(Person, self.people[who]),
            adapter=self.adapter,
            now=self.now,
        )


@pytest.fixture
def school(engine) -> School_:
    return make_school(engine)


def make_school(engine: Engine, name: str = "Hillside Primary", slug: str = "hillside") -> School_:
    with session_scope(engine) as session:
        found = School(slug=slug, name=name, configured=True)
        session.add(found)
        session.flush()
        people = {}
        for person_name, role in (
            ("Sam Teacher", Role.STAFF),
            ("Kim Teacher", Role.STAFF),
            ("Dee Dpo", Role.DPO),
            ("Vic Deputy", Role.DEPUTY),
            ("Hal Head", Role.HEAD),
        ):
            person = Person(school_id=found.id, name=person_name, role=role)
            session.add(person)
            session.flush()
            people[person_name.split()[0].lower()] = person.id
        return School_(engine=engine, school_id=found.id, people=people)


# A parent's SAR as a teacher would type it, answer by answer.
PARENT_SAR = (
    "I need to log a subject access request",
    "1",  # subject access
    "Jane Parent",
    "parent",
    "no",  # not about herself
    "Tom Parent",
    "jane@example.org",
    "skip",
    "skip",
    "email",
    "yesterday 14:00",
    "All behaviour records for Tom held by the class teacher",
    "no",  # no ID needed
)


# --- the command line, as a person runs it ------------------------------------------------

def run_cli(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``dpo-bot ARGS`` in this process, through the console script's own ``main`` (so its
    one-line failures too), with ``env`` as the whole environment and ``stdin`` piped in.

    A fresh process per command proved nothing more and cost about a second each; the tests
    that need a process (signals, the entry point, a server) start one with ``spawn_cli``.
    """
    from typer.testing import CliRunner

    from bot.cli import main

    whole = {name: None for name in os.environ if name not in env} | env
    with CliRunner().isolation(input=stdin, env=whole) as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        sys.stdout.flush(), sys.stderr.flush()
        return subprocess.CompletedProcess(
            list(args), code, out.getvalue().decode(), err.getvalue().decode())


def spawn_cli(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``dpo-bot ARGS`` in a fresh process from this checkout, as ``python -m bot.cli``."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
        env=env, timeout=60, cwd=Path(__file__).parent.parent,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The CLI on its own SQLite file; COLUMNS keeps rich from wrapping error messages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPO_BOT_")}
    return env | {"DPO_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
                  "COLUMNS": "200", "NO_COLOR": "1"}


def add_staff(school: School_, count: int) -> None:
    """A large school: ``count`` more teachers set up, every one a colleague a SAR can go to."""
    with session_scope(school.engine) as session:
        session.add_all(Person(school_id=school.school_id, name=f"Teacher {n:03d}",
                               role=Role.STAFF) for n in range(count))
