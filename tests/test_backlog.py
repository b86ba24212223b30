"""Backlogs (issue 14): missed nudges collapse into one, and messages no chat can deliver are
reported once to the DPO team and in `dpo-bot remind`'s output. The delivery order under a
backlog (a breach alert first) is tested through Slack in tests/slack/test_slack_backlog.py.

Dates as in tests/test_reminders.py: a parent's SAR received Sunday 22 November 2026 is due
Tuesday 22 December 2026; Wednesday 23 December is its first overdue working day.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from tests.conftest import School_, make_school, run_cli
from tests.test_reminders import assign_to_sam, log_sar, london, notes, who
from workflows.database import make_engine, session_scope, upgrade
from workflows.notifications.models import Notification
from workflows.notifications.service import priority
from workflows.people.models import Person
from workflows.reminders.models import Reminder
from workflows.reminders.service import sweep


def test_nudges_missed_before_the_deadline_collapse_into_one_each(school: School_) -> None:
    """The worker was down from before the 14-day nudge until the first overdue morning:
    each person gets one "overdue" message, not one per missed nudge key."""
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ref = log_sar(school)
    assign_to_sam(school, ref)
    with Session(school.engine) as session:
        missed = Counter(who(school, r.person_id) for r in session.exec(select(Reminder).where(
            Reminder.subject_type == "sar", col(Reminder.due_at) <= london(2026, 12, 23, 9))))
    assert missed == {"sam": 5, "dee": 5}  # 14, 7 and 2 days, on the day, first overdue day
    result = sweep(school.engine, now=london(2026, 12, 23, 9, 0))
    sent = notes(school.engine)
    assert sorted(who(school, n.person_id) for n in sent) == ["dee", "sam"]
    assert all("OVERDUE" in n.text.upper() for n in sent)
    assert result.cancelled == 8  # the eight stale nudges, each recorded as no longer needed
    assert sweep(school.engine, now=london(2026, 12, 23, 9, 5)).sent == 0


def test_the_declared_priorities() -> None:
    assert priority("breach.new") == priority("reminder.clock") == 0
    assert priority("sar.new") == priority("software.new") == 1
    assert priority("sar.decided") == 2
    assert priority("reminder.deadline") == priority("reminder.digest") == 3


def stranded_notices(school: School_) -> list[Notification]:
    with Session(school.engine) as session:
        return list(session.exec(select(Notification).where(
            Notification.kind == "person.undeliverable")))


def test_messages_no_chat_can_deliver_are_reported_to_the_team_once(school: School_) -> None:
    """Dee is reachable by email; Vic, a deputy added by name only, gets every new-case
    alert and can never receive one."""
    with session_scope(school.engine) as session:
        session.get(Person, school.people["dee"]).email = "dee@hillside.sch.uk"
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    log_sar(school)
    result = sweep(school.engine, now=london(2026, 11, 23, 11))
    assert [(p.name, p.waiting) for p in result.stranded] == [("Vic Deputy", 1)]
    (notice,) = stranded_notices(school)
    assert who(school, notice.person_id) == "dee" and notice.priority == 1
    assert "I can't reach Vic Deputy in any chat" in notice.text
    assert "1 message for them is waiting" in notice.text
    log_sar(school)  # more waiting for Vic: still reported, but the team is not told again
    again = sweep(school.engine, now=london(2026, 11, 23, 12))
    assert [(p.name, p.waiting) for p in again.stranded] == [("Vic Deputy", 2)]
    assert len(stranded_notices(school)) == 1
    with session_scope(school.engine) as session:  # Vic is linked: nothing stranded
        session.get(Person, school.people["vic"]).slack_user_id = "U0DEPUTY1"
    assert sweep(school.engine, now=london(2026, 11, 23, 13)).stranded == []


def test_a_school_using_only_the_terminal_has_nothing_stranded(school: School_) -> None:
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    log_sar(school)
    assert sweep(school.engine, now=london(2026, 11, 23, 11)).stranded == []
    assert stranded_notices(school) == []


def test_remind_lists_who_no_chat_can_reach(tmp_path: Path, cli_env: dict[str, str]) -> None:
    engine = make_engine(cli_env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    school = make_school(engine)
    with session_scope(engine) as session:
        session.get(Person, school.people["dee"]).email = "dee@hillside.sch.uk"
    log_sar(school)
    for _ in range(2):
        done = run_cli("remind", "--once", env=cli_env)
        assert done.returncode == 0, done.stderr
        assert ("Waiting for people no chat can reach (add their Slack or Teams account or "
                "email): Vic Deputy (1)") in done.stdout
    assert len(stranded_notices(school)) == 1
    engine.dispose()
