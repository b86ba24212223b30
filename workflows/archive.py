"""Everything a school holds in the bot, as one zip of CSV and JSON files.

For the governors, for an auditor, or for leaving the product: each register in both forms,
the people and their roles, the settings and the audit trail, with a list of contents. Every
register's own export audits its read; the archive adds one line saying it was made.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from workflows.audit.models import AuditEvent
from workflows.consent.service import export_rows as consent_rows
from workflows.core.export import plain, to_csv
from workflows.database import saved_id
from workflows.people.models import Person
from workflows.registry import WORKFLOWS
from workflows.retention.service import periods
from workflows.schools.models import School

Rows = Callable[[Session, School, str], list[dict[str, Any]]]


def _people(session: Session, school: School, actor: str) -> list[dict[str, Any]]:
    return [{"name": p.name, "role": p.role, "email": p.email, "slack_user_id": p.slack_user_id,
             "teams_user_id": p.teams_user_id,
             "google_chat_user_id": p.google_chat_user_id, "active": p.active,
             "consent_lookup": p.consent_lookup, "added": plain(p.created_at)}
            for p in session.exec(select(Person).where(Person.school_id == school.id)
                                  .order_by(col(Person.id)))]


def _audit(session: Session, school: School, actor: str) -> list[dict[str, Any]]:
    return [{"at": plain(e.at), "who": e.actor_name, "via": e.adapter, "action": e.action,
             "about": e.subject_type, "reference": e.subject_ref,
             "detail": json.dumps(e.detail, ensure_ascii=False, default=str)}
            for e in session.exec(select(AuditEvent).where(AuditEvent.school_id == school.id)
                                  .order_by(col(AuditEvent.at), col(AuditEvent.id)))]


def _settings(session: Session, school: School, actor: str) -> list[dict[str, Any]]:
    values = {"name": school.name, "slug": school.slug, "region": school.region,
              "timezone": school.timezone, "maintained": school.maintained,
              "working_days": school.working_days, "work_start": plain(school.work_start),
              "work_end": plain(school.work_end), "urgent_start": plain(school.urgent_start),
              "urgent_end": plain(school.urgent_end), "term_calendar_csv":
              school.term_calendar_csv or ""}
    values |= {f"retention.{k}": v for k, v in periods(school).items()}
    return [{"setting": k, "value": "" if v is None else str(v)} for k, v in values.items()]


# file name -> (what it holds, its rows): every workflow's declared log, then the registers
# that are no workflow's. The audit trail comes last, so it holds the reads the other
# exports made.
REGISTERS: dict[str, tuple[str, Rows]] = {
    **{w.export.file: (w.export.what, w.export.rows)
       for w in WORKFLOWS.values() if w.export is not None},
    "photo_consent": ("the photo consent register, with the bot's answer per use",
                      consent_rows),
    "people": ("people and their roles", _people),
    "settings": ("the school's settings and retention periods", _settings),
    "audit_trail": ("who did and saw what, when", _audit),
}


def write_archive(session: Session, school: School, out: Path, actor: str,
                  now: datetime) -> dict[str, int]:
    """Write the zip; returns the row count of each file. Nothing is left half-written."""
    session.add(AuditEvent(school_id=saved_id(school), at=now, actor_name=actor, adapter="cli",
                           action="archive.exported", subject_type="school",
                           subject_id=school.id, subject_ref=None,
                           detail={"file": out.name}))
    session.flush()
    counts: dict[str, int] = {}
    partial = out.with_name(out.name + ".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (_, rows_of) in REGISTERS.items():
            rows = rows_of(session, school, actor)
            counts[name] = len(rows)
            archive.writestr(f"{name}.csv", to_csv(rows))
            archive.writestr(f"{name}.json", json.dumps(rows, indent=2, ensure_ascii=False,
                                                        default=str))
        contents = [f"dpo-bot export for {school.name}, made {now.isoformat()} by {actor}.",
                    "Each register is here as CSV (opens in a spreadsheet) and JSON.", ""]
        contents += [f"{name}.csv / .json: {what} ({counts[name]} rows)"
                     for name, (what, _) in REGISTERS.items()]
        archive.writestr("CONTENTS.txt", "\n".join(contents) + "\n")
    partial.replace(out)
    return counts
