"""What makes each file the chat sends (``ui.File.maker``), from what it was asked by.

Each adapter that can send files comes here as it sends one, so the file goes through the
same check and audit as when it was first asked for: a letter is drafted again (only the DPO
team drafts letters), the report made again (only ``Permission.REPORT`` has it). What an
adapter passes back may have travelled through the platform (Teams' consent card), so each
maker reads ``asked`` as it would a person's words.
"""

from __future__ import annotations

from collections.abc import Callable

from workflows.core.context import Context
from workflows.core.letters import draft
from workflows.documents.word import letter_docx
from workflows.reports.service import pdf_file


def _letter(ctx: Context, asked: tuple[str, ...]) -> bytes:
    reference, kind = asked
    return letter_docx(draft(ctx, reference, kind), ctx.school)


MAKERS: dict[str, Callable[[Context, tuple[str, ...]], bytes]] = {
    "letter": _letter, "report": pdf_file}


def make(ctx: Context, maker: str, asked: tuple[str, ...]) -> bytes:
    """The file's bytes, made now for ``ctx.person``; PermissionDenied, LookupError or
    ValueError when they may not have it or ``asked`` names nothing."""
    return MAKERS[maker](ctx, tuple(str(part) for part in asked))
