"""The retention purge (DOMAIN.md 6), with real cases made through the chat, on both DBs."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import col, func, select

from tests.conftest import PARENT_SAR, School_, make_school, run_cli
from tests.test_consent import export, run_import
from workflows.archive import REGISTERS, write_archive
from workflows.audit.models import AuditEvent
from workflows.breach.models import Breach
from workflows.consent.models import Consent, ConsentChange, Pupil
from workflows.core.models import Conversation
from workflows.database import make_engine, session_scope, upgrade
from workflows.notifications.models import Notification
from workflows.reminders.models import Reminder
from workflows.retention.service import academic_year_end, purge
from workflows.sar.models import CaseNote, RightsRequest
from workflows.schools.models import School

NEWCOMER = ("2001", "Nia", "Okafor", "", "4", "4B", "2017-06-01", False, "2026-11-20", "Mother",
            "given", "given")


def test_academic_year_end() -> None:
    assert academic_year_end(date(2026, 11, 23)) == date(2027, 8, 31)
    assert academic_year_end(date(2027, 8, 31)) == date(2027, 8, 31)
    assert academic_year_end(date(2027, 9, 1)) == date(2028, 8, 31)


def _count(school: School_, model, *where) -> int:
    with session_scope(school.engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _purge(school: School_, at: datetime, dry_run: bool = False):
    with session_scope(school.engine) as session:
        return {r.what: r for r in purge(session, session.get(School, school.school_id), at,
                                         dry_run=dry_run)}


def test_purge_keeps_each_record_its_period_then_removes_it(school: School_) -> None:
    # Two SARs: one closed on 23 Nov 2026, one left open. A breach closed the same day.
    school.says("sam", *PARENT_SAR, "yes")
    school.says("sam", *PARENT_SAR, "yes")
    school.says("dee", "note SAR-2026-0001", "Sent the behaviour log", "yes")
    school.says("dee", "close SAR-2026-0001", "yes", "full", "today", "email", "yes")
    school.says("sam", "report a breach", "Lost a USB stick with the class list", "now", "no",
                "yes")
    with session_scope(school.engine) as session:
        breach = session.exec(select(Breach)).one()
        breach.state, breach.closed_at = "closed", school.now
    run_import(school, export("sims"))
    # A new roll with one newcomer: the other six left on 23 Nov 2026.
    run_import(school, export("sims", pupils=[NEWCOMER]))
    assert _count(school, CaseNote) == 1 and _count(school, Pupil) == 7

    # The academic year of closing (to 31 Aug 2027) plus one year: kept until 31 Aug 2028.
    kept = _purge(school, datetime(2028, 8, 31, 12, tzinfo=UTC))
    assert kept["closed subject access request records"].count == 0
    assert kept["chats (finished or left unfinished)"].count > 0  # 30 days: long gone

    # A dry run lists and removes nothing.
    due = _purge(school, datetime(2028, 9, 1, 12, tzinfo=UTC), dry_run=True)
    assert due["closed subject access request records"].references == ["SAR-2026-0001"]
    assert due["leavers' consent records"].count == 6
    assert _count(school, RightsRequest) == 2 and _count(school, Pupil) == 7

    removed = _purge(school, datetime(2028, 9, 1, 12, tzinfo=UTC))
    assert removed["closed subject access request records"].references == ["SAR-2026-0001"]
    assert removed["closed breach report records"].count == 0  # the breach log is kept 6 years
    with session_scope(school.engine) as session:
        left = session.exec(select(RightsRequest.reference)).all()
        assert left == ["SAR-2026-0002"]  # the open one is never purged
        assert session.exec(select(func.count()).select_from(CaseNote)).one() == 0
        assert session.exec(select(func.count()).select_from(Reminder).where(
            Reminder.subject_type == "sar", Reminder.subject_id == 1)).one() == 0
        assert session.exec(select(func.count()).select_from(Notification).where(
            Notification.subject_ref == "SAR-2026-0001")).one() == 0
        assert session.exec(select(Pupil.mis_id)).all() == ["2001"]
        for model in (Consent, ConsentChange):
            assert set(session.exec(select(model.pupil_id)).all()) <= set(
                session.exec(select(Pupil.id)).all())
        # Who did what to the purged case stays provable; what was typed is gone.
        lines = session.exec(select(AuditEvent).where(AuditEvent.subject_type == "sar",
                                                      AuditEvent.subject_id == 1)).all()
        assert lines and all(line.detail == {"purged": "2028-09-01"} for line in lines)
        record = session.exec(select(AuditEvent).where(
            AuditEvent.action == "retention.purged").order_by(col(AuditEvent.id).desc())).first()
        assert record.detail["closed subject access request records"]["references"] == [
            "SAR-2026-0001"]
        assert "Jane Parent" not in str(record.detail)

    # Six years after closing, the breach goes too; the open SAR still stays.
    later = _purge(school, datetime(2032, 11, 24, 12, tzinfo=UTC))
    assert later["closed breach report records"].references == ["BRE-2026-0001"]
    assert _count(school, Breach) == 0 and _count(school, RightsRequest) == 1


def test_purge_touches_only_its_own_school(school: School_) -> None:
    other = make_school(school.engine, slug="other", name="Other School")
    for each in (school, other):  # each school's first SAR: SAR-2026-0001 at both
        each.says("sam", *PARENT_SAR, "yes")
        each.says("dee", "close SAR-2026-0001", "yes", "full", "today", "email", "yes")
    theirs = _count(other, Notification, Notification.school_id == other.school_id,
                    Notification.subject_ref == "SAR-2026-0001")
    assert theirs > 0
    removed = _purge(school, datetime(2028, 9, 1, 12, tzinfo=UTC))
    assert removed["closed subject access request records"].references == ["SAR-2026-0001"]
    with session_scope(school.engine) as session:
        assert session.exec(select(RightsRequest.school_id)).all() == [other.school_id]
        assert session.exec(select(func.count()).select_from(Conversation).where(
            Conversation.school_id == other.school_id)).one() > 0
    # The other school's messages about its own SAR-2026-0001 are not taken with Hillside's.
    assert _count(other, Notification, Notification.subject_ref == "SAR-2026-0001") == theirs


def test_shorter_settings_are_obeyed(school: School_) -> None:
    with session_scope(school.engine) as session:
        found = session.get(School, school.school_id)
        found.retention = {**found.retention, "conversation_days": 1}
    school.says("sam", "I need to log a subject access request", "1")  # left half-way
    assert _count(school, Conversation) == 1
    assert _purge(school, school.now + timedelta(hours=12))[
        "chats (finished or left unfinished)"].count == 0
    _purge(school, school.now + timedelta(days=2))
    assert _count(school, Conversation) == 0


def test_cli_purge_dry_run(cli_env: dict[str, str]) -> None:
    env = cli_env
    engine = make_engine(env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    make_school(engine)
    make_school(engine, slug="oakwood", name="Oakwood Academy")
    engine.dispose()
    done = run_cli("purge", "--dry-run", env=env)
    assert done.returncode == 0, done.stderr
    assert "Would remove" in done.stdout and "closed subject access request records" in done.stdout
    # Every school, each by its own periods.
    assert "at Hillside Primary" in done.stdout and "at Oakwood Academy" in done.stdout
    assert "sar_closed_years=1" in done.stdout and "Dry run: nothing was removed." in done.stdout
    with session_scope(make_engine(env["DPO_BOT_DATABASE_URL"])) as session:
        assert session.exec(select(AuditEvent).where(
            col(AuditEvent.action) == "retention.purged")).first() is None


# --- export all (for the governors, or for leaving the product) -----------------------------

def test_export_all_writes_every_register_as_csv_and_json(school: School_,
                                                          tmp_path: Path) -> None:
    school.says("sam", *PARENT_SAR, "yes")
    run_import(school, export("sims"))
    out = tmp_path / "hillside.zip"
    with session_scope(school.engine) as session:
        counts = write_archive(session, session.get(School, school.school_id), out,
                               actor="Dee Dpo", now=school.now)
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {f"{n}.{ext}" for n in REGISTERS for ext in ("csv", "json")} | {
            "CONTENTS.txt"} == names
        sars = list(csv.DictReader(io.StringIO(archive.read(
            "subject_access_requests.csv").decode())))
        assert [r["reference"] for r in sars] == ["SAR-2026-0001"]
        assert len(json.loads(archive.read("photo_consent.json"))) == 6 * 9
        people = json.loads(archive.read("people.json"))
        assert {p["name"] for p in people} >= {"Dee Dpo", "Sam Teacher"}
        trail = list(csv.DictReader(io.StringIO(archive.read("audit_trail.csv").decode())))
        assert {r["action"] for r in trail if r["reference"] == "SAR-2026-0001"}
        assert "archive.exported" in {r["action"] for r in trail}  # the export is on record
        assert "(1 rows)" in archive.read("CONTENTS.txt").decode()
    assert counts["photo_consent"] == 54 and not (tmp_path / "hillside.zip.part").exists()
