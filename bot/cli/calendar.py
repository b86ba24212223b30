"""`dpo-bot calendar`: the school's term dates, which decide what a school day is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import SchoolOption, fail, open_engine, school_named

app = typer.Typer(help="The school's term calendar (for school days).", no_args_is_help=True)


@app.command("import")
def calendar_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    school: SchoolOption = None,
) -> None:
    """Load term dates and closures from a CSV (kind,start,end,name)."""
    from workflows.database import session_scope
    from workflows.deadlines import CalendarError
    from workflows.deadlines.calendar import describe_short
    from workflows.schools.setup import read_term_calendar

    try:
        calendar = read_term_calendar(file)
    except CalendarError as error:
        fail(f"{file} was not imported:\n{error}")
    with session_scope(open_engine()) as session:
        found = school_named(session, school)
        found.term_calendar_csv = calendar.to_csv()
        session.add(found)
    first, last = calendar.terms[0], calendar.terms[-1]
    # describe_short, not strftime("%-d"): that format does not exist on Windows.
    typer.echo(
        f"Imported {len(calendar.terms)} terms ({describe_short(first.start)} to "
        f"{describe_short(last.end)}) and {len(calendar.closures)} closure days for {found.name}."
    )


@app.command("show")
def calendar_show(school: SchoolOption = None) -> None:
    """Print the school's term calendar as CSV."""
    from workflows.database import session_scope

    with session_scope(open_engine()) as session:
        found = school_named(session, school)
        typer.echo(found.term_calendar_csv or f"{found.name} has no term calendar yet.")
