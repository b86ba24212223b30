"""Consent import speed and peak memory as the file grows: 2,000, 100,000 and 500,000 rows.

Each import runs as the real command (`dpo-bot import consents FILE`) in its own process, so
the peak resident memory measured (``wait4``'s ru_maxrss) is that import's alone, start-up
included. For each size: a first load into an empty school, a re-import of the same file
(every row compared, nothing written), and a 6-row file afterwards (every other pupil marked
as left), the three cases the issue measured. Run by hand:

    python bench/imports.py [--rows 2000 100000 500000] [--database URL] [--reimport-up-to N]

With no --database, each size gets a fresh SQLite file. With a PostgreSQL URL, each size gets
its own school in that database. Prints a table; the figures go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from workflows.database import make_engine, session_scope, upgrade
from workflows.schools import service as schools

USES = ["Displays", "Printed Publications", "Website", "Social Media", "Video", "Press No Name",
        "Press With Name", "Photographer", "Apps"]
HEADER = ["Adno", "Legal Forename", "Legal Surname", "Preferred Forename", "Year", "Reg", "DOB",
          "No Photographs", "Consent Date", "Consent Given By", *[f"Consent - {u}" for u in USES]]
FIRST = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Zoë", "Leo"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Patel", "Khan", "Evans", "Hughes"]
ANSWERS = ["Yes"] * 8 + ["No", "Not Asked", "Withdrawn"]


def write_export(path: Path, rows: int, seed: int = 7) -> None:
    """A SIMS export of ``rows`` pupils, written line by line (the bench holds no file)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(HEADER) + "\r\n")
        for n in range(rows):
            year = 7 + n % 7
            born = date(2019 - year, 9, 1) + timedelta(days=rng.randrange(365))
            signed = date(2026, 9, 1) - timedelta(days=rng.randrange(500))
            out.write(",".join([
                f"{100000 + n}", rng.choice(FIRST), rng.choice(LAST),
                rng.choice(["", "", "", "Millie", "Alfie"]), str(year),
                f"{year}{'ABCDEFGH'[n % 8]}", born.strftime("%d/%m/%Y"),
                "Yes" if n % 97 == 0 else "No", signed.strftime("%d/%m/%Y"), "Parent",
                *(rng.choice(ANSWERS) for _ in USES)]) + "\r\n")


def run_import(url: str, school: str, file: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS in MB of one import in its own process.

    CPU time beside wall time: on a shared machine the wall clock is mostly other processes'
    turns on the CPU (and, with PostgreSQL, the server's work, which this process's CPU time
    leaves out)."""
    env = os.environ | {"DPO_BOT_DATABASE_URL": url, "DPO_BOT_IMPORT_MAX_MB": "1024"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "import", "consents", str(file), "--school", school],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        cwd=Path(__file__).resolve().parent.parent)
    # wait4, not communicate: it gives this child's own peak memory. The output is short.
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    out = process.stdout.read().decode() + process.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import failed:\n{out}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 100_000, 500_000])
    parser.add_argument("--database", help="SQLAlchemy URL (default: fresh SQLite files)")
    parser.add_argument("--reimport-up-to", type=int, default=100_000,
                        help="re-import only files up to this many rows (the largest take "
                        "longest and show the same per-row cost)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dpo-bench-imports-"))
    table = Table(title="Consent import, each in its own process "
                  f"({'PostgreSQL' if args.database else 'SQLite'})")
    for column in ("rows", "file", "import", "wall s", "rows/s", "CPU s", "rows/CPU s",
                   "peak memory"):
        table.add_column(column, justify="left" if column == "import" else "right")
    small = work / "six.csv"
    write_export(small, 6)
    for rows in args.rows:
        url = args.database or f"sqlite:///{work / f'bench-{rows}.db'}"
        engine = make_engine(url)
        upgrade(engine)
        slug = f"bench{rows}-{int(time.time())}"
        with session_scope(engine) as session:
            schools.add(session, slug, f"Bench {rows}")
        engine.dispose()
        file = work / f"sims-{rows}.csv"
        write_export(file, rows)
        size = f"{file.stat().st_size / 1048576:.1f} MB"
        runs = [("first load", file, rows), ("re-import", file, rows), ("6 rows after", small, 6)]
        if rows > args.reimport_up_to:
            del runs[1]
        for label, path, count in runs:
            seconds, cpu, peak = run_import(url, slug, path)
            table.add_row(f"{rows:,}", size if path is file else "6 rows", label,
                          f"{seconds:.1f}", f"{count / seconds:,.0f}", f"{cpu:.1f}",
                          f"{count / cpu:,.0f}", f"{peak:.0f} MB")
            Console().print(f"{rows:,} {label}: {seconds:.1f} s, CPU {cpu:.1f} s, "
                            f"{peak:.0f} MB", style="dim")
        file.unlink()
    Console().print(table)


if __name__ == "__main__":
    main()
