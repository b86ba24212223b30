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

    from workflows.core.imports import refused
    from workflows.core.wording import render
    from workflows.database import session_scope, utcnow
    from workflows.software.importer import ImportRefused, import_register

    try:
        with session_scope(open_engine()) as session:
            report = import_register(session, school_named(session, school), file,
                                     file_name=file.name, by_name="command line", now=utcnow(),
                                     dry_run=dry_run)
    except ImportRefused as error:
        fail(refused("not_imported", file=file.name, reasons=error.reasons))
    except SQLAlchemyError as error:  # one line: the statement's parameters are pupils' data
        fail(refused("database_refused", file=file.name, error=type(error).__name__))
    typer.echo(render("software/import.txt.j2", reason="report", report=report,
                      file=file.name, dry_run=dry_run))


# The columns each export must have, as workflows.consent.formats.BUILTIN names them (mirrored,
# not imported, so that --help stays fast; tests/test_cli.py holds the two equal). Each format's
# sample, which imports as it is, is in docs/consent-samples/.
CONSENT_COLUMNS = """\b
Recognised from the columns (any order, any case; more columns are fine):

sims (SIMS, Reports > Student details): Adno, Legal Forename, Legal Surname,
  Preferred Forename, Year, Reg, DOB, No Photographs, Consent Date, Consent Given By,
  Consent - Displays, Consent - Printed Publications, Consent - Website,
  Consent - Social Media, Consent - Video, Consent - Press No Name,
  Consent - Press With Name, Consent - Photographer, Consent - Apps.
  Answers Yes / No / Not Asked / Withdrawn; dates DD/MM/YYYY.

arbor (Arbor, Students > Consents): Arbor ID, Legal first name, Legal last name,
  Preferred first name, Year group, Registration form, Date of birth, Photo restriction,
  Consent date, Consent given by, Displays consent, Print consent, Website consent,
  Social media consent, Video consent, Press (no name) consent, Press (named) consent,
  Photographer consent, Apps consent.
  Answers Given / Refused / Not asked / Withdrawn; dates YYYY-MM-DD.

bromcom (Bromcom, Students > Consent report): Student Id, Legal Forename, Legal Surname,
  Preferred Name, Year Group, Tutor Group, Date of Birth, Do Not Photograph, Consent Date,
  Consent Recorded From, Photo - Displays, Photo - Print, Photo - Website,
  Photo - Social Media, Photo - Video, Photo - Press Unnamed, Photo - Press Named,
  Photo - Photographer, Photo - Apps.
  Answers Y / N / NA / W; dates DD/MM/YYYY.

generic (any other CSV): --format generic --mapping FILE, a TOML or JSON file naming the
  columns: \\[columns] mis_id, legal_first, legal_last (required), preferred_name, year_group,
  reg_class, date_of_birth, no_photos, given_on, given_by; \\[consents] one column per use,
  by the use's key (dpo-bot consent-settings show); \\[statuses] the export's own answer words
  (optional). Example: docs/consent-samples/generic-mapping.toml.
"""


@app.command("consents", epilog=CONSENT_COLUMNS)
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
    from workflows.core.imports import refused
    from workflows.core.wording import render
    from workflows.database import session_scope, utcnow

    if format == "generic" and mapping is None:
        fail(render("consent/import.txt.j2", reason="generic_needs_mapping"))
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
        fail(refused("not_imported", file=file.name, reasons=error.reasons))
    except SQLAlchemyError as error:  # one line: the statement's parameters are pupils' data
        fail(refused("database_refused", file=file.name, error=type(error).__name__))
    typer.echo(render("consent/import.txt.j2", reason="report", report=report))


