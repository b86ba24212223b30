"""`dpo-bot slack`: the Slack app, in Socket Mode or behind an HTTP server."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import (
    DebugOption,
    ServedOption,
    WorkersOption,
    configure_logging,
    default_workers,
    fail,
    open_engine,
)


def slack(
    http: Annotated[
        bool, typer.Option("--http", help="Serve HTTP instead of Socket Mode.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --http.")] = 3000,
    host: Annotated[str, typer.Option(help="Address for --http.")] = "0.0.0.0",
    school: ServedOption = None,
    workers: WorkersOption = None,
    debug: DebugOption = False,
) -> None:
    """Run the Slack app (Socket Mode by default: only an outbound connection is needed).

    SIGTERM or Ctrl-C stops it safely: no new requests, every acknowledged one finished."""
    import asyncio

    from bot.slack.settings import SlackConfigError, SlackSettings

    configure_logging(debug)
    try:
        settings = SlackSettings.from_env(http=http)
    except SlackConfigError as error:
        fail(str(error))
    engine = open_engine()
    if workers is None:
        workers = default_workers(engine)
    asyncio.run(_run_slack(engine, settings, http, host, port, school, workers))


async def _run_slack(engine, settings, http: bool, host: str, port: int, school,
                     workers: int) -> None:
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import SlackBot
    from bot.slack.server import serve_http, serve_socket_mode
    from bot.slack.settings import WHERE

    bot = SlackBot(engine, settings, school, workers=workers)
    try:
        try:
            identity = await bot.check_token()
        except SlackApiError as error:
            fail(f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error')}). "
                  f"Check it at {WHERE['SLACK_BOT_TOKEN']}.")
        typer.echo(f"Connected to Slack workspace {identity.get('team')} as "
                   f"{identity.get('user')}.")
        if http:
            await serve_http(bot, host, port)
        else:
            await serve_socket_mode(bot)
    finally:
        await bot.close()


