"""`dpo-bot teams`: the Teams agent's server, and the app package an admin uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import (
    DebugOption,
    SchoolOption,
    ServedOption,
    WorkersOption,
    configure_logging,
    default_workers,
    fail,
    open_engine,
    school_named,
)

app = typer.Typer(help="Run the Microsoft Teams agent, or build its app package.",
                  invoke_without_command=True)


@app.callback()
def teams(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to serve /api/messages on.")] = 3978,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",
    school: ServedOption = None,
    workers: WorkersOption = None,
    debug: DebugOption = False,
) -> None:
    """Serve the Teams agent at /api/messages (behind your HTTPS endpoint).

    SIGTERM or Ctrl-C stops it safely: no new requests, every one under way finished."""
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from bot.teams.settings import TeamsConfigError, TeamsSettings

    configure_logging(debug)
    try:
        settings = TeamsSettings.from_env()
    except TeamsConfigError as error:
        fail(str(error))
    from bot.teams.server import create, http_app, serve

    engine = open_engine()
    try:
        bot, adapter, connections = create(
            engine, settings, school, default_workers(engine) if workers is None else workers)
    except ValueError as error:  # no such school
        fail(str(error))
    typer.echo(f"Teams agent for {len(bot.served)} school(s): http://{host}:{port}/api/messages")
    try:
        asyncio.run(serve(http_app(bot, adapter, connections), host, port,
                          busy=bot.workers.processes > 0))
    finally:
        bot.close()


@app.command("package")
def teams_package(
    out: Annotated[Path, typer.Option("--out", help="Where to write the .zip.")],
    website: Annotated[str, typer.Option(
        envvar="TEAMS_APP_WEBSITE", help="The school's website (https://…).")],
    privacy: Annotated[str | None, typer.Option(
        envvar="TEAMS_APP_PRIVACY_URL", help="Privacy notice (default: the website).")] = None,
    terms: Annotated[str | None, typer.Option(
        envvar="TEAMS_APP_TERMS_URL", help="Terms of use (default: the website).")] = None,
    organisation: Annotated[str | None, typer.Option(
        envvar="TEAMS_APP_ORGANISATION",
        help="Who publishes the app: the trust's name when it serves several schools "
             "(default: the school's name).")] = None,
    school: SchoolOption = None,
) -> None:
    """Build the Teams app package (manifest.json and icons) for Teams admin centre.

    Each build has a higher version than the last, so Teams takes it as an update."""
    from bot.teams.settings import TeamsConfigError, client_id_from_env

    try:
        bot_id = client_id_from_env()
    except TeamsConfigError as error:
        fail(str(error))
    for name, url in (("--website", website), ("--privacy", privacy), ("--terms", terms)):
        if url is not None and not url.startswith("https://"):
            fail(f"{name} must be an https:// address, not “{url}”.")
    from bot.teams.package import build
    from workflows.database import session_scope
    from workflows.schools import service as schools

    with session_scope(open_engine()) as session:
        name = school_named(session, school).name
        several = school is None and len(schools.served(session, None)) > 1
    if organisation is not None and not organisation.strip():
        fail("--organisation must not be empty.")
    if several and organisation is None:
        # The app is the whole trust's: naming its first school would mislead every other.
        fail("This deployment serves several schools: name the trust they belong to with "
             "--organisation (or build a package for one school with --school).")
    name = organisation.strip() if organisation else name
    previous = out.read_bytes() if out.is_file() else None
    out.write_bytes(build(bot_id, previous=previous, school=name, website=website,
                          privacy=privacy or website, terms=terms or website, developer=name))
    typer.echo(f"Wrote {out}: upload it in Teams admin centre > Teams apps > Manage apps.")


