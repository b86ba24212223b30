"""Two pytest runs at once against one PostgreSQL server: both must pass (run by hand).

Each run works in databases of its own (tests/databases.py), so neither empties, drops or
kills what the other is using. This starts two runs of the same tests with the same
``DPO_BOT_TEST_POSTGRES_URL`` (the second as soon as the first has a database), watches the
server while they run (both runs' databases must be there at the same time, or the proof
proves nothing), and checks that:

- both runs pass;
- a database left behind by a run that died (planted here, named like a run's) is dropped;
- neither run leaves a database behind (and the second run, clearing dead runs' databases
  as every run does at its start, left the first one's alone: the first passed).

    DPO_BOT_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python -m tests.two_runs_at_once [pytest arguments, default: the PostgreSQL-heavy files]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import make_url, text

from tests.databases import LIKE, PREFIX
from workflows.database import make_engine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["tests/test_migrations.py", "tests/test_faults.py", "tests/test_references.py",
           "tests/test_breach.py", "-k", "postgresql or outage or killed"]
STALE = f"{PREFIX}0_dead0000_1"  # a run with pid 0 is never alive


def main(args: list[str]) -> int:
    url = os.environ.get("DPO_BOT_TEST_POSTGRES_URL")
    if not url:
        sys.exit("set DPO_BOT_TEST_POSTGRES_URL to the server's scratch database")
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")

    def databases() -> set[str]:
        with admin.connect() as connection:
            return set(connection.execute(text(
                f"SELECT datname FROM pg_database WHERE datname LIKE '{LIKE}'")).scalars())

    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{STALE}"'))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(args or DEFAULT)]

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    started = time.monotonic()
    runs = [start()]
    # The second starts once the first has a database, so the second's clean-up of dead
    # runs' databases meets a live run's, and must leave them be.
    while not any(d.startswith(f"{PREFIX}{runs[0].pid}_") for d in databases()):
        assert runs[0].poll() is None, "the first run ended before it made a database"
        time.sleep(0.2)
    runs.append(start())
    mine = [f"{PREFIX}{run.pid}_" for run in runs]
    together = False  # seen both runs' databases on the server at one moment
    while any(run.poll() is None for run in runs):
        now = databases()
        together = together or all(any(d.startswith(m) for d in now) for m in mine)
        time.sleep(0.5)
    seconds = time.monotonic() - started
    for number, run in enumerate(runs, 1):
        output = run.stdout.read() if run.stdout else ""
        print(f"--- run {number} (pid {run.pid}): exit {run.returncode}")
        print("\n".join(output.strip().splitlines()[-3:]))
    left = {d for d in databases() if any(d.startswith(m) for m in mine)}
    stale_dropped = STALE not in databases()
    print(f"--- {seconds:.0f} s; both runs' databases on the server at once: {together}; "
          f"the dead run's database dropped: {stale_dropped}; left behind: {sorted(left)}")
    admin.dispose()
    server = make_url(url)
    ok = (all(run.returncode == 0 for run in runs) and together and stale_dropped and not left)
    print(f"two runs at once on {server.host}:{server.port}: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
