"""`dpo-bot people`: who the bot knows at a school and their roles, every change audited."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.choices import Role
from bot.cli.common import (
    AsOption,
    SchoolOption,
    cli_context,
    escape,
    fail,
    open_engine,
    school_named,
)

app = typer.Typer(help="People and their roles.", no_args_is_help=True)


@app.command("add")
def people_add(
    name: str,
    role: Annotated[Role | None, typer.Option(
        case_sensitive=False, help="Their role (default: staff; someone already here keeps "
        "theirs).")] = None,
    email: Annotated[
        str | None, typer.Option(help="Their email (links them to Slack by it).")
    ] = None,
    slack_id: Annotated[
        str | None, typer.Option(help="Their Slack member id (U…), if not linked by email.")
    ] = None,
    consent: Annotated[
        bool, typer.Option("--consent", help="May look up pupils' photo consent.")
    ] = False,
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Add a person, or add details (email, Slack id) to someone already here."""
    from workflows.people import service as people
    from workflows.people.models import Role as PersonRole

    chosen = PersonRole(role) if role else None
    _people_change(lambda ctx: people.add(ctx, name, chosen, email, slack_id, consent), as_name,
                   school)


@app.command("role")
def people_role(
    name: Annotated[str, typer.Argument(help="Their name, as dpo-bot people list shows it.")],
    role: Annotated[Role, typer.Argument(case_sensitive=False, help="Their new role.")],
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Change someone's role (or bring back someone removed); recorded with who did it."""
    from workflows.people import service as people
    from workflows.people.models import Role as PersonRole

    _people_change(lambda ctx: people.change_role(ctx, name, PersonRole(role)), as_name,
                   school)


@app.command("remove")
def people_remove(
    name: Annotated[str, typer.Argument(help="Their name, as dpo-bot people list shows it.")],
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Someone who has left: they can no longer see or do anything. Their record and what they
    did stay."""
    from workflows.people import service as people

    _people_change(lambda ctx: (people.remove(ctx, name), []), as_name, school)


def _people_change(change, as_name: str | None, school: str | None) -> None:
    """One change to the people list in its own transaction; a refusal changes nothing."""
    from workflows.database import session_scope
    from workflows.people.permissions import PermissionDenied
    from workflows.people.service import PeopleRefused

    try:
        with session_scope(open_engine()) as session:
            ctx = cli_context(session, school_named(session, school), as_name)
            person, said = change(ctx)
            line = (f"{person.name} is {person.role} at {ctx.school.name}." if person.active
                    else f"{person.name} is removed from {ctx.school.name}.")
            line += f" Recorded as done by {ctx.person.name}."
    except (PeopleRefused, PermissionDenied) as error:
        fail(str(getattr(error, "message", error)))
    for note in said:
        typer.echo(note)
    typer.echo(line)


@app.command("list")
def people_list(as_name: AsOption = None, school: SchoolOption = None) -> None:
    """Everyone the bot knows at the school, with their role (the read is audited)."""
    from rich.console import Console
    from rich.table import Table

    from workflows.database import session_scope
    from workflows.people import service as people

    table = Table("Name", "Role", "Email", "Slack", "Photo consent")
    with session_scope(open_engine()) as session:
        for person in people.listed(cli_context(session, school_named(session, school),
                                                as_name)):
            table.add_row(escape(person.name), person.role if person.active else "removed",
                          escape(person.email or ""), escape(person.slack_user_id or ""),
                          "yes" if person.consent_lookup else "")
    Console(width=200).print(table)


@app.command("history")
def people_history(
    name: Annotated[str, typer.Argument(help="Their name, as dpo-bot people list shows it.")],
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Who added this person, changed their role or removed them, and when (audited)."""
    from workflows.database import session_scope
    from workflows.people import service as people

    with session_scope(open_engine()) as session:
        ctx = cli_context(session, school_named(session, school), as_name)
        person = people.named(session, ctx.school.id, name)
        if person is None:
            fail(f"No one called “{name}” at {ctx.school.name} (dpo-bot people list shows "
                  "them).")
        for event in people.person_history(ctx, person):
            detail = event.detail or {}
            change = (f"{detail.get('old')} → {detail.get('new')}" if "new" in detail
                      else detail.get("role") or detail.get("old") or "")
            typer.echo(f"{event.at.astimezone(ctx.tz):%d %b %Y %H:%M}  "
                       f"{event.action.split('.', 1)[1].replace('_', ' ')}  {change}  "
                       f"by {event.actor_name} ({event.adapter})"
                       + (f": {detail['why']}" if detail.get("why") else ""))


