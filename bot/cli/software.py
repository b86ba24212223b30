"""`dpo-bot software`: what the software register says about a product (audited)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import AsOption, SchoolOption, cli_context, open_engine, school_named


def software(
    name: Annotated[str, typer.Argument(help="The product's name or website, e.g. IXL.")],
    as_json: Annotated[bool, typer.Option("--json", help="The answer as JSON.")] = False,
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """Is this app approved? What the software register (and open requests) say about it."""
    from workflows.database import session_scope
    from workflows.software import service

    with session_scope(open_engine()) as session:
        ctx = cli_context(session, school_named(session, school), as_name)
        found = service.look_up(ctx, name)
        if as_json:
            typer.echo(json.dumps(service.as_json(ctx, found), ensure_ascii=False, indent=2))
        else:
            typer.echo(service.answer_text(ctx, found))


