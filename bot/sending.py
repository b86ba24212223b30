"""A delivery pass's messages sent several chats at a time, each chat's in the order claimed.

Sent one after another, a hosted service's Monday digests went at the pace of one round trip
each. Each chat still gets its messages in order (most urgent first) with never two in
flight at once, so a platform's per-conversation limits and a reader's sense of order hold.
The adapters say how one message went (a ``Verdict``); what to do with the messages not
tried (give their leases back) is theirs, after the pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

from workflows.core import faults

log = logging.getLogger(__name__)
T = TypeVar("T")
# Chats with a message in flight at once: enough to hide each round trip's wait, few enough
# that Slack's and Teams' burst limits and this process's share of the cores are not the queue.
AT_ONCE = 16
# Messages claimed a pass: a few rounds of AT_ONCE, so a breach alert queued during a pass
# waits for that pass and the one claimed behind it, not for a backlog.
PASS = 64


class Verdict(Enum):
    """How one message went, as its adapter judged it (its lease already dealt with)."""

    SENT = "sent"
    NOT_SENT = "not sent"  # this one waits; the chat's next message goes
    CHAT_ENDED = "chat ended"  # the chat cannot be reached now: the rest of it is not tried
    STOPPED = "stopped"  # the platform cannot be reached: nothing more is started


@dataclass
class Pass(Generic[T]):
    """What a pass did: how many went, and which were never tried (their leases to give
    back). ``error`` is the first unexpected failure, raised by the caller once it has
    given back what was not tried; the message it failed on keeps its lease, since it may
    have gone."""

    sent: int = 0
    untried: list[T] = field(default_factory=list)
    error: Exception | None = None

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


async def by_chat(items: Sequence[T], chat: Callable[[T], Hashable],
                  send: Callable[[T], Awaitable[Verdict]], *, at_once: int = AT_ONCE
                  ) -> Pass[T]:
    """Send ``items`` grouped by ``chat``, up to ``at_once`` chats at a time; a message
    already sending is always let finish, so whatever a platform took gets marked."""
    chats: dict[Hashable, list[T]] = {}
    for item in items:
        chats.setdefault(chat(item), []).append(item)
    waiting = deque(chats.values())
    result: Pass[T] = Pass()
    halted = False  # the platform unreachable, or a failure of ours: nothing more is started

    async def sender() -> None:
        nonlocal halted
        while waiting and not halted:
            queue = waiting.popleft()
            for index, item in enumerate(queue):
                if halted:
                    result.untried.extend(queue[index:])
                    break
                try:
                    verdict = await send(item)
                except Exception as error:
                    result.error = result.error or error
                    verdict = Verdict.STOPPED
                if verdict is Verdict.SENT:
                    result.sent += 1
                elif verdict is not Verdict.NOT_SENT:
                    halted = halted or verdict is Verdict.STOPPED
                    result.untried.extend(queue[index + 1:])
                    break

    await asyncio.gather(*(sender() for _ in range(min(at_once, len(chats)))))
    result.untried.extend(item for queue in waiting for item in queue)
    return result


async def send_pass(items: Sequence[T], chat: Callable[[T], Hashable],
                    send: Callable[[T], Awaitable[Verdict]],
                    give_back: Callable[[list[T]], None]) -> int:
    """``by_chat``, then the messages never tried handed to ``give_back`` (blocking, so run
    in a thread: their leases back), then a failure of ours raised; returns how many went."""
    done = await by_chat(items, chat, send)
    if done.untried:
        await asyncio.to_thread(give_back, done.untried)
    done.raise_error()
    return done.sent


class Together(Generic[T]):
    """``write`` (blocking, so run in a thread) for each item as it comes, those that come
    while a write is under way together in the next: many quick sends are a few
    transactions, and each is written as soon as the write before it is done. If a write
    fails, the items in it keep their leases and go again once those run out, so a message
    may come twice after a database failure but is never lost."""

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self.write = write
        self.waiting: list[T] = []
        self.lock = asyncio.Lock()

    async def __call__(self, item: T) -> None:
        self.waiting.append(item)
        async with self.lock:
            if not self.waiting:
                return  # written with the ones before it
            items, self.waiting = self.waiting, []
            await asyncio.to_thread(self.write, items)


@dataclass
class Claimed(Generic[T]):
    """A pass's messages, leased to ``token``."""

    token: str
    items: list[T]


async def forever(claim: Callable[[], Awaitable[Claimed[T]]],
                  send: Callable[[Claimed[T]], Awaitable[int]], platform: str,
                  stop: asyncio.Event | None = None, interval: float = 3.0) -> None:
    """Pass after pass until ``stop``: after a pass with messages the next at once (a
    backlog, such as the Monday digests), its claim made while this one sends, so the
    database reads that make a pass's messages hide behind the sending of the last; after
    an empty pass, the next in ``interval``. Passes send one at a time, so a chat still
    gets its messages in order; a pass is never cut short, and one claimed ahead is sent
    even when ``stop`` comes (what the platform took is marked; nothing is left leased)."""
    stop = stop or asyncio.Event()
    ahead: asyncio.Task[Claimed[T]] | None = None
    while not stop.is_set() or ahead is not None:
        try:
            pending, ahead = ahead, None
            claimed = await (pending if pending is not None else claim())
            if claimed.items:
                if not stop.is_set():
                    ahead = asyncio.create_task(claim())
                await send(claimed)
                continue
        except Exception as error:  # the database or the platform briefly unreachable
            log.warning("%s notification delivery failed (%s); retrying", platform,
                        faults.brief(error))
        if ahead is not None:
            continue  # claimed already: sent now, whatever became of the pass before it
        # Not wait_for: that would run the wait as a task of its own, every pass.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await stop.wait()
