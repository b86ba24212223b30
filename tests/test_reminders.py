"""Reminders (DESIGN.md "Reminders"): planned with the case, sent once, in working hours.

Real dates, checked by hand: a parent's SAR received Sunday 22 November 2026 is due Tuesday
22 December 2026. Sunday 20 December is a weekend; Friday 25 December (Christmas Day),
Monday 28 December (Boxing Day, substitute) and Friday 1 January 2027 are bank holidays in
England, so the overdue working days are 23, 24, 29, 30, 31 December and 4 January. Monday
25 May 2026 is the spring bank holiday, inside British Summer Time (08:00 there is 07:00 UTC).

Every test runs on SQLite and on PostgreSQL (the ``engine`` fixture) unless its name says
otherwise; workers that must be real processes are started with ``subprocess``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select, update

from tests.conftest import PARENT_SAR, School_, make_school
from tests.test_breach import REF as BREACH
from tests.test_breach import WRONG_PARENT
from workflows.breach.models import Breach
from workflows.core.declaration import Workflow
from workflows.core.engine import create
from workflows.core.fields import Invalid
from workflows.database import session_scope, utcnow
from workflows.notifications.models import Notification
from workflows.reminders import planner
from workflows.reminders import service as reminders
from workflows.reminders.models import Reminder
from workflows.reminders.service import LEASE, claim, ensure_digests, sweep
from workflows.sar.flows import SAR
from workflows.sar.models import RightsRequest

LONDON = ZoneInfo("Europe/London")
REPO = Path(__file__).resolve().parent.parent
# What a reminder must never carry: the requester's and the pupil's names and contact details.
PERSONAL = ("Jane", "Tom", "Parent", "jane@example.org", "behaviour")


def london(year: int, month: int, day: int, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


# --- helpers: the chat, the tables, the workers ----------------------------------------------


def log_sar(school: School_, received: str | None = None) -> str:
    """A teacher logs the parent's SAR through the chat; returns its reference."""
    answers = list(PARENT_SAR)
    if received is not None:
        answers[10] = received
    said = school.says("sam", *answers, "yes")
    found = re.search(r"Saved as (SAR-\d{4}-\d{4})\.", said)
    assert found, said
    return found.group(1)


def assign_to_sam(school: School_, reference: str) -> None:
    said = school.says("dee", f"assign {reference}", "Sam Teacher", "yes")
    assert f"{reference} is now Sam Teacher's" in said, said


def close(school: School_, reference: str) -> None:
    said = school.says("dee", f"close {reference}", "full", "today", "email", "yes")
    assert said.startswith("Closed"), said


def add_cases(school: School_, count: int, received: datetime) -> list[str]:
    """``count`` SARs owned by Sam, created the way the chat creates them (faster in bulk)."""
    with session_scope(school.engine) as session:
        ctx = school.context(session, "sam")
        references = []
        for i in range(count):
            case = create(ctx, SAR, {
                "request_type": "access", "requester_name": f"Jane Parent {i}",
                "relationship": "parent", "about_requester": False,
                "subject_name": f"Tom Parent {i}", "requester_email": "jane@example.org",
                "channel": "email", "received_at": received.isoformat(),
                "details": "All behaviour records", "id_needed": False,
            })
            case.owner_id = school.people["sam"]
            session.add(case)
            session.flush()
            planner.plan_for_case(session, ctx.school, SAR, case, ctx.now)
            references.append(case.reference)
        return references


def who(school: School_, person_id: int | None) -> str:
    return next(name for name, pid in school.people.items() if pid == person_id)


def pending(school: School_) -> list[tuple[str, str, datetime, str]]:
    """(kind, person, due at in London, deadline) of every reminder still to go."""
    with Session(school.engine) as session:
        rows = session.exec(
            select(Reminder).where(
                Reminder.subject_type == "sar",
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled_at).is_(None),
            )
        ).all()
        found = [(r.kind, who(school, r.person_id), r.due_at.astimezone(LONDON), r.target)
                 for r in rows]
    return sorted(found, key=lambda r: (r[2], r[0], r[1]))


def notes(engine: Engine, kind: str = "reminder.deadline") -> list[Notification]:
    with Session(engine) as session:
        return list(session.exec(
            select(Notification).where(Notification.kind == kind).order_by(col(Notification.id))
        ))


def sent_to(school: School_, since: int, kind: str = "reminder.deadline") -> dict[str, str]:
    """Person -> text of each reminder notification written after the first ``since``."""
    new = notes(school.engine, kind)[since:]
    texts = {who(school, n.person_id): n.text for n in new}
    assert len(texts) == len(new), "someone got two reminders in one sweep"
    return texts


def count(engine: Engine, model: type, *where) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def assert_private(text: str) -> None:
    for word in PERSONAL:
        assert word not in text, f"{word!r} leaked into a reminder: {text}"


def engine_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def python(script: str, *args: str) -> list[str]:
    return [sys.executable, "-c", script, *args]


