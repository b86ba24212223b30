"""`dpo-bot setup`: asks the school's setup questions and prints the result.

What a valid answer is, and what setting a school up does, live in workflows.schools.setup;
each answer is checked there as it is given, so a bad one is asked again, not refused at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from bot.cli.choices import Lookups
from bot.cli.common import SchoolOption, cli_context, fail, open_engine, school_named
from bot.cli.schools import EmailDomainOption


def _checked(rule: str, *, optional: bool = False) -> Callable[[str], str]:
    """A Typer callback that asks the core's ``rule`` and keeps the answer as typed (blank is
    no answer where ``optional``)."""
    def check(value: str) -> str:
        if optional and not value.strip():
            return ""
        from workflows.schools import setup as school_setup

        try:
            getattr(school_setup, rule)(value)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
        return value.strip()
    return check


def setup(
    name: Annotated[str, typer.Option(prompt="School name", help="The school's name, as "
                                      "letters and messages give it.")] = "Our School",
    region: Annotated[
        str, typer.Option(prompt="Bank-holiday region (England, Wales, Scotland, Northern "
                          "Ireland)", callback=_checked("check_region"),
                          help="Whose bank holidays move deadlines: ENG, WLS, SCT, NIR (or "
                          "England, Wales, Scotland, Northern Ireland).")
    ] = "ENG",
    timezone: Annotated[
        str, typer.Option(prompt="Time zone", callback=_checked("check_timezone"),
                          help="The school's time zone, e.g. Europe/London.")
    ] = "Europe/London",
    maintained: Annotated[
        bool,
        typer.Option(prompt="Is it an LA-maintained school (parents' 15-school-day "
                     "educational record right)? Academies and free schools: no",
                     help="LA-maintained: parents have the 15-school-day educational record "
                     "right (academies, free and independent schools: --no-maintained)."),
    ] = True,
    hours: Annotated[
        str, typer.Option(prompt="Working hours for reminders", callback=_checked("check_hours"),
                          help="When reminders may go out on school days, e.g. 08:00-18:00 "
                          "or 8am-6pm.")
    ] = "08:00-18:00",
    dpo: Annotated[str, typer.Option(prompt="The DPO's name",
                                     help="The Data Protection Officer: decides, signs letters.")
                   ] = "",
    dpo_email: Annotated[str, typer.Option(prompt="The DPO's email (or leave blank)",
                                           help="The DPO's email (links them to Slack or "
                                           "Teams by it).")] = "",
    deputies: Annotated[
        str, typer.Option(prompt="Deputies' names, comma separated (or blank)",
                          help="Who decides with the DPO, comma separated.")
    ] = "",
    head: Annotated[str, typer.Option(prompt="The head teacher's name (escalation)",
                                      help="The head teacher: told when a deadline is missed.")
                    ] = "",
    sar_years: Annotated[
        int, typer.Option(prompt="Keep closed SAR records for how many years after closure",
                          min=0, help="Years a closed SAR record is kept after the academic "
                          "year it closed in.")
    ] = 1,
    calendar: Annotated[
        str, typer.Option(prompt="Term dates CSV to import (or leave blank)",
                          callback=_checked("check_calendar", optional=True),
                          help="A CSV of term dates and closures (see "
                          "docs/term-dates-example.csv), for school-day deadlines.")
    ] = "",
    consent_months: Annotated[
        int, typer.Option(prompt="Photo consent lasts how many months before it is renewed",
                          min=1, max=120, help="Months a parent's photo consent lasts; older "
                          "answers count as not given.")
    ] = 12,
    urgent_hours: Annotated[
        str,
        typer.Option(help="Hours breach nudges may go out, e.g. 07:00-22:00 (default: any hour).",
                     callback=_checked("check_hours", optional=True)),
    ] = "",
    consent_lookups: Annotated[
        Lookups | None,
        typer.Option(case_sensitive=False, help="Who may look up pupils' photo consent: "
                     "everyone on the staff (the default) or only the DPO team and the people "
                     "listed with `people add NAME --consent` (default: unchanged).")
    ] = None,
    email_domain: EmailDomainOption = None,
    address: Annotated[
        str | None,
        typer.Option(callback=lambda v: None if v is None else _checked("check_address")(v),
                     help="The school's postal address for letters, lines parted by commas, "
                     "e.g. \"1 High Street, Oakwood, OK1 2AB\" (\"\" removes it; default: "
                     "unchanged).")
    ] = None,
    letterhead: Annotated[
        str | None,
        typer.Option(callback=lambda v: None if v is None else _checked("check_letterhead")(v),
                     help="A .docx letterhead: Word letters keep its header and first page "
                     "and add the letter below (\"\" removes it; default: unchanged).")
    ] = None,
    school: SchoolOption = None,
) -> None:
    """Set up the school: name, region, hours, the DPO team, retention, term dates, consent."""
    from workflows.database import session_scope
    from workflows.schools import setup as school_setup
    from workflows.schools.service import SchoolRefused

    # Every answer was checked by its callback as it was given.
    answers = school_setup.Setup(
        name=name, region=school_setup.check_region(region), timezone=timezone,
        maintained=maintained, hours=school_setup.check_hours(hours), sar_years=sar_years,
        consent_months=consent_months,
        urgent_hours=school_setup.check_hours(urgent_hours) if urgent_hours else None,
        dpo=dpo, dpo_email=dpo_email or None, deputies=school_setup.names(deputies), head=head,
        calendar=school_setup.check_calendar(calendar),
        email_domains=None if email_domain is None else tuple(email_domain),
        consent_restricted=None if consent_lookups is None else consent_lookups == "listed",
        address=None if address is None else school_setup.check_address(address),
        letterhead=None if letterhead is None else school_setup.check_letterhead(letterhead))
    try:
        with session_scope(open_engine()) as session:
            ctx = cli_context(session, school_named(session, school), None)
            for line in school_setup.apply(ctx, answers):
                typer.echo(line)
            session.flush()
            typer.echo(school_setup.saved(ctx))
    except SchoolRefused as error:
        fail(str(error))
    typer.echo(f"{name} is set up. Try it: dpo-bot chat --user \"{dpo or 'Your Name'}\" "
               f"--role dpo")
