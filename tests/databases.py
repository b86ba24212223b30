"""Fresh, migrated databases for tests, without running the migrations for each test.

The migrations run once per test session (that they build the right schema is
tests/test_migrations.py's job, which runs them for real). Then:

- SQLite: a migrated template file is copied for each test (under a millisecond).
- PostgreSQL: each pytest run works in databases of its own, named ``dpotest_<pid>_<token>_<n>``
  and created beside the one ``DPO_BOT_TEST_POSTGRES_URL`` names (CI's ``test``, used only to
  connect), so two runs on one server never meet. A database is migrated once, then lent to
  one test at a time and emptied before each (every row deleted, every sequence restarted):
  bench/test_databases.py measured the ways, and creating a database from a template costs
  about half a second and dropping it a checkpoint, while emptying one takes tens of
  milliseconds. Before emptying, every other connection to it is ended, so nothing a test
  left open (a pooled connection, a transaction, a session setting) reaches the next test.
  A test that needs an empty database (to migrate it itself) gets one with an empty schema.

A run keeps one connection open, named after the run (``application_name``), until its
databases are dropped at its end. A run whose databases are left behind (killed before its
end) has no such connection any more, so the next run on the server drops them; a live run's
databases are never touched.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, MetaData, make_url, text

from workflows.database import make_engine, upgrade

PREFIX = "dpotest_"
LIKE = PREFIX.replace("_", "\\_") + "%"  # LIKE's "_" matches any character


class SqliteTemplate:
    """A SQLite file migrated once; each test gets a copy."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "template.db"
        engine = make_engine(f"sqlite:///{self.file}")
        upgrade(engine)
        engine.dispose()  # the last connection out checkpoints the WAL into the file
        assert not self.file.with_name("template.db-wal").exists(), "template left a WAL"

    def copy(self, path: Path) -> str:
        """A migrated database at ``path``; its URL."""
        shutil.copyfile(self.file, path)
        return f"sqlite:///{path}"


@dataclass
class _Lent:
    name: str
    migrated: bool


