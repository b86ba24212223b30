"""Serving the Google Chat app: its events at ``/google-chat`` under aiohttp, each request's
bearer token checked first.

A request whose token Google did not sign for this app (``bot.google_chat.tokens``) is
refused with 401 before anything reads its body; a body that is not an event is 400.
``/healthz`` is open for load balancers. The delivery loop runs beside it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from bot import lifecycle
from bot.google_chat import events
from bot.google_chat.api import ChatApi
from bot.google_chat.app import GoogleChatBot
from bot.google_chat.delivery import deliver_forever
from bot.google_chat.settings import API, GoogleChatSettings
from bot.google_chat.tokens import Unverified, Verifier
from workflows.core import faults

log = logging.getLogger(__name__)
PATH = "/google-chat"
UNAUTHORISED = {"error": "Invalid token or authentication failed."}
MALFORMED = {"error": "The event could not be read."}
FAILED = {"error": "The event could not be handled."}


def create(engine: Engine, settings: GoogleChatSettings, school: str | None = None
           ) -> GoogleChatBot:
    if settings.certs_url or settings.api_url != API:
        log.warning("Google Chat test settings are set: tokens or messages go to a local "
                    "stand-in, not Google. For tests only: unset them in any real deployment.")
    return GoogleChatBot(engine, settings, ChatApi(settings), school)


def http_app(bot: GoogleChatBot, *, deliver: bool = True) -> web.Application:
    verifier = Verifier(bot.settings)

    async def event(request: web.Request) -> web.StreamResponse:
        try:
            await asyncio.to_thread(verifier.verify, request.headers.get("Authorization"))
        except Unverified as error:
            log.warning("refused a Google Chat request: %s", error)
            return web.json_response(UNAUTHORISED, status=401)
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            log.warning("refused a Google Chat request that is not an event")
            return web.json_response(MALFORMED, status=400)
        try:
            return web.json_response(await events.handle(bot, body))
        except Exception as error:
            # One line, not aiohttp's traceback (its message may quote the event).
            log.error("a Google Chat event failed: %s", faults.brief(error))
            log.debug("the event's failure", exc_info=error)
            return web.json_response(FAILED, status=500)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def background(_: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(deliver_forever(bot, stop))
        yield
        stop.set()
        await task

    application = web.Application()
    application.router.add_post(PATH, event)
    application.router.add_get("/healthz", health)
    if deliver:
        application.cleanup_ctx.append(background)
    return application


async def serve(application: web.Application, host: str, port: int) -> None:
    """Until SIGTERM or SIGINT; then every event under way is finished (``bot.lifecycle``)."""
    await lifecycle.serve(application, host, port, PATH)
