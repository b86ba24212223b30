"""The `dpo-bot` command. Heavy imports happen inside commands, so `--help` stays fast."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="dpo-bot: subject access requests, breaches, photo consent and software approval "
    "for schools in England, with the legal clocks kept.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
deadline_app = typer.Typer(help="Work out a legal deadline, with the working shown.",
                           no_args_is_help=True)
export_app = typer.Typer(help="Export registers as CSV or JSON.", no_args_is_help=True)
calendar_app = typer.Typer(help="The school's term calendar (for school days).",
                           no_args_is_help=True)
people_app = typer.Typer(help="People and their roles.", no_args_is_help=True)
import_app = typer.Typer(help="Import registers exported from the school's MIS.",
                         no_args_is_help=True)
schools_app = typer.Typer(help="The schools this deployment serves (a trust's, an LA's).",
                          no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(deadline_app, name="deadline")
app.add_typer(export_app, name="export")
app.add_typer(calendar_app, name="calendar")
app.add_typer(people_app, name="people")
app.add_typer(import_app, name="import")
app.add_typer(schools_app, name="schools")
consent_settings_app = typer.Typer(
    help="The school's photo consent settings: the uses parents are asked about, and how long "
    "a yes lasts.", no_args_is_help=True)
app.add_typer(consent_settings_app, name="consent-settings")
teams_app = typer.Typer(help="Run the Microsoft Teams agent, or build its app package.",
                        invoke_without_command=True)
app.add_typer(teams_app, name="teams")

DEBUG_ENV = "DPO_BOT_DEBUG"
DebugOption = Annotated[bool, typer.Option(
    "--debug", help="Log in detail, with full tracebacks. WARNING: the log then holds message "
    "bodies and personal data (names, emails, what people typed); use it briefly, never in "
    "normal running.")]
SchoolOption = Annotated[
    str | None, typer.Option("--school", help="The school's short name (default: the first).")
]
ServedOption = Annotated[
    str | None, typer.Option("--school", help="Serve only this school (default: every school "
                             "here, each person at their own).")
]


def _engine():
    from sqlalchemy.engine import make_url

    from workflows.database import DATABASE_URL_ENV, database_url, make_engine, upgrade

    url = database_url()
    engine = make_engine(url)
    try:
        upgrade(engine)
    except Exception as error:  # the database is unreachable or refuses us
        # The driver's own first line says why; the URL (never its password) says which.
        reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["?"])[0]
        _fail(f"Can't open the database {make_url(url).render_as_string(hide_password=True)}: "
              f"{reason} (is it running? {DATABASE_URL_ENV} says which database to use)")
    return engine


def _logging(debug: bool) -> None:
    from bot.logs import configure

    configure(debug)


def _fail(message: str) -> None:
    _error(message)
    raise typer.Exit(2)


def _error(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]Error:[/] {_escape(message)}", soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _school(session, slug: str | None):
    from workflows.schools import service as schools

    school = schools.chosen(session, slug)
    if school is None:
        _fail(f"No school called “{slug}” (dpo-bot schools list shows them; dpo-bot schools "
              f"add {slug} --name NAME adds it).")
    return school


def _parse_iso(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{what} must be an ISO date like 2026-09-03, not “{text}”.")
        raise  # unreachable: _fail exits


AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this person on the people list (audited as "
                             "them, with their permissions; default: your login name).")
]


def _role(text: str, what: str):
    from workflows.people.models import Role

    try:
        return Role(text.strip().lower())
    except ValueError:
        _fail(f"{what} must be one of: {', '.join(r.value for r in Role)}; not “{text}”.")


def _cli_context(session, found, as_name: str | None):
    """Whoever ran this command, at ``found``: audited as them, never as the DPO."""
    from workflows.core.context import Context
    from workflows.database import utcnow
    from workflows.people.service import PeopleRefused, command_line_person

    try:
        person = command_line_person(session, found, as_name)
    except PeopleRefused as error:
        _fail(str(error))
    return Context(session=session, school=found, person=person, adapter="cli", now=utcnow())


@app.command()
def chat(
    user: Annotated[
        str | None, typer.Option(help="Who you are (default: your login name).")
    ] = None,
    role: Annotated[
        str | None, typer.Option(help="staff, dpo, deputy or head: checked against the people "
                                 "list, never changes it (default: your role there).")
    ] = None,
    school: ServedOption = None,
    reminders: Annotated[
        bool, typer.Option(help="Also run the reminder worker while chatting.")
    ] = True,
) -> None:
    """Talk to the bot in this terminal: the real workflows, no Slack or Teams needed."""
    from rich.console import Console

    from bot.terminal.chat import TerminalChat, default_user
    from workflows.people.service import PeopleRefused

    chosen = _role(role, "--role") if role else None
    try:
        terminal = TerminalChat(_engine(), Console(), user or default_user(), chosen, school,
                                reminders)
    except PeopleRefused as error:
        _fail(str(error))
    terminal.run()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or upgrade it to this version's schema."""
    from workflows.database import database_url

    _engine()
    url = database_url()
    shown = url.split("@")[-1] if "@" in url else url  # never print a password
    typer.echo(f"Database is up to date: {shown}")


