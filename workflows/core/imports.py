"""What every import shares: a size bound, one decoder, CSV rows streamed, dates and lengths.

Schools upload what their MIS or a spreadsheet wrote: UTF-8 with or without a byte order mark,
or Windows-1252 from older exports and Excel on Windows. Anything else (an .xlsx, a PDF, a
photo) is refused with one clear sentence, never a traceback. Rows are read one at a time from
the file, so memory does not grow with it, and every refusal names the row and says why
without repeating personal data (the person importing has the file; the terminal, a shared
screen or a pasted error report need not have pupils' names or birthdays).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from workflows.core.dates import DateParseError, parse_written_date
from workflows.core.wording import render
from workflows.database import table_of

MAX_BYTES_ENV = "DPO_BOT_IMPORT_MAX_MB"
# A whole trust of 100,000 pupils exports about 15 MB of consents; 64 MB leaves four times that
# and still imports in a few minutes. A bigger file is the wrong file (or a whole LA in one go):
# refused before a row is read. An operator who really needs more sets DPO_BOT_IMPORT_MAX_MB.
DEFAULT_MAX_MB = 64
_CHUNK = 1 << 20
# The csv module's own limit on one cell (131,072 characters): no register has a longer one.
MAX_CELL = csv.field_size_limit()
MAX_ERRORS = 50  # reasons shown when a file is refused (``Problems``)


class ImportRefused(Exception):
    """The file was not imported; ``reasons`` says why, row by row."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons


def refused(reason: str, **facts: Any) -> str:
    """One reason a file or a row is not imported, worded by the imports' template."""
    return render("imports/refused.txt.j2", reason=reason, **facts)


def max_bytes() -> int:
    """The largest file an import reads (the environment may raise it for a larger trust)."""
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_MAX_MB
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return int(megabytes * 1024 * 1024)


class CsvFile:
    """An uploaded CSV, checked (size, encoding, not binary) before any row is read.

    ``source`` is a path (streamed from disk) or the bytes of a small upload. ``rows`` can be
    read more than once; ``position`` is how far the current read has got, in bytes, for a
    progress bar.
    """

    def __init__(self, source: Path | bytes, *, limit: int | None = None) -> None:
        self.source = source
        self.size = source.stat().st_size if isinstance(source, Path) else len(source)
        limit = max_bytes() if limit is None else limit
        if self.size > limit:
            raise ImportRefused([refused("too_big", size=self.size, limit=limit,
                                         setting=MAX_BYTES_ENV)])
        if self.size == 0:
            raise ImportRefused([refused("empty")])
        self._raw: BinaryIO | None = None
        self.encoding = self._sniff()

    def _open(self) -> BinaryIO:
        if isinstance(self.source, Path):
            try:
                return self.source.open("rb")
            except OSError as error:
                raise ImportRefused([refused("unreadable", error=error.strerror)]) from None
        return io.BytesIO(self.source)

    def _sniff(self) -> str:
        """UTF-8 (a byte order mark allowed) if the whole file is, else Windows-1252."""
        utf8 = codecs.getincrementaldecoder("utf-8")()
        cp1252 = codecs.getincrementaldecoder("cp1252")()
        encoding = "utf-8-sig"
        with self._open() as raw:
            while chunk := raw.read(_CHUNK):
                if b"\0" in chunk:
                    raise ImportRefused([refused("not_text")])
                if encoding == "utf-8-sig":
                    try:
                        utf8.decode(chunk)
                        continue
                    except UnicodeDecodeError:
                        encoding = "cp1252"
                        raw.seek(0)  # this chunk and everything before it, as Windows-1252
                        continue
                try:
                    cp1252.decode(chunk)
                except UnicodeDecodeError:
                    raise ImportRefused([refused("not_text")]) from None
        if encoding == "utf-8-sig":
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:  # cut off mid-character: not a whole UTF-8 file
                encoding = "cp1252"
        return encoding

    @property
    def position(self) -> int:
        return self._raw.tell() if self._raw is not None and not self._raw.closed else 0

    def text(self) -> str:
        """The whole file as text (for the small files: term dates)."""
        with self._open() as raw:
            return raw.read().decode(self.encoding)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number as a spreadsheet shows it, cells) for every record, header first."""
        with self._open() as raw:
            self._raw = raw
            reader = csv.reader(io.TextIOWrapper(raw, encoding=self.encoding, newline=""))
            number = 0
            while True:
                number += 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    if "field limit" in str(error):
                        raise ImportRefused([refused("cell_too_long", row=number,
                                                     limit=MAX_CELL)]) from None
                    raise ImportRefused([refused("not_csv", row=number,
                                                 error=error)]) from None
                yield number, cells


    def table(self) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
        """The header row and the records after it, blank ones skipped (a spreadsheet leaves
        them between sections and at the end); a file whose first row is blank is empty."""
        records = self.rows()
        _, header = next(records, (1, []))
        if not any(c.strip() for c in header):
            raise ImportRefused([refused("empty")])
        return header, ((n, cells) for n, cells in records if any(c.strip() for c in cells))


def cell(cells: list[str], index: int | None) -> str:
    """A cell, stripped; empty for a column the file lacks or a row that stops short (a
    spreadsheet drops trailing empty cells)."""
    return cells[index].strip() if index is not None and index < len(cells) else ""


class Problems:
    """Every bad row's reasons, the first ``MAX_ERRORS`` kept: enough to fix a file, where a
    wrong file would otherwise list thousands."""

    def __init__(self, *, by_row: bool = False) -> None:
        self.shown: list[str] = []
        self.count = 0
        self._by_row = by_row  # one reason a row (the rest counted as rows), or one a problem

    def __bool__(self) -> bool:
        return self.count > 0

    def __iadd__(self, reasons: list[str]) -> Problems:
        for reason in reasons:
            self.append(reason)
        return self

    def append(self, reason: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_ERRORS:
            self.shown.append(reason)

    def refusal(self) -> ImportRefused:
        rest = self.count - len(self.shown)
        more = [refused("more", count=rest, rows=self._by_row)] if rest else []
        return ImportRefused(self.shown + more)


def read_date(text: str, column: str, problems: list[str], *,
              private: bool = False) -> date | None:
    """A strict day-first date, or None with the reason added to ``problems``.

    ``column`` is the field read (the template names it); ``private`` leaves the value out of
    the reason (a date of birth identifies a pupil).
    """
    if not text.strip():
        return None
    try:
        return parse_written_date(text)
    except DateParseError as error:
        problems.append(refused("not_a_date", column=column, error=error, private=private))
        return None


@cache
def column_limit(model: type, column: str) -> int | None:
    """The column's declared length (None for unbounded text)."""
    return getattr(table_of(model).c[column].type, "length", None)


def check_length(value: str | None, model: type, column: str, problems: list[str]) -> None:
    """Refuse a value longer than its column before it reaches the database.

    PostgreSQL would fail the insert and SQLite would quietly store it (a 100 KB "name").
    """
    limit = column_limit(model, column)
    if value and limit is not None and len(value) > limit:
        problems.append(refused("too_long", column=column, length=len(value), limit=limit))
