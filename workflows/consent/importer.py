"""Reading a consent export: streamed row by row, refused whole if any row is wrong.

A file with one bad row is refused whole, with every row's reason, so the register is never
half one export and half another: rows are written in batches as they are read, and the first
bad row stops the writing (the rest is still checked, for the reasons) and rolls the caller's
transaction back. Memory stays flat as the file grows: a batch of rows, and the MIS ids seen
(to refuse a pupil listed twice). A re-import updates pupils by MIS id and reports what it
changed; ``dry_run`` reports the same and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select, update

from workflows.audit.models import AuditEvent
from workflows.consent import service
from workflows.consent.formats import FLAG_WORDS, Mapping, closest, detect
from workflows.consent.models import (
    Consent,
    ConsentCategory,
    ConsentChange,
    ConsentImport,
    Pupil,
    Source,
    Status,
)
from workflows.core.imports import (
    CsvFile,
    ImportRefused,
    Problems,
    cell,
    check_length,
    read_date,
)
from workflows.core.text import fold
from workflows.core.wording import render
from workflows.database import insert_rows, saved_id, table_of
from workflows.schools.models import School

__all__ = ["ImportRefused", "Report", "import_consents"]

PUPIL_ATTRS = ("legal_first", "legal_last", "preferred_name", "year_group", "reg_class",
               "date_of_birth", "no_photos")
BATCH = 1000  # rows looked up and written together: few round trips, little memory
# Each text field and the table whose column of that name holds it.
LENGTHS = (("mis_id", Pupil), ("legal_first", Pupil), ("legal_last", Pupil),
           ("preferred_name", Pupil), ("year_group", Pupil), ("reg_class", Pupil),
           ("given_by", Consent))


def _said(reason: str, **facts: Any) -> str:
    return render("consent/import.txt.j2", reason=reason, **facts)


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


def choose_mapping(headers: list[str], mapping: Mapping | None) -> Mapping:
    """The mapping asked for, else the one built-in format whose headers the file has."""
    if mapping is None:
        mapping = detect(headers)
        if mapping is None:
            # Name the format it looks most like and what that lacks: a first try usually
            # has one column renamed or left out of the report.
            guess = closest(headers)
            raise ImportRefused([_said("unknown_format", guess=guess and guess.name,
                                       missing=guess.missing(headers) if guess else [])])
    missing = mapping.missing(headers)
    if missing:
        hint = detect(headers)
        raise ImportRefused([_said("not_this_format", format=mapping.name, missing=missing,
                                   guess=hint and hint.name)])
    return mapping


class _Reader:
    """Turns the file's records into checked rows, keeping each bad row's reasons."""

    def __init__(self, headers: list[str], mapping: Mapping) -> None:
        index = {fold(h): i for i, h in enumerate(headers)}
        self.mapping = mapping
        self.column = {f: index[fold(c)] for f, c in mapping.columns.items()}
        self.consent_at = {k: index[fold(c)] for k, c in mapping.consents.items()}
        self.problems = Problems(by_row=True)
        self.seen: dict[str, int] = {}  # MIS id -> row: a pupil twice is refused

    def check(self, line: int, cells: list[str]) -> Row | None:
        """The row if it can be imported; else None, with its reasons kept."""
        def get(name: str) -> str:
            return cell(cells, self.column.get(name))

        # Reasons name the row and column, not the value: names, ids and birthdays stay in the
        # file, out of terminals and pasted error reports.
        problems: list[str] = []
        mis_id = get("mis_id")
        if not mis_id:
            problems.append(_said("no_mis_id"))
        elif mis_id in self.seen:
            problems.append(_said("mis_id_twice", first=self.seen[mis_id]))
        else:
            self.seen[mis_id] = line
        if not get("legal_first") or not get("legal_last"):
            problems.append(_said("no_name"))
        for column, model in LENGTHS:
            check_length(get(column), model, column, problems)
        dob = read_date(get("date_of_birth"), "date_of_birth", problems, private=True)
        given_on = read_date(get("given_on"), "given_on", problems)
        flag = FLAG_WORDS.get(fold(get("no_photos")))
        if flag is None:
            problems.append(_said("no_photos_flag"))
        consents: dict[str, Status] = {}
        for key, i in self.consent_at.items():
            written = cell(cells, i)
            status = self.mapping.statuses.get(fold(written))
            if status is None:
                problems.append(_said("answer", column=self.mapping.consents[key],
                                      written=written))
            else:
                consents[key] = status
        if problems:
            self.problems.append(_said("row", row=line, problems=problems))
            return None
        return Row(
            line=line, mis_id=mis_id,
            pupil={"legal_first": get("legal_first"), "legal_last": get("legal_last"),
                   "preferred_name": get("preferred_name") or None,
                   "year_group": get("year_group"), "reg_class": get("reg_class"),
                   "date_of_birth": dob, "no_photos": bool(flag)},
            consents=consents, given_on=given_on, given_by=get("given_by") or None,
        )


def import_consents(
    session: Session,
    school: School,
    data: bytes | Path,
    *,
    file_name: str,
    mapping: Mapping | None,
    by_name: str,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Check and apply the file in the caller's transaction (or only report).

    ``data`` is a path (streamed) or bytes. On any bad row this raises ``ImportRefused`` after
    reading the whole file; what was written before it is undone with the caller's
    transaction. ``progress`` is called with (bytes read, file size).
    """
    source = CsvFile(data)
    headers, records = source.table()
    mapping = choose_mapping(headers, mapping)
    reader = _Reader(headers, mapping)
    categories = service.categories(session, school)
    unknown = [k for k in mapping.consents if k not in categories]
    if unknown:
        raise ImportRefused([_said("unknown_categories", unknown=unknown,
                                   categories=list(categories))])
    report = Report(file_name=file_name, format=mapping.name, dry_run=dry_run,
                    imported_at=now)
    school_id = saved_id(school)
    record = None
    if not dry_run:
        record = ConsentImport(school_id=school_id, at=now, file_name=file_name[:255],
                               format=mapping.name, rows=0, by_name=by_name)
        session.add(record)
        session.flush()
    batch = _Batch(school_id=school_id, now=now, by_name=by_name,
                   import_id=record.id if record else None, dry_run=dry_run)
    waiting: list[Row] = []
    for line, cells in records:
        row = reader.check(line, cells)
        if row is None:
            continue
        report.rows += 1
        if reader.problems:  # the file is refused: the rest is only checked
            continue
        waiting.append(row)
        if len(waiting) == BATCH:
            _apply(session, waiting, categories, batch, report)
            waiting.clear()
            if progress:
                progress(source.position, source.size)
    if reader.problems:
        raise reader.problems.refusal()
    if not report.rows:
        raise ImportRefused([_said("no_pupils")])
    _apply(session, waiting, categories, batch, report)
    if progress:
        progress(source.size, source.size)
    _mark_left(session, school, reader.seen, report, now, dry_run)
    if not dry_run and record is not None:
        record.rows, record.added, record.changed = report.rows, report.added, report.changed
        record.unchanged, record.left = report.unchanged, report.left
        session.add(AuditEvent(school_id=school_id, at=now, actor_name=by_name, adapter="cli",
                               action="consent.imported", subject_type="consent_import",
                               subject_id=record.id, subject_ref=None,
                               detail={"file": file_name, "format": mapping.name,
                                       "rows": report.rows, "added": report.added,
                                       "changed": report.changed, "left": report.left}))
        session.flush()
    return report


