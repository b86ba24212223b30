"""Registers as rows, and rows as CSV a spreadsheet can open safely."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

from workflows.core.bidi import neutral


def plain(value: Any) -> Any:
    """JSON- and CSV-ready: dates and times as ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    fields = list(rows[0]) if rows else ["reference"]
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return buffer.getvalue()


# Separators a spreadsheet may split a cell at: a semicolon in locales whose decimal mark is
# a comma (Excel in France or Germany reads ";" as the column separator), and a tab.
_SPLIT_FORMULA = re.compile(r"([;\t])(?=[=+\-@])")


def safe_cell(value: Any) -> Any:
    """A cell no spreadsheet runs as a formula, and no bidirectional control reorders."""
    if not isinstance(value, str):
        return value
    value = neutral(value)
    # “Smith;=HYPERLINK(…)” is one cell here but two in a semicolon locale, the second a
    # formula: a quote after the separator keeps it text there too.
    value = _SPLIT_FORMULA.sub(r"\1'", value)
    # A cell starting with = + - @ (or tab or CR) runs as a formula: a name must not.
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
