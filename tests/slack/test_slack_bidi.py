"""No bidirectional control (U+202E…) reaches Slack: a requester named with one is shown
without it in the modal's summary, the receipt and the DPO's alert (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import School_
from tests.test_bidi import NAME
from workflows.core.bidi import CONTROLS

from .fake_slack import FakeSlack
from .test_slack_app import USERS, Workspace, workspace


@pytest.fixture
def ws(school: School_) -> Iterator[Workspace]:
    with FakeSlack(users=USERS) as fake:
        yield from workspace(school, fake)


def test_slack_is_sent_no_bidirectional_controls(ws: Workspace) -> None:
    reference = ws.log_sar(requester_name=NAME)
    assert ws.live.deliver() == 1
    alert = ws.alert_for(reference)
    assert "Jane tnerap Parent" in json.dumps(alert.args["blocks"], ensure_ascii=False)
    sent = json.dumps([c.args for c in ws.fake.calls()], ensure_ascii=False)
    assert not CONTROLS.search(sent)
    assert ws.case(reference).requester_name == NAME  # stored as typed: nothing is lost
