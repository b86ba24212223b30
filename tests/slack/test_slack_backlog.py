"""Delivery under a backlog, through the real Bolt app and the fake Slack Web API: a breach
alert written behind a hundred routine nudges reaches the DPO first (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from bot import sending
from tests.conftest import School_
from tests.test_breach import report
from tests.test_reminders import add_cases, london
from workflows.notifications.models import Notification
from workflows.reminders.service import sweep

from .fake_slack import dm_channel_id
from .reading import words
from .test_slack_app import DPO, STAFF, Workspace, _no_slack_env, fake, ws  # noqa: F401


def waiting(school: School_) -> list[tuple[str, int]]:
    """(kind, person) of each undelivered message, in the order they were written."""
    with Session(school.engine) as session:
        return list(session.exec(select(Notification.kind, Notification.person_id).where(
            col(Notification.delivered_at).is_(None)).order_by(col(Notification.id))))


def test_a_breach_alert_behind_a_backlog_of_nudges_goes_first(ws: Workspace) -> None:  # noqa: F811
    school = ws.school
    school.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    add_cases(school, 60, received=london(2026, 11, 22, 10))
    sweep(school.engine, now=london(2026, 12, 8, 9))  # 14 days left on each: 120 nudges
    report(school)  # then a teacher reports a breach: its alert is the newest row of all
    kinds = [kind for kind, _ in waiting(school)]
    assert kinds.count("reminder.deadline") == 120 and kinds.count("sar.new") == 120
    first_breach = next(i for i, kind in enumerate(kinds) if kind.startswith("breach."))
    assert all(not kind.startswith("breach.") for kind in kinds[:first_breach])
    assert first_breach > kinds.index("reminder.deadline")  # written behind the backlog
    assert ws.live.deliver() == sending.PASS  # one pass: a batch of the most urgent
    to_dpo = [c for c in ws.fake.calls("chat.postMessage")
              if c.response.get("channel") == dm_channel_id(DPO)]
    about_breach = [i for i, c in enumerate(to_dpo) if "BRE-2026-0001" in json.dumps(c.args)]
    assert about_breach and about_breach == list(range(len(about_breach))), about_breach
    first = to_dpo[0].args["text"]
    assert first.startswith("New: BRE-2026-0001 breach: "), first
    # The routine ones still go, on later passes: Sam's sixty nudges reach him.
    while ws.live.deliver():
        pass
    to_sam = [c for c in ws.fake.calls("chat.postMessage")
              if c.response.get("channel") == dm_channel_id(STAFF)]
    assert len(to_sam) == 60, to_sam[0]
    assert all("14 days" in words(c.args["blocks"]) for c in to_sam), to_sam[0]
    # Only the deputy's copies are left: Vic is not in Slack.
    assert {person for _, person in waiting(school)} == {school.people["vic"]}
