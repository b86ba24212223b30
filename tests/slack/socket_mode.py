"""Slack's end of Socket Mode on 127.0.0.1, for `dpo-bot slack` run as it runs by default.

The fake Web API's ``apps.connections.open`` hands out this server's ``ws://`` address; each
connection is greeted with ``hello``, sent envelopes, and every ack (with any response
payload) is recorded. It can ask the app to reconnect (``disconnect``) or drop the socket,
as Slack does when it moves a connection or a network fails.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from .fake_slack import FakeSlack


class SocketModeSlack:
    def __init__(self, fake: FakeSlack | None = None) -> None:
        from aiohttp import web

        self.acked: list[str] = []
        self.acks: dict[str, list[dict[str, Any]]] = {}
        self.connections = 0
        self.connected = threading.Event()
        self.socket: Any = None
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()

        async def link(request: web.Request) -> web.WebSocketResponse:
            socket = web.WebSocketResponse()
            await socket.prepare(request)
            await socket.send_json({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A0DPOBOT"}})
            with self.lock:
                self.socket = socket
                self.connections += 1
            self.connected.set()
            async for message in socket:
                envelope = json.loads(message.data)
                if "envelope_id" in envelope:
                    with self.lock:
                        self.acked.append(envelope["envelope_id"])
                        self.acks.setdefault(envelope["envelope_id"], []).append(envelope)
            return socket

        async def start() -> int:
            application = web.Application()
            application.router.add_get("/link/", link)
            self.runner = web.AppRunner(application)
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            return self.runner.addresses[0][1]

        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.port = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        if fake is not None:
            fake.on("apps.connections.open", lambda args: {
                "ok": True, "url": f"ws://127.0.0.1:{self.port}/link/"})

    def send(self, envelope_id: str, payload: dict[str, Any], kind: str = "events_api") -> None:
        self.send_envelope({"envelope_id": envelope_id, "type": kind, "payload": payload,
                            "accepts_response_payload": kind != "events_api",
                            "retry_attempt": 0, "retry_reason": ""})

    def send_envelope(self, envelope: dict[str, Any]) -> None:
        asyncio.run_coroutine_threadsafe(self.socket.send_json(envelope), self.loop).result(10)

    def disconnect(self) -> None:
        """Slack's notice that this connection is going: the app opens another."""
        self.send_envelope({"type": "disconnect", "reason": "refresh_requested",
                            "debug_info": {"host": "applink-test"}})

    def drop(self) -> None:
        """The socket closed under the app, with no notice."""
        asyncio.run_coroutine_threadsafe(self.socket.close(), self.loop).result(10)

    def wait_for_connections(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.connections < count:
            assert time.monotonic() < deadline, f"{self.connections} connections, not {count}"
            time.sleep(0.05)

    def wait_for_ack(self, envelope_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while envelope_id not in self.acks:
            assert time.monotonic() < deadline, f"{envelope_id} never acknowledged"
            time.sleep(0.02)
        return self.acks[envelope_id][0]

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
