"""Loading a school's existing software register from a spreadsheet (CSV).

Schools keep these by hand, so column names and values vary: both are read forgivingly, and
any row that cannot be read is reported with its line number and nothing is changed. Dates
are the one thing not read forgivingly: "3/13/2026" is refused, not taken as 13 March, as it
is everywhere else in the bot (``workflows.core.imports``). A
product already decided in the bot keeps that decision: an old spreadsheet must not
overwrite what the DPO recorded since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from workflows.audit.models import AuditEvent
from workflows.core import imports
from workflows.core.fields import pick, split_list
from workflows.core.imports import CsvFile, ImportRefused, Problems, check_length, read_date
from workflows.core.text import fold
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.schools.models import School
from workflows.software import service
from workflows.software.models import Dpia, Software, Status
from workflows.software.screening import DATA_CHOICES

# Our column -> the headers schools use for it (folded: lower case, single spaces).
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "product", "app", "software", "application", "product name",
             "app name", "software name", "system"),
    "website": ("website", "url", "link", "web address", "site", "web site"),
    "status": ("status", "approved", "decision", "approval", "approval status", "approved?"),
    "data_kinds": ("data", "data categories", "data kinds", "data_kinds", "personal data",
                   "data held", "data shared", "data stored"),
    "purpose": ("purpose", "what it is for", "used for", "use", "what for", "description"),
    "year_groups": ("year groups", "years", "year group", "who uses it", "users",
                    "used by", "year_groups"),
    "storage": ("storage", "where stored", "stored in", "data location", "location",
                "where data is stored", "data stored in", "hosted in"),
    "privacy_notice": ("privacy notice", "privacy policy", "privacy", "vendor privacy notice",
                       "privacy notice link", "privacy_notice", "privacy link"),
    "conditions": ("conditions", "restrictions", "conditions of use"),
    "reason": ("reason", "why", "rejection reason", "reason rejected"),
    "dpia": ("dpia", "dpia status", "dpia done", "dpia completed", "dpia required"),
    "dpia_link": ("dpia link", "dpia url", "dpia_link", "dpia location"),
    "decided_by": ("approved by", "decided by", "decided_by", "authorised by",
                   "authorized by"),
    "decided_on": ("approved on", "date approved", "decided on", "approval date", "decided_on",
                   "date decided", "date"),
    "review_on": ("review date", "review", "review by", "next review", "review_on",
                  "review due"),
}
STATUSES: dict[str, Status] = {
    **dict.fromkeys(("approved", "yes", "y", "ok", "allowed", "approve"), Status.APPROVED),
    **dict.fromkeys(("approved with conditions", "conditional", "conditions",
                     "approved (conditions)", "yes with conditions", "restricted"),
                    Status.CONDITIONS),
    **dict.fromkeys(("rejected", "no", "n", "not approved", "refused", "banned", "declined",
                     "not allowed", "reject"), Status.REJECTED),
    **dict.fromkeys(("pending", "under review", "in progress", "awaiting", "requested",
                     "tbc"), Status.PENDING),
}
DPIAS: dict[str, Dpia] = {
    **dict.fromkeys(("done", "yes", "y", "completed", "complete"), Dpia.DONE),
    **dict.fromkeys(("required", "needed", "to do", "due"), Dpia.REQUIRED),
    **dict.fromkeys(("no", "n", "not required", "not needed", "n/a", "na", "none"),
                    Dpia.NOT_REQUIRED),
    "": Dpia.UNKNOWN,
    "unknown": Dpia.UNKNOWN,
}


__all__ = ["ImportRefused", "Report", "import_register", "read"]

# A trust's register lists a few hundred products; a file with more is the wrong file.
MAX_PRODUCTS = 5000
# Each text field, checked against its column before anything is written.
LENGTHS = ("name", "website", "storage", "privacy_notice", "dpia_link", "decided_by")


def _said(reason: str, **facts: Any) -> str:
    return render("software/import.txt.j2", reason=reason, **facts)


@dataclass
class Report:
    rows: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # decided in the bot since: not overwritten
    no_review: list[str] = field(default_factory=list)  # approved, but no date to review from


def _kinds(text: str) -> list[str]:
    """Known categories as their codes; anything else kept as written, not thrown away."""
    found: list[str] = []
    for item in split_list(text):
        chosen = pick(DATA_CHOICES, item, numbered=False)
        code = chosen.value if chosen else item
        if code not in found:
            found.append(code)
    return found


def read(data: bytes | Path) -> list[dict[str, Any]]:
    """The file's rows as our fields, or ImportRefused with every problem found."""
    header, reader = CsvFile(data).table()
    where: dict[str, int] = {}
    for index, name in enumerate(header):
        header_name = fold(name, apart="_")
        column = next((ours for ours, names in COLUMNS.items() if header_name in names), None)
        if column is not None and column not in where:
            where[column] = index
    missing = [c for c in ("name", "status") if c not in where]
    if missing:
        raise ImportRefused([_said("no_columns", missing=missing,
                                   header=", ".join(header)[:300])])
    rows: list[dict[str, Any]] = []
    problems = Problems()
    seen: dict[str, int] = {}
    for line, cells in reader:
        if len(rows) == MAX_PRODUCTS:
            raise ImportRefused([_said("too_many", line=line, limit=MAX_PRODUCTS)])
        def cell(column: str, cells: list[str] = cells) -> str:
            return imports.cell(cells, where.get(column))

        name = cell("name")
        if not name:
            problems.append(_said("no_name", line=line))
            continue
        wrong: list[str] = []
        for column in LENGTHS:
            check_length(cell(column), Software, column, wrong)
        if wrong:
            problems.append(_said("too_long", line=line, problems=wrong))
            continue
        key = service.name_key(name)
        if key in seen:
            problems.append(_said("twice", line=line, product=name, first=seen[key]))
            continue
        seen[key] = line
        status = STATUSES.get(fold(cell("status"), apart="_"))
        if status is None:
            problems.append(_said("status", line=line, product=name, written=cell("status")))
        dpia = DPIAS.get(fold(cell("dpia"), apart="_"))
        if dpia is None:
            problems.append(_said("dpia", line=line, product=name, written=cell("dpia")))
        dates: list[str] = []
        decided_on = read_date(cell("decided_on"), "decided_on", dates)
        review_on = read_date(cell("review_on"), "review_on", dates)
        problems += [_said("date", line=line, product=name, problem=reason) for reason in dates]
        rows.append({
            "line": line, "name": name, "name_key": key, "status": status, "dpia": dpia,
            "website": cell("website") or None,
            "data_kinds": _kinds(cell("data_kinds")),
            "purpose": cell("purpose") or None,
            "year_groups": cell("year_groups") or None,
            "storage": cell("storage") or None,
            "privacy_notice": cell("privacy_notice") or None,
            "conditions": cell("conditions") or None,
            "reason": cell("reason") or None,
            "dpia_link": cell("dpia_link") or None,
            "decided_by": cell("decided_by") or None,
            "decided_on": decided_on,
            "review_on": review_on,
        })
    if problems:
        raise problems.refusal()
    if not rows:
        raise ImportRefused([_said("no_products")])
    return rows


