"""The `dpo-bot` command: one module per concept, assembled here in the order `--help` lists.

Heavy imports happen inside commands, so `--help` stays fast.
"""

from __future__ import annotations

import sys

import typer

from bot.cli import (
    calendar,
    chat,
    consent,
    consent_settings,
    db,
    deadline,
    documents,
    export,
    google_chat,
    imports,
    people,
    purge,
    remind,
    report,
    schools,
    setup,
    slack,
    software,
    teams,
)
from bot.cli.common import DEBUG_ENV, say_error

app = typer.Typer(
    help="dpo-bot: subject access requests, breaches, photo consent and software approval "
    "for schools in England, with the legal clocks kept.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in (chat.chat, slack.slack, remind.remind, remind.digest, consent.consent,
                software.software, documents.software_list, documents.ropa, documents.letter,
                purge.purge, setup.setup):
    app.command()(command)
app.command("google-chat")(google_chat.google_chat)
for name, group in (("db", db.app), ("deadline", deadline.app), ("export", export.app),
                    ("calendar", calendar.app), ("people", people.app), ("import", imports.app),
                    ("schools", schools.app), ("consent-settings", consent_settings.app),
                    ("teams", teams.app), ("report", report.app)):
    app.add_typer(group, name=name)


def main(args: list[str] | None = None) -> None:
    """The console script: any failure is one line, the traceback only when asked for."""
    try:
        app(args, prog_name="dpo-bot")
    except Exception as error:
        import os

        if os.environ.get(DEBUG_ENV):
            raise
        # A traceback would quote what failed (a pupil's name in a value the database
        # refused): one line here, the traceback only when asked for.
        from workflows.core import faults

        say_error(f"dpo-bot stopped: {faults.brief(error)}. For the full traceback (it may hold "
                  f"personal data) run the command again with {DEBUG_ENV}=1.")
        sys.exit(2)
