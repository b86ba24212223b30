"""`dpo-bot consent-settings`: the uses parents are asked about, and how long a yes lasts."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.choices import Lookups
from bot.cli.common import SchoolOption, escape, fail, open_engine, school_named

app = typer.Typer(
    help="The school's photo consent settings: the uses parents are asked about, and how long "
    "a yes lasts.", no_args_is_help=True)


@app.command("show")
def consent_settings_show(school: SchoolOption = None) -> None:
    """The uses parents are asked about, and how long a yes lasts."""
    from rich.console import Console
    from rich.table import Table

    from workflows.consent import service
    from workflows.database import session_scope

    with session_scope(open_engine()) as session:
        found = school_named(session, school)
        months = service.validity_months(session, found)
        who = ("Only the DPO team and the staff given --consent may look pupils up "
               "(dpo-bot consent-settings lookups everyone opens it to all staff)."
               if service.lookups_restricted(session, found) else
               "Every member of staff may look pupils up, audited (dpo-bot consent-settings "
               "lookups listed restricts it).")
        table = Table(title=f"Photo consent at {escape(found.name)}: a yes lasts {months} months")
        table.add_column("key (import mapping, --use)")
        table.add_column("use")
        for category in service.categories(session, found).values():
            table.add_row(category.key, escape(category.label))
    Console().print(table)
    typer.echo(who)


def _consent_setting(change, school: str | None) -> None:
    """Make one settings change in its own transaction; a refusal says why, changes nothing."""
    from workflows.consent import service
    from workflows.database import session_scope

    try:
        with session_scope(open_engine()) as session:
            typer.echo(change(service, session, school_named(session, school)))
    except service.SettingRefused as error:
        fail(str(error))


@app.command("validity")
def consent_settings_validity(
    months: Annotated[int, typer.Argument(help="Months a yes lasts before it must be renewed.")],
    school: SchoolOption = None,
) -> None:
    """How long a parent's yes lasts; older answers count as not given."""
    def change(service, session, found) -> str:
        service.set_validity_months(session, found, months, by_name="cli")
        return f"A yes now lasts {months} months; older answers count as not given."
    _consent_setting(change, school)


@app.command("lookups")
def consent_settings_lookups(
    who: Annotated[Lookups, typer.Argument(
        case_sensitive=False,
        help="everyone: every member of staff may look pupils up (the default); listed: only "
        "the DPO team and the people given `dpo-bot people add NAME --consent`.")],
    school: SchoolOption = None,
) -> None:
    """Who may look up pupils' photo consent (every lookup is audited either way)."""
    def change(service, session, found) -> str:
        restricted = who == "listed"
        service.set_lookups_restricted(session, found, restricted, by_name="cli")
        return ("Only the DPO team and the staff given --consent may look pupils up now "
                "(dpo-bot people add NAME --consent)." if restricted
                else "Every member of staff may look pupils up now; each lookup is audited.")
    _consent_setting(change, school)


@app.command("add")
def consent_settings_add(
    key: Annotated[str, typer.Argument(help="A short key, e.g. instagram.")],
    label: Annotated[str, typer.Argument(help="The use in words, as the consent form puts it.")],
    school: SchoolOption = None,
) -> None:
    """A use the school asks parents about (map its column in the import to KEY)."""
    def change(service, session, found) -> str:
        category = service.add_category(session, found, key, label, by_name="cli")
        return f"Added {category.key}: {category.label}."
    _consent_setting(change, school)


@app.command("rename")
def consent_settings_rename(
    key: Annotated[str, typer.Argument(help="The use's key (see consent-settings show).")],
    label: Annotated[str, typer.Argument(help="Its new wording.")],
    school: SchoolOption = None,
) -> None:
    """New wording for a use; its answers stay with it."""
    def change(service, session, found) -> str:
        category = service.rename_category(session, found, key, label, by_name="cli")
        return f"{category.key} now reads: {category.label}."
    _consent_setting(change, school)


@app.command("remove")
def consent_settings_remove(
    key: Annotated[str, typer.Argument(help="The use's key (see consent-settings show).")],
    school: SchoolOption = None,
) -> None:
    """A use no longer asked about (only if no answer was ever recorded for it)."""
    def change(service, session, found) -> str:
        service.remove_category(session, found, key, by_name="cli")
        return f"Removed {key}."
    _consent_setting(change, school)


