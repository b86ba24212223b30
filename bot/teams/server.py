"""Serving the Teams agent: ``/api/messages`` under aiohttp, behind the SDK's JWT check.

Every request to ``/api/messages`` must carry a token that Microsoft issued for this bot
(audience = the client id, issuer checked); anything else is refused with 401 before the
agent sees it. ``/healthz`` is open for load balancers. The delivery loop runs beside it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from collections.abc import AsyncIterator, Callable
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_decorator,
    start_agent_process,
)
from microsoft_agents.hosting.core.authorization import AuthenticationConstants
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import (
    _JwkClientCacheEntry,
    _JwkClientManager,
)
from pydantic import ValidationError
from sqlalchemy import Engine

from bot import lifecycle
from bot.teams.app import TeamsBot
from bot.teams.connections import PooledAdapter
from bot.teams.delivery import deliver_forever
from bot.teams.settings import TeamsSettings
from workflows.core import faults

log = logging.getLogger(__name__)
SERVICE_URL = AuthenticationConstants.SERVICE_URL_CLAIM
BOT_FRAMEWORK = AuthenticationConstants.AGENTS_SDK_TOKEN_ISSUER
UNREADABLE = {"error": "Invalid token or authentication failed."}
MALFORMED = {"error": "The activity could not be read."}
FAILED = {"error": "The activity could not be handled."}


def card_action(value: Any) -> bool:
    """An ``Action.Execute`` as Teams sends it: an action with a verb and, if any, its data
    as an object. (Wrong types inside the data are the agent's to answer: an old card.)"""
    action = value.get("action") if isinstance(value, dict) else None
    return (isinstance(action, dict) and isinstance(action.get("verb"), str)
            and isinstance(action.get("data", {}), dict))


# The shape each invoke the agent answers must have; the SDK leaves its ``value`` untyped,
# and answered one it could not route with 501, as if the bot lacked the feature.
INVOKES: dict[str, Callable[[Any], bool]] = {"adaptiveCard/action": card_action}


async def readable(request: web.Request) -> bool:
    """False for an invoke whose value is not of the shape it must have. A body that is not
    JSON is left to the SDK, which answers it 400."""
    try:
        body = await request.json()
    except ValueError:
        return True
    if not isinstance(body, dict) or body.get("type") != "invoke":
        return True
    name = body.get("name")
    check = INVOKES.get(name) if isinstance(name, str) else None
    return check is None or check(body.get("value"))


async def vouched_for(request: web.Request) -> bool:
    """Whether the activity's ``serviceUrl`` is the one its token names (Bot Framework
    tokens always name one). The bot sends its replies there, with its own token: the SDK
    compares only the host names, and only warns when they differ."""
    claims = request.get("claims_identity")
    claimed = claims.get_claim_value(SERVICE_URL) if claims is not None else None
    try:
        body = await request.json()
    except ValueError:
        body = None
    given = body.get("serviceUrl") if isinstance(body, dict) else None
    if not isinstance(given, str):
        return True  # no address to send to: the SDK refuses what it cannot read
    if claimed is None:
        # Tokens from Entra (not the Bot Framework's) name no service URL.
        return claims is None or claims.get_claim_value("iss") != BOT_FRAMEWORK
    return isinstance(claimed, str) and _same_address(claimed, given)


def _same_address(one: str, other: str) -> bool:
    """Equal but for the case of scheme and host and a trailing slash."""
    def canonical(address: str) -> tuple[str, str, str]:
        parts = urlsplit(address)
        return (parts.scheme.lower(), parts.netloc.lower(),
                parts.path.rstrip("/") + ("?" + parts.query if parts.query else ""))
    try:
        return canonical(one) == canonical(other)
    except ValueError:  # not an address at all
        return False


# Tests only: the signing keys of a local stand-in for Microsoft, so that tests send tokens
# the SDK's real check accepts (signature, audience, issuer). Never set in production.
TEST_KEYS = "DPO_BOT_TEAMS_TEST_KEYS_URL"


def create(engine: Engine, settings: TeamsSettings, school: str | None = None, workers: int = 0
           ) -> tuple[TeamsBot, CloudAdapter, MsalConnectionManager]:
    """The agent (its core's work in ``workers`` processes, or threads if 0), and the adapter
    that talks to Teams with tokens msal acquires."""
    connections = MsalConnectionManager(**settings.sdk)
    bot = TeamsBot(engine, connections, client_id=settings.client_id,
                   tenant_id=settings.tenant_id, school_slug=school, workers=workers)
    return bot, PooledAdapter(connections), connections


class LocalKeys(_JwkClientManager):
    """The SDK's key fetcher, pointed at one local JWKS whatever issuer a token names."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def _get_jwk_client(self, jwks_uri: str) -> _JwkClientCacheEntry:
        return super()._get_jwk_client(self.url)


def trust_test_keys(url: str) -> None:
    """Check Teams tokens against the keys at ``url``, which must be on this machine (a
    test's stand-in for Microsoft), instead of Microsoft's published keys. Process-wide, as
    the SDK's key cache is; said loudly, as it is never meant for a real deployment."""
    host = urlsplit(url).hostname or ""
    if not is_loopback(host):
        raise ValueError(f"{TEST_KEYS} must name a loopback address, not {host!r}")
    log.warning("%s is set: Teams tokens are checked against test keys, not Microsoft's. "
                "For tests only: unset it in any real deployment.", TEST_KEYS)
    JwtTokenValidator._jwk_client_manager = LocalKeys(url)


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:  # a name other than localhost
        return False


def http_app(bot: TeamsBot, adapter: CloudAdapter, connections: MsalConnectionManager,
             *, deliver: bool = True) -> web.Application:
    if os.environ.get(TEST_KEYS):
        trust_test_keys(os.environ[TEST_KEYS])

    async def messages(request: web.Request) -> web.StreamResponse:
        reached = False

        async def agent(checked: web.Request) -> web.StreamResponse:
            nonlocal reached
            if not await readable(checked):
                log.warning("refused an invoke whose value could not be read")
                return web.json_response(MALFORMED, status=400)
            if not await vouched_for(checked):
                log.warning("refused an activity whose serviceUrl its token does not name")
                return web.json_response(UNREADABLE, status=401)
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

    async def connections_closed(_: web.Application) -> None:
        if isinstance(adapter, PooledAdapter):
            await adapter.close()

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
    application.on_cleanup.append(connections_closed)
    return application


async def serve(application: web.Application, host: str, port: int, *,
                busy: bool = False) -> None:
    """Until SIGTERM or SIGINT; then every turn under way is finished (``bot.lifecycle``).

    ``busy``: the core's work is in worker processes (PostgreSQL), so this process answers
    many at once and collects garbage as Slack's does (``lifecycle.freeze_start_up_heap``).
    A small school on SQLite keeps the default: the rarer collections held 9 MB more after
    1,000 conversations (bench/memory.py), and its answers wait on its one writer anyway."""
    await lifecycle.serve(application, host, port, "/api/messages", on_listening=(
        (lambda _: lifecycle.freeze_start_up_heap()) if busy else None))
