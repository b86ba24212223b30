"""Photo consent at the size of a large secondary: 2,000 pupils.

Generates a realistic SIMS export, times the import (first load and a re-import with a few
changes), then the in-process latency of name and class questions as a teacher asks them.
Run by hand: `python bench/consent.py [--pupils 2000] [--database URL]`; prints a table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from workflows.consent import service
from workflows.consent.importer import import_consents
from workflows.core.context import Context
from workflows.database import make_engine, session_scope, upgrade
from workflows.people.models import Person, Role
from workflows.people.service import find_or_create
from workflows.schools.models import School
from workflows.schools.service import get_default

FIRST = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Zoë", "Leo",
         "Ivy", "Oscar", "Freya", "Harry", "Lily", "Muhammad", "Grace", "Jack", "Sofia", "Theo"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
        "Khan", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall"]
USES = ["Displays", "Printed Publications", "Website", "Social Media", "Video", "Press No Name",
        "Press With Name", "Photographer", "Apps"]
ANSWERS = ["Yes"] * 8 + ["No", "Not Asked", "Withdrawn"]


def sims_export(pupils: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    header = ["Adno", "Legal Forename", "Legal Surname", "Preferred Forename", "Year", "Reg",
              "DOB", "No Photographs", "Consent Date", "Consent Given By"]
    header += [f"Consent - {u}" for u in USES]
    lines = [",".join(header)]
    for n in range(pupils):
        year = 7 + n % 7
        form = f"{year}{'ABCDEFGH'[n % 8]}"
        born = date(2019 - year, 9, 1) + timedelta(days=rng.randrange(365))
        signed = date(2026, 9, 1) - timedelta(days=rng.randrange(500))
        lines.append(",".join([
            f"{100000 + n}", rng.choice(FIRST), rng.choice(LAST),
            rng.choice(["", "", "", "Millie", "Alfie"]), str(year), form,
            born.strftime("%d/%m/%Y"), "Yes" if n % 97 == 0 else "No",
            signed.strftime("%d/%m/%Y"), "Parent",
            *(rng.choice(ANSWERS) for _ in USES),
        ]))
    return ("\n".join(lines) + "\n").encode("utf-8")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        school = get_default(session)
        dpo = find_or_create(session, school.id, "Bench DPO", Role.DPO)
        school_id, dpo_id = school.id, dpo.id
    data = sims_export(args.pupils)

    rows = []
    for label, payload in (("import (first load)", data),
                           ("re-import (unchanged)", data),
                           ("re-import (1% changed)", data.replace(b",Yes\n", b",No\n", 20))):
        started = time.perf_counter()
        with session_scope(engine) as session:
            report = import_consents(session, session.get(School, school_id), payload,
                                     file_name="bench.csv", mapping=None, by_name="bench",
                                     now=now)
        rows.append((label, f"{time.perf_counter() - started:.2f} s",
                     f"{report.added} added, {report.changed} changed, "
                     f"{report.unchanged} unchanged"))

    rng = random.Random(11)
    names = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(args.questions)]
    classes = [f"{7 + n % 7}{'ABCDEFGH'[n % 8]}" for n in range(args.questions)]
    timings: dict[str, list[float]] = {"name question": [], "class question": []}
    # CPU time beside wall time: on a shared machine the wall-clock tail is mostly other
    # processes' turns on the CPU, which the CPU time of this thread leaves out.
    cpu: dict[str, list[float]] = {"name question": [], "class question": []}
    for kind, questions, ask in (
        ("name question", names, lambda ctx, q: service.answer(ctx, q, "website")),
        ("class question", classes, lambda ctx, q: service.class_answer(ctx, q, "social media")),
    ):
        for question in questions:
            started, used = time.perf_counter(), time.thread_time()
            with session_scope(engine) as session:
                ctx = Context.of(session, session.get(Person, dpo_id), "bench", now=now)
                ask(ctx, question)
            timings[kind].append((time.perf_counter() - started) * 1000)
            cpu[kind].append((time.thread_time() - used) * 1000)

    table = Table(title=f"Photo consent, {args.pupils:,} pupils ({engine.dialect.name})")
    table.add_column("what")
    table.add_column("time", justify="right")
    table.add_column("detail")
    for row in rows:
        table.add_row(*row)
    for kind, samples in timings.items():
        table.add_row(kind, f"p50 {statistics.median(samples):.1f} ms",
                      f"p99 {percentile(samples, 0.99):.1f} ms over {len(samples)} (audited); "
                      f"CPU p50 {statistics.median(cpu[kind]):.1f} ms, "
                      f"p99 {percentile(cpu[kind], 0.99):.1f} ms")
    Console().print(table)


if __name__ == "__main__":
    main()
