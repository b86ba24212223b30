"""`dpo-bot import`: registers exported from the school's MIS. A bad file changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.choices import ConsentFormat
from bot.cli.common import SchoolOption, fail, open_engine, school_named

app = typer.Typer(help="Import registers exported from the school's MIS.", no_args_is_help=True)


def _import_progress():
    """A progress bar on stderr, by bytes of the file read; gone when the import ends."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TimeRemainingColumn(), transient=True, console=Console(stderr=True))


@app.command("software")
def import_software(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    school: SchoolOption = None,
) -> None:
    """Import the school's existing software register (CSV). A bad file changes nothing."""
    from sqlalchemy.exc import SQLAlchemyError

    from workflows.database import session_scope, utcnow
    from workflows.software.importer import ImportRefused, import_register

    try:
        with session_scope(open_engine()) as session:
            report = import_register(session, school_named(session, school), file,
                                     file_name=file.name, by_name="command line", now=utcnow(),
                                     dry_run=dry_run)
    except ImportRefused as error:
        fail(f"{file.name} was not imported; nothing was changed:\n" + "\n".join(error.reasons))
    except SQLAlchemyError as error:  # one line: the statement's parameters are pupils' data
        fail(f"{file.name} was not imported; nothing was changed: the database refused it "
              f"({type(error).__name__}).")
    verb = "Would import" if dry_run else "Imported"
    typer.echo(f"{verb} {report.rows} products from {file.name}: {len(report.added)} added, "
               f"{len(report.changed)} changed, {len(report.unchanged)} unchanged.")
    if report.kept:
        typer.echo("Kept as decided in the bot (not overwritten): " + ", ".join(report.kept))
    if report.no_review:
        typer.echo("Approved with no approval or review date, so no review is planned: "
                   + ", ".join(report.no_review))
    if dry_run:
        typer.echo("Dry run: nothing was written.")


@app.command("consents")
def import_consents(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    format: Annotated[
        ConsentFormat | None, typer.Option("--format", case_sensitive=False,
                                           help="Default: recognised from the columns.")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Column mapping (JSON or TOML) for --format generic.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    school: SchoolOption = None,
) -> None:
    """Import the photo consent register from an MIS export (CSV). A bad file changes nothing."""
    from sqlalchemy.exc import SQLAlchemyError

    from workflows.consent.formats import BUILTIN, MappingError, load_mapping
    from workflows.consent.importer import ImportRefused
    from workflows.consent.importer import import_consents as run_import
    from workflows.database import session_scope, utcnow

    if format == "generic" and mapping is None:
        fail("--format generic needs --mapping FILE (see dpo-bot import consents --help).")
    try:
        chosen = load_mapping(mapping) if mapping else BUILTIN.get(format or "")
    except MappingError as error:
        fail(str(error))
    try:
        with session_scope(open_engine()) as session, _import_progress() as progress:
            task = progress.add_task(f"Checking and importing {file.name}", total=None)
            report = run_import(
                session, school_named(session, school), file, file_name=file.name, mapping=chosen,
                by_name="command line", now=utcnow(), dry_run=dry_run,
                progress=lambda done, total: progress.update(task, completed=done, total=total))
    except ImportRefused as error:
        fail(f"{file.name} was not imported; nothing was changed:\n" + "\n".join(error.reasons))
    except SQLAlchemyError as error:  # one line: the statement's parameters are pupils' data
        fail(f"{file.name} was not imported; nothing was changed: the database refused it "
              f"({type(error).__name__}).")
    verb = "Would import" if dry_run else "Imported"
    typer.echo(f"{verb} {report.rows} pupils from {file.name} ({report.format}): "
               f"{report.added} added, {report.changed} changed, {report.unchanged} unchanged, "
               f"{report.left} left.")
    if report.confirmed:
        typer.echo(f"{report.confirmed} withdrawal(s) recorded in chat are now in the MIS.")
    for line in report.still_pending:
        typer.echo(f"Withdrawn in chat, not yet in this export: {line}")
    if dry_run:
        typer.echo("Dry run: nothing was written.")


