"""Cold start: how long `dpo-bot --help` takes in a fresh process (the issue's aim: 0.3 s).

Runs the installed console script and `python -m bot.cli` N times each, and prints the wall
time (p50, min, max) and the CPU time the process used (on a shared machine wall time includes
other processes' turns on the CPU; CPU time does not). Then, from one `-X importtime` run, the
slowest top-level imports, and whether any platform SDK or the database layer was imported
(they must load only when a command needs them).

    python bench/cold_start.py [--runs 20] [--top 12]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HEAVY = ("slack_bolt", "slack_sdk", "microsoft_agents", "msal", "aiohttp", "sqlalchemy",
         "sqlmodel", "alembic", "jinja2", "holidays", "psycopg")


def script() -> str:
    """The console script installed beside this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).with_name("dpo-bot")
    found = str(beside) if beside.exists() else shutil.which("dpo-bot")
    if found is None:
        sys.exit("dpo-bot is not installed: pip install -e . first")
    return found


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU from the children's rusage, user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_times(top: int) -> tuple[list[tuple[str, int]], set[str]]:
    """The slowest top-level imports (cumulative microseconds) and every module imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot.cli", "--help"],
                          capture_output=True, text=True, check=True)
    rows, modules = [], set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line[13:]:
            continue
        _, cumulative, name = (part for part in line[12:].split("|"))
        if not cumulative.strip().isdigit():
            continue  # the header line
        modules.add(name.strip())
        if not name.startswith("  "):  # top level: not imported by another module here
            rows.append((name.strip(), int(cumulative)))
    return sorted(rows, key=lambda row: -row[1])[:top], modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    console = Console()
    commands = {"dpo-bot --help": [script(), "--help"],
                "python -m bot.cli --help": [sys.executable, "-m", "bot.cli", "--help"]}
    table = Table(title=f"Cold start, {args.runs} runs each (aim: under 0.3 s)")
    for column in ("command", "p50", "min", "max", "CPU p50"):
        table.add_column(column, justify="right")
    for label, command in commands.items():
        run_once(command)  # warm the file cache: a cold disk is not what we measure
        samples = [run_once(command) for _ in range(args.runs)]
        walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
        table.add_row(label, f"{statistics.median(walls):.3f} s", f"{min(walls):.3f} s",
                      f"{max(walls):.3f} s", f"{statistics.median(cpus):.3f} s")
    load = os.getloadavg()
    table.caption = (f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} "
                     f"{load[2]:.2f} at the end; Python {sys.version.split()[0]}")
    console.print(table)

    slowest, modules = import_times(args.top)
    imports = Table(title="Slowest top-level imports of `python -m bot.cli --help` (one run)")
    imports.add_column("module")
    imports.add_column("cumulative", justify="right")
    for name, micros in slowest:
        imports.add_row(name, f"{micros / 1000:.1f} ms")
    console.print(imports)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    roots = sorted({m.split(".")[0] for m in heavy})
    console.print("Imported eagerly from " + (", ".join(roots) if roots else "none of ")
                  + ("" if roots else ", ".join(HEAVY)) + ".")


if __name__ == "__main__":
    main()
