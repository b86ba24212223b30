"""What every command shares: the database, the school, who ran it, and one way to refuse.

Heavy imports happen inside these functions, so `dpo-bot --help` stays fast.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from workflows.core.context import Context
    from workflows.schools.models import School

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
AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this person on the people list (audited as "
                             "them, with their permissions; default: your login name).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object.")]
WorkersOption = Annotated[int | None, typer.Option(
    min=0, show_default="2 on PostgreSQL, 0 on SQLite",
    help="Worker processes for the database work (0: threads of this process).")]


def open_engine() -> Engine:
    """The configured database, upgraded to this version's schema, or one clear refusal."""
    from sqlalchemy.engine import make_url

    from workflows.database import DATABASE_URL_ENV, database_url, make_engine, upgrade

    url = database_url()
    engine = make_engine(url)
    try:
        upgrade(engine)
    except Exception as error:  # the database is unreachable or refuses us
        # The driver's own first line says why; the URL (never its password) says which.
        reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["?"])[0]
        fail(f"Can't open the database {make_url(url).render_as_string(hide_password=True)}: "
             f"{reason} (is it running? {DATABASE_URL_ENV} says which database to use)")
    return engine


def default_workers(engine: Engine) -> int:
    """Worker processes only where they pay. SQLite takes one writer at a time, so more
    processes add memory (about 70 MB each) and no throughput: a school on SQLite is served
    from threads of the one process. PostgreSQL takes the work of two in parallel."""
    return 0 if engine.dialect.name == "sqlite" else 2


def configure_logging(debug: bool) -> None:
    from bot.logs import configure

    configure(debug)


def fail(message: str) -> NoReturn:
    """Refuse on one line, exit status 2: a person reads it, never a traceback."""
    say_error(message)
    raise typer.Exit(2)


def say_error(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)


def escape(text: str) -> str:
    """User text printed through rich: its square brackets are text, never markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def school_named(session: Session, slug: str | None) -> School:
    from workflows.schools import service as schools

    school = schools.chosen(session, slug)
    if school is None:
        fail(f"No school called “{slug}” (dpo-bot schools list shows them; dpo-bot schools "
             f"add {slug} --name NAME adds it).")
    return school


def parse_iso(text: str, what: str) -> date:
    """An ISO date only: a command line is scripted, so 3/9 is refused, never guessed."""
    from workflows.core.dates import parse_iso_date

    try:
        return parse_iso_date(text)
    except ValueError:
        fail(f"{what} must be an ISO date like 2026-09-03, not “{text}”.")


def parse_day(text: str, what: str, timezone: str = "Europe/London") -> date:
    """A date read as the chat reads it ("2026-09-03", "3 September", "yesterday", "3/9" day
    first), today being today in ``timezone``; a date it cannot read is refused, saying why."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from workflows.core.dates import DateParseError, parse_date

    try:
        return parse_date(text, today=datetime.now(ZoneInfo(timezone)).date())
    except DateParseError as error:
        fail(f"{what}: {error}")


def cli_context(session: Session, found: School, as_name: str | None) -> Context:
    """Whoever ran this command, at ``found``: audited as them, never as the DPO."""
    from workflows.core.context import Context
    from workflows.database import utcnow
    from workflows.people.service import PeopleRefused, command_line_person

    try:
        person = command_line_person(session, found, as_name)
    except PeopleRefused as error:
        fail(str(error))
    return Context.of(session, person, "cli", school=found, now=utcnow())
