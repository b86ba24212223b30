"""Letters as Word documents: the chat's letter text, set on the school's letterhead.

The text is the chat letter's own (one template, no second copy of the wording); only the
layout is Word's: the sender's block on the right, each paragraph a paragraph.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
from docx.document import Document as WordDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.exceptions import PackageNotFoundError

from workflows.core.bidi import neutral
from workflows.core.ui import Document
from workflows.core.wording import render
from workflows.schools.models import School

# XML 1.0 refuses these; a letter quoting what someone typed must still be written.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PARAGRAPHS = re.compile(r"\n(?:[ \t]*\n)+")


class LetterheadError(ValueError):
    """The school's letterhead cannot be read as a Word document: says which and why."""


def _said(event: str, **facts: object) -> str:
    return render("documents/message.txt.j2", event=event, **facts)


def read_letterhead(path: Path) -> WordDocument:
    """The letterhead as a document to write on; LetterheadError when it is not a .docx."""
    if path.suffix.lower() != ".docx":
        raise LetterheadError(_said("letterhead_not_docx", path=str(path)))
    try:
        return docx.Document(str(path))
    except (OSError, PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise LetterheadError(_said("letterhead_unreadable", path=str(path),
                                    why=type(error).__name__)) from None


def sender_block(school: School) -> str:
    """The school's name and address, as the letters' own template sets them."""
    return render("letters/_school.txt.j2", school=school)


def letter_docx(letter: Document, school: School) -> bytes:
    """``letter`` as a .docx: on the school's letterhead when it has one, else a plain page."""
    word = read_letterhead(Path(school.letterhead)) if school.letterhead else docx.Document()
    word.core_properties.title = _clean(letter.title)
    word.core_properties.author = _clean(school.name)
    sender = sender_block(school)
    blocks = [b for b in _PARAGRAPHS.split(letter.body.strip()) if b.strip()]
    # A form such as the ICO report draft has no sender's block of its own: the Word copy
    # still says whose it is, in the same place a letter does.
    if not blocks or blocks[0].strip() != sender:
        blocks.insert(0, sender)
    for number, block in enumerate(blocks):
        paragraph = word.add_paragraph()
        if number == 0:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        lines = block.strip("\n").split("\n")
        for index, line in enumerate(lines):
            run = paragraph.add_run(_clean(line))
            if index < len(lines) - 1:
                run.add_break()
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _clean(text: str) -> str:
    return _NOT_XML.sub("", neutral(text))
