"""`dpo-bot report governors`: the termly report for governors, as HTML or PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import AsOption, cli_context, fail, open_engine, parse_iso, school_named

app = typer.Typer(help="Reports made from the registers (counts and references, no names).",
                  no_args_is_help=True)


@app.command("governors")
def governors(
    out: Annotated[Path, typer.Option("--out", help="The file to write: report.html or "
                                      "report.pdf.", dir_okay=False)],
    term: Annotated[str | None, typer.Option("--term", help="A term, e.g. autumn-2026 "
                                             "(default: the term we are in).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (ISO), with --to, "
                                              "instead of a term.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (ISO).")] = None,
    school: Annotated[str | None, typer.Option("--school", help="The school's short name, or "
                                               "“all” for a trust: one section per school "
                                               "and the whole (default: the first).")] = None,
    as_name: AsOption = None,
) -> None:
    """This term against last term: requests, breaches, disclosures, software, consent."""
    from sqlmodel import col, select

    from workflows.database import session_scope
    from workflows.people.permissions import PermissionDenied
    from workflows.reports import service
    from workflows.reports.period import PeriodError
    from workflows.schools.models import School

    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        fail(f"--out must end in .html or .pdf, not “{out.name}”.")
    if (start is None) != (end is None) or (start is not None and term is not None):
        fail("Give --term, or both --from and --to.")
    with session_scope(open_engine()) as session:
        schools = (list(session.exec(select(School).order_by(col(School.name))))
                   if school == "all" else [school_named(session, school)])
        if not schools:
            fail("There is no school here yet (dpo-bot setup adds one).")
        contexts = [cli_context(session, found, as_name) for found in schools]
        try:
            if start is not None and end is not None:
                asked = service.asked_dates(parse_iso(start, "--from"), parse_iso(end, "--to"))
            elif term is not None:
                asked = service.asked_term(term)
            else:
                asked = service.current_term(contexts[0])
            made = service.make(contexts, asked, out)
        except (PeriodError, PermissionDenied) as error:
            fail(str(error) if isinstance(error, PeriodError) else error.message)
    typer.echo(f"Wrote the governors' report for {asked.words} ({len(made.sections)} "
               f"section{'s' if len(made.sections) != 1 else ''}) to {out}.")
