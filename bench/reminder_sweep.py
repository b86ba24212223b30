"""Reminder sweep at the size of a hosted service: does its time follow the due count?

For each size, a fresh schema gets N open SARs across 200 schools, each with its planned
nudges still to come (14, 7 and 2 days before and on the day: four rows a case), plus exactly
1,000 nudges due now, for 1,000 of those cases. Then one real ``sweep`` runs (the real
handlers render each nudge and write its notification) and the table shows its time and the
time of its claim queries. Rows are bulk-loaded (COPY on PostgreSQL, executemany on SQLite).

    python bench/reminder_sweep.py --database postgresql+psycopg://postgres@127.0.0.1/bench_sweep

The database given is EMPTIED (its public schema dropped) for each size: use a scratch one.
Without --database a temporary SQLite file is used, for 10,000 and 100,000 cases only.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, text
from sqlmodel import Session

from workflows.database import make_engine, upgrade
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.reminders import service
from workflows.reminders.models import Reminder
from workflows.sar.models import RightsRequest
from workflows.schools.models import School

# Tuesday 24 November 2026, 10:00 in London: a working day, inside working hours, so every
# due nudge is sent (none deferred) and no Monday digest is due.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
KINDS = (("deadline.in_14_days", 14), ("deadline.in_7_days", 7), ("deadline.in_2_days", 2),
         ("deadline.today", 0))
CASE_COLUMNS = ("id", "school_id", "reference", "request_type", "state", "version",
                "requester_name", "relationship", "channel", "received_at", "received_on",
                "details", "id_required", "extended", "due_on", "deadline_rule", "owner_id",
                "created_by_id", "created_at")
REMINDER_COLUMNS = ("school_id", "subject_type", "subject_id", "person_id", "kind", "target",
                    "due_at", "working_hours", "dedupe_key", "attempts", "created_at")


def naive(moment: datetime) -> datetime:
    """UTC without tzinfo, as UTCDateTime stores it (the bulk load bypasses the type)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def fresh(url: str | None, size: int) -> Engine:
    if url is None:
        return make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / f'sweep-{size}.db'}")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    return engine


def people(engine: Engine, schools: int) -> dict[int, int]:
    """200 schools, each with its DPO (who owns that school's cases); school id -> DPO id."""
    with Session(engine) as session:
        session.execute(insert(School.__table__), [
            {"id": s, "slug": f"school-{s}", "name": f"School {s}", "region": "ENG",
             "timezone": "Europe/London", "maintained": True, "working_days": "0,1,2,3,4",
             "work_start": clock(8, 0), "work_end": clock(18, 0), "retention": {},
             "configured": True, "created_at": NOW} for s in range(1, schools + 1)])
        session.execute(insert(Person.__table__), [
            {"id": s, "school_id": s, "name": f"DPO {s}", "role": "dpo", "active": True,
             "consent_lookup": False, "created_at": NOW} for s in range(1, schools + 1)])
        session.commit()
    return {s: s for s in range(1, schools + 1)}


def cases(size: int, schools: int, due_ids: set[int], rng: random.Random, now: datetime = NOW
          ) -> Iterator[tuple[tuple, list[tuple]]]:
    """Each open case and its pending nudges, as rows in CASE_COLUMNS / REMINDER_COLUMNS."""
    today = now.date()
    created = naive(now - timedelta(days=3))
    for case_id in range(1, size + 1):
        school = 1 + case_id % schools
        if case_id in due_ids:
            due_on = today + timedelta(days=2)  # its "2 days left" nudge is due now
        else:
            due_on = today + timedelta(days=15 + rng.randrange(16))  # every nudge to come
        received = due_on - timedelta(days=30)
        case = (case_id, school, f"SAR-{school:03d}-{case_id:07d}", "access", "open", 1,
                f"Requester {case_id}", "parent", "email", naive(now - timedelta(days=3)),
                received, "All records", False, False, due_on, "one_month", school, school,
                created)
        reminders = []
        for kind, days in KINDS:
            if case_id in due_ids and days == 2:
                due_at = now - timedelta(minutes=rng.randrange(1, 120))
            elif case_id in due_ids and days > 2:
                continue  # already sent in real life; not part of the pending set
            else:
                day = due_on - timedelta(days=days)
                due_at = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)
            reminders.append((school, "sar", case_id, school, kind, due_on.isoformat(),
                              naive(due_at), True,
                              f"sar:{case_id}:{due_on.isoformat()}:{kind}:{school}", 0, created))
        yield case, reminders


def load(engine: Engine, size: int, schools: int, due: int, seed: int = 5,
         now: datetime = NOW) -> int:
    """Bulk-load the cases and reminders (``due`` of them due at ``now``); returns the number
    of reminder rows."""
    rng = random.Random(seed)
    due_ids = set(rng.sample(range(1, size + 1), due))
    rows = 0
    chunk = 50_000
    generated = cases(size, schools, due_ids, rng, now)
    while True:
        case_rows, reminder_rows = [], []
        for case, reminders in generated:
            case_rows.append(case)
            reminder_rows += reminders
            if len(case_rows) == chunk:
                break
        if not case_rows:
            break
        rows += len(reminder_rows)
        if engine.dialect.name == "postgresql":
            _copy(engine, "rights_request", CASE_COLUMNS, case_rows)
            _copy(engine, "reminder", REMINDER_COLUMNS, reminder_rows)
        else:
            with Session(engine) as session:
                session.execute(insert(RightsRequest.__table__), _dicts(CASE_COLUMNS, case_rows))
                session.execute(insert(Reminder.__table__),
                                _dicts(REMINDER_COLUMNS, reminder_rows))
                session.commit()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval(pg_get_serial_sequence('rights_request', "
                                    "'id'), (SELECT max(id) FROM rights_request))"))
        connection.execute(text("ANALYZE"))  # as autovacuum would have, in a live database
    return rows