def child_env(url: str | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if url:
        env["DPO_BOT_DATABASE_URL"] = url
    return env


# --- 1. planning -------------------------------------------------------------------------------


def test_logging_a_sar_plans_nudges_for_the_dpo_then_the_owner_too(school: School_) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    assert ref == "SAR-2026-0001"
    plan = [
        ("deadline.in_14_days", london(2026, 12, 8)),
        ("deadline.in_7_days", london(2026, 12, 15)),
        ("deadline.in_2_days", london(2026, 12, 18)),  # Sunday 20th -> Friday 18th
        ("deadline.today", london(2026, 12, 22)),
        ("deadline.overdue.2026-12-23", london(2026, 12, 23)),
    ]
    # A new case has no owner until the DPO gives it one: only the DPO is nudged.
    assert pending(school) == [(kind, "dee", at, "2026-12-22") for kind, at in plan]

    assign_to_sam(school, ref)
    assert pending(school) == [
        (kind, person, at, "2026-12-22") for kind, at in plan for person in ("dee", "sam")
    ]
    for _, _, at, _ in pending(school):
        assert at.utcoffset() == timedelta(0) and at.hour == 8  # GMT in December


def test_nudges_are_8am_london_time_and_skip_a_bank_holiday(school: School_) -> None:
    # Received Monday 27 April 2026 -> due Wednesday 27 May 2026; two days before is the
    # spring bank holiday, so that nudge goes on Friday 22 May. British Summer Time.
    school.now = datetime(2026, 4, 28, 9, 0, tzinfo=UTC)
    log_sar(school)
    assert pending(school) == [
        ("deadline.in_14_days", "dee", london(2026, 5, 13), "2026-05-27"),
        ("deadline.in_7_days", "dee", london(2026, 5, 20), "2026-05-27"),
        ("deadline.in_2_days", "dee", london(2026, 5, 22), "2026-05-27"),
        ("deadline.today", "dee", london(2026, 5, 27), "2026-05-27"),
        ("deadline.overdue.2026-05-28", "dee", london(2026, 5, 28), "2026-05-27"),
    ]
    with Session(school.engine) as session:
        first = session.exec(select(Reminder).where(Reminder.subject_type == "sar")
                             .order_by(col(Reminder.due_at))).first()
    assert first.due_at == datetime(2026, 5, 13, 7, 0, tzinfo=UTC)


def test_no_nudge_is_planned_in_the_past(school: School_) -> None:
    # Logged late, on Thursday 10 December: the 14-day nudge (8 December) has gone by.
    school.now = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    log_sar(school, received="22/11 14:00")
    assert [kind for kind, *_ in pending(school)] == [
        "deadline.in_7_days", "deadline.in_2_days", "deadline.today",
        "deadline.overdue.2026-12-23",
    ]
    assert all(at >= school.now for _, _, at, _ in pending(school))


def test_a_case_logged_after_its_deadline_gets_one_overdue_nudge_now(school: School_) -> None:
    # Received Tuesday 20 October, due Friday 20 November, logged Monday 23 November at 10:00:
    # one overdue nudge now (not an "on the day" one as well), then the daily chain.
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    school.says("sam", *PARENT_SAR[:10], "20/10 09:00")  # a month ago: read back
    assert "Saved as SAR-2026-0001." in school.says("sam", "yes", *PARENT_SAR[11:], "yes")
    assert all(at >= school.now for _, _, at, _ in pending(school))
    assert [kind for kind, *_ in pending(school) if kind != "deadline.overdue.2026-11-24"] == [
        "deadline.overdue.2026-11-23"
    ]
    assert sweep(school.engine, now=school.now).sent == 2  # and this Monday's weekly digest
    assert sent_to(school, 0) == {"dee": (
        "Subject access request SAR-2026-0001 is OVERDUE: it was due Friday 20 November 2026 "
        "(1 working day ago). Type “SAR-2026-0001” to open it."
    )}
    assert sweep(school.engine, now=school.now + timedelta(minutes=5)).sent == 0


def test_case_and_its_nudges_are_written_together_or_not_at_all(
    school: School_, monkeypatch: pytest.MonkeyPatch
) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    real_insert = planner.insert_all_once
    written: list[str] = []

    def insert_then_fail(session: Session, reminders: list[Reminder]) -> None:
        written.extend(r.kind for r in reminders)
        real_insert(session, reminders)
        raise failure  # the case's rows are in the session when planning fails

    monkeypatch.setattr(planner, "insert_all_once", insert_then_fail)
    # A crash while planning: the whole message's transaction rolls back.
    failure: Exception = RuntimeError("database went away")
    school.says("sam", *PARENT_SAR)
    with pytest.raises(RuntimeError):
        school.say("sam", "yes")
    assert len(written) == 5
    assert count(school.engine, RightsRequest) == 0
    assert count(school.engine, Reminder, col(Reminder.subject_type) == "sar") == 0
    assert count(school.engine, Notification) == 0
    # The domain refusing while planning: the savepoint drops the case and its rows, the
    # conversation survives and asks again.
    written.clear()
    failure = Invalid("refused", "details")
    school.say("sam", "yes")
    assert len(written) == 5
    assert count(school.engine, RightsRequest) == 0
    assert count(school.engine, Reminder, col(Reminder.subject_type) == "sar") == 0
    assert count(school.engine, Notification) == 0
    monkeypatch.setattr(planner, "insert_all_once", real_insert)
    assert "Saved as SAR-2026-" in school.says("sam", "Behaviour records", "yes")
    assert count(school.engine, RightsRequest) == 1
    assert count(school.engine, Reminder, col(Reminder.subject_type) == "sar") == 5


# --- 2. sweeping: in working hours, once ------------------------------------------------------


def test_sweeps_send_each_nudge_once_and_only_in_working_hours(school: School_) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    assign_to_sam(school, ref)
    engine = school.engine

    assert sweep(engine, now=london(2026, 12, 8, 7, 59)).sent == 0  # not yet 08:00
    result = sweep(engine, now=london(2026, 12, 8, 8, 0))
    assert (result.sent, result.deferred, result.failed) == (2, 0, 0)
    texts = sent_to(school, 0)
    assert texts == {person: (
        "Reminder: Subject access request SAR-2026-0001 is due Tuesday 22 December 2026, "
        "in 14 days. Type “SAR-2026-0001” to open it."
    ) for person in ("sam", "dee")}
    assert all(n.subject_ref == ref for n in notes(engine))
    assert sweep(engine, now=london(2026, 12, 8, 8, 1)).sent == 0  # sent once
    assert len(notes(engine)) == 2

    assert sweep(engine, now=london(2026, 12, 14, 8, 0)).sent == 1  # Monday's weekly digest
    # Tuesday 15th: the worker only runs at 19:00, after hours: deferred to Wednesday 08:00.
    result = sweep(engine, now=london(2026, 12, 15, 19, 0))
    assert (result.sent, result.deferred) == (0, 2)
    assert [at for kind, _, at, _ in pending(school) if kind == "deadline.in_7_days"] == [
        london(2026, 12, 16)] * 2
    assert sweep(engine, now=london(2026, 12, 16, 7, 59)).sent == 0
    assert sweep(engine, now=london(2026, 12, 16, 8, 0)).sent == 2
    assert sent_to(school, 2)["sam"] == (
        "Reminder: Subject access request SAR-2026-0001 is due Tuesday 22 December 2026, "
        "in 6 days. Type “SAR-2026-0001” to open it."
    )

    # Friday 18th's nudge met by a Saturday sweep: deferred to Monday 21st, sent then, once.
    result = sweep(engine, now=london(2026, 12, 19, 11, 0))
    assert (result.sent, result.deferred) == (0, 2)
    assert sweep(engine, now=london(2026, 12, 20, 11, 0)).sent == 0  # Sunday: nothing due
    assert sweep(engine, now=london(2026, 12, 21, 8, 0)).sent == 3  # with Monday's digest
    assert sweep(engine, now=london(2026, 12, 21, 9, 0)).sent == 0
    assert sent_to(school, 4)["dee"] == (
        "Reminder: Subject access request SAR-2026-0001 is due Tuesday 22 December 2026, "
        "in 1 day. Type “SAR-2026-0001” to open it."
    )

    assert sweep(engine, now=london(2026, 12, 22, 8, 30)).sent == 2
    assert sent_to(school, 6)["sam"] == (
        "Subject access request SAR-2026-0001 is due TODAY (Tuesday 22 December 2026). "
        "Type “SAR-2026-0001” to open it."
    )
    all_texts = [n.text for n in notes(engine)]
    assert len(all_texts) == 8
    for text in all_texts:
        assert ref in text
        assert_private(text)


def test_a_reminder_allowed_out_of_hours_goes_at_once(school: School_) -> None:
    # Breaches will nudge at any hour: a row with working_hours False is never deferred.
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    with session_scope(school.engine) as session:
        case = session.exec(select(RightsRequest)).one()
        planner.insert_once(session, Reminder(
            school_id=case.school_id, subject_type="sar", subject_id=case.id,
            person_id=school.people["hal"], kind="deadline.in_2_days", target="2026-12-22",
            due_at=london(2026, 12, 5, 23, 0), working_hours=False,
            dedupe_key="test:any-hour",
        ))
    result = sweep(school.engine, now=london(2026, 12, 5, 23, 30))  # Saturday night
    assert (result.sent, result.deferred) == (1, 0)
    assert sent_to(school, 0) == {"hal": (
        f"Reminder: Subject access request {ref} is due Tuesday 22 December 2026, in 17 days. "
        f"Type “{ref}” to open it."
    )}


# --- 3. overdue: daily, escalating, stopping ---------------------------------------------------


def test_overdue_nudges_daily_escalate_on_the_third_working_day_and_stop_when_closed(
    school: School_,
) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    assign_to_sam(school, ref)
    engine = school.engine

    by_day: dict[date, dict[str, str]] = {}
    day = date(2026, 12, 1)
    while day <= date(2027, 1, 5):
        before = len(notes(engine))
        sweep(engine, now=london(day.year, day.month, day.day, 8, 0))
        sweep(engine, now=london(day.year, day.month, day.day, 12, 0))  # a second worker pass
        got = sent_to(school, before)
        if got:
            by_day[day] = got
        if day == date(2026, 12, 30):
            school.now = london(2026, 12, 30, 10, 0)
            close(school, ref)
            assert pending(school) == []
        day += timedelta(days=1)

    assert {d: sorted(people) for d, people in by_day.items()} == {
        date(2026, 12, 8): ["dee", "sam"],
        date(2026, 12, 15): ["dee", "sam"],
        date(2026, 12, 18): ["dee", "sam"],
        date(2026, 12, 22): ["dee", "sam"],
        date(2026, 12, 23): ["dee", "sam"],
        date(2026, 12, 24): ["dee", "sam"],
        # 25 and 28 December are bank holidays, 26-27 a weekend: no nudges, and no count.
        date(2026, 12, 29): ["dee", "hal", "sam", "vic"],  # third overdue working day
        date(2026, 12, 30): ["dee", "hal", "sam", "vic"],
        # closed on the 30th: nothing after
    }
    overdue = "Subject access request SAR-2026-0001 is OVERDUE: it was due Tuesday 22 December 2026"
    assert by_day[date(2026, 12, 23)]["sam"] == (
        f"{overdue} (1 working day ago). Type “SAR-2026-0001” to open it.")
    assert by_day[date(2026, 12, 24)]["dee"] == (
        f"{overdue} (2 working days ago). Type “SAR-2026-0001” to open it.")
    assert by_day[date(2026, 12, 29)]["sam"] == (
        f"{overdue} (3 working days ago). Type “SAR-2026-0001” to open it.")
    for person in ("vic", "hal"):
        assert by_day[date(2026, 12, 29)][person] == (
            f"Escalation: {overdue} (3 working days ago). Type “SAR-2026-0001” to open it.")
    assert by_day[date(2026, 12, 30)]["hal"].startswith("Escalation: ")
    assert "(4 working days ago)" in by_day[date(2026, 12, 30)]["hal"]
    for texts in by_day.values():
        for text in texts.values():
            assert_private(text)


def test_a_new_owner_on_an_overdue_case_keeps_the_daily_chain(school: School_) -> None:
    # A change to the case re-plans it; re-planning must not cancel tomorrow's overdue nudge
    # (the chain wrote it) nor send the new owner a stale "due today" as well as "overdue".
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    # All five of Dee's nudges are due by now: only the overdue one goes.
    result = sweep(school.engine, now=london(2026, 12, 23, 8, 0))
    assert (result.sent, result.cancelled) == (1, 4)
    assert [kind for kind, *_ in pending(school)] == ["deadline.overdue.2026-12-24"]
    school.now = london(2026, 12, 23, 11, 0)
    assign_to_sam(school, ref)
    assert pending(school) == [
        ("deadline.overdue.2026-12-23", "sam", school.now, "2026-12-22"),
        ("deadline.overdue.2026-12-24", "dee", london(2026, 12, 24), "2026-12-22"),
        ("deadline.overdue.2026-12-24", "sam", london(2026, 12, 24), "2026-12-22"),
    ]
    before = len(notes(school.engine))
    assert sweep(school.engine, now=school.now).sent == 1
    assert "(1 working day ago)" in sent_to(school, before)["sam"]
    before = len(notes(school.engine))
    assert sweep(school.engine, now=london(2026, 12, 24, 8, 0)).sent == 2
    texts = sent_to(school, before)
    assert sorted(texts) == ["dee", "sam"]
    assert all("(2 working days ago)" in text for text in texts.values())


def test_after_a_worker_outage_each_person_gets_one_overdue_nudge_not_a_backlog(
    school: School_,
) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    assign_to_sam(school, ref)
    # First swept on the due day: of the four nudges each now due, only "due today" goes.
    result = sweep(school.engine, now=london(2026, 12, 22, 8, 0))
    assert (result.sent, result.cancelled) == (2, 6)
    # The worker was down from the 23rd to the morning of the 30th (4th overdue working day).
    before = len(notes(school.engine))
    first = sweep(school.engine, now=london(2026, 12, 30, 9, 0))
    second = sweep(school.engine, now=london(2026, 12, 30, 9, 1))
    texts = sent_to(school, before)
    assert sorted(texts) == ["dee", "hal", "sam", "vic"]
    assert (first.sent, second.sent) == (5, 0)  # and the week's digest, missed on the 29th
    assert all("(4 working days ago)" in text for text in texts.values())
    before = len(notes(school.engine))
    assert sweep(school.engine, now=london(2026, 12, 31, 8, 0)).sent == 4
    assert all("(5 working days ago)" in t for t in sent_to(school, before).values())


# --- 4. a deadline that moves -----------------------------------------------------------------


def test_pause_cancels_the_nudges_and_resume_plans_new_ones(school: School_) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    assign_to_sam(school, ref)
    said = school.says("dee", f"pause {ref}", "today", "skip", "yes")
    assert "Paused from" in said and "23 November 2026" in said, said
    assert pending(school) == []  # the clock has stopped: nothing to count down to
    assert count(school.engine, Reminder, col(Reminder.cancelled_at).is_not(None),
                 col(Reminder.subject_type) == "sar") == 10

    # The answer arrives Monday 30 November: 8 days did not count, due Wednesday 30 December.
    school.now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    said = school.says("dee", f"resume {ref}", "today", "yes")
    assert "Resumed. 8 days did not count" in said, said
    assert pending(school) == [
        (kind, person, at, "2026-12-30")
        for kind, at in (
            ("deadline.in_14_days", london(2026, 12, 16)),
            ("deadline.in_7_days", london(2026, 12, 23)),
            # Monday 28th is a bank holiday, as are Friday 25th and the weekend: Thursday 24th.
            ("deadline.in_2_days", london(2026, 12, 24)),
            ("deadline.today", london(2026, 12, 30)),
            ("deadline.overdue.2026-12-31", london(2026, 12, 31)),
        )
        for person in ("dee", "sam")
    ]
    # The old plan's moments pass in silence; the new one speaks.
    sweep(school.engine, now=london(2026, 12, 8, 8, 0))
    assert notes(school.engine) == []
    sweep(school.engine, now=london(2026, 12, 16, 8, 0))
    assert set(sent_to(school, 0).values()) == {
        "Reminder: Subject access request SAR-2026-0001 is due Wednesday 30 December 2026, "
        "in 14 days. Type “SAR-2026-0001” to open it."}


def test_extension_replaces_the_nudges_and_closing_cancels_all(school: School_) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    assign_to_sam(school, ref)
    said = school.says("dee", f"extend {ref}", "Thousands of emails to search", "today", "yes")
    assert said.startswith("Extended."), said
    assert pending(school) == [
        (kind, person, at, "2027-02-22")
        for kind, at in (
            ("deadline.in_14_days", london(2027, 2, 8)),
            ("deadline.in_7_days", london(2027, 2, 15)),
            ("deadline.in_2_days", london(2027, 2, 19)),  # Saturday 20th -> Friday 19th
            ("deadline.today", london(2027, 2, 22)),
            ("deadline.overdue.2027-02-23", london(2027, 2, 23)),
        )
        for person in ("dee", "sam")
    ]
    with Session(school.engine) as session:
        old = session.exec(select(Reminder).where(Reminder.target == "2026-12-22")).all()
    assert len(old) == 10 and all(r.cancelled_at is not None for r in old)
    assert sweep(school.engine, now=london(2026, 12, 22, 9, 0)).sent == 0

    school.now = london(2027, 1, 4, 10, 0)
    close(school, ref)
    assert pending(school) == []
    sweep(school.engine, now=london(2027, 3, 1, 9, 0))  # only weekly digests go out
    assert notes(school.engine) == []


def test_a_deadline_that_moves_while_its_nudges_are_claimed_sends_none(school: School_) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    assign_to_sam(school, ref)
    moment = london(2026, 12, 8, 8, 0)
    claimed: list[int] = []

    def extend_meanwhile(ids: list[int]) -> None:
        claimed.extend(ids)
        school.now = moment
        assert school.says("dee", f"extend {ref}", "Complex", "today", "yes").startswith(
            "Extended.")

    result = sweep(school.engine, now=moment, on_claimed=extend_meanwhile)
    assert len(claimed) == 2
    assert (result.sent, result.cancelled) == (0, 2)
    assert notes(school.engine) == []


# --- 5. exactly once with many workers --------------------------------------------------------

# Wednesday 23 December 2026, 09:00: every nudge of a case received 22 November is due.
CROWD_NOW = london(2026, 12, 23, 9, 0)


def crowd(school: School_, rows: int = 200) -> set[str]:
    """``rows`` due reminders, the first overdue nudge of ``rows / 2`` SARs to their owner and
    the DPO; returns their dedupe keys.

    The earlier nudges went out on their days (marked sent here): due together, the overdue
    one would supersede them, and these tests are about workers sending each row once.
    """
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    add_cases(school, rows // 2, datetime(2026, 11, 22, 14, 0, tzinfo=UTC))
    due = (Reminder.subject_type == "sar", col(Reminder.due_at) <= CROWD_NOW)
    overdue = col(Reminder.kind).startswith("deadline.overdue.")
    with session_scope(school.engine) as session:
        session.execute(update(Reminder).where(*due, ~overdue).values(
            sent_at=CROWD_NOW - timedelta(days=1)))
        keys = set(session.exec(select(Reminder.dedupe_key).where(*due, overdue)))
    assert len(keys) == rows
    return keys


def assert_each_sent_exactly_once(engine: Engine, keys: set[str]) -> None:
    with Session(engine) as session:
        rows = session.exec(select(Reminder).where(col(Reminder.dedupe_key).in_(keys))).all()
        sent = session.exec(select(Notification).where(
            Notification.kind == "reminder.deadline")).all()
    assert len(rows) == len(keys)
    assert all(r.sent_at == CROWD_NOW and r.cancelled_at is None for r in rows)
    by_key = Counter(n.dedupe_key for n in sent)
    assert by_key == Counter({f"reminder:{r.dedupe_key}:{r.person_id}": 1 for r in rows})
    assert len(sent) == len(keys)


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_workers_send_each_reminder_exactly_once(
    school: School_, workers: int
) -> None:
    keys = crowd(school)
    start = threading.Barrier(workers)
    results: list[reminders.SweepResult] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            results.append(sweep(school.engine, now=CROWD_NOW, batch=7))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(results) == workers
    assert sum(r.sent for r in results) == len(keys)
    assert sum(r.failed for r in results) == 0
    assert_each_sent_exactly_once(school.engine, keys)
    # The overdue chain was extended once per person, not once per worker.
    assert [k for k, *_ in pending(school)] == ["deadline.overdue.2026-12-24"] * len(keys)


WORKER = """
import json, os, sys, time
from datetime import datetime
from workflows.database import make_engine
from workflows.reminders.service import sweep  # the registry is never imported first
engine = make_engine(sys.argv[1])
engine.connect().close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.002)
result = sweep(engine, now=datetime.fromisoformat(sys.argv[2]), batch=int(sys.argv[4]))
print(json.dumps(vars(result)))
"""


def test_worker_processes_send_each_reminder_exactly_once(school: School_, tmp_path) -> None:
    keys = crowd(school)
    go = tmp_path / "go"
    url = engine_url(school.engine)
    procs = [
        subprocess.Popen(python(WORKER, url, CROWD_NOW.isoformat(), str(go), "5"),
                         cwd=REPO, env=child_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    time.sleep(1.0)  # let them import and connect, so they start together
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["sent"] for r in results) == len(keys)
    assert sum(r["failed"] for r in results) == 0
    assert_each_sent_exactly_once(school.engine, keys)


# --- 6. a worker killed mid-sweep, a lease that runs out ---------------------------------------

DOOMED = """
import json, sys, time
from datetime import datetime
from workflows.database import make_engine
from workflows.reminders.service import sweep  # the registry is never imported first

def hold(ids):
    print(json.dumps(ids), flush=True)
    time.sleep(3600)

sweep(make_engine(sys.argv[1]), now=datetime.fromisoformat(sys.argv[2]), token="doomed",
      batch=int(sys.argv[3]), on_claimed=hold)
"""


def test_a_killed_worker_delays_its_claims_until_the_lease_ends_then_each_goes_once(
    school: School_,
) -> None:
    keys = crowd(school, rows=30)
    proc = subprocess.Popen(
        python(DOOMED, engine_url(school.engine), CROWD_NOW.isoformat(), "8"),
        cwd=REPO, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        claimed = set(json.loads(line))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert len(claimed) == 8
    with Session(school.engine) as session:
        held = session.exec(select(Reminder).where(col(Reminder.id).in_(claimed))).all()
    assert all(r.claimed_by == "doomed" and r.sent_at is None for r in held)

    # Inside the lease another worker sends everything else, and none of the held rows.
    result = sweep(school.engine, now=CROWD_NOW + timedelta(minutes=1))
    assert result.sent == 22
    with Session(school.engine) as session:
        unsent = set(session.exec(select(Reminder.id).where(
            col(Reminder.dedupe_key).in_(keys), col(Reminder.sent_at).is_(None))))
    assert unsent == claimed

    # After the lease they go, once; the sweep's clock is what decides, as in production.
    after = CROWD_NOW + LEASE + timedelta(seconds=1)
    assert sweep(school.engine, now=after).sent == 8
    assert sweep(school.engine, now=after + timedelta(minutes=1)).sent == 0
    with Session(school.engine) as session:
        rows = session.exec(select(Reminder).where(col(Reminder.dedupe_key).in_(keys))).all()
        sent = session.exec(select(Notification.dedupe_key).where(
            Notification.kind == "reminder.deadline")).all()
    assert all(r.sent_at is not None for r in rows)
    assert sorted(sent) == sorted(f"reminder:{r.dedupe_key}:{r.person_id}" for r in rows)
    assert {r.attempts for r in rows if r.id in claimed} == {2}


def test_a_worker_whose_lease_ran_out_mid_row_does_not_send_it_again(
    school: School_, monkeypatch: pytest.MonkeyPatch
) -> None:
    crowd(school, rows=10)
    real = reminders._deadline_handler
    taken_over: list[reminders.SweepResult] = []
    started: list[bool] = []

    def slow_handler(session: Session, workflow: Workflow, reminder: Reminder, now: datetime):
        if not started:
            # Worker "slow" has read its row and is about to write; its lease runs out and
            # worker "fast" takes every row over and sends them.
            started.append(True)
            taken_over.append(sweep(school.engine, now=now + LEASE + timedelta(seconds=1),
                                    token="fast"))
        return real(session, workflow, reminder, now)

    monkeypatch.setattr(reminders, "_deadline_handler", slow_handler)
    slow = sweep(school.engine, now=CROWD_NOW, token="slow")
    assert taken_over[0].sent == 10
    assert slow.sent == 0
    assert count(school.engine, Notification, Notification.kind == "reminder.deadline") == 10
    with Session(school.engine) as session:
        rows = session.exec(select(Reminder).where(col(Reminder.sent_at) >= CROWD_NOW)).all()
    assert len(rows) == 10 and {r.claimed_by for r in rows} == {"fast"}


def test_claim_gives_each_row_to_one_token_and_only_new_claims(school: School_) -> None:
    crowd(school, rows=10)
    with Session(school.engine) as session:
        first = claim(session, "a", CROWD_NOW, limit=4)
        second = claim(session, "b", CROWD_NOW, limit=100)
        again = claim(session, "a", CROWD_NOW, limit=100)
    assert len(first) == 4 and len(second) == 6
    assert not set(first) & set(second)
    assert again == []  # nothing left to claim; "a" is not handed its own rows twice


def test_rows_a_sweep_gives_up_on_are_not_reprocessed_in_that_sweep(school: School_) -> None:
    # More rows than a batch, some of them no longer needed: each is looked at once.
    crowd(school, rows=30)
    with session_scope(school.engine) as session:
        for case in session.exec(select(RightsRequest).order_by(col(RightsRequest.id))
                                 .limit(5)):
            case.state = "closed"  # closed behind the planner's back: its 2 rows are stale
            session.add(case)
    result = sweep(school.engine, now=CROWD_NOW, batch=7)
    assert (result.sent, result.cancelled, result.failed) == (20, 10, 0)


def test_a_row_that_fails_fails_alone_and_the_rest_of_its_batch_goes(
    school: School_, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL a batch is one transaction; a failing row rolls it back, and its rows are
    # then sent one by one, so the failure stays with its own row.
    keys = crowd(school, rows=20)
    with Session(school.engine) as session:
        broken = session.exec(select(Reminder).where(col(Reminder.dedupe_key).in_(keys))
                              .order_by(col(Reminder.id)).offset(3)).first()
    real = reminders._deadline_handler

    def flaky(session: Session, workflow: Workflow, reminder: Reminder, now: datetime):
        if reminder.id == broken.id:
            raise RuntimeError("the template is broken")
        return real(session, workflow, reminder, now)

    monkeypatch.setattr(reminders, "_deadline_handler", flaky)
    result = sweep(school.engine, now=CROWD_NOW, batch=7)
    assert (result.sent, result.failed) == (19, 1)
    with Session(school.engine) as session:
        row = session.get(Reminder, broken.id)
        assert (row.sent_at, row.last_error) == (None, "the template is broken")
        assert session.exec(select(func.count()).select_from(Notification).where(
            Notification.kind == "reminder.deadline")).one() == 19
    # Mended, it goes once its lease has run out, and nothing else goes again.
    monkeypatch.setattr(reminders, "_deadline_handler", real)
    later = sweep(school.engine, now=CROWD_NOW + LEASE + timedelta(seconds=1))
    assert (later.sent, later.failed) == (1, 0)


# --- 7. the command line ----------------------------------------------------------------------


def dpo_bot() -> str:
    found = Path(sys.executable).with_name("dpo-bot")
    return str(found) if found.exists() else shutil.which("dpo-bot") or "dpo-bot"


def any_hour_reminder(school: School_) -> str:
    """A case due in a month and one reminder, due now at any hour, for the head."""
    now = utcnow()
    school.now = now
    ref = add_cases(school, 1, now - timedelta(days=1))[0]
    local = now.astimezone(LONDON).date()
    with session_scope(school.engine) as session:
        case = session.exec(select(RightsRequest)).one()
        planner.insert_once(session, Reminder(
            school_id=case.school_id, subject_type="sar", subject_id=case.id,
            person_id=school.people["hal"], kind="deadline.in_14_days",
            target=case.due_on.isoformat(), due_at=now - timedelta(hours=1),
            working_hours=False, dedupe_key="test:cli",
        ))
        # This week's digest has gone already, so the sweep's count does not hang on the day.
        for offset in (0, 1):
            day = local + timedelta(days=offset)
            monday = day + timedelta(days=(7 - day.weekday()) % 7)
            planner.insert_once(session, Reminder(
                school_id=case.school_id, subject_type="digest", subject_id=case.school_id,
                kind="digest.weekly", target=monday.isoformat(), due_at=now, sent_at=now,
                dedupe_key=f"digest:{case.school_id}:{monday.isoformat()}",
            ))
    return ref


def test_remind_once_sweeps_and_prints_a_summary_sqlite(sqlite_engine: Engine) -> None:
    school = make_school(sqlite_engine)
    ref = any_hour_reminder(school)
    done = subprocess.run(
        [dpo_bot(), "remind", "--once"], cwd=REPO, env=child_env(engine_url(sqlite_engine)),
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "Reminder sweep: 1 sent, 0 deferred to working hours, 0 no longer needed, 0 failed")
    sent = notes(sqlite_engine)
    assert [(who(school, n.person_id), n.subject_ref) for n in sent] == [("hal", ref)]


def test_remind_runs_until_stopped_sqlite(sqlite_engine: Engine) -> None:
    school = make_school(sqlite_engine)
    any_hour_reminder(school)
    proc = subprocess.Popen(
        [dpo_bot(), "remind", "--interval", "0.1"], cwd=REPO,
        env=child_env(engine_url(sqlite_engine)), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        assert proc.poll() is None  # still running after three sweeps
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert lines == [
        "Reminder sweep: 1 sent, 0 deferred to working hours, 0 no longer needed, 0 failed",
        "Reminder sweep: 0 sent, 0 deferred to working hours, 0 no longer needed, 0 failed",
        "Reminder sweep: 0 sent, 0 deferred to working hours, 0 no longer needed, 0 failed",
    ]
    assert len(notes(sqlite_engine)) == 1


# --- 8. the weekly digest ---------------------------------------------------------------------


def test_weekly_digest_is_queued_once_per_school_per_monday(school: School_) -> None:
    other = make_school(school.engine, "Brook Academy", "brook")
    wednesday = london(2026, 11, 25, 14, 0)
    for _ in range(2):
        with session_scope(school.engine) as session:
            ensure_digests(session, wednesday)
            ensure_digests(session, wednesday + timedelta(days=1))
    with Session(school.engine) as session:
        rows = session.exec(select(Reminder).where(Reminder.subject_type == "digest")).all()
    assert sorted((r.school_id, r.target, r.due_at.astimezone(LONDON)) for r in rows) == [
        (school.school_id, "2026-11-30", london(2026, 11, 30)),
        (other.school_id, "2026-11-30", london(2026, 11, 30)),
    ]
    # Monday 28 December is a bank holiday: that week's digest goes on Tuesday.
    with session_scope(school.engine) as session:
        ensure_digests(session, london(2026, 12, 23, 9, 0))
    with Session(school.engine) as session:
        christmas = session.exec(select(Reminder).where(
            Reminder.target == "2026-12-28", Reminder.school_id == school.school_id)).one()
    assert christmas.due_at == london(2026, 12, 29)


def test_weekly_digest_lists_open_cases_by_deadline_for_the_dpo(school: School_) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    late = log_sar(school)  # due 22 December
    assign_to_sam(school, late)
    early = log_sar(school, received="2/11 09:00")  # due Wednesday 2 December
    paused = log_sar(school, received="10/11 09:00")
    closed = log_sar(school, received="9/11 09:00")
    assert "Paused from" in school.says("dee", f"pause {paused}", "today", "skip", "yes")
    close(school, closed)

    monday = london(2026, 11, 30, 8, 0)
    assert sweep(school.engine, now=monday - timedelta(days=2)).sent == 0  # Saturday
    result = sweep(school.engine, now=monday)
    digests = notes(school.engine, "reminder.digest")
    assert [who(school, n.person_id) for n in digests] == ["dee"]
    assert digests[0].text == "\n".join([
        "Weekly digest for Hillside Primary, Monday 30 November 2026.",
        "3 open cases, by deadline:",
        f"  • {early}  Subject access request  Open  Wednesday 2 December 2026 (2 days left)"
        "  owner: nobody",
        f"  • {late}  Subject access request  Open  Tuesday 22 December 2026 (22 days left)"
        "  owner: Sam Teacher",
        f"  • {paused}  Subject access request  Paused for clarification  clock stopped"
        "  owner: nobody",
    ])
    assert closed not in digests[0].text
    assert_private(digests[0].text)
    assert result.sent == 1 + len(notes(school.engine))
    assert sweep(school.engine, now=monday + timedelta(hours=1)).sent == 0
    with session_scope(school.engine) as session:
        ensure_digests(session, monday + timedelta(hours=2))
    assert sweep(school.engine, now=monday + timedelta(hours=3)).sent == 0
    assert len(notes(school.engine, "reminder.digest")) == 1
    # From Tuesday the next one is queued, for the Monday after.
    with session_scope(school.engine) as session:
        ensure_digests(session, monday + timedelta(days=1))
    with Session(school.engine) as session:
        targets = sorted(session.exec(select(Reminder.target).where(
            Reminder.subject_type == "digest")))
    assert targets == ["2026-11-30", "2026-12-07"]


def test_digests_written_together_read_as_each_school_alone(engine: Engine) -> None:
    """The sweep writes a batch's digests together (on PostgreSQL): one read per workflow for
    the batch's schools and one for the owners. Each still lists only its own school's open
    cases of every workflow, each with its owner, as the DPO's own ``digest`` reads it."""
    hillside, oak = make_school(engine), make_school(engine, "Oak Academy", "oak")
    sar = log_sar(hillside)
    assign_to_sam(hillside, sar)
    hillside.says("sam", "report a breach", *WRONG_PARENT)
    with session_scope(engine) as session:  # the breach's owner, another person
        session.execute(update(Breach).where(col(Breach.reference) == BREACH)
                        .values(owner_id=hillside.people["vic"]))
    oak_sar = log_sar(oak)
    monday = london(2026, 11, 30, 8, 0)
    alone = {}
    for school in (hillside, oak):
        school.now = monday
        alone[school.school_id] = school.says("dee", "digest")
    sweep(engine, now=monday)  # the breach's overdue nudges too
    written = {n.school_id: n.text for n in notes(engine, "reminder.digest")}
    assert written == alone
    lines = written[hillside.school_id].splitlines()
    assert lines[1] == "2 open cases, by deadline:"
    assert BREACH in lines[2] and "owner: Vic Deputy" in lines[2]  # overdue, so first
    assert sar in lines[3] and "owner: Sam Teacher" in lines[3]
    assert len(lines) == 4  # nothing of Oak's (whose references are numbered on their own)
    oak_lines = written[oak.school_id].splitlines()
    assert oak_lines[1] == "1 open case, by deadline:"
    assert oak_sar in oak_lines[2] and "owner: nobody" in oak_lines[2] and len(oak_lines) == 3
