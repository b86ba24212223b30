"""Serving the Teams agent: ``/api/messages`` under aiohttp, behind the SDK's JWT check.

Every request to ``/api/messages`` must carry a token that Microsoft issued for this bot
(audience = the client id, issuer checked); anything else is refused with 401 before the
agent sees it. ``/healthz`` is open for load balancers. The delivery loop runs beside it.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator

from aiohttp import web
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_decorator,
    start_agent_process,
)
from sqlalchemy import Engine

from bot.teams.app import TeamsBot
from bot.teams.delivery import deliver_forever
from bot.teams.settings import TeamsSettings

log = logging.getLogger(__name__)
UNREADABLE = {"error": "Invalid token or authentication failed."}


def create(engine: Engine, settings: TeamsSettings, school: str | None = None
           ) -> tuple[TeamsBot, CloudAdapter, MsalConnectionManager]:
    """The agent, and the adapter that talks to Teams with tokens msal acquires."""
    connections = MsalConnectionManager(**settings.sdk)
    bot = TeamsBot(engine, connections, client_id=settings.client_id,
                   tenant_id=settings.tenant_id, school_slug=school)
    return bot, CloudAdapter(connection_manager=connections), connections


def http_app(bot: TeamsBot, adapter: CloudAdapter, connections: MsalConnectionManager,
             *, deliver: bool = True) -> web.Application:
    async def messages(request: web.Request) -> web.StreamResponse:
        reached = False

        async def agent(checked: web.Request) -> web.StreamResponse:
            nonlocal reached
            reached = True
            return await start_agent_process(checked, bot.app, adapter) or web.Response(
                status=202)

        try:
            return await jwt_authorization_decorator(agent)(request)
        except Exception:
            if reached:
                raise
            # The SDK fails on some malformed tokens (one without a key id) instead of
            # refusing them; refused all the same, as 401 rather than a server error.
            log.warning("refused a request whose token could not be read")
            return web.json_response(UNREADABLE, status=401)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def background(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(deliver_forever(bot, adapter))
        yield
        task.cancel()

    application = web.Application()
    # What the SDK's JWT check validates tokens against: this bot's client id and tenant. The
    # SDK looks it up by this plain string, so aiohttp's advice to use an AppKey cannot apply.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        application["agent_configuration"] = connections.get_default_connection_configuration()
    application.router.add_post("/api/messages", messages)
    application.router.add_get("/healthz", health)
    if deliver:
        application.cleanup_ctx.append(background)
    return application


async def serve(application: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(application)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("listening on http://%s:%s/api/messages", host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