def _dicts(columns: tuple[str, ...], rows: list[tuple]) -> list[dict]:
    """Rows for Core's executemany, whose UTCDateTime columns want aware datetimes back."""
    return [{c: v.replace(tzinfo=UTC) if isinstance(v, datetime) else v
             for c, v in zip(columns, row, strict=True)} for row in rows]


def _copy(engine: Engine, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """PostgreSQL COPY through psycopg: the fastest way in, and still ordinary rows."""
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def explain(engine: Engine) -> str:
    """The claim query's plan and time, run and rolled back (nothing stays claimed)."""
    query = service.due_query(NOW, 100)
    if engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    compiled = query.compile(engine, compile_kwargs={"literal_binds": False})
    prefix = ("EXPLAIN (ANALYZE, BUFFERS) " if engine.dialect.name == "postgresql"
              else "EXPLAIN QUERY PLAN ")
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            prefix + str(compiled), _driver_params(engine, compiled)).all()
        connection.rollback()
    return "\n".join(" | ".join(str(c) for c in row) for row in plan)


def _driver_params(engine: Engine, compiled) -> tuple | dict:
    params = {k: naive(v) if isinstance(v, datetime) else v
              for k, v in compiled.params.items()}
    if engine.dialect.paramstyle in ("qmark", "numeric", "format"):
        return tuple(params[k] for k in compiled.positiontup)
    return params


def timed_sweep(engine: Engine) -> tuple[float, float, list[float], service.SweepResult]:
    """One real sweep: wall and CPU seconds (this process's: on a shared machine the wall time
    includes other processes' turns), and each claim, timed by wrapping the real ``claim``."""
    claims: list[float] = []
    real = service.claim

    def timed_claim(*args, **kwargs) -> list[int]:
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            claims.append(time.perf_counter() - started)

    service.claim = timed_claim
    try:
        started, cpu = time.perf_counter(), time.process_time()
        result = service.sweep(engine, now=NOW, token="bench")
        return time.perf_counter() - started, time.process_time() - cpu, claims, result
    finally:
        service.claim = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="PostgreSQL URL of a SCRATCH database (emptied); "
                        "default: a temporary SQLite file")
    parser.add_argument("--sizes", default=None,
                        help="open cases per run, comma-separated (default: 10000,100000 and, "
                        "with --database, 1000000)")
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--explain", action="store_true", help="print the claim query's plan")
    args = parser.parse_args()
    sizes = [int(s) for s in (args.sizes or ("10000,100000" + (",1000000" if args.database
                                                                else ""))).split(",")]
    if args.database is None and max(sizes) > 100_000:
        parser.error("sizes over 100,000 need --database (PostgreSQL)")
    console = Console(width=max(Console().width, 130))  # the whole table, also in a log file
    table = Table(title=f"Reminder sweep, {args.due:,} due, {args.schools} schools")
    for column in ("open cases", "reminder rows", "due", "load", "sweep", "sweep CPU",
                   "claim queries", "first claim", "result"):
        table.add_column(column, justify="right")
    dialect = "sqlite"
    for size in sizes:
        engine = fresh(args.database, size)
        dialect = engine.dialect.name
        upgrade(engine)
        people(engine, args.schools)
        started = time.perf_counter()
        rows = load(engine, size, args.schools, args.due)
        loaded = time.perf_counter() - started
        if args.explain:
            console.print(f"[bold]claim query plan, {size:,} cases:[/]\n{explain(engine)}")
        seconds, cpu, claims, result = timed_sweep(engine)
        with Session(engine) as session:
            written = session.execute(text(f"SELECT count(*) FROM {Notification.__tablename__}"))
            notes = written.scalar_one()
        if result.sent != args.due or notes != args.due:
            console.print(f"[red]expected {args.due} sent, got {result} and {notes} notes")
        table.add_row(f"{size:,}", f"{rows:,}", f"{args.due:,}", f"{loaded:.1f} s",
                      f"{seconds:.2f} s", f"{cpu:.2f} s",
                      f"{sum(claims) * 1000:.0f} ms ({len(claims)})",
                      f"{claims[0] * 1000:.1f} ms", f"{result.sent} sent, {result.failed} failed")
        engine.dispose()
    average = os.getloadavg()
    table.caption = (f"{dialect}; sweep clock {NOW:%a %d %b %Y %H:%M} UTC; run "
                     f"{date.today().isoformat()}, {os.cpu_count()} CPUs, load average "
                     f"{average[0]:.2f} {average[1]:.2f} {average[2]:.2f} at the end")
    console.print(table)
    if args.database:
        with make_engine(args.database).begin() as connection:  # leave no big tables behind
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))


if __name__ == "__main__":
    main()
