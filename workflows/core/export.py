"""Registers as rows, and rows as CSV a spreadsheet can open safely."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any


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
        writer.writerow({k: _safe_cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _safe_cell(value: Any) -> Any:
    # A cell starting with = + - @ runs as a formula in Excel: a requester's name must not.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