@deadline_app.command(
    "sar", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def deadline_sar(
    ctx: typer.Context,
    received: Annotated[str, typer.Argument(help="The day the request arrived (YYYY-MM-DD).")],
    extended: Annotated[bool, typer.Option(help="Extended by two months.")] = False,
    clock_start: Annotated[
        str | None, typer.Option(help="The day ID or authority arrived, if later.")
    ] = None,
    region: Annotated[str, typer.Option(help="ENG, WLS, SCT or NIR.")] = "ENG",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The SAR deadline: one calendar month (or three), rolled to a working day.

    Add --paused START END (ISO dates, both days inclusive) for each clarification pause;
    it may repeat.
    """
    from workflows.deadlines import DeadlineError, Pause, UnknownRegion, sar_deadline

    try:
        result = sar_deadline(
            _parse_iso(received, "RECEIVED"),
            region=region.upper(),
            clock_start=_parse_iso(clock_start, "--clock-start") if clock_start else None,
            pauses=[Pause(_parse_iso(a, "--paused START"), _parse_iso(b, "--paused END"))
                    for a, b in _paused_pairs(ctx.args)],
            extended=extended,
        )
    except (DeadlineError, UnknownRegion) as error:
        _fail(str(error))
    _print_deadline(result, as_json)


def _paused_pairs(args: list[str]) -> list[tuple[str, str]]:
    """``--paused START END``, repeatable: a two-value option Typer cannot declare."""
    pairs, rest = [], list(args)
    while rest:
        flag = rest.pop(0)
        if flag != "--paused":
            _fail(f"Unexpected “{flag}”. See dpo-bot deadline sar --help.")
        if len(rest) < 2 or rest[0].startswith("--") or rest[1].startswith("--"):
            _fail("--paused takes two dates: the day clarification was asked and the day the "
                  "answer came, e.g. --paused 2025-09-10 2025-09-14.")
        pairs.append((rest.pop(0), rest.pop(0)))
    return pairs


@deadline_app.command("edu-record")
def deadline_edu_record(
    received: Annotated[str, typer.Argument(help="The day the written request arrived.")],
    school: SchoolOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The educational record deadline: 15 school days, from the school's term calendar."""
    from workflows.database import session_scope
    from workflows.deadlines import CalendarError, edu_record_deadline
    from workflows.schools.service import term_calendar

    with session_scope(_engine()) as session:
        found = _school(session, school)
        calendar = term_calendar(found)
        if calendar is None:
            _fail(f"{found.name} has no term calendar: import one with "
                  "“dpo-bot calendar import FILE” (see docs/term-dates-example.csv).")
        try:
            result = edu_record_deadline(_parse_iso(received, "RECEIVED"), calendar, found.region)
        except CalendarError as error:
            _fail(str(error))
    _print_deadline(result, as_json)


@deadline_app.command("breach")
def deadline_breach(
    aware_at: Annotated[str, typer.Argument(
        help="When the school became aware, ISO date-time (2026-10-23T17:00); "
             "without an offset it is school time.")],
    school: SchoolOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The 72-hour ICO deadline for a breach, counted in real hours (UTC), shown in school time."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from workflows.deadlines.breach import breach_deadline

    try:
        moment = datetime.fromisoformat(aware_at)
    except ValueError:
        _fail(f"AWARE_AT must be an ISO date-time like 2026-10-23T17:00, not “{aware_at}”.")
    tz = ZoneInfo("Europe/London")  # every school in England, unless --school says otherwise
    if school is not None:
        from workflows.database import session_scope

        with session_scope(_engine()) as session:
            tz = ZoneInfo(_school(session, school).timezone)
    if moment.tzinfo is None:
        # fold=0: a wall time the autumn change repeats is the first of the two, as in chat.
        moment = moment.replace(tzinfo=tz)
        if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != moment.replace(
                tzinfo=None):
            _fail(f"{aware_at} did not happen in school time: the clocks skipped it.")
    result = breach_deadline(moment, tz)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    from rich.console import Console

    from workflows.core.dates import describe_datetime

    console = Console()
    console.print(f"[bold]Tell the ICO by: {describe_datetime(result.local_due)}[/] "
                  f"({_escape(result.rule)})")
    for line in result.explanation:
        console.print(f"  {_escape(line)}")


def _print_deadline(result, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    from rich.console import Console

    from workflows.core.dates import describe_date

    console = Console()
    console.print(f"[bold]Due: {describe_date(result.due)}[/] ({_escape(result.rule)})")
    for line in result.explanation:
        console.print(f"  {_escape(line)}")


def _term_dates_text(file: Path) -> str:
    """The term-dates file as text, decoded as every import is; CalendarError if it can't be."""
    from workflows.core.imports import CsvFile, ImportRefused
    from workflows.deadlines import CalendarError

    try:
        # Term dates are a few dozen lines: 1 MB is far more than any school's calendar.
        return CsvFile(file, limit=1024 * 1024).text()
    except ImportRefused as error:
        raise CalendarError("\n".join(error.reasons)) from None


@calendar_app.command("import")
def calendar_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    school: SchoolOption = None,
) -> None:
    """Load term dates and closures from a CSV (kind,start,end,name)."""
    from workflows.database import session_scope
    from workflows.deadlines import CalendarError, TermCalendar
    from workflows.deadlines.calendar import describe_short

    try:
        calendar = TermCalendar.from_csv(_term_dates_text(file))
    except CalendarError as error:
        _fail(f"{file} was not imported:\n{error}")
    with session_scope(_engine()) as session:
        found = _school(session, school)
        found.term_calendar_csv = calendar.to_csv()
        session.add(found)
    first, last = calendar.terms[0], calendar.terms[-1]
    # describe_short, not strftime("%-d"): that format does not exist on Windows.
    typer.echo(
        f"Imported {len(calendar.terms)} terms ({describe_short(first.start)} to "
        f"{describe_short(last.end)}) and {len(calendar.closures)} closure days for {found.name}."
    )


@calendar_app.command("show")
def calendar_show(school: SchoolOption = None) -> None:
    """Print the school's term calendar as CSV."""
    from workflows.database import session_scope

    with session_scope(_engine()) as session:
        found = _school(session, school)
        typer.echo(found.term_calendar_csv or f"{found.name} has no term calendar yet.")


@people_app.command("add")
def people_add(
    name: str,
    role: Annotated[str | None, typer.Option(
        help="staff, dpo, deputy or head (default: staff; someone already here keeps theirs).")
    ] = None,
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

    chosen = _role(role, "--role") if role else None
    _people_change(lambda ctx: people.add(ctx, name, chosen, email, slack_id, consent), as_name,
                   school)


@people_app.command("role")
def people_role(
    name: Annotated[str, typer.Argument(help="Their name, as dpo-bot people list shows it.")],
    role: Annotated[str, typer.Argument(help="staff, dpo, deputy or head.")],
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Change someone's role (or bring back someone removed); recorded with who did it."""
    from workflows.people import service as people

    _people_change(lambda ctx: people.change_role(ctx, name, _role(role, "ROLE")), as_name,
                   school)


@people_app.command("remove")
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
        with session_scope(_engine()) as session:
            ctx = _cli_context(session, _school(session, school), as_name)
            person, said = change(ctx)
            line = (f"{person.name} is {person.role} at {ctx.school.name}." if person.active
                    else f"{person.name} is removed from {ctx.school.name}.")
            line += f" Recorded as done by {ctx.person.name}."
    except (PeopleRefused, PermissionDenied) as error:
        _fail(str(getattr(error, "message", error)))
    for note in said:
        typer.echo(note)
    typer.echo(line)


@people_app.command("list")
def people_list(as_name: AsOption = None, school: SchoolOption = None) -> None:
    """Everyone the bot knows at the school, with their role (the read is audited)."""
    from rich.console import Console
    from rich.table import Table
    from sqlmodel import col, select

    from workflows.audit import service as audit
    from workflows.database import session_scope
    from workflows.people.models import Person

    table = Table("Name", "Role", "Email", "Slack", "Photo consent")
    with session_scope(_engine()) as session:
        found = _school(session, school)
        everyone = list(session.exec(select(Person).where(Person.school_id == found.id)
                                     .order_by(col(Person.id))))
        audit.record(_cli_context(session, found, as_name), "person.listed", "person",
                     count=len(everyone))
        for person in everyone:
            table.add_row(_escape(person.name), person.role if person.active else "removed",
                          _escape(person.email or ""), _escape(person.slack_user_id or ""),
                          "yes" if person.consent_lookup else "")
    Console(width=200).print(table)


@people_app.command("history")
def people_history(
    name: Annotated[str, typer.Argument(help="Their name, as dpo-bot people list shows it.")],
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Who added this person, changed their role or removed them, and when (audited)."""
    from workflows.database import session_scope
    from workflows.people import service as people

    with session_scope(_engine()) as session:
        ctx = _cli_context(session, _school(session, school), as_name)
        person = people.named(session, ctx.school.id, name)
        if person is None:
            _fail(f"No one called “{name}” at {ctx.school.name} (dpo-bot people list shows "
                  "them).")
        for event in people.person_history(ctx, person):
            detail = event.detail or {}
            change = (f"{detail.get('old')} → {detail.get('new')}" if "new" in detail
                      else detail.get("role") or detail.get("old") or "")
            typer.echo(f"{event.at.astimezone(ctx.tz):%d %b %Y %H:%M}  "
                       f"{event.action.split('.', 1)[1].replace('_', ' ')}  {change}  "
                       f"by {event.actor_name} ({event.adapter})"
                       + (f": {detail['why']}" if detail.get("why") else ""))


@schools_app.command("add")
def schools_add(
    slug: Annotated[str, typer.Argument(help="A short name for --school, e.g. oakwood.")],
    name: Annotated[str, typer.Option("--name", help="The school's full name.")],
    email_domain: Annotated[list[str] | None, typer.Option(
        "--email-domain", help="Staff email domain, e.g. oakwood.sch.uk (repeat for more): "
        "places newcomers when one Slack or Teams app serves several schools.")] = None,
) -> None:
    """Add a school; then set it up with dpo-bot setup --school SLUG."""
    from workflows.database import session_scope
    from workflows.schools import service as schools

    try:
        with session_scope(_engine()) as session:
            school = schools.add(session, slug, name, email_domain or [])
            typer.echo(f"Added {school.name} ({school.slug}). Next: dpo-bot setup --school "
                       f"{school.slug}")
    except schools.SchoolRefused as error:
        _fail(str(error))


@schools_app.command("list")
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
    with session_scope(_engine()) as session:
        for school in session.exec(select(School).order_by(col(School.slug))):
            people = session.exec(select(func.count(Person.id)).where(
                Person.school_id == school.id)).one()
            open_cases = sum(session.exec(select(func.count()).select_from(w.model).where(
                w.model.school_id == school.id, col(w.model.state).in_(w.open_states))).one()
                for w in WORKFLOWS.values())
            table.add_row(school.slug, _escape(school.name), school.email_domains or "",
                          "yes" if school.configured else "no", str(people), str(open_cases))
    Console().print(table)


@app.command()
def slack(
    http: Annotated[
        bool, typer.Option("--http", help="Serve HTTP instead of Socket Mode.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --http.")] = 3000,
    host: Annotated[str, typer.Option(help="Address for --http.")] = "0.0.0.0",
    school: ServedOption = None,
    workers: Annotated[int, typer.Option(
        min=0, help="Worker processes for the database work (0: threads of this process).")] = 2,
    debug: DebugOption = False,
) -> None:
    """Run the Slack app (Socket Mode by default: only an outbound connection is needed).

    SIGTERM or Ctrl-C stops it safely: no new requests, every acknowledged one finished."""
    import asyncio

    from bot.slack.settings import SlackConfigError, SlackSettings

    _logging(debug)
    try:
        settings = SlackSettings.from_env(http=http)
    except SlackConfigError as error:
        _fail(str(error))
    engine = _engine()
    asyncio.run(_run_slack(engine, settings, http, host, port, school, workers))


async def _run_slack(engine, settings, http: bool, host: str, port: int, school,
                     workers: int) -> None:
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import SlackBot
    from bot.slack.server import serve_http, serve_socket_mode
    from bot.slack.settings import WHERE

    bot = SlackBot(engine, settings, school, workers=workers)
    try:
        try:
            identity = await bot.check_token()
        except SlackApiError as error:
            _fail(f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error')}). "
                  f"Check it at {WHERE['SLACK_BOT_TOKEN']}.")
        typer.echo(f"Connected to Slack workspace {identity.get('team')} as "
                   f"{identity.get('user')}.")
        if http:
            await serve_http(bot, host, port)
        else:
            await serve_socket_mode(bot)
    finally:
        await bot.close()


@teams_app.callback()
def teams(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to serve /api/messages on.")] = 3978,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",
    school: ServedOption = None,
    debug: DebugOption = False,
) -> None:
    """Serve the Teams agent at /api/messages (behind your HTTPS endpoint).

    SIGTERM or Ctrl-C stops it safely: no new requests, every one under way finished."""
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from bot.teams.settings import TeamsConfigError, TeamsSettings

    _logging(debug)
    try:
        settings = TeamsSettings.from_env()
    except TeamsConfigError as error:
        _fail(str(error))
    from bot.teams.server import create, http_app, serve

    try:
        bot, adapter, connections = create(_engine(), settings, school)
    except ValueError as error:  # no such school
        _fail(str(error))
    typer.echo(f"Teams agent for {len(bot.served)} school(s): http://{host}:{port}/api/messages")
    asyncio.run(serve(http_app(bot, adapter, connections), host, port))


@teams_app.command("package")
def teams_package(
    out: Annotated[Path, typer.Option("--out", help="Where to write the .zip.")],
    website: Annotated[str, typer.Option(
        envvar="TEAMS_APP_WEBSITE", help="The school's website (https://…).")],
    privacy: Annotated[str | None, typer.Option(
        envvar="TEAMS_APP_PRIVACY_URL", help="Privacy notice (default: the website).")] = None,
    terms: Annotated[str | None, typer.Option(
        envvar="TEAMS_APP_TERMS_URL", help="Terms of use (default: the website).")] = None,
    school: SchoolOption = None,
) -> None:
    """Build the Teams app package (manifest.json and icons) for Teams admin centre."""
    from bot.teams.settings import TeamsConfigError, client_id_from_env

    try:
        bot_id = client_id_from_env()
    except TeamsConfigError as error:
        _fail(str(error))
    for name, url in (("--website", website), ("--privacy", privacy), ("--terms", terms)):
        if url is not None and not url.startswith("https://"):
            _fail(f"{name} must be an https:// address, not “{url}”.")
    from bot.teams.package import build
    from workflows.database import session_scope

    with session_scope(_engine()) as session:
        name = _school(session, school).name
    out.write_bytes(build(bot_id, school=name, website=website,
                          privacy=privacy or website, terms=terms or website, developer=name))
    typer.echo(f"Wrote {out}: upload it in Teams admin centre > Teams apps > Manage apps.")


@app.command()
def remind(
    once: Annotated[bool, typer.Option("--once", help="One sweep, then exit (for cron).")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between sweeps.")] = 60.0,
) -> None:
    """Send due reminders. Any number of these may run at once: none is sent twice.

    SIGTERM or Ctrl-C lets the sweep under way finish (what went is marked sent), then exits."""
    import signal
    import threading

    from sqlalchemy.exc import DBAPIError

    from workflows.reminders.service import sweep

    engine = _engine()
    import workflows.registry  # noqa: F401  (registers each workflow's reminder handler)

    stopping = threading.Event()
    for each in (signal.SIGTERM, signal.SIGINT):
        signal.signal(each, lambda *_: stopping.set())
    while not stopping.is_set():
        try:
            result = sweep(engine)
            typer.echo(f"Reminder sweep: {result}")
            if result.stranded:
                typer.echo("Waiting for people no chat can reach (add their Slack or Teams "
                           "account or email): " + ", ".join(
                               f"{p.name} ({p.waiting})" for p in result.stranded))
        except DBAPIError as error:
            # The database went away mid-sweep: what was sent is marked sent, the rest is
            # untouched or waits out its lease. Say so on one line and try again next time.
            reason = (str(error.orig or error).strip().splitlines() or ["?"])[0]
            if once:
                _fail(f"Reminder sweep stopped: can't reach the database ({reason}).")
            typer.echo(f"Reminder sweep failed: can't reach the database ({reason}); "
                       f"trying again in {interval:g} s.", err=True)
        if once:
            return
        stopping.wait(interval)
    typer.echo("Stopped.")


@app.command()
def digest(school: SchoolOption = None) -> None:
    """Print the weekly digest now: every open case by deadline."""
    from workflows.database import session_scope, utcnow
    from workflows.digest import digest_text

    with session_scope(_engine()) as session:
        typer.echo(digest_text(session, _school(session, school), utcnow()))


ExportFormat = Annotated[str, typer.Option("--format", help="csv or json.")]
ExportOut = Annotated[Path | None, typer.Option(help="Write to a file instead of the screen.")]


@export_app.command("sars")
def export_sars(format: ExportFormat = "csv", out: ExportOut = None,
                as_name: AsOption = None, school: SchoolOption = None) -> None:
    """The SAR log, with every date, for the governors, the ICO or your own records."""
    from workflows.sar.export import export_rows

    _export(export_rows, format, out, school, "requests", as_name)


@export_app.command("breaches")
def export_breaches(format: ExportFormat = "csv", out: ExportOut = None,
                    as_name: AsOption = None, school: SchoolOption = None) -> None:
    """The breach log (Art 33(5)): every breach, reported or not, with its decisions."""
    from workflows.breach.export import export_rows

    _export(export_rows, format, out, school, "breaches", as_name)


@export_app.command("consents")
def export_consents(format: ExportFormat = "csv", out: ExportOut = None,
                    as_name: AsOption = None, school: SchoolOption = None) -> None:
    """The photo consent register as held now, with the answer the bot gives for each use."""
    from workflows.consent.service import export_rows

    _export(export_rows, format, out, school, "consent rows", as_name)


@export_app.command("software")
def export_software(format: ExportFormat = "csv", out: ExportOut = None,
                    as_name: AsOption = None, school: SchoolOption = None) -> None:
    """The software register: each product's status, data, conditions, DPIA and review date."""
    from workflows.software.export import export_rows

    _export(export_rows, format, out, school, "products", as_name)


@export_app.command("all")
def export_all(
    out: Annotated[Path, typer.Option("--out", help="The zip file to write.")],
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Every register, the people, the settings and the audit trail, as CSV and JSON in a zip."""
    from workflows.archive import REGISTERS, write_archive
    from workflows.database import session_scope, utcnow

    if out.suffix.lower() != ".zip":
        _fail(f"{out} should end in .zip.")
    if not out.parent.exists():
        _fail(f"There is no folder {out.parent}.")
    with session_scope(_engine()) as session:
        found = _school(session, school)
        counts = write_archive(session, found, out,
                               actor=_cli_context(session, found, as_name).person.name,
                               now=utcnow())
    for name, (what, _) in REGISTERS.items():
        typer.echo(f"{name}: {counts[name]} rows ({what})")
    typer.echo(f"Wrote {out}.")


def _import_progress():
    """A progress bar on stderr, by bytes of the file read; gone when the import ends."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TimeRemainingColumn(), transient=True, console=Console(stderr=True))


@import_app.command("software")
def import_software(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    school: SchoolOption = None,
) -> None:
    """Import the school's existing software register (CSV). A bad file changes nothing."""
    from sqlalchemy.exc import SQLAlchemyError

    from workflows.database import session_scope, utcnow
    from workflows.software.importer import ImportRefused, import_register

    try:
        with session_scope(_engine()) as session:
            report = import_register(session, _school(session, school), file,
                                     file_name=file.name, by_name="command line", now=utcnow(),
                                     dry_run=dry_run)
    except ImportRefused as error:
        _fail(f"{file.name} was not imported; nothing was changed:\n" + "\n".join(error.reasons))
    except SQLAlchemyError as error:  # one line: the statement's parameters are pupils' data
        _fail(f"{file.name} was not imported; nothing was changed: the database refused it "
              f"({type(error).__name__}).")
    verb = "Would import" if dry_run else "Imported"
    typer.echo(f"{verb} {report.rows} products from {file.name}: {len(report.added)} added, "
               f"{len(report.changed)} changed, {len(report.unchanged)} unchanged.")
    if report.kept:
        typer.echo("Kept as decided in the bot (not overwritten): " + ", ".join(report.kept))
    if report.no_review:
        typer.echo("Approved with no approval or review date, so no review is planned: "
                   + ", ".join(report.no_review))
    if dry_run:
        typer.echo("Dry run: nothing was written.")


@import_app.command("consents")
def import_consents(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    format: Annotated[
        str | None, typer.Option("--format", help="arbor, sims, bromcom or generic "
                                 "(default: recognised from the columns).")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Column mapping (JSON or TOML) for --format generic.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    school: SchoolOption = None,
) -> None:
    """Import the photo consent register from an MIS export (CSV). A bad file changes nothing."""
    from sqlalchemy.exc import SQLAlchemyError

    from workflows.consent.formats import BUILTIN, FORMATS, MappingError, load_mapping
    from workflows.consent.importer import ImportRefused
    from workflows.consent.importer import import_consents as run_import
    from workflows.database import session_scope, utcnow

    if format is not None and format not in FORMATS:
        _fail(f"--format must be one of: {', '.join(FORMATS)}.")
    if format == "generic" and mapping is None:
        _fail("--format generic needs --mapping FILE (see dpo-bot import consents --help).")
    try:
        chosen = load_mapping(mapping) if mapping else BUILTIN.get(format or "")
    except MappingError as error:
        _fail(str(error))
    try:
        with session_scope(_engine()) as session, _import_progress() as progress:
            task = progress.add_task(f"Checking and importing {file.name}", total=None)
            report = run_import(
                session, _school(session, school), file, file_name=file.name, mapping=chosen,
                by_name="command line", now=utcnow(), dry_run=dry_run,
                progress=lambda done, total: progress.update(task, completed=done, total=total))
    except ImportRefused as error:
        _fail(f"{file.name} was not imported; nothing was changed:\n" + "\n".join(error.reasons))
    except SQLAlchemyError as error:  # one line: the statement's parameters are pupils' data
        _fail(f"{file.name} was not imported; nothing was changed: the database refused it "
              f"({type(error).__name__}).")
    verb = "Would import" if dry_run else "Imported"
    typer.echo(f"{verb} {report.rows} pupils from {file.name} ({report.format}): "
               f"{report.added} added, {report.changed} changed, {report.unchanged} unchanged, "
               f"{report.left} left.")
    if report.confirmed:
        typer.echo(f"{report.confirmed} withdrawal(s) recorded in chat are now in the MIS.")
    for line in report.still_pending:
        typer.echo(f"Withdrawn in chat, not yet in this export: {line}")
    if dry_run:
        typer.echo("Dry run: nothing was written.")


@app.command()
def consent(
    name: Annotated[str | None, typer.Argument(help="The pupil's name.")] = None,
    use: Annotated[str | None, typer.Option("--use", help="e.g. website, social media.")] = None,
    cls: Annotated[str | None, typer.Option("--class", help="A registration class.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The answer as JSON.")] = False,
    as_name: Annotated[str | None, typer.Option(
        "--as", "--user", help="Ask as this person on the people list (audited as them, with "
        "their permission; default: your login name).")] = None,
    school: SchoolOption = None,
) -> None:
    """Can this pupil (or who in this class can't) appear in a photo for this use?"""
    from dataclasses import asdict

    from workflows.consent import service
    from workflows.core.ui import Text
    from workflows.database import session_scope
    from workflows.people.permissions import PermissionDenied

    if (name is None) == (cls is None):
        _fail("Give a pupil's NAME, or --class CLASS (with --use).")
    with session_scope(_engine()) as session:
        ctx = _cli_context(session, _school(session, school), as_name)
        try:
            replies = (service.answer(ctx, name, use) if name is not None
                       else service.class_answer(ctx, cls or "", use))
        except PermissionDenied as error:
            replies = [Text(error.message, "error")]
    if as_json:
        typer.echo(json.dumps([{"type": type(r).__name__} | asdict(r) for r in replies],
                              ensure_ascii=False, indent=2))
        return
    from workflows.core.ui import Table

    for reply in replies:
        if isinstance(reply, Table):
            typer.echo(reply.title)
            for row in reply.rows or ((reply.empty,),):
                typer.echo("  " + " | ".join(row))
        else:
            typer.echo(getattr(reply, "text", ""))


@app.command()
def software(
    name: Annotated[str, typer.Argument(help="The product's name or website, e.g. IXL.")],
    as_json: Annotated[bool, typer.Option("--json", help="The answer as JSON.")] = False,
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Is this app approved? What the software register (and open requests) say about it."""
    from workflows.database import session_scope
    from workflows.software import service

    with session_scope(_engine()) as session:
        ctx = _cli_context(session, _school(session, school), as_name)
        found = service.look_up(ctx, name)
        if as_json:
            typer.echo(json.dumps(service.as_json(ctx, found), ensure_ascii=False, indent=2))
        else:
            typer.echo(service.answer_text(ctx, found))


@consent_settings_app.command("show")
def consent_settings_show(school: SchoolOption = None) -> None:
    """The uses parents are asked about, and how long a yes lasts."""
    from rich.console import Console
    from rich.table import Table

    from workflows.consent import service
    from workflows.database import session_scope

    with session_scope(_engine()) as session:
        found = _school(session, school)
        months = service.validity_months(session, found)
        table = Table(title=f"Photo consent at {_escape(found.name)}: a yes lasts {months} months")
        table.add_column("key (import mapping, --use)")
        table.add_column("use")
        for category in service.categories(session, found).values():
            table.add_row(category.key, _escape(category.label))
    Console().print(table)


def _consent_setting(change, school: str | None) -> None:
    """Make one settings change in its own transaction; a refusal says why, changes nothing."""
    from workflows.consent import service
    from workflows.database import session_scope

    try:
        with session_scope(_engine()) as session:
            typer.echo(change(service, session, _school(session, school)))
    except service.SettingRefused as error:
        _fail(str(error))


@consent_settings_app.command("validity")
def consent_settings_validity(
    months: Annotated[int, typer.Argument(help="Months a yes lasts before it must be renewed.")],
    school: SchoolOption = None,
) -> None:
    """How long a parent's yes lasts; older answers count as not given."""
    def change(service, session, found) -> str:
        service.set_validity_months(session, found, months, by_name="cli")
        return f"A yes now lasts {months} months; older answers count as not given."
    _consent_setting(change, school)


@consent_settings_app.command("add")
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


@consent_settings_app.command("rename")
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


@consent_settings_app.command("remove")
def consent_settings_remove(
    key: Annotated[str, typer.Argument(help="The use's key (see consent-settings show).")],
    school: SchoolOption = None,
) -> None:
    """A use no longer asked about (only if no answer was ever recorded for it)."""
    def change(service, session, found) -> str:
        service.remove_category(session, found, key, by_name="cli")
        return f"Removed {key}."
    _consent_setting(change, school)


@app.command()
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
    with session_scope(_engine()) as session:
        chosen = ([_school(session, school)] if school else
                  list(session.exec(select(School).order_by(col(School.id)))))
        for found in chosen:
            removals = run_purge(session, found, utcnow(), dry_run=dry_run,
                                 by_name="dpo-bot purge")
            removed |= any(r.count for r in removals)
            table = Table(title=f"{'Would remove' if dry_run else 'Removed'} at "
                                f"{_escape(found.name)}")
            for column in ("what", "how many", "rule", "which"):
                table.add_column(column)
            for r in removals:
                shown = ", ".join(r.references[:10]) + (" …" if len(r.references) > 10 else "")
                table.add_row(r.what, str(r.count), r.rule, _escape(shown))
            console.print(table)
            typer.echo("Periods are school settings: " + ", ".join(
                f"{k}={v}" for k, v in sorted(periods(found).items())) + ".")
    if dry_run:
        typer.echo("Dry run: nothing was removed.")
    elif removed:
        typer.echo("Recorded in the audit trail (retention.purged), by reference and count.")


def _export(export_rows, format: str, out: Path | None, school: str | None, noun: str,
            as_name: str | None) -> None:
    """Rows from one register (the read is audited) as CSV or JSON, to a file or the screen."""
    from workflows.core.export import to_csv
    from workflows.database import session_scope

    if format not in ("csv", "json"):
        _fail("--format must be csv or json.")
    with session_scope(_engine()) as session:
        found = _school(session, school)
        rows = export_rows(session, found, actor=_cli_context(session, found, as_name).person.name)
    text = to_csv(rows) if format == "csv" else json.dumps(rows, indent=2, ensure_ascii=False)
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {len(rows)} {noun} to {out}.", err=True)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _check_region(value: str) -> str:
    """Checked as it is typed, so a bad answer is asked again, not refused at the end."""
    from workflows.deadlines import REGIONS

    if value.strip().upper() not in REGIONS:
        raise typer.BadParameter(f"Region must be one of {', '.join(REGIONS)}.")
    return value.strip().upper()


def _check_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(
            f"Unknown time zone “{value}” (use e.g. Europe/London).") from None
    return value.strip()


def _check_hours(value: str) -> str:
    from workflows.schools.service import parse_hours

    try:
        parse_hours(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    return value


def _check_calendar(value: str) -> str:
    from workflows.deadlines import CalendarError, TermCalendar

    if value.strip():
        try:
            TermCalendar.from_csv(_term_dates_text(Path(value.strip())))
        except (OSError, CalendarError) as error:
            raise typer.BadParameter(f"Term dates not imported: {error}") from None
    return value.strip()


@app.command()
def setup(
    name: Annotated[str, typer.Option(prompt="School name")] = "Our School",
    region: Annotated[
        str, typer.Option(prompt="Bank-holiday region (ENG, WLS, SCT, NIR)",
                          callback=_check_region)
    ] = "ENG",
    timezone: Annotated[
        str, typer.Option(prompt="Time zone", callback=_check_timezone)
    ] = "Europe/London",
    maintained: Annotated[
        bool,
        typer.Option(prompt="Is it an LA-maintained school (parents' 15-school-day "
                     "educational record right)? Academies and free schools: no"),
    ] = True,
    hours: Annotated[
        str, typer.Option(prompt="Working hours for reminders", callback=_check_hours)
    ] = "08:00-18:00",
    dpo: Annotated[str, typer.Option(prompt="The DPO's name")] = "",
    dpo_email: Annotated[str, typer.Option(prompt="The DPO's email (or leave blank)")] = "",
    deputies: Annotated[
        str, typer.Option(prompt="Deputies' names, comma separated (or blank)")
    ] = "",
    head: Annotated[str, typer.Option(prompt="The head teacher's name (escalation)")] = "",
    sar_years: Annotated[
        int, typer.Option(prompt="Keep closed SAR records for how many years after closure",
                          min=0)
    ] = 1,
    calendar: Annotated[
        str, typer.Option(prompt="Term dates CSV to import (or leave blank)",
                          callback=_check_calendar)
    ] = "",
    consent_months: Annotated[
        int, typer.Option(prompt="Photo consent lasts how many months before it is renewed",
                          min=1, max=120)
    ] = 12,
    urgent_hours: Annotated[
        str,
        typer.Option(help="Hours breach nudges may go out, e.g. 07:00-22:00 (default: any hour).",
                     callback=lambda v: _check_hours(v) if v else v),
    ] = "",
    email_domain: Annotated[list[str] | None, typer.Option(
        "--email-domain", help="Staff email domain, e.g. oakwood.sch.uk (repeat for more): "
        "places newcomers when one Slack or Teams app serves several schools.")] = None,
    school: SchoolOption = None,
) -> None:
    """Set up the school: name, region, hours, the DPO team, retention, term dates, consent."""
    from workflows.database import session_scope
    from workflows.deadlines import TermCalendar
    from workflows.people import service as people
    from workflows.people.models import Role
    from workflows.schools import service as schools
    from workflows.schools.service import parse_hours

    # Every answer was checked by its callback as it was given.
    start, end = parse_hours(hours)
    calendar_csv = (
        TermCalendar.from_csv(_term_dates_text(Path(calendar))).to_csv()
        if calendar else None
    )
    with session_scope(_engine()) as session:
        found = _school(session, school)
        found.name, found.region, found.timezone = name.strip(), region.upper(), timezone
        found.maintained, found.work_start, found.work_end = maintained, start, end
        found.urgent_start, found.urgent_end = parse_hours(urgent_hours) if urgent_hours else (
            None, None)
        found.retention = {**found.retention, "sar_closed_years": sar_years}
        if calendar_csv:
            found.term_calendar_csv = calendar_csv
        if email_domain is not None:
            try:
                schools.set_email_domains(found, email_domain)
            except schools.SchoolRefused as error:
                _fail(str(error))
        found.configured = True
        session.add(found)
        from workflows.consent import service as consent

        if consent.validity_months(session, found) != consent_months:
            consent.set_validity_months(session, found, consent_months, by_name="setup")
        team = [(dpo, Role.DPO, dpo_email or None), (head, Role.HEAD, None)]
        team += [(d.strip(), Role.DEPUTY, None) for d in deputies.split(",")]
        ctx = _cli_context(session, found, None)
        for person_name, role, email in team:
            if not person_name.strip():
                continue
            # Each through the audited people service: a new DPO or head hands the role over.
            person = people.named(session, found.id, person_name.strip())
            said: list[str] = []
            if person is not None and (person.role != role or not person.active):
                said += people.change_role(ctx, person_name, role)[1]
            said += people.add(ctx, person_name, role, email)[1]
            for line in said:
                typer.echo(line)
    typer.echo(f"{name} is set up. Try it: dpo-bot chat --user \"{dpo or 'Your Name'}\" "
               f"--role dpo")


def main() -> None:
    try:
        app(prog_name="dpo-bot")
    except Exception as error:
        import os

        if os.environ.get(DEBUG_ENV):
            raise
        # A traceback would quote what failed (a pupil's name in a value the database
        # refused): one line here, the traceback only when asked for.
        from workflows.core import faults

        _error(f"dpo-bot stopped: {faults.brief(error)}. For the full traceback (it may hold "
               f"personal data) run the command again with {DEBUG_ENV}=1.")
        sys.exit(2)


if __name__ == "__main__":
    main()
