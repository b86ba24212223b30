"""Serving an aiohttp application as `dpo-bot` does (``bot.lifecycle.serve``) on a thread of
its own, and a client that sends its request slowly (slowloris), for the adapters' tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from aiohttp import web

from bot import lifecycle


@contextmanager
def serving(application: web.Application, *, header_seconds: float, body_seconds: float = 30.0,
            loop: asyncio.AbstractEventLoop | None = None) -> Iterator[int]:
    """``lifecycle.serve`` on 127.0.0.1 with these limits, on ``loop`` (running in another
    thread) or a loop of its own; yields the port."""
    own = loop is None
    if own:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
    stop = asyncio.Event()
    port: list[int] = []
    bound = threading.Event()

    def listening(number: int) -> None:
        port.append(number)
        bound.set()

    served = asyncio.run_coroutine_threadsafe(lifecycle.serve(
        application, "127.0.0.1", 0, "/", stop=stop, header_seconds=header_seconds,
        body_seconds=body_seconds, on_listening=listening), loop)
    assert bound.wait(30), "the server did not start"
    try:
        yield port[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        served.result(60)
        if own:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()


def trickle(port: int, pieces: list[bytes], every: float) -> tuple[float, bytes]:
    """Send ``pieces`` one at a time, ``every`` seconds apart, until the server answers or
    closes the connection; returns how long that took and what the server said."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.settimeout(every)
        for piece in pieces:
            try:
                client.sendall(piece)
                heard = client.recv(65536)
            except TimeoutError:
                continue  # still open, still waiting for the rest
            except OSError:
                heard = b""  # reset by the server
            took = time.monotonic() - started
            with suppress(OSError):
                client.settimeout(5)
                while more := client.recv(65536):
                    heard += more
            return took, heard
    return time.monotonic() - started, b""
