"""`dpo-bot db`: the database itself."""

from __future__ import annotations

import typer

from bot.cli.common import open_engine

app = typer.Typer(help="The database.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or upgrade it to this version's schema."""
    from workflows.database import database_url

    open_engine()
    url = database_url()
    shown = url.split("@")[-1] if "@" in url else url  # never print a password
    typer.echo(f"Database is up to date: {shown}")
