"""`dpo-bot export`: the registers as CSV or JSON, and everything as one zip; every read
audited as whoever ran it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from bot.cli.choices import ExportFormat
from bot.cli.common import AsOption, SchoolOption, cli_context, fail, open_engine, school_named


class _DeclaredExports(TyperGroup):
    """``dpo-bot export``: a command for each workflow's declared log, beside the fixed ones.

    Found only when ``export`` is asked for: the registry imports every workflow, which
    ``dpo-bot --help`` should not pay for.
    """

    _declared = False

    def _declare(self) -> None:
        if not self._declared:
            self._declared = True
            for name, command in typer.main.get_group(_declared_exports()).commands.items():
                self.add_command(command, name)

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        self._declare()
        return super().list_commands(ctx)

    def get_command(self, ctx: typer.Context, cmd_name: str):  # type: ignore[override]
        self._declare()
        return super().get_command(ctx, cmd_name)


app = typer.Typer(help="Export registers as CSV or JSON.", no_args_is_help=True,
                  cls=_DeclaredExports)
FormatOption = Annotated[ExportFormat, typer.Option("--format", case_sensitive=False,
                                                       help="The format to write.")]
OutOption = Annotated[Path | None, typer.Option(help="Write to a file instead of the screen.")]


def _declared_exports() -> typer.Typer:
    """A command for each log a workflow declares (``Workflow.export``)."""
    from workflows.registry import WORKFLOWS

    declared = typer.Typer()
    for workflow in WORKFLOWS.values():
        if workflow.export is not None:
            declared.command(workflow.export.command, help=workflow.export.help)(
                _export_command(workflow.export))
    return declared


def _export_command(export):
    def command(format: FormatOption = "csv", out: OutOption = None,
                as_name: AsOption = None, school: SchoolOption = None) -> None:
        _export(export.rows, format, out, school, export.noun, as_name)

    return command


@app.command("consents")
def export_consents(format: FormatOption = "csv", out: OutOption = None,
                    as_name: AsOption = None, school: SchoolOption = None) -> None:
    """The photo consent register as held now, with the answer the bot gives for each use."""
    from workflows.consent.service import export_rows

    _export(export_rows, format, out, school, "consent rows", as_name)


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


