"""A delivery pass: several chats at once, each chat's messages in order, never two of one
chat in flight; a chat that ends or a platform that stops leaves the rest untried."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.sending import Claimed, Together, Verdict, by_chat, forever


class Platform:
    """Records what is in flight, per chat and in all; each send yields to the others."""

    def __init__(self, verdicts: dict[str, Verdict] | None = None,
                 fails: str | None = None) -> None:
        self.verdicts = verdicts or {}
        self.fails = fails
        self.flying: set[str] = set()
        self.chats_flying: set[str] = set()
        self.most = 0
        self.order: list[str] = []

    async def send(self, message: str) -> Verdict:
        chat = message.split(".")[0]
        assert chat not in self.chats_flying, "two of one chat in flight"
        self.chats_flying.add(chat)
        self.flying.add(message)
        self.most = max(self.most, len(self.flying))
        await asyncio.sleep(0.01)
        self.flying.discard(message)
        self.chats_flying.discard(chat)
        self.order.append(message)
        if message == self.fails:
            raise RuntimeError("the database went away")
        return self.verdicts.get(message, Verdict.SENT)


def chat_of(message: str) -> str:
    return message.split(".")[0]


def messages(chats: int, each: int) -> list[str]:
    return [f"c{c}.{n}" for n in range(each) for c in range(chats)]


def test_chats_go_side_by_side_and_each_chat_in_order() -> None:
    platform = Platform()
    done = asyncio.run(by_chat(messages(10, 3), chat_of, platform.send, at_once=4))
    assert (done.sent, done.untried, done.error) == (30, [], None)
    assert platform.most == 4  # four chats at a time, never more
    for c in range(10):
        assert [m for m in platform.order if chat_of(m) == f"c{c}"] == [
            f"c{c}.0", f"c{c}.1", f"c{c}.2"]


def test_one_chat_goes_one_message_at_a_time() -> None:
    platform = Platform()
    done = asyncio.run(by_chat(messages(1, 5), chat_of, platform.send, at_once=8))
    assert done.sent == 5 and platform.most == 1
    assert platform.order == [f"c0.{n}" for n in range(5)]


def test_a_chat_that_ends_leaves_its_own_rest_untried_and_the_others_go() -> None:
    platform = Platform({"c1.0": Verdict.CHAT_ENDED, "c2.1": Verdict.NOT_SENT})
    done = asyncio.run(by_chat(messages(3, 3), chat_of, platform.send, at_once=2))
    assert sorted(done.untried) == ["c1.1", "c1.2"]
    assert done.sent == 5 and done.error is None  # c2.1 not sent, c2.2 still went
    assert "c2.2" in platform.order


def test_a_platform_that_stops_starts_nothing_more_and_lets_what_flies_finish() -> None:
    platform = Platform({"c0.0": Verdict.STOPPED})
    done = asyncio.run(by_chat(messages(6, 2), chat_of, platform.send, at_once=3))
    # c1.0 and c2.0 were in flight beside c0.0: they finish and count; nothing else starts.
    assert sorted(platform.order) == ["c0.0", "c1.0", "c2.0"]
    assert done.sent == 2 and done.error is None
    assert sorted(done.untried) == sorted(
        ["c0.1", "c1.1", "c2.1", "c3.0", "c3.1", "c4.0", "c4.1", "c5.0", "c5.1"])


def test_a_failure_of_ours_stops_the_pass_and_keeps_the_failed_message_leased() -> None:
    platform = Platform(fails="c0.0")
    done = asyncio.run(by_chat(messages(2, 2), chat_of, platform.send, at_once=2))
    assert isinstance(done.error, RuntimeError)
    assert "c0.0" not in done.untried  # it may have gone: its lease runs out, never resent now
    assert sorted(done.untried) == ["c0.1", "c1.1"] and done.sent == 1
    with pytest.raises(RuntimeError):
        done.raise_error()


def test_nothing_to_send_is_a_pass_that_sent_nothing() -> None:
    done = asyncio.run(by_chat([], chat_of, Platform().send))
    assert (done.sent, done.untried, done.error) == (0, [], None)


def test_marks_that_come_while_one_is_written_go_together_and_each_once() -> None:
    written: list[list[int]] = []

    def write(items: list[int]) -> None:
        time.sleep(0.05)  # a commit: the others come meanwhile
        written.append(items)

    async def run() -> None:
        mark = Together[int](write)
        await asyncio.gather(*(mark(n) for n in range(10)))

    asyncio.run(run())
    assert sorted(n for batch in written for n in batch) == list(range(10))
    assert written[0] == [0] and len(written) == 2  # the first alone, the nine after together


def test_the_next_pass_is_claimed_while_this_one_sends_and_passes_send_in_turn() -> None:
    """``forever``: a backlog's passes go back to back, each claimed during the sending of
    the one before; never two passes sending at once; a pass claimed ahead when ``stop``
    comes is still sent, so nothing is left leased."""
    backlog = [Claimed(f"t{n}", [f"p{n}.{i}" for i in range(3)]) for n in range(4)]
    log: list[str] = []
    sending_now = 0
    stop = asyncio.Event()

    async def claim() -> Claimed[str]:
        log.append(f"claim (sending: {sending_now})")
        await asyncio.sleep(0.01)
        return backlog.pop(0) if backlog else Claimed("empty", [])

    async def send(claimed: Claimed[str]) -> int:
        nonlocal sending_now
        assert sending_now == 0, "two passes sending at once"
        sending_now += 1
        await asyncio.sleep(0.05)
        log.append(f"sent {claimed.token}")
        if claimed.token == "t1":
            stop.set()  # t2 is claimed by now: it goes too, t3 is never claimed
        sending_now -= 1
        return len(claimed.items)

    asyncio.run(forever(claim, send, "Test", stop, interval=3600))
    assert log == ["claim (sending: 0)", "claim (sending: 1)", "sent t0", "claim (sending: 1)",
                   "sent t1", "sent t2"]
    assert [c.token for c in backlog] == ["t3"]


def test_a_failed_pass_does_not_lose_the_pass_claimed_behind_it() -> None:
    batches = [Claimed("bad", ["x"]), Claimed("good", ["y"])]
    sent: list[str] = []
    stop = asyncio.Event()

    async def claim() -> Claimed[str]:
        return batches.pop(0) if batches else Claimed("empty", [])

    async def send(claimed: Claimed[str]) -> int:
        if claimed.token == "bad":
            raise RuntimeError("the database went away")
        sent.append(claimed.token)
        stop.set()
        return 1

    asyncio.run(forever(claim, send, "Test", stop, interval=3600))
    assert sent == ["good"]
