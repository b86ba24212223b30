"""The Monday-morning peak of a national service: every digest and a burst of nudges at once.

Loaded in bulk (COPY): ``--schools`` schools, each with its DPO, half of them on Slack (a
Slack user id) and half on Teams (a stored personal-chat reference, cloned from one the real
bot stored when that DPO first wrote to it); ``--cases`` open SARs with their planned
nudges (``bench/reminder_sweep.py``'s loader), ``--nudges`` of them due now, and every
school's weekly digest due now. The workers use the real clock, so the rows due now are
marked to go at any hour (``working_hours`` off): the peak is whenever the benchmark runs,
a weekend or an evening too, and that check is the only part of the sweep this skips.

Then the real processes start: ``dpo-bot slack --http`` against the fake Slack Web API,
``dpo-bot teams`` against the local Microsoft stand-in (each fake in a process of its own,
streaming what it receives: ``bench/peak_fakes.py``; both bots already running, their delivery
loops idle), and at T0 ``--workers`` ``dpo-bot remind`` workers. During the peak a teacher
reports a breach through the core (the form path a Slack modal or Teams card uses) every
``--breach-every`` seconds, each at another school; its latency is from the report's commit
to the fake's receipt of the DPO's alert (the fakes time-stamp every call).

    python bench/monday_peak.py --database postgresql+psycopg://postgres@127.0.0.1/bench_peak

The database given is EMPTIED (its public schema dropped): use a scratch one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's test fakes (tests/slack, tests/teams)

from bench import peak_fakes  # noqa: E402
from bench.reminder_sweep import _copy, fresh, load, naive  # noqa: E402
from bench.slack_http import free_port, stop, wait_until_up  # noqa: E402

SECRET, TOKEN = "bench-signing-secret", "xoxb-bench"


def slack_id(school: int) -> str:
    return f"U{school:09d}"


def teams_account(school: int) -> str:
    return f"dpo-{school}"


def on_slack(school: int) -> bool:
    return school % 2 == 1


def schools_and_people(engine: Engine, schools: int, reporters: int, now: datetime) -> None:
    """Schools; each school's DPO (person id = school id, as the case
    loader expects) on Slack or Teams; a teacher at the first ``reporters`` schools."""
    created = naive(now)
    _copy(engine, "school", ("id", "slug", "name", "region", "timezone", "maintained",
                             "working_days", "work_start", "work_end", "retention",
                             "configured", "created_at"),
          [(s, f"school-{s}", f"School {s}", "ENG", "Europe/London", True, "0,1,2,3,4",
            clock(8, 0), clock(18, 0), "{}", True, created) for s in range(1, schools + 1)])
    people = [(s, s, f"DPO {s}", "dpo", slack_id(s) if on_slack(s) else None,
               None if on_slack(s) else f"29:{teams_account(s)}", True, False, created)
              for s in range(1, schools + 1)]
    people += [(schools + s, s, f"Teacher {s}", "staff", None, None, True, False, created)
               for s in range(1, reporters + 1)]
    _copy(engine, "person", ("id", "school_id", "name", "role", "slack_user_id",
                             "teams_user_id", "active", "consent_lookup", "created_at"), people)
    with engine.begin() as connection:
        for table in ("school", "person"):
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))


def digests(engine: Engine, schools: int, now: datetime) -> None:
    """Every school's weekly digest due now, keyed as ``ensure_digests`` keys it (so the
    workers find it queued and do not add another)."""
    local = now.date()
    monday = local + timedelta(days=(7 - local.weekday()) % 7)
    _copy(engine, "reminder", ("school_id", "subject_type", "subject_id", "kind", "target",
                               "due_at", "working_hours", "dedupe_key", "attempts",
                               "created_at"),
          [(s, "digest", s, "digest.weekly", monday.isoformat(), naive(now), True,
            f"digest:{s}:{monday.isoformat()}", 0, naive(now)) for s in range(1, schools + 1)])


def first_on_teams(schools: int) -> int:
    return next(s for s in range(1, schools + 1) if not on_slack(s))


def teams_addresses(engine: Engine, schools: int, port: int, microsoft: peak_fakes.Fake) -> None:
    """One DPO writes to the running Teams bot, which stores her reference; every other Teams
    DPO gets the same reference with their own account and personal chat."""
    first = first_on_teams(schools)
    body = json.dumps(microsoft.info["hello"]).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/messages", data=body, method="POST",
        headers={"Content-Type": "application/json",
                 "Authorization": f"Bearer {microsoft.info['token']}"})
    urllib.request.urlopen(request, timeout=120).close()
    with engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT reference FROM chat_address WHERE person_id = :p"), {"p": first}).scalar_one()
    template = json.dumps(stored if isinstance(stored, dict) else json.loads(stored))
    mine = teams_account(first)
    now = naive(datetime.now(UTC))
    _copy(engine, "chat_address", ("school_id", "person_id", "platform", "reference",
                                   "updated_at"),
          [(s, s, "teams", template.replace(mine, teams_account(s)), now)
           for s in range(1, schools + 1) if not on_slack(s) and s != first])
    with engine.begin() as connection:
        connection.execute(text("ANALYZE chat_address"))


def report_breach(engine: Engine, school: int, teacher: int) -> float:
    """A teacher's breach report through the core's form path; the moment it committed."""
    from workflows.core import conversation
    from workflows.core.context import Context
    from workflows.database import session_scope
    from workflows.people.models import Person
    from workflows.registry import WORKFLOWS

    with session_scope(engine) as session:
        ctx = Context.of(session, session.get_one(Person, teacher), "slack")
        prepared = conversation.prepare(ctx, f"bench-breach:{school}", WORKFLOWS["breach"], {
            "what_happened": "An email with a pupil's report went to the wrong parent",
            "found_at": "now", "ongoing": "no"})
        if prepared.errors:
            sys.exit(f"the breach form was refused: {prepared.errors}")
    with session_scope(engine) as session:
        ctx = Context.of(session, session.get_one(Person, teacher), "slack")
        confirmed = conversation.confirm(ctx, prepared.conversation_id)
        if not confirmed.ok:
            sys.exit(f"the breach was not saved: {confirmed.message}")
    return time.time()


def all_written(engine: Engine, now: datetime) -> bool:
    """Whether every reminder due at the peak is sent (claimed and written as notifications).

    One probe of the pending index, not a count of the rows sent: asked twice a second, a
    count grows with the run and takes the database's time from the workers.
    """
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT NOT EXISTS (SELECT 1 FROM reminder WHERE sent_at IS NULL "
            "AND cancelled_at IS NULL AND due_at <= :now)"), {"now": naive(now)}).scalar_one()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True,
                        help="PostgreSQL URL of a SCRATCH database (emptied)")
    parser.add_argument("--schools", type=int, default=30_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--nudges", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--breach-every", type=float, default=2.0,
                        help="seconds between breach reports during the peak")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="give up waiting for deliveries after this many seconds")
    args = parser.parse_args()

    from workflows.database import make_engine, upgrade

    console = Console(width=max(Console().width, 130))
    now = datetime.now(UTC)
    engine = fresh(args.database, args.cases)
    upgrade(engine)
    reporters = min(args.schools, 2000)
    started = time.perf_counter()
    schools_and_people(engine, args.schools, reporters, now)
    load(engine, args.cases, args.schools, args.nudges, now=now)
    digests(engine, args.schools, now)
    with engine.begin() as connection:
        connection.execute(text("UPDATE reminder SET working_hours = false WHERE due_at <= :now"),
                           {"now": naive(now)})
        connection.execute(text("ANALYZE"))
    loaded = time.perf_counter() - started
    console.print(f"loaded {args.schools:,} schools, {args.cases:,} open cases, "
                  f"{args.nudges:,} nudges and {args.schools:,} digests due in {loaded:.0f} s")

    expected = {"slack": Counter(), "teams": Counter()}
    for s in range(1, args.schools + 1):
        expected["slack" if on_slack(s) else "teams"]["digest"] += 1
    with engine.connect() as connection:
        for school, in connection.execute(text(
                "SELECT r.school_id FROM reminder r WHERE r.subject_type = 'sar' "
                "AND r.due_at <= :now"), {"now": naive(now)}):
            expected["slack" if on_slack(school) else "teams"]["nudge"] += 1

    logs = Path(tempfile.mkdtemp(prefix="monday-peak-"))
    processes: list[subprocess.Popen] = []
    fake = peak_fakes.slack(logs / "slack-received.tsv")
    microsoft = peak_fakes.microsoft(logs / "teams-received.tsv", logs,
                                     teams_account(first_on_teams(args.schools)))
    fakes = {"slack": fake, "teams": microsoft}
    messages: dict[str, list[peak_fakes.Received]] = {"slack": [], "teams": []}
    got = {"slack": Counter(), "teams": Counter()}
    last_routine = {"slack": 0.0, "teams": 0.0}  # the latest digest or nudge to arrive

    def take(since: float) -> None:
        """What the fakes received since the last look (from ``since``: T0)."""
        for platform, serving in fakes.items():
            for message in serving.received():
                if message.at >= since:
                    messages[platform].append(message)
                    got[platform][message.kind] += 1
                    if message.kind != "breach":
                        last_routine[platform] = max(last_routine[platform], message.at)

    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CONNECTIONS__"))
               and k != "DPO_BOT_DATABASE_URL"}
        env |= microsoft.info["env"] | {
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.info["url"], "DPO_BOT_DATABASE_URL": args.database,
            "PYTHONPATH": str(ROOT)}

        def start(name: str, *command: str) -> subprocess.Popen:
            process = subprocess.Popen([sys.executable, "-m", "bot.cli", *command], env=env,
                                       cwd=ROOT, stdout=(logs / f"{name}.log").open("w"),
                                       stderr=subprocess.STDOUT)
            processes.append(process)
            return process

        try:
            slack_port, teams_port = free_port(), free_port()
            slack = start("slack", "slack", "--http", "--host", "127.0.0.1",
                          "--port", str(slack_port))
            teams = start("teams", "teams", "--host", "127.0.0.1", "--port", str(teams_port))
            wait_until_up(slack, f"http://127.0.0.1:{slack_port}/healthz", logs / "slack.log")
            wait_until_up(teams, f"http://127.0.0.1:{teams_port}/healthz", logs / "teams.log")
            teams_addresses(engine, args.schools, teams_port, microsoft)

            t0 = time.time()
            for n in range(args.workers):
                start(f"remind-{n}", "remind", "--interval", "5")
            breaches: dict[tuple[str, str], float] = {}  # (platform, destination) -> reported
            school = 0
            next_breach = t0
            claimed_at: float | None = None
            done: dict[str, float] = {}
            while time.time() - t0 < args.timeout:
                if time.time() >= next_breach and school < reporters and len(done) < 2:
                    school += 1
                    reported = report_breach(engine, school, args.schools + school)
                    where = (("slack", slack_id(school)) if on_slack(school) else
                             ("teams", f"a:personal-{teams_account(school)}"))
                    breaches[where] = reported
                    next_breach += args.breach_every
                if claimed_at is None and all_written(engine, now):
                    claimed_at = time.time()
                take(t0)
                for platform in fakes:
                    if platform not in done and all(got[platform][k] >= v for k, v in
                                                    expected[platform].items()):
                        done[platform] = last_routine[platform]
                if claimed_at is not None and len(done) == 2:
                    time.sleep(6)  # the last breach alerts, and any second copy
                    break
                time.sleep(0.5)
        finally:
            for process in processes:
                stop(process)
        take(t0)
    finally:
        for serving in fakes.values():
            serving.stop()
    average = os.getloadavg()

    table = Table(title=f"Monday peak: {args.schools:,} schools, {args.cases:,} open cases, "
                        f"{args.nudges:,} nudges and {args.schools:,} digests due at once, "
                        f"{args.workers} reminder workers")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("load (COPY)", f"{loaded:.0f} s")
    table.add_row("all digests and nudges claimed and written (reminders sent)",
                  f"{claimed_at - t0:.1f} s" if claimed_at else "not within the timeout")
    latencies: list[float] = []
    for platform, received in messages.items():
        routine = [m for m in received if m.kind != "breach"]
        want = sum(expected[platform].values())
        if platform in done:
            first = min(m.at for m in routine)
            table.add_row(f"{platform}: all {want:,} delivered",
                          f"{done[platform] - t0:.1f} s after T0 "
                          f"({len(routine) / (done[platform] - first):,.0f}/s)")
        else:
            table.add_row(f"{platform}: delivered by the timeout",
                          f"{len(routine):,} of {want:,} "
                          f"({dict(got[platform])}, expected {dict(expected[platform])})")
        duplicates = sum(n - 1 for n in Counter((m.chat, m.digest) for m in received).values()
                         if n > 1)
        table.add_row(f"{platform}: duplicates (same message to the same chat)", str(duplicates))
        for alert in (m for m in received if m.kind == "breach"):
            reported = breaches.get((platform, alert.chat))
            if reported is not None:
                latencies.append(alert.at - reported)
    if latencies:
        table.add_row(f"breach alerts: {len(latencies)} of {len(breaches)} delivered, latency "
                      "p50 / p99 / max",
                      f"{statistics.median(latencies):.2f} / {percentile(latencies, 0.99):.2f} "
                      f"/ {max(latencies):.2f} s")
    else:
        table.add_row("breach alerts delivered", f"0 of {len(breaches)}")
    with engine.connect() as connection:
        left = connection.execute(text(
            "SELECT count(*) FROM notification WHERE delivered_at IS NULL")).scalar_one()
    table.add_row("notifications still undelivered at the end", f"{left:,}")
    table.caption = (f"PostgreSQL; run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
                     f"{os.cpu_count()} CPUs shared by PostgreSQL, the workers, both bots, the "
                     f"fakes and this process, and other work; load average {average[0]:.2f} "
                     f"{average[1]:.2f} {average[2]:.2f} at the end; logs in {logs}")
    console.print(table)
    engine.dispose()
    with make_engine(args.database).begin() as connection:  # leave no big tables behind
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


if __name__ == "__main__":
    main()
