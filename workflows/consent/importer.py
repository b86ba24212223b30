"""Reading a consent export: the whole file is checked before anything is written.

A file with one bad row is refused whole, with every row's reason, so the register is never
half one export and half another. A re-import updates pupils by MIS id and reports what it
changed; ``dry_run`` reports the same and writes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from workflows.audit.models import AuditEvent
from workflows.consent import service
from workflows.consent.formats import FLAG_WORDS, Mapping, detect
from workflows.consent.models import (
    Consent,
    ConsentCategory,
    ConsentChange,
    ConsentImport,
    Pupil,
    Source,
    Status,
)
from workflows.database import insert_rows
from workflows.schools.models import School

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")
PUPIL_ATTRS = ("legal_first", "legal_last", "preferred_name", "year_group", "reg_class",
               "date_of_birth", "no_photos")
MAX_ERRORS = 50  # enough to fix a file; a wrong file would otherwise list thousands


class ImportRefused(Exception):
    """The file was not imported; ``reasons`` says why, row by row."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons


@dataclass
class Row:
    line: int
    mis_id: str
    pupil: dict[str, object]
    consents: dict[str, Status]
    given_on: date | None
    given_by: str | None


@dataclass
class Report:
    file_name: str
    format: str
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    left: int = 0
    confirmed: int = 0  # chat withdrawals this file agrees with: their note is cleared
    still_pending: list[str] = field(default_factory=list)  # chat withdrawals the file lacks
    dry_run: bool = False
    imported_at: datetime | None = None


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else Windows-1252 as older MIS exports write it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportRefused(["The file is not text in UTF-8 or Windows-1252: is it a CSV "
                             "export (not an Excel .xlsx)?"]) from None


def choose_mapping(text: str, mapping: Mapping | None) -> Mapping:
    """The mapping asked for, else the one built-in format whose headers the file has."""
    headers = next(csv.reader(io.StringIO(text)), [])
    if not headers:
        raise ImportRefused(["The file is empty."])
    if mapping is None:
        mapping = detect(headers)
        if mapping is None:
            raise ImportRefused(["I can't tell which MIS this export is from: give --format "
                                 "(arbor, sims, bromcom) or --format generic --mapping FILE."])
    missing = mapping.missing(headers)
    if missing:
        hint = detect(headers)
        also = f" It looks like a {hint.name} export: try --format {hint.name}." if hint else ""
        raise ImportRefused([f"This is not a {mapping.name} export: missing column(s) "
                             f"{', '.join(missing)}.{also}"])
    return mapping


def parse(text: str, mapping: Mapping) -> list[Row]:
    """Every row checked; any problem refuses the whole file with each row's reason."""
    reader = csv.reader(io.StringIO(text))
    headers = [h.strip().casefold() for h in next(reader, [])]
    index = {h: i for i, h in enumerate(headers)}
    column = {f: index[c.strip().casefold()] for f, c in mapping.columns.items()}
    consent_at = {k: index[c.strip().casefold()] for k, c in mapping.consents.items()}
    rows: list[Row] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(reader, start=2):  # row 1 is the header, as a spreadsheet shows
        if not any(c.strip() for c in cells):
            continue
        problems: list[str] = []

        def cell(i: int, cells: list[str] = cells) -> str:
            return cells[i].strip() if i < len(cells) else ""

        def get(name: str) -> str:
            return cell(column[name]) if name in column else ""

        mis_id = get("mis_id")
        if not mis_id:
            problems.append("no MIS id")
        elif mis_id in seen:
            problems.append(f"MIS id {mis_id} is also on row {seen[mis_id]}")
        else:
            seen[mis_id] = line
        if not get("legal_first") or not get("legal_last"):
            problems.append("no legal first or last name")
        dob, given_on = _date(get("date_of_birth"), "date of birth", problems), _date(
            get("given_on"), "consent date", problems)
        flag = FLAG_WORDS.get(get("no_photos").casefold())
        if flag is None:
            problems.append(f"no-photos flag “{get('no_photos')}” is not yes or no")
        consents: dict[str, Status] = {}
        for key, i in consent_at.items():
            status = mapping.statuses.get(cell(i).casefold())
            if status is None:
                problems.append(f"{mapping.consents[key]} “{cell(i)}” is not given, refused, "
                                "not asked or withdrawn")
            else:
                consents[key] = status
        if problems:
            errors.append(f"row {line}: {'; '.join(problems)}")
            continue
        rows.append(Row(
            line=line, mis_id=mis_id,
            pupil={"legal_first": get("legal_first"), "legal_last": get("legal_last"),
                   "preferred_name": get("preferred_name") or None,
                   "year_group": get("year_group"), "reg_class": get("reg_class"),
                   "date_of_birth": dob, "no_photos": bool(flag)},
            consents=consents, given_on=given_on, given_by=get("given_by") or None,
        ))
    if errors:
        shown = errors[:MAX_ERRORS]
        if len(errors) > MAX_ERRORS:
            shown.append(f"... and {len(errors) - MAX_ERRORS} more rows with problems.")
        raise ImportRefused(shown)
    if not rows:
        raise ImportRefused(["The file has a header but no pupils."])
    return rows


def _date(text: str, what: str, problems: list[str]) -> date | None:
    if not text:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    problems.append(f"{what} “{text}” is not a date (DD/MM/YYYY)")
    return None


