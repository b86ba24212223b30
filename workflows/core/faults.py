"""What a failure is, in words fit for a log line and for the person who was typing.

Logs are read by whoever runs the server, who may not see personal data: a log line names
the kind of failure and where it happened, never an exception's message (which may quote a
pupil's name) nor SQL parameters (the engine hides them: ``database.make_engine``). The full
traceback is logged at DEBUG, which only ``--debug`` shows.
"""

from __future__ import annotations

import traceback

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from workflows.core.ui import Text
from workflows.core.wording import render


def unreachable(error: BaseException) -> bool:
    """The database could not be reached or written (down, cut off, disk full, file gone):
    nothing of this request was saved, and trying again later will work."""
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def unsaved() -> list[Text]:
    """What to tell the person when ``unreachable``: it needs no database, so it can be said."""
    return [Text(render("messages/unsaved.txt.j2"), "error")]


def failed() -> list[Text]:
    """What to tell the person after a fault of ours, when the database cannot say more."""
    return [Text(render("messages/failed.txt.j2"), "error")]


def unreadable() -> list[Text]:
    """What to tell the person whose click or form the bot could not read (an old card, a
    garbled value): nothing was done."""
    return [Text(render("messages/unreadable.txt.j2"), "error")]


def brief(error: BaseException) -> str:
    """One line for a log: the kind of failure and where it was raised, without its message.
    An unreachable database keeps the driver's first line (“connection refused”, “disk is
    full”: about the server, never a value); other database errors only their SQLSTATE, as
    their messages may quote a value (“invalid input syntax ...: "Jane"”)."""
    kind = type(error).__name__
    if isinstance(error, DBAPIError) and error.orig is not None:
        driver = type(error.orig).__name__
        if unreachable(error):
            first = (str(error.orig).strip().splitlines() or [""])[0]
            return f"database unreachable: {driver}: {first}"
        code = getattr(error.orig, "sqlstate", None) or getattr(
            error.orig, "sqlite_errorname", None)
        return f"database refused the change: {driver}" + (f" ({code})" if code else "")
    frames = traceback.extract_tb(error.__traceback__)
    if frames:
        last = frames[-1]
        return f"{kind} at {last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"
    return kind