@dataclass
class PostgresRun:
    """This run's databases on the server ``DPO_BOT_TEST_POSTGRES_URL`` points at."""

    server_url: str
    name: str = field(default_factory=lambda: f"{PREFIX}{os.getpid()}_{secrets.token_hex(4)}")
    _free: list[_Lent] = field(default_factory=list)
    _lent: list[_Lent] = field(default_factory=list)
    _count: int = 0
    _tables: list[str] = field(default_factory=list)  # children before parents
    _sequences: list[str] = field(default_factory=list)
    _emptying: str = ""  # the statements that empty a migrated database

    def __post_init__(self) -> None:
        own = make_url(self.server_url).update_query_dict({"application_name": self.name})
        self._admin = make_engine(own.render_as_string(hide_password=False)).execution_options(
            isolation_level="AUTOCOMMIT")
        self._held: Connection = self._admin.connect()  # this run's sign of life
        self.drop_stale()

    def url(self, database: str) -> str:
        return make_url(self.server_url).set(database=database).render_as_string(
            hide_password=False)

    def _sql(self, statement: str) -> list:
        result = self._held.execute(text(statement))
        return list(result) if result.returns_rows else []

    # -- lending -------------------------------------------------------------------------

    def migrated(self) -> str:
        """The URL of a migrated database with nothing in it, lent until ``give_back``."""
        return self._lend(migrated=True)

    def empty(self) -> str:
        """The URL of a database with an empty schema, lent until ``give_back``."""
        return self._lend(migrated=False)

    def _lend(self, *, migrated: bool) -> str:
        # Any free database can be emptied; only a migrated one can be reset to migrated.
        candidates = [d for d in self._free if d.migrated or not migrated]
        if candidates:
            found = candidates[0]
            self._free.remove(found)
            self._reset(found, migrated=migrated)
        else:
            found = self._create(migrated=migrated)
        self._lent.append(found)
        return self.url(found.name)

    def give_back(self) -> None:
        """Everything lent (at the end of each test): free for the next."""
        self._free += self._lent
        self._lent.clear()

    def _create(self, *, migrated: bool) -> _Lent:
        self._count += 1
        database = _Lent(f"{self.name}_{self._count}", migrated)
        self._sql(f'CREATE DATABASE "{database.name}"')
        if migrated:
            engine = make_engine(self.url(database.name))
            upgrade(engine)
            if not self._tables:
                self._learn(engine)
            engine.dispose()
        return database

    def _learn(self, engine: Engine) -> None:
        """The tables (in an order that deletes children first) and sequences to empty."""
        schema = MetaData()
        schema.reflect(engine)
        self._tables = [t.name for t in reversed(schema.sorted_tables)
                        if t.name != "alembic_version"]
        with engine.connect() as connection:
            self._sequences = list(connection.execute(text(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")).scalars())
            seeded = [t for t in self._tables if connection.execute(
                text(f'SELECT EXISTS (SELECT FROM "{t}")')).scalar_one()]
        # Emptying would remove rows a migration put there, so that is refused, loudly.
        assert not seeded, f"the migrations put rows in {seeded}: emptying would lose them"
        self._emptying = "; ".join([f'DELETE FROM "{t}"' for t in self._tables]
                                   + [f'ALTER SEQUENCE "{s}" RESTART' for s in self._sequences])

    def _reset(self, database: _Lent, *, migrated: bool) -> None:
        self._sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  f"WHERE datname = '{database.name}' AND pid <> pg_backend_pid()")
        engine = make_engine(self.url(database.name))
        with engine.begin() as connection:
            # One round trip: psycopg sends statements without parameters as one script.
            connection.exec_driver_sql(self._emptying if migrated else
                                       "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.dispose()
        database.migrated = migrated

    # -- the end, and the ends other runs never reached ------------------------------------

    def close(self) -> None:
        for database in self._free + self._lent:
            self._sql(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
        self._held.close()
        self._admin.dispose()

    def drop_stale(self) -> list[str]:
        """Drop the databases of runs that ended without dropping them; their names."""
        live = {row[0] for row in self._sql(
            "SELECT DISTINCT application_name FROM pg_stat_activity "
            f"WHERE application_name LIKE '{LIKE}'")}
        stale = [row[0] for row in self._sql(
            f"SELECT datname FROM pg_database WHERE datname LIKE '{LIKE}'")
            if _run_of(row[0]) not in live]
        for database in stale:
            self._sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        return stale


def _run_of(database: str) -> str:
    """``dpotest_<pid>_<token>`` from ``dpotest_<pid>_<token>_<n>``."""
    return database.rsplit("_", 1)[0]


# -- this session's, made when first asked for ---------------------------------------------

POSTGRES_URL = os.environ.get("DPO_BOT_TEST_POSTGRES_URL")
_folder = Path(tempfile.mkdtemp(prefix="dpo-bot-tests-"))
_sqlite: SqliteTemplate | None = None
_postgres: PostgresRun | None = None


def sqlite_copy(path: Path) -> str:
    """A migrated SQLite database at ``path``; its URL."""
    global _sqlite
    _sqlite = _sqlite or SqliteTemplate(_folder)
    return _sqlite.copy(path)


def postgres_run() -> PostgresRun:
    """This session's PostgreSQL databases (the test is skipped where none is configured)."""
    global _postgres
    if not POSTGRES_URL:
        pytest.skip("DPO_BOT_TEST_POSTGRES_URL is not set (CI sets it)")
    _postgres = _postgres or PostgresRun(POSTGRES_URL)
    return _postgres


def give_back() -> None:
    """After each test: what it was lent is free for the next."""
    if _postgres is not None:
        _postgres.give_back()


def finish() -> None:
    """At the end of the session: this run's databases dropped, the template file removed."""
    if _postgres is not None:
        _postgres.close()
    shutil.rmtree(_folder, ignore_errors=True)