_FIELDS = ("name", "website", "status", "data_kinds", "purpose", "year_groups", "storage",
           "privacy_notice", "conditions", "reason", "dpia", "dpia_link", "decided_by",
           "decided_on", "review_on")


def import_register(session: Session, school: School, data: bytes | Path, *, file_name: str,
                    by_name: str, now: datetime, dry_run: bool = False) -> Report:
    """Add or update the register from ``data``; all of it, or (on any problem) none of it."""
    rows = read(data)
    report = Report(rows=len(rows))
    school_id = saved_id(school)
    existing = {p.name_key: p for p in session.exec(
        select(Software).where(Software.school_id == school_id))}
    for row in rows:
        if row["status"] in (Status.APPROVED, Status.CONDITIONS) and row["review_on"] is None:
            if row["decided_on"] is not None:
                row["review_on"] = service.review_date(school, row["decided_on"])
            else:
                report.no_review.append(row["name"])
        product = existing.get(row["name_key"])
        if product is not None and product.source == "request":
            report.kept.append(product.name)
            continue
        values = {k: row[k] for k in _FIELDS}
        if product is None:
            report.added.append(row["name"])
            product = Software(school_id=school_id, name_key=row["name_key"], source="import",
                               created_at=now, updated_at=now, **values)
        elif all(getattr(product, k) == v for k, v in values.items()):
            report.unchanged.append(product.name)
            continue
        else:
            report.changed.append(product.name)
            if dry_run:
                continue
            for k, v in values.items():
                setattr(product, k, v)
            product.version += 1
            product.updated_at = now
        if not dry_run:
            session.add(product)
            session.flush()
            service.plan_review(session, school, product, now)
    if not dry_run:
        session.add(AuditEvent(
            school_id=school_id, at=now, actor_name=by_name, adapter="cli",
            action="software.imported", subject_type="software",
            detail={"file": file_name, "added": len(report.added),
                    "changed": len(report.changed), "kept": report.kept}))
    return report
