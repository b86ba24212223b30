"""The Monday peak's fakes, each serving in a process of its own and streaming what it receives.

As threads in the benchmark, the fake Slack and the local Microsoft shared one GIL with the
benchmark, which read back every call so far twice a second (quadratic over a run): the
harness was part of what it measured. Here each serves in its own process, keeps none of the
calls, and appends one line per message it receives to a file: its kind, the chat, a digest of
its content and when it arrived. The benchmark reads only the lines added since it last looked.

Slack's block checks are off here (the tests keep them): the bot's messages are the same ones
the tests check, and checking 20,000 of them is the fake's work, not the bot's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote


@dataclass(frozen=True)
class Received:
    kind: str  # "breach", "nudge" or "digest"
    chat: str  # the Slack channel or the Teams conversation
    digest: str  # of the message's content: two equal ones to one chat are a duplicate
    at: float  # when it arrived


def kind_of(headline: str) -> str:
    """What a delivered message is, from the line a phone shows (no personal data in it)."""
    return "breach" if "BRE-" in headline else "nudge" if "SAR-" in headline else "digest"


class _Stream:
    """Lines appended from the fake's request threads; each flushed, so a reader sees it."""

    def __init__(self, path: Path) -> None:
        self.file: TextIO = path.open("a", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, headline: str, chat: str, content: Any) -> None:
        digest = hashlib.blake2b(json.dumps(content, sort_keys=True).encode(),
                                 digest_size=12).hexdigest()
        line = f"{kind_of(headline)}\t{chat}\t{digest}\t{time.time():.6f}\n"
        with self.lock:
            self.file.write(line)
            self.file.flush()


def _serve_slack(ready: Connection, stream: Path) -> None:
    from tests.slack.fake_slack import Call, FakeSlack

    out = _Stream(stream)

    class Streaming(FakeSlack):
        def _record(self, call: Call) -> None:
            if call.method == "chat.postMessage":
                out.write(call.args.get("text", ""), call.args.get("channel", ""),
                          call.args.get("blocks"))

    with Streaming(validate_blocks=False) as fake:
        ready.send({"url": fake.url})
        _until_told(ready)


def _serve_microsoft(ready: Connection, stream: Path, folder: Path, first: str) -> None:
    from tests.teams.microsoft import SEND, Microsoft

    out = _Stream(stream)

    class Streaming(Microsoft):
        def record(self, method: str, path: str, body: Any) -> None:
            if method == "POST" and SEND.match(path):
                out.write(body.get("summary") or "", unquote(path.split("/")[4]),
                          body.get("attachments"))

    with Streaming(folder) as microsoft:
        # What the benchmark needs of it: the bot's settings, and the first DPO's hello
        # (signed here, where the key is).
        ready.send({"env": microsoft.env(), "token": microsoft.token(),
                    "hello": microsoft.activity(first, text="hello")})
        _until_told(ready)


def _until_told(ready: Connection) -> None:
    with contextlib.suppress(EOFError):  # EOF: the benchmark is gone
        ready.recv()


class Fake:
    """A fake in its own process; ``info`` is what it sent when it was up."""

    def __init__(self, target: Any, stream: Path, *args: Any) -> None:
        context = multiprocessing.get_context("spawn")  # nothing of the benchmark's state
        self.stream = stream
        stream.touch()
        self._ours, theirs = context.Pipe()
        self.process = context.Process(target=target, args=(theirs, stream, *args), daemon=True)
        self.process.start()
        if not self._ours.poll(60):
            raise RuntimeError(f"{target.__name__} did not start")
        self.info: dict[str, Any] = self._ours.recv()
        self._reader = stream.open(encoding="utf-8")
        self._partial = ""

    def received(self) -> Iterator[Received]:
        """What arrived since the last call (complete lines only)."""
        for line in self._reader:
            if not line.endswith("\n"):
                self._partial += line
                continue
            kind, chat, digest, at = (self._partial + line).rstrip("\n").split("\t")
            self._partial = ""
            yield Received(kind, chat, digest, float(at))

    def stop(self) -> None:
        self._ours.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
        self._reader.close()


def slack(stream: Path) -> Fake:
    return Fake(_serve_slack, stream)


def microsoft(stream: Path, folder: Path, first: str) -> Fake:
    return Fake(_serve_microsoft, stream, folder, first)
