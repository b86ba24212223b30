"""`dpo-bot chat`: the real workflows in this terminal, no Slack or Teams needed."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.choices import Role
from bot.cli.common import ServedOption, fail, open_engine


def chat(
    user: Annotated[
        str | None, typer.Option(help="Who you are (default: your login name).")
    ] = None,
    role: Annotated[
        Role | None, typer.Option(case_sensitive=False, help="Checked against the people "
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
    from workflows.people.models import Role as PersonRole
    from workflows.people.service import PeopleRefused

    try:
        terminal = TerminalChat(open_engine(), Console(), user or default_user(),
                                PersonRole(role) if role else None, school, reminders)
    except PeopleRefused as error:
        fail(str(error))
    terminal.run()