def _apply(session: Session, rows: list[Row],
           categories: dict[str, ConsentCategory], batch: _Batch, report: Report) -> None:
    """One batch of checked rows: compare with what is held, then write (unless a dry run)."""
    if not rows:
        return
    pupils = {p.mis_id: p for p in session.exec(select(Pupil).where(
        Pupil.school_id == batch.school_id, col(Pupil.mis_id).in_([r.mis_id for r in rows])))}
    # Plain rows, not ORM objects: a re-import compares every answer of every pupil, nine or
    # so each, and changes few; building an object for each was most of its time.
    # SQLAlchemy's select: SQLModel's is typed for at most four columns.
    consents = {(c.pupil_id, c.category_id): c for c in session.execute(sa_select(
        col(Consent.id), col(Consent.pupil_id), col(Consent.category_id), col(Consent.status),
        col(Consent.given_on), col(Consent.given_by), col(Consent.withdrawn_on),
        col(Consent.pending_mis)).where(
        col(Consent.pupil_id).in_([p.id for p in pupils.values()])))} if pupils else {}
    new_pupils: list[tuple[dict[str, Any], Row]] = []
    for row in rows:
        pupil = pupils.get(row.mis_id)
        if pupil is None:
            report.added += 1
            new_pupils.append(({"school_id": batch.school_id, "mis_id": row.mis_id,
                                "updated_at": batch.now, "left_at": None, **row.pupil}, row))
            continue
        pupil_id = saved_id(pupil)
        changed = pupil.left_at is not None or any(
            getattr(pupil, a) != row.pupil[a] for a in PUPIL_ATTRS)
        for key, status in row.consents.items():
            category = categories[key]
            current = consents.get((pupil_id, category.id))
            changed |= batch.apply(report, pupil_id, pupil.display_name, pupil.mis_id,
                                   category, current, status, row)
        if changed:
            report.changed += 1
            if not batch.dry_run:
                for a in PUPIL_ATTRS:
                    setattr(pupil, a, row.pupil[a])
                pupil.left_at, pupil.updated_at = None, batch.now
        else:
            report.unchanged += 1
    if batch.dry_run:
        return
    if new_pupils:
        # Plain rows, not ORM objects: a first import of a large secondary is two thousand
        # pupils and tens of thousands of answers, and building models dominated its time.
        roll = table_of(Pupil)
        ids: dict[str, int] = dict(insert_rows(
            session, Pupil, [values for values, _ in new_pupils], roll.c.mis_id, roll.c.id))
        for _, row in new_pupils:
            for key, status in row.consents.items():
                batch.apply(report, ids[row.mis_id], "", row.mis_id, categories[key],
                            None, status, row)
    insert_rows(session, Consent, batch.fresh)
    if batch.updated:
        session.execute(update(Consent), batch.updated)  # executemany by primary key
    insert_rows(session, ConsentChange, batch.history)
    batch.fresh.clear()
    batch.updated.clear()
    batch.history.clear()
    # Flushed, the batch's pupils and answers are clean: the session holds clean objects only
    # weakly, so they go when this returns and memory does not grow with the file.
    session.flush()


