"""Running the Slack app: Socket Mode (no public URL needed) or HTTP under aiohttp.

HTTP mode is a production aiohttp server (not Bolt's development server) answering
events, commands and interactivity at ``/slack/events``, with ``/healthz`` for probes.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot import lifecycle
from bot.slack.app import SlackBot
from bot.slack.delivery import deliver_forever

log = logging.getLogger(__name__)


def http_app(bot: SlackBot) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, AttributeError, KeyError):
            # Not UTF-8, JSON (or payload=) that does not parse, or fields of the wrong type
            # (Bolt reads its ids from the body as it takes it in).
            bolt_request = None
        if bolt_request is None or not isinstance(bolt_request.body, dict):
            # Slack never sends these; whoever did gets a plain refusal, not a traceback.
            log.warning("refused a request to /slack/events whose body could not be read")
            return web.Response(status=400, text="unreadable request body")
        bolt_response = await bot.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def background(app: web.Application):
        stop = asyncio.Event()
        task = asyncio.create_task(deliver_forever(bot, stop))
        yield
        stop.set()
        await task  # the pass under way ends: nothing Slack took is left unmarked

    application = web.Application()
    application.router.add_post("/slack/events", events)
    application.router.add_get("/healthz", health)
    application.cleanup_ctx.append(background)
    return application


async def serve_http(bot: SlackBot, host: str, port: int) -> None:
    """Until SIGTERM or SIGINT; then every request already acknowledged is finished."""
    await lifecycle.serve(http_app(bot), host, port, "/slack/events",
                          on_listening=lambda _: lifecycle.freeze_start_up_heap())


async def serve_socket_mode(bot: SlackBot) -> None:
    """Until SIGTERM or SIGINT; then the connection closes (an envelope not yet acked is
    sent again by Slack) and every one acknowledged is finished."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    stop = lifecycle.stop_on_signals()
    handler = AsyncSocketModeHandler(bot.app, bot.settings.app_token)
    client = handler.client
    delivered = asyncio.Event()
    task = asyncio.create_task(deliver_forever(bot, delivered))
    await handler.connect_async()
    log.info("connected to Slack in Socket Mode")
    lifecycle.freeze_start_up_heap()
    try:
        await stop.wait()
    finally:
        # Envelopes from now on go unacknowledged, so Slack sends them to another connection
        # (or to this service once restarted); the connection stays open until the acks of
        # those already taken have gone, and their work is done.
        client.socket_mode_request_listeners.clear()
        delivered.set()
        await task
        await lifecycle.drain(keep=lambda: (client.message_processor,
                                            client.current_session_monitor,
                                            client.message_receiver))
        await handler.close_async()

