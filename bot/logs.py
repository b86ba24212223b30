"""Logging for the serving commands: one line per event, none holding personal data.

The bot's own lines never quote a message, an exception's text or SQL parameters
(``workflows.core.faults``). Libraries do: Bolt warns about an unhandled request by quoting it
whole, and a library's error may carry what was typed in its message or traceback. So at the
default level their warnings are dropped and their errors cut down to which library and what
kind of error. ``--debug`` shows everything, and says loudly that it does.
"""

from __future__ import annotations

import logging

LIBRARIES = ("slack_bolt", "slack_sdk", "aiohttp", "microsoft_agents", "msal", "asyncio")
DEBUG_WARNING = ("--debug is on: the log will hold message bodies and personal data. Turn it "
                 "off as soon as you have what you need, and delete the log.")


class LibraryLines(logging.Filter):
    """Libraries' warnings dropped; their errors reduced to the library and the error's kind."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(LIBRARIES):
            return True
        if record.levelno < logging.ERROR:
            return False
        error = record.exc_info[1] if record.exc_info else None
        record.msg = "%s reported an error%s (--debug shows it, with personal data)"
        record.args = (record.name, f": {type(error).__name__}" if error else "")
        record.exc_info = record.exc_text = None
        return True


def configure(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if debug:
        logging.getLogger(__name__).warning(DEBUG_WARNING)
        return
    for handler in logging.getLogger().handlers:
        handler.addFilter(LibraryLines())
