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
from pydantic import ValidationError
from sqlalchemy import Engine

from bot import lifecycle
from bot.teams.app import TeamsBot
from bot.teams.delivery import deliver_forever
from bot.teams.settings import TeamsSettings
from workflows.core import faults

log = logging.getLogger(__name__)
UNREADABLE = {"error": "Invalid token or authentication failed."}
MALFORMED = {"error": "The activity could not be read."}
FAILED = {"error": "The activity could not be handled."}


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
        except ValidationError:  # fields of types Teams never sends (`conversation: []`)
            log.warning("refused an activity whose fields could not be read")
            return web.json_response(MALFORMED, status=400)
        except Exception as error:
            if reached:
                # One line, not aiohttp's traceback (its message may quote the activity).
                log.error("a Teams request failed: %s", faults.brief(error))
                log.debug("the request's failure", exc_info=error)
                return web.json_response(FAILED, status=500)
            # The SDK fails on some malformed tokens (one without a key id) instead of
            # refusing them; refused all the same, as 401 rather than a server error.
            log.warning("refused a request whose token could not be read")
            return web.json_response(UNREADABLE, status=401)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def background(_: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(deliver_forever(bot, adapter, stop))
        yield
        stop.set()
        await task  # the pass under way ends: nothing Teams took is left unmarked

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
    """Until SIGTERM or SIGINT; then every turn under way is finished (``bot.lifecycle``)."""
    await lifecycle.serve(application, host, port, "/api/messages")
