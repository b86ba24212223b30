"""`dpo-bot deadline`: a legal deadline worked out, with the working shown."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Annotated

import typer

from bot.cli.choices import Region
from bot.cli.common import (
    JsonOption,
    SchoolOption,
    escape,
    fail,
    open_engine,
    parse_day,
    school_named,
)

app = typer.Typer(help="Work out a legal deadline, with the working shown.", no_args_is_help=True)


@app.command(
    "sar", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def deadline_sar(
    ctx: typer.Context,
    received: Annotated[str, typer.Argument(
        help="The day the request arrived: 2026-09-03, 3 September, yesterday…")],
    extended: Annotated[bool, typer.Option(help="Extended by two months.")] = False,
    clock_start: Annotated[
        str | None, typer.Option(help="The day ID or authority arrived, if later.")
    ] = None,
    region: Annotated[Region, typer.Option(
        case_sensitive=False, help="Whose bank holidays: England, Wales, Scotland or Northern "
        "Ireland.")] = "eng",
    as_json: JsonOption = False,
) -> None:
    """The SAR deadline: one calendar month (or three), rolled to a working day.

    Add --paused START END (dates, both days inclusive) for each clarification pause; it may
    repeat.
    """
    from workflows.deadlines import DeadlineError, Pause, sar_deadline

    try:
        result = sar_deadline(
            parse_day(received, "RECEIVED"),
            region=region,
            clock_start=parse_day(clock_start, "--clock-start") if clock_start else None,
            pauses=[Pause(parse_day(a, "--paused START"), parse_day(b, "--paused END"))
                    for a, b in _paused_pairs(ctx.args)],
            extended=extended,
        )
    except DeadlineError as error:
        fail(str(error))
    _print_deadline(result, as_json)


def _paused_pairs(args: list[str]) -> list[tuple[str, str]]:
    """``--paused START END``, repeatable: a two-value option Typer cannot declare."""
    pairs, rest = [], list(args)
    while rest:
        flag = rest.pop(0)
        if flag != "--paused":
            fail(f"Unexpected “{flag}”. See dpo-bot deadline sar --help.")
        if len(rest) < 2 or rest[0].startswith("--") or rest[1].startswith("--"):
            fail("--paused takes two dates: the day clarification was asked and the day the "
                 "answer came, e.g. --paused 2025-09-10 2025-09-14.")
        pairs.append((rest.pop(0), rest.pop(0)))
    return pairs


@app.command("edu-record")
def deadline_edu_record(
    received: Annotated[str, typer.Argument(help="The day the written request arrived.")],
    school: SchoolOption = None,
    as_json: JsonOption = False,
) -> None:
    """The educational record deadline: 15 school days, from the school's term calendar."""
    from workflows.database import session_scope
    from workflows.deadlines import CalendarError, edu_record_deadline
    from workflows.schools.service import term_calendar

    with session_scope(open_engine()) as session:
        found = school_named(session, school)
        calendar = term_calendar(found)
        if calendar is None:
            fail(f"{found.name} has no term calendar: import one with "
                  "“dpo-bot calendar import FILE” (see docs/term-dates-example.csv).")
        try:
            result = edu_record_deadline(parse_day(received, "RECEIVED", found.timezone),
                                         calendar, found.region)
        except CalendarError as error:
            fail(str(error))
    _print_deadline(result, as_json)


@app.command("breach")
def deadline_breach(
    aware_at: Annotated[str, typer.Argument(
        help="When the school became aware, ISO date-time (2026-10-23T17:00); "
             "without an offset it is school time.")],
    school: SchoolOption = None,
    as_json: JsonOption = False,
) -> None:
    """The 72-hour ICO deadline for a breach, counted in real hours (UTC), shown in school time."""
    from zoneinfo import ZoneInfo

    from workflows.core.dates import parse_iso_moment
    from workflows.deadlines.breach import breach_deadline

    try:
        moment = parse_iso_moment(aware_at)
    except ValueError:
        fail(f"AWARE_AT must be an ISO date-time like 2026-10-23T17:00, not “{aware_at}”.")
    tz = ZoneInfo("Europe/London")  # every school in England, unless --school says otherwise
    if school is not None:
        from workflows.database import session_scope

        with session_scope(open_engine()) as session:
            tz = ZoneInfo(school_named(session, school).timezone)
    if moment.tzinfo is None:
        # fold=0: a wall time the autumn change repeats is the first of the two, as in chat.
        moment = moment.replace(tzinfo=tz)
        if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != moment.replace(
                tzinfo=None):
            fail(f"{aware_at} did not happen in school time: the clocks skipped it.")
    result = breach_deadline(moment, tz)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    from rich.console import Console

    from workflows.core.dates import describe_datetime

    console = Console()
    console.print(f"[bold]Tell the ICO by: {describe_datetime(result.local_due)}[/] "
                  f"({escape(result.rule)})")
    for line in result.explanation:
        console.print(f"  {escape(line)}")


def _print_deadline(result, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    from rich.console import Console

    from workflows.core.dates import describe_date

    console = Console()
    console.print(f"[bold]Due: {describe_date(result.due)}[/] ({escape(result.rule)})")
    for line in result.explanation:
        console.print(f"  {escape(line)}")