def _mark_left(session: Session, school: School, in_file: dict[str, int], report: Report,
               now: datetime, dry_run: bool) -> None:
    """Pupils on roll here but not in the file have left (their answers are kept)."""
    on_roll = select(Pupil.id, Pupil.mis_id).where(
        Pupil.school_id == saved_id(school), col(Pupil.left_at).is_(None))
    # Streamed from the cursor: the roll may be far larger than this file.
    gone = [pupil_id for pupil_id, mis_id in session.execute(
        on_roll.execution_options(yield_per=5000)) if mis_id not in in_file]
    report.left = len(gone)
    if dry_run:
        return
    for start in range(0, len(gone), BATCH):
        session.execute(update(Pupil).where(col(Pupil.id).in_(gone[start:start + BATCH]))
                        .values(left_at=now).execution_options(synchronize_session=False))


@dataclass
class _Batch:
    """The new answers and history lines of one import, written in bulk at the end."""

    school_id: int
    now: datetime
    by_name: str
    import_id: int | None
    dry_run: bool
    fresh: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)  # by primary key
    history: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, report: Report, pupil_id: int, who: str, mis_id: str,
              category: ConsentCategory, current: Any, status: Status,
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
            self.updated.append({
                "id": current.id, "status": status, "given_on": given_on,
                "given_by": row.given_by, "withdrawn_on": withdrawn_on, "source": Source.IMPORT,
                "pending_mis": False, "updated_at": self.now})
        if (old != status and not (old is None and status == Status.NOT_ASKED)) or note:
            self.history.append({
                "school_id": self.school_id, "pupil_id": pupil_id, "category_id": category.id,
                "at": self.now, "old_status": old, "new_status": status,
                "source": Source.IMPORT, "by_id": None, "by_name": self.by_name,
                "import_id": self.import_id, "note": note})
        return True
