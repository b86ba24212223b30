"""Running the core's work for an adapter: each call one transaction, as one person.

The person is found inside that transaction, from the chat account and the schools served
(``membership.speaking``), so that a choice of school made a moment ago is already seen.

The core is synchronous and mostly Python, so it holds the GIL while it works. In threads of
the process that serves Slack or Teams it delays that process's event loop, and with it every
request's acknowledgement. With ``processes`` set, the work runs in that many worker
processes instead (each with its own engine, made once) and the serving process only
receives, acks and talks to the platform. Work is then a module-level function and its
arguments plain values, because both travel to the worker by pickle.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from sqlalchemy import Engine

from workflows.core.context import Context
from workflows.database import make_engine, session_scope
from workflows.schools import membership

log = logging.getLogger(__name__)
T = TypeVar("T")

_engine: Engine | None = None  # a worker process's own engine (see _start)


class Workers:
    """Where an adapter's calls into the core run: threads here, or worker processes."""

    def __init__(self, engine: Engine, adapter: str, processes: int = 0) -> None:
        self.engine = engine
        self.adapter = adapter
        self.processes = processes
        # A few threads at a time: with many busy in Python the event loop waits its turn for
        # the GIL behind all of them, so every ack waits too. Throughput is the same.
        self._threads = asyncio.Semaphore(2)
        self._url = engine.url.render_as_string(hide_password=False)
        if processes and ":memory:" in self._url:
            raise ValueError("worker processes cannot share an in-memory SQLite database")
        self._pool = self._new_pool() if processes else None

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the serving process has threads (and their locks) by now.
        pool = ProcessPoolExecutor(self.processes, multiprocessing.get_context("spawn"),
                                   initializer=_start, initargs=(self._url,))
        for _ in range(self.processes):  # start them now, not on the first click
            pool.submit(_ready)
        return pool

    async def run(self, account: str, served: tuple[int, ...], school_id: int | None,
                  work: Callable[..., T], *args: Any) -> T | Nobody:
        """``work(ctx, *args)`` in one transaction as the account's record (see
        ``membership.speaking``), in a thread or a worker; ``NOBODY`` if it has none."""
        call = (self.adapter, account, served, school_id, work, args)
        if self._pool is None:
            async with self._threads:
                return await asyncio.to_thread(lambda: _in_transaction(self.engine, *call))
        pool = self._pool
        try:
            return await self._submit(pool, call)
        except BrokenProcessPool:
            # A worker died (killed, out of memory) and took the pool's queue with it. Run the
            # work once more on a new pool: the core is safe to repeat (compare-and-set
            # decisions, idempotency keys), as Slack's own retries already need it to be.
            if self._pool is pool:  # the first of the calls it failed starts the new one
                log.warning("a worker process died; starting new ones")
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
        return await self._submit(self._pool, call)

    async def _submit(self, pool: ProcessPoolExecutor, call: tuple[Any, ...]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, _in_worker, *call)

    def close(self) -> None:
        """After the last call (``lifecycle.drain``): what is running finishes, then each
        worker exits."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class Nobody:
    """The account has no record at the schools served (a newcomer, or a click on a case of
    a school they are not at): the caller decides what to say."""


NOBODY = Nobody()


def _in_transaction(engine: Engine, adapter: str, account: str, served: tuple[int, ...],
                    school_id: int | None, work: Callable[..., T],
                    args: tuple[Any, ...]) -> T | Nobody:
    with session_scope(engine) as session:
        person = membership.speaking(session, adapter, account, served, school_id)
        if person is None:
            return NOBODY
        ctx = Context.of(session, person, adapter, served=served)
        return work(ctx, *args)


def _start(url: str) -> None:
    global _engine
    _engine = make_engine(url)
    # ``systemctl restart`` signals every process of the service at once, and Ctrl-C the
    # whole process group: a worker carries on with the work it was given until the serving
    # process has finished every request it acknowledged and shuts the pool down.
    for each in (signal.SIGTERM, signal.SIGINT):
        signal.signal(each, signal.SIG_IGN)
    # The workers are throughput, the serving process is latency: when both want a core,
    # the process that acks goes first.
    if hasattr(os, "nice"):
        os.nice(10)
    # A pool's workers outlive a parent that is killed (SIGTERM, SIGKILL): they wait on a
    # queue their siblings hold open. Each leaves when it sees the parent gone.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(parent_sentinel: int) -> None:
    multiprocessing.connection.wait([parent_sentinel])
    os._exit(0)


def _ready() -> None:
    """Nothing: submitted once per worker at start, so each is spawned and has imported."""


def _in_worker(adapter: str, account: str, served: tuple[int, ...], school_id: int | None,
               work: Callable[..., T], args: tuple[Any, ...]) -> T | Nobody:
    assert _engine is not None, "not a worker process"
    return _in_transaction(_engine, adapter, account, served, school_id, work, args)
