"""Stopping a serving process without losing a request it has already acknowledged.

Slack is answered 200 (the ack) before the work is done, and never sends an acknowledged
request again; Teams waits for the turn. So on SIGTERM (every ``systemctl restart``, every
deploy) or Ctrl-C a server stops taking requests, finishes every one it has taken, and only
then exits. The work is the core's, safe to repeat (idempotency keys, compare-and-set
decisions), so what a SIGKILL interrupts at worst never happened.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

# Long enough for any request's work (each is one short transaction and a few platform calls)
# and short of systemd's TimeoutStopSec (90 s by default), after which it sends SIGKILL.
DRAIN_SECONDS = 60.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT, in place of dying mid-request."""
    loop, stop = asyncio.get_running_loop(), asyncio.Event()

    def stopping(received: signal.Signals) -> None:
        if not stop.is_set():
            log.info("%s: taking no new requests; finishing those already acknowledged",
                     received.name)
        stop.set()

    for each in STOP_SIGNALS:
        loop.add_signal_handler(each, stopping, each)
    return stop


async def drain(timeout: float = DRAIN_SECONDS,
                keep: Callable[[], Iterable[asyncio.Future | None]] = tuple) -> int:
    """Wait until every other task of this loop has finished, but those ``keep()`` names (a
    connection's own, still needed); returns how many had not by ``timeout``. Called once
    the server takes nothing new, the tasks left are the requests' work: Bolt runs each
    listener as a task of its own after the ack."""
    me = asyncio.current_task()
    deadline = asyncio.get_running_loop().time() + timeout
    while pending := {t for t in asyncio.all_tasks()
                      if t is not me and not t.done() and t not in set(keep())}:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            log.error("stopped with %d requests unfinished after %g s", len(pending), timeout)
            return len(pending)
        await asyncio.wait(pending, timeout=left)
    log.info("every acknowledged request finished")
    return 0


# Slow clients (slowloris): a connection must send a request's headers within HEADER_SECONDS
# of opening, or of the previous answer, and its body within BODY_SECONDS, or it is closed.
# Slack and Teams send a whole request at once; a reverse proxy usually sits in front too.
HEADER_SECONDS = 15.0
BODY_SECONDS = 15.0


def read_body_within(seconds: float) -> Middleware:
    """Read each request's body (aiohttp keeps it for the handler) within ``seconds``, or
    answer 408 and close."""

    @web.middleware
    async def body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            async with asyncio.timeout(seconds):
                await request.read()
        except TimeoutError:
            log.warning("closed a connection that sent its request body too slowly")
            raise web.HTTPRequestTimeout(text="request body too slow",
                                         headers={"Connection": "close"}) from None
        return await handler(request)

    return body_in_time


async def serve(application: web.Application, host: str, port: int, path: str, *,
                stop: asyncio.Event | None = None, header_seconds: float = HEADER_SECONDS,
                body_seconds: float = BODY_SECONDS,
                on_listening: Callable[[int], None] | None = None) -> None:
    """Serve ``application`` until SIGTERM or SIGINT (or ``stop``); then stop listening,
    finish what was acknowledged (requests mid-answer, then the work they started), return."""
    stop = stop or stop_on_signals()
    application.middlewares.append(read_body_within(body_seconds))
    # aiohttp closes a connection that has not sent a complete request head this long after
    # opening or after its last answer: its keep-alive timer is the header-read timeout.
    runner = web.AppRunner(application, keepalive_timeout=header_seconds,
                           shutdown_timeout=DRAIN_SECONDS)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound = runner.addresses[0][1]
    log.info("listening on http://%s:%s%s", host, bound, path)
    if on_listening is not None:
        on_listening(bound)
    try:
        await stop.wait()
    finally:
        # The port closes first, so nothing new is acknowledged; requests mid-answer finish;
        # the delivery loop ends its pass (cleanup_ctx); then the listeners' own tasks.
        await runner.cleanup()
        await drain()


def freeze_start_up_heap() -> None:
    """Leave what start-up made (modules, table metadata, templates) out of garbage collection,
    and collect less often: called by a server once it listens.

    A full collection walks every object the process holds and stops the event loop, and
    every answer with it, while it does: with the start-up heap frozen it walks only what the
    requests made (about half the pause measured under load), and with the higher thresholds
    it comes far more rarely (Slack's ack p99 from 4.0–6.1x bare Bolt's to 2.5–2.7x: see
    docs/performance.md). What the requests make is mostly freed by reference counting; the
    few cycles wait a little longer.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
