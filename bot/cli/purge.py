"""`dpo-bot purge`: remove what each school's retention periods say must go, and record it."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import escape, open_engine, school_named


def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would go; remove "
                                          "nothing.")] = False,
    school: Annotated[str | None, typer.Option(
        "--school", help="One school's short name (default: every school).")] = None,
) -> None:
    """Remove what is past each school's retention periods, and record what went."""
    from rich.console import Console
    from rich.table import Table
    from sqlmodel import col, select

    from workflows.database import session_scope, utcnow
    from workflows.retention.service import periods
    from workflows.retention.service import purge as run_purge
    from workflows.schools.models import School

    console, removed = Console(), False
    with session_scope(open_engine()) as session:
        chosen = ([school_named(session, school)] if school else
                  list(session.exec(select(School).order_by(col(School.id)))))
        for found in chosen:
            removals = run_purge(session, found, utcnow(), dry_run=dry_run,
                                 by_name="dpo-bot purge")
            removed |= any(r.count for r in removals)
            table = Table(title=f"{'Would remove' if dry_run else 'Removed'} at "
                                f"{escape(found.name)}")
            for column in ("what", "how many", "rule", "which"):
                table.add_column(column)
            for r in removals:
                shown = ", ".join(r.references[:10]) + (" …" if len(r.references) > 10 else "")
                table.add_row(r.what, str(r.count), r.rule, escape(shown))
            console.print(table)
            typer.echo("Periods are school settings: " + ", ".join(
                f"{k}={v}" for k, v in sorted(periods(found).items())) + ".")
    if dry_run:
        typer.echo("Dry run: nothing was removed.")
    elif removed:
        typer.echo("Recorded in the audit trail (retention.purged), by reference and count.")


