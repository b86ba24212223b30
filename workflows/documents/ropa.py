"""A ROPA starter (UK GDPR Art 30): one row per processing activity the bot knows about.

The columns are the ICO's controller template's. What the register knows is filled in; the
rest is left to the DPO and says so, highlighted in the spreadsheet, so a blank never reads
as "nothing to record".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from workflows.audit.models import AuditEvent
from workflows.core.export import safe_cell
from workflows.core.text import fold
from workflows.core.wording import render
from workflows.database import saved_id, utcnow
from workflows.documents.software_list import known
from workflows.retention.service import periods
from workflows.schools.models import School
from workflows.software.models import Dpia, Software, SoftwareRequest, Status
from workflows.software.names import name_key, register
from workflows.software.screening import kind_label

# The ICO's controller template, in its order, after the activity and where the row came from.
COLUMNS = ("activity", "source", "business_function", "purpose", "joint_controller",
           "individuals", "data", "special", "recipients", "processor_contract", "transfers",
           "safeguards", "retention", "security", "location", "lawful_basis", "dpia")
# Schools' management information systems: when one is in the register it is the MIS row.
MIS_NAMES = frozenset(name_key(n) for n in (
    "Arbor", "SIMS", "Bromcom", "ScholarPack", "iSAMS", "Pupil Asset", "Integris",
    "Progresso", "WCBS", "Engage"))
SPECIAL_KINDS = frozenset({"sen_health"})  # health and SEN information is Art 9 data
_HIGHLIGHT = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")

Row = dict[str, str | None]  # None: the DPO must complete this cell


@dataclass(frozen=True)
class Ropa:
    """The rows, and the one way they become cells (the CSV and the workbook agree)."""

    rows: list[Row]

    @staticmethod
    def heading(column: str) -> str:
        return _word("heading", column=column)

    @staticmethod
    def to_complete() -> str:
        return _word("to_complete")

    def cells(self) -> list[list[str]]:
        """Every row as the spreadsheet shows it, headings first, each cell safe to open."""
        blank = self.to_complete()
        return [[self.heading(c) for c in COLUMNS]] + [
            [_cell(row[c] or blank) for c in COLUMNS]
            for row in self.rows]


def _cell(text: str) -> str:
    """No formula in any spreadsheet, and no control character the workbook refuses."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(safe_cell(text)))


def _word(event: str, **facts: object) -> str:
    return render("documents/ropa.txt.j2", event=event, **facts)


def _product_row(session: Session, product: Software, mis: bool) -> Row:
    request = session.get(SoftwareRequest, product.request_id) if product.request_id else None
    kinds = [k for k in (product.data_kinds or (request.data_kinds if request else []))
             if k != "none"]
    storage = known(product.storage) or known(request.storage if request else None)
    in_uk = storage is not None and fold(storage, words=True) in (
        "uk", "united kingdom", "england", "the uk", "uk only")
    row: Row = dict.fromkeys(COLUMNS)
    row.update({
        "activity": _word("mis_activity" if mis else "product_activity", name=product.name),
        "source": _word("from_request", reference=request.reference) if request
        else _word("from_import"),
        "business_function": _word("mis_function") if mis else None,
        "purpose": _word("mis_purpose") if mis else (
            known(product.purpose) or known(request.purpose if request else None)),
        "individuals": _word("mis_individuals") if mis else (
            known(product.year_groups) or known(request.users if request else None)),
        "data": _word("mis_data") if mis else (
            "; ".join(kind_label(k) for k in kinds) if kinds else None),
        "special": None if mis or SPECIAL_KINDS & set(kinds) or not kinds
        else _word("no_special"),
        "recipients": _word("vendor_processor", name=product.name),
        "processor_contract": _word("dpa_in_place") if request and request.dpa == "yes"
        else None,
        "transfers": _word("no_transfer") if in_uk else storage,
        "location": storage,
        "dpia": _word("dpia", outcome=product.dpia, link=product.dpia_link or "")
        if product.dpia != Dpia.UNKNOWN else None,
    })
    return row


def _bot_row(session: Session, school: School) -> Row:
    kept = periods(school)
    dialect = session.get_bind().dialect.name
    row: Row = dict.fromkeys(COLUMNS)
    row.update({name: _word(f"bot_{name}", school=school, kept=kept, dialect=dialect)
                for name in ("activity", "source", "business_function", "purpose",
                             "individuals", "data", "special", "recipients", "transfers",
                             "retention", "security", "location", "lawful_basis")})
    return row


def ropa(session: Session, school: School, actor: str) -> Ropa:
    """The rows: the MIS, each approved product, the bot itself; the read is audited."""
    approved = [p for p in register(session, saved_id(school))
                if p.status in (Status.APPROVED, Status.CONDITIONS)]
    mis = next((p for p in approved if p.name_key in MIS_NAMES), None)
    rows = []
    if mis is None:
        rows.append(dict.fromkeys(COLUMNS) | {
            "activity": _word("mis_activity", name=None), "source": _word("standard"),
            "business_function": _word("mis_function"), "purpose": _word("mis_purpose"),
            "individuals": _word("mis_individuals"), "data": _word("mis_data")})
    else:
        rows.append(_product_row(session, mis, mis=True))
    rows += [_product_row(session, p, mis=False) for p in approved if p is not mis]
    rows.append(_bot_row(session, school))
    session.add(AuditEvent(school_id=saved_id(school), at=utcnow(), actor_name=actor,
                           adapter="cli", action="software.ropa", subject_type="software",
                           detail={"rows": len(rows)}))
    return Ropa(rows)


def to_csv(found: Ropa) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(found.cells())
    return out.getvalue()


def to_xlsx(found: Ropa) -> bytes:
    """The ROPA as a workbook: headings frozen, every cell the DPO must complete highlighted."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = _word("sheet")
    for line in found.cells():
        sheet.append(line)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(found.rows, start=2):
        for column, name in enumerate(COLUMNS, start=1):
            cell = sheet.cell(row=number, column=column)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if not row[name]:
                cell.fill = _HIGHLIGHT
    for column in range(1, len(COLUMNS) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 32
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
