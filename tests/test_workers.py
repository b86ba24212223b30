"""workflows.core.workers: worker processes end with the process that started them.

A killed server (SIGKILL, or SIGTERM without cleanup) must not leave its workers behind
holding database connections: they wait on a queue their siblings keep open, so they
would never see end-of-file on their own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARENT = """
import asyncio, os, sys
from workflows.core.workers import Workers
from workflows.database import make_engine, session_scope, upgrade
from workflows.people.service import find_or_create
from workflows.schools.service import get_default

def pid(ctx):
    return os.getpid()

async def main():
    engine = make_engine(sys.argv[1])
    upgrade(engine)
    with session_scope(engine) as session:
        school = get_default(session).id
        find_or_create(session, school, "sam")
    workers = Workers(engine, "terminal", processes=2)
    found = set()
    while len(found) < 2:
        found |= set(await asyncio.gather(*(workers.run("sam", (school,), None, pid)
                                            for _ in range(8))))
    print(*found, flush=True)
    await asyncio.sleep(600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_leave_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script), f"sqlite:///{tmp_path / 'dpo-bot.db'}"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)})
    try:
        workers = [int(p) for p in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(alive(p) for p in workers)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 30
    while any(alive(p) for p in workers):
        assert time.monotonic() < deadline, "a worker outlived its parent"
        time.sleep(0.05)
