"""“Add a note” is idempotent in Slack: the same modal submitted again (Slack's re-delivery,
X-Slack-Retry-Num, or a double click on Save) adds the note once (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from tests.conftest import School_
from workflows.audit.models import AuditEvent
from workflows.database import session_scope
from workflows.sar.models import CaseNote

from .fake_slack import FakeSlack
from .signing import plain_text_input
from .test_slack_app import DPO, USERS, Workspace, dpo_alert, workspace


@pytest.fixture
def ws(school: School_) -> Iterator[Workspace]:
    with FakeSlack(users=USERS) as fake:
        yield from workspace(school, fake)


def notes(ws: Workspace) -> list[str]:
    with session_scope(ws.engine) as session:
        return list(session.exec(select(CaseNote.text)))


def test_a_note_modal_sent_again_adds_the_note_once(ws: Workspace) -> None:
    reference, alert = dpo_alert(ws)
    assert ws.live.send(ws.click(alert, "note")).status == 200
    opened = ws.fake.wait_for("views.open", 2)[-1]
    modal = ws.fake.filled(opened)
    typed = {"text": {"value": plain_text_input("Rang the parent: ID on its way.")}}

    first = ws.slack.view_submission(view=modal, values=typed, user_id=DPO)
    retried = ws.slack.view_submission(view=modal, values=typed, user_id=DPO, retry_num=1)
    assert ws.live.send(first).status == 200
    assert ws.live.send(retried).status == 200
    ws.live.send_all(*(ws.slack.view_submission(view=modal, values=typed, user_id=DPO)
                       for _ in range(2)))  # a double click on Save, both at once
    ws.live.settle()
    assert notes(ws) == ["Rang the parent: ID on its way."]
    with session_scope(ws.engine) as session:
        added = session.exec(select(AuditEvent).where(AuditEvent.action == "sar.note")).all()
    assert len(added) == 1 and added[0].subject_ref == reference

    # Other words are another note.
    other = {"text": {"value": plain_text_input("ID received.")}}
    ws.live.send(ws.slack.view_submission(view=modal, values=other, user_id=DPO))
    ws.live.settle()
    assert notes(ws) == ["Rang the parent: ID on its way.", "ID received."]
