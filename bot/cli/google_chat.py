"""`dpo-bot google-chat`: the Google Chat app's HTTP endpoint."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import DebugOption, ServedOption, configure_logging, fail, open_engine


def google_chat(
    port: Annotated[int, typer.Option(help="Port to serve /google-chat on.")] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",
    school: ServedOption = None,
    debug: DebugOption = False,
) -> None:
    """Serve the Google Chat app at /google-chat (behind your HTTPS endpoint).

    SIGTERM or Ctrl-C stops it safely: no new requests, every one under way finished."""
    import asyncio

    from bot.google_chat.settings import GoogleChatConfigError, GoogleChatSettings

    configure_logging(debug)
    try:
        settings = GoogleChatSettings.from_env()
    except GoogleChatConfigError as error:
        fail(str(error))
    from bot.google_chat.server import create, http_app, serve

    try:
        bot = create(open_engine(), settings, school)
    except ValueError as error:  # no such school, or an unreadable key
        fail(str(error))
    typer.echo(f"Google Chat app for {len(bot.served)} school(s): "
               f"http://{host}:{port}/google-chat")
    asyncio.run(serve(http_app(bot), host, port))
