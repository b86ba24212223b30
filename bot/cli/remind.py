"""`dpo-bot remind` and `dpo-bot digest`: the reminder worker, and the digest it would send."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import SchoolOption, fail, open_engine, school_named


def remind(
    once: Annotated[bool, typer.Option("--once", help="One sweep, then exit (for cron).")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between sweeps.")] = 60.0,
) -> None:
    """Send due reminders. Any number of these may run at once: none is sent twice.

    SIGTERM or Ctrl-C lets the sweep under way finish (what went is marked sent), then exits."""
    import signal
    import threading

    engine = open_engine()

    stopping = threading.Event()
    # Put back whoever handled these before, so a caller that runs this in-process (a test)
    # keeps its own Ctrl-C.
    before = {each: signal.signal(each, lambda *_: stopping.set())
              for each in (signal.SIGTERM, signal.SIGINT)}
    try:
        _sweep_until_stopped(engine, stopping, once, interval)
    finally:
        for each, handler in before.items():
            signal.signal(each, handler)


def _sweep_until_stopped(engine, stopping, once: bool, interval: float) -> None:
    """Sweep every ``interval`` seconds until stopped; once only with ``once``."""
    from sqlalchemy.exc import DBAPIError

    from workflows.reminders.service import sweep

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
                fail(f"Reminder sweep stopped: can't reach the database ({reason}).")
            typer.echo(f"Reminder sweep failed: can't reach the database ({reason}); "
                       f"trying again in {interval:g} s.", err=True)
        if once:
            return
        stopping.wait(interval)
    typer.echo("Stopped.")


def digest(school: SchoolOption = None) -> None:
    """Print the weekly digest now: every open case by deadline."""
    from workflows.database import session_scope, utcnow
    from workflows.digest import digest_text

    with session_scope(open_engine()) as session:
        typer.echo(digest_text(session, school_named(session, school), utcnow()))


