"""`dpo-bot consent`: may this pupil appear in a photo for this use (audited, as whoever asks)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import SchoolOption, cli_context, fail, open_engine, school_named


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
        fail("Give a pupil's NAME, or --class CLASS (with --use).")
    with session_scope(open_engine()) as session:
        ctx = cli_context(session, school_named(session, school), as_name)
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
