"""`dpo-bot export`: the registers as CSV or JSON, and everything as one zip; every read
audited as whoever ran it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.choices import ExportFormat
from bot.cli.common import AsOption, SchoolOption, cli_context, fail, open_engine, school_named

app = typer.Typer(help="Export registers as CSV or JSON.", no_args_is_help=True)
FormatOption = Annotated[ExportFormat, typer.Option("--format", case_sensitive=False,
                                                       help="The format to write.")]
OutOption = Annotated[Path | None, typer.Option(help="Write to a file instead of the screen.")]


@app.command("sars")
def export_sars(format: FormatOption = "csv", out: OutOption = None,
                as_name: AsOption = None, school: SchoolOption = None) -> None:
    """The SAR log, with every date, for the governors, the ICO or your own records."""
    from workflows.sar.export import export_rows

    _export(export_rows, format, out, school, "requests", as_name)


@app.command("breaches")
def export_breaches(format: FormatOption = "csv", out: OutOption = None,
                    as_name: AsOption = None, school: SchoolOption = None) -> None:
    """The breach log (Art 33(5)): every breach, reported or not, with its decisions."""
    from workflows.breach.export import export_rows

    _export(export_rows, format, out, school, "breaches", as_name)


@app.command("consents")
def export_consents(format: FormatOption = "csv", out: OutOption = None,
                    as_name: AsOption = None, school: SchoolOption = None) -> None:
    """The photo consent register as held now, with the answer the bot gives for each use."""
    from workflows.consent.service import export_rows

    _export(export_rows, format, out, school, "consent rows", as_name)


@app.command("software")
def export_software(format: FormatOption = "csv", out: OutOption = None,
                    as_name: AsOption = None, school: SchoolOption = None) -> None:
    """The software register: each product's status, data, conditions, DPIA and review date."""
    from workflows.software.export import export_rows

    _export(export_rows, format, out, school, "products", as_name)


@app.command("all")
def export_all(
    out: Annotated[Path, typer.Option("--out", help="The zip file to write.")],
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Every register, the people, the settings and the audit trail, as CSV and JSON in a zip."""
    from workflows.archive import REGISTERS, write_archive
    from workflows.database import session_scope, utcnow

    if out.suffix.lower() != ".zip":
        fail(f"{out} should end in .zip.")
    if not out.parent.exists():
        fail(f"There is no folder {out.parent}.")
    with session_scope(open_engine()) as session:
        found = school_named(session, school)
        counts = write_archive(session, found, out,
                               actor=cli_context(session, found, as_name).person.name,
                               now=utcnow())
    for name, (what, _) in REGISTERS.items():
        typer.echo(f"{name}: {counts[name]} rows ({what})")
    typer.echo(f"Wrote {out}.")


def _export(export_rows, format: ExportFormat, out: Path | None, school: str | None, noun: str,
            as_name: str | None) -> None:
    """Rows from one register (the read is audited) as CSV or JSON, to a file or the screen."""
    from workflows.core.export import to_csv
    from workflows.database import session_scope

    with session_scope(open_engine()) as session:
        found = school_named(session, school)
        rows = export_rows(session, found, actor=cli_context(session, found, as_name).person.name)
    text = to_csv(rows) if format == "csv" else json.dumps(rows, indent=2, ensure_ascii=False)
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {len(rows)} {noun} to {out}.", err=True)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