def import_consents(
    session: Session,
    school: School,
    data: bytes,
    *,
    file_name: str,
    mapping: Mapping | None,
    by_name: str,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Check the whole file, then apply it in the caller's transaction (or only report)."""
    text = decode(data)
    mapping = choose_mapping(text, mapping)
    rows = parse(text, mapping)
    categories = service.categories(session, school)
    unknown = [k for k in mapping.consents if k not in categories]
    if unknown:
        raise ImportRefused([f"Unknown consent categor{'y' if len(unknown) == 1 else 'ies'} "
                             f"{', '.join(unknown)}; this school has "
                             f"{', '.join(categories)}."])
    report = Report(file_name=file_name, format=mapping.name, rows=len(rows), dry_run=dry_run,
                    imported_at=now)
    pupils = {p.mis_id: p for p in session.exec(select(Pupil).where(
        Pupil.school_id == school.id))}
    consents = {(c.pupil_id, c.category_id): c for c in session.exec(select(Consent).where(
        Consent.school_id == school.id))}
    record = None
    if not dry_run:
        record = ConsentImport(school_id=school.id, at=now, file_name=file_name[:255],
                               format=mapping.name, rows=len(rows), by_name=by_name)
        session.add(record)
        session.flush()
    batch = _Batch(school_id=school.id, now=now, by_name=by_name,
                   import_id=record.id if record else None, dry_run=dry_run)
    new_pupils: list[tuple[dict, Row]] = []
    for done, row in enumerate(rows, start=1):
        pupil = pupils.get(row.mis_id)
        if pupil is None:
            report.added += 1
            new_pupils.append(({"school_id": school.id, "mis_id": row.mis_id, "updated_at": now,
                                "left_at": None, **row.pupil}, row))
        else:
            changed = pupil.left_at is not None or any(
                getattr(pupil, a) != row.pupil[a] for a in PUPIL_ATTRS)
            for key, status in row.consents.items():
                category = categories[key]
                current = consents.get((pupil.id, category.id))
                changed |= batch.apply(report, pupil.id, pupil.display_name, pupil.mis_id,
                                       category, current, status, row)
            if changed:
                report.changed += 1
                if not dry_run:
                    for a in PUPIL_ATTRS:
                        setattr(pupil, a, row.pupil[a])
                    pupil.left_at, pupil.updated_at = None, now
            else:
                report.unchanged += 1
        if progress and (done % 200 == 0 or done == len(rows)):
            progress(done, len(rows))
    in_file = {r.mis_id for r in rows}
    for pupil in pupils.values():
        if pupil.mis_id not in in_file and pupil.left_at is None:
            report.left += 1
            if not dry_run:
                pupil.left_at = now
    if not dry_run and record is not None:
        if new_pupils:
            # Plain rows, not ORM objects: a first import of a large secondary is two thousand
            # pupils and tens of thousands of answers, and building models dominated its time.
            ids = dict(insert_rows(session, Pupil, [values for values, _ in new_pupils],
                                   Pupil.__table__.c.mis_id, Pupil.__table__.c.id))
            for _, row in new_pupils:
                for key, status in row.consents.items():
                    batch.apply(report, ids[row.mis_id], "", row.mis_id, categories[key],
                                None, status, row)
        insert_rows(session, Consent, batch.fresh)
        insert_rows(session, ConsentChange, batch.history)
        record.added, record.changed = report.added, report.changed
        record.unchanged, record.left = report.unchanged, report.left
        session.add(AuditEvent(school_id=school.id, at=now, actor_name=by_name, adapter="cli",
                               action="consent.imported", subject_type="consent_import",
                               subject_id=record.id, subject_ref=None,
                               detail={"file": file_name, "format": mapping.name,
                                       "rows": len(rows), "added": report.added,
                                       "changed": report.changed, "left": report.left}))
        session.flush()
    return report


@dataclass
class _Batch:
    """The new answers and history lines of one import, written in bulk at the end."""

    school_id: int
    now: datetime
    by_name: str
    import_id: int | None
    dry_run: bool
    fresh: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)

    def apply(self, report: Report, pupil_id: int, who: str, mis_id: str,
              category: ConsentCategory, current: Consent | None, status: Status,
              row: Row) -> bool:
        """One pupil's answer for one use from the file; True if it changes what we hold."""
        withdrawn_on = row.given_on if status == Status.WITHDRAWN else None
        given_on = None if status == Status.WITHDRAWN else row.given_on
        note = None
        if current is not None and current.pending_mis:
            if status not in (Status.REFUSED, Status.WITHDRAWN):
                # The MIS has not caught up with a withdrawal told to a teacher: the newer word
                # wins.
                report.still_pending.append(f"{who} ({mis_id}): {category.label}")
                return False
            report.confirmed += 1
            note = "the MIS now agrees with the withdrawal recorded in chat"
            withdrawn_on = withdrawn_on or current.withdrawn_on
        elif current is not None and (current.status, current.given_on, current.given_by,
                                      current.withdrawn_on) == (status, given_on, row.given_by,
                                                                withdrawn_on):
            return False
        if self.dry_run:
            return current is not None
        if current is None:
            old = None
            self.fresh.append({
                "school_id": self.school_id, "pupil_id": pupil_id, "category_id": category.id,
                "status": status, "given_on": given_on, "given_by": row.given_by,
                "withdrawn_on": withdrawn_on, "source": Source.IMPORT, "pending_mis": False,
                "updated_at": self.now})
        else:
            old = current.status
            current.status, current.given_on, current.given_by = status, given_on, row.given_by
            current.withdrawn_on, current.source = withdrawn_on, Source.IMPORT
            current.pending_mis, current.updated_at = False, self.now
        if (old != status and not (old is None and status == Status.NOT_ASKED)) or note:
            self.history.append({
                "school_id": self.school_id, "pupil_id": pupil_id, "category_id": category.id,
                "at": self.now, "old_status": old, "new_status": status,
                "source": Source.IMPORT, "by_id": None, "by_name": self.by_name,
                "import_id": self.import_id, "note": note})
        return True
