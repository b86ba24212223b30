"""`dpo-bot letter`, `software-list` and `ropa`: the documents a school hands over, written
to a file (every read audited as whoever ran it)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.choices import ListFormat
from bot.cli.common import AsOption, SchoolOption, cli_context, fail, open_engine, school_named

LETTER_SUFFIXES = (".docx", ".txt")
ROPA_SUFFIXES = (".xlsx", ".csv")


def _folder_exists(out: Path) -> None:
    if not out.parent.exists():
        fail(f"There is no folder {out.parent}.")


def letter(
    reference: Annotated[str, typer.Argument(help="The case, e.g. SAR-2026-0001.")],
    kind: Annotated[list[str] | None, typer.Argument(
        help="Which letter, e.g. acknowledgement, id request, extension, affected letter "
        "(without it: the case's letters are listed).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write it to a file: .docx for Word (on the school's letterhead when "
        "setup has one), .txt for plain text (default: print it).")] = None,
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """A case's letter, as the chat drafts it: printed, or as a Word document (DPO team)."""
    from workflows.core.engine import NotFound
    from workflows.core.letters import WhichLetter, draft
    from workflows.database import session_scope
    from workflows.documents.word import LetterheadError, letter_docx
    from workflows.people.permissions import PermissionDenied

    if out is not None:
        if out.suffix.lower() not in LETTER_SUFFIXES:
            fail(f"{out} should end in .docx or .txt.")
        _folder_exists(out)
    with session_scope(open_engine()) as session:
        found = school_named(session, school)
        try:
            document = draft(cli_context(session, found, as_name), reference,
                             " ".join(kind or []))
            word = letter_docx(document, found) if out and out.suffix.lower() == ".docx" else None
        except (NotFound, PermissionDenied, WhichLetter, LetterheadError) as error:
            fail(str(error))
    if out is None:
        sys.stdout.write(document.body.rstrip("\n") + "\n")
    elif word is not None:
        out.write_bytes(word)
        typer.echo(f"Wrote {document.title} to {out}.", err=True)
    else:
        out.write_text(document.body.rstrip("\n") + "\n", encoding="utf-8")
        typer.echo(f"Wrote {document.title} to {out}.", err=True)


def software_list(
    format: Annotated[ListFormat, typer.Option(
        "--format", case_sensitive=False, help="HTML to paste into a web page, or Markdown "
        "(default: from --out's ending, else html).")] | None = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write to a file instead of the screen.")] = None,
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """The privacy notice's “Programs used by pupils” section, from the software register."""
    from workflows.database import session_scope
    from workflows.documents.software_list import software_list as section

    if format is None:
        format = "md" if out is not None and out.suffix.lower() in (".md", ".markdown") \
            else "html"
    if out is not None:
        _folder_exists(out)
    with session_scope(open_engine()) as session:
        found = school_named(session, school)
        text = section(session, found, cli_context(session, found, as_name).person.name, format)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote the software list to {out}.", err=True)


def ropa(
    out: Annotated[Path, typer.Option(
        "--out", help="The spreadsheet to write: .xlsx (cells to complete highlighted) or .csv.")],
    as_name: AsOption = None,
    school: SchoolOption = None,
) -> None:
    """A ROPA starter: one row per processing activity the bot knows, in the ICO's columns."""
    from workflows.database import session_scope
    from workflows.documents import ropa as records

    if out.suffix.lower() not in ROPA_SUFFIXES:
        fail(f"{out} should end in .xlsx or .csv.")
    _folder_exists(out)
    with session_scope(open_engine()) as session:
        found = school_named(session, school)
        made = records.ropa(session, found, cli_context(session, found, as_name).person.name)
    if out.suffix.lower() == ".xlsx":
        out.write_bytes(records.to_xlsx(made))
    else:
        out.write_text(records.to_csv(made), encoding="utf-8")
    typer.echo(f"Wrote {len(made.rows)} processing activities to {out}; the cells marked "
               f"“{made.to_complete()}” are for the DPO.", err=True)
