"""`dpo-bot schools`: the schools one deployment serves (a trust's, a local authority's)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import escape, fail, open_engine

app = typer.Typer(help="The schools this deployment serves (a trust's, an LA's).",
                  no_args_is_help=True)
EmailDomainOption = Annotated[list[str] | None, typer.Option(
    "--email-domain", help="Staff email domain, e.g. oakwood.sch.uk (repeat for more): "
    "places newcomers when one Slack or Teams app serves several schools.")]


@app.command("add")
def schools_add(
    slug: Annotated[str, typer.Argument(help="A short name for --school, e.g. oakwood.")],
    name: Annotated[str, typer.Option("--name", help="The school's full name.")],
    email_domain: EmailDomainOption = None,
) -> None:
    """Add a school; then set it up with dpo-bot setup --school SLUG."""
    from workflows.database import session_scope
    from workflows.schools import service as schools

    try:
        with session_scope(open_engine()) as session:
            school = schools.add(session, slug, name, email_domain or [])
            typer.echo(f"Added {school.name} ({school.slug}). Next: dpo-bot setup --school "
                       f"{school.slug}")
    except schools.SchoolRefused as error:
        fail(str(error))


@app.command("list")
def schools_list() -> None:
    """Every school here, with its people and open cases (counts only)."""
    from rich.console import Console
    from rich.table import Table
    from sqlmodel import col, func, select

    from workflows.database import session_scope
    from workflows.people.models import Person
    from workflows.registry import WORKFLOWS
    from workflows.schools.models import School

    table = Table(title="Schools")
    for column in ("--school", "name", "email domains", "set up", "people", "open cases"):
        table.add_column(column)
    with session_scope(open_engine()) as session:
        for school in session.exec(select(School).order_by(col(School.slug))):
            people = session.exec(select(func.count(Person.id)).where(
                Person.school_id == school.id)).one()
            open_cases = sum(session.exec(select(func.count()).select_from(w.model).where(
                w.model.school_id == school.id, col(w.model.state).in_(w.open_states))).one()
                for w in WORKFLOWS.values())
            table.add_row(school.slug, escape(school.name), school.email_domains or "",
                          "yes" if school.configured else "no", str(people), str(open_cases))
    Console().print(table)


