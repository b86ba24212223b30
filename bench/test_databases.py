"""A fresh, migrated database for each test: what each way of making one costs.

The test suite needs hundreds of them (every database test runs on SQLite and PostgreSQL).
Measured here, each N times (median and min, wall seconds):

- SQLite: running the migrations on an empty file, against copying a migrated template file;
- PostgreSQL: running the migrations on an empty database; ``CREATE DATABASE ... TEMPLATE``
  with each of PostgreSQL 15's strategies (WAL_LOG, the default, and FILE_COPY), dropping it
  after; replaying the migrations' recorded DDL into a new schema, dropping it after;
  ``TRUNCATE`` of every table; and what the tests do (tests/databases.py): a migrated
  database of the run's own, lent again, so emptied (rows deleted, sequences restarted).

    python -m bench.test_databases [--runs 10] [--postgres postgresql+psycopg://.../test]

The PostgreSQL URL names a database to connect to (the databases measured are created beside
it, named ``dpobench_<pid>_*``, and dropped at the end). Without it only SQLite is measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, event, inspect, make_url, text

from tests.databases import PostgresRun
from workflows.database import make_engine, upgrade

PREFIX = f"dpobench_{os.getpid()}"


def timed(runs: int, once: Callable[[int], None]) -> tuple[float, float]:
    seconds = []
    for i in range(runs):
        started = time.perf_counter()
        once(i)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), min(seconds)


def report(label: str, figures: tuple[float, float]) -> None:
    print(f"{label:<58} median {figures[0] * 1000:7.1f} ms   min {figures[1] * 1000:7.1f} ms")


def sqlite(runs: int) -> None:
    folder = Path(tempfile.mkdtemp())
    template = folder / "template.db"
    engine = make_engine(f"sqlite:///{template}")
    upgrade(engine)
    engine.dispose()

    def migrate(i: int) -> None:
        engine = make_engine(f"sqlite:///{folder / f'migrated-{i}.db'}")
        upgrade(engine)
        engine.dispose()

    def copy(i: int) -> None:
        shutil.copyfile(template, folder / f"copied-{i}.db")
        make_engine(f"sqlite:///{folder / f'copied-{i}.db'}").dispose()

    report("SQLite: run the migrations on an empty file", timed(runs, migrate))
    report("SQLite: copy the migrated template file", timed(runs, copy))
    shutil.rmtree(folder)


def postgres(url: str, runs: int) -> None:
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    server = make_url(url)

    def on(database: str) -> Engine:
        return make_engine(server.set(database=database).render_as_string(hide_password=False))

    def sql(statement: str) -> None:
        with admin.connect() as connection:
            connection.execute(text(statement))

    template = f"{PREFIX}_tpl"
    sql(f'CREATE DATABASE "{template}"')
    recorded: list[str] = []
    engine = on(template)

    @event.listens_for(engine, "before_cursor_execute")
    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            recorded.append(statement if not parameters else statement % parameters)

    upgrade(engine)
    engine.dispose()

    def migrate(i: int) -> None:
        name = f"{PREFIX}_m{i}"
        sql(f'CREATE DATABASE "{name}"')
        engine = on(name)
        upgrade(engine)
        engine.dispose()
        sql(f'DROP DATABASE "{name}" WITH (FORCE)')

    def copy(strategy: str) -> Callable[[int], None]:
        def once(i: int) -> None:
            name = f"{PREFIX}_{strategy.lower()}{i}"
            sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY {strategy}')
            engine = on(name)
            engine.connect().close()
            engine.dispose()
            sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        return once

    scratch = on(template)

    def schema(i: int) -> None:
        name = f"s{i}"
        with scratch.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
            connection.execute(text(f'SET LOCAL search_path TO "{name}"'))
            for statement in recorded:
                connection.exec_driver_sql(statement.replace("%%", "%"))
        with scratch.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))

    report("PostgreSQL: run the migrations on a new database (+ drop)", timed(runs, migrate))
    report("PostgreSQL: CREATE DATABASE TEMPLATE, WAL_LOG (+ drop)", timed(runs, copy("WAL_LOG")))
    report("PostgreSQL: CREATE DATABASE TEMPLATE, FILE_COPY (+ drop)",
           timed(runs, copy("FILE_COPY")))
    report(f"PostgreSQL: replay {len(recorded)} recorded statements into a schema (+ drop)",
           timed(runs, schema))
    tables = ", ".join(f'"{t}"' for t in
                       inspect(scratch).get_table_names() if t != "alembic_version")

    def truncate(_i: int) -> None:
        with scratch.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    run = PostgresRun(url)
    run.migrated()  # the first is created and migrated; every later one is emptied
    run.give_back()

    def lend(_i: int) -> None:
        run.migrated()
        run.give_back()

    report("PostgreSQL: TRUNCATE every table, RESTART IDENTITY", timed(runs, truncate))
    report("PostgreSQL: the tests' way: a database lent again, emptied", timed(runs, lend))
    run.close()
    scratch.dispose()
    sql(f'DROP DATABASE "{template}" WITH (FORCE)')
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--postgres", default=os.environ.get("DPO_BOT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    sqlite(args.runs)
    if args.postgres:
        postgres(args.postgres, args.runs)


if __name__ == "__main__":
    main()
