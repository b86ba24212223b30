"""Slack refuses ``views.open`` 3 s after the click that gave its trigger_id, so every modal
is opened first, light, and filled with ``views.update`` after the database and Slack have
been asked: a slow database or a newcomer's slow ``users.info`` never loses it.

No timing is asserted: the ORDER of what happened is. Every SQL statement run while the
modal is made, and every ``users.info``, comes after ``views.open``; and the view it is
filled with is the whole form. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import School_

from .fake_slack import FakeSlack
from .reading import words
from .slow_database import SlowDatabase
from .test_slack_app import (
    DPO,
    NEWCOMER,
    USERS,
    Workspace,
    dpo_alert,
    intake_fields,
    workspace,
)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(users=USERS) as server:
        yield server


@pytest.fixture
def ws(school: School_, fake: FakeSlack) -> Iterator[Workspace]:
    yield from workspace(school, fake)


def test_a_newcomers_form_opens_before_slack_and_the_database_are_asked(
    ws: Workspace
) -> None:
    slow = SlowDatabase(ws)
    ws.fake.slow("users.info", 1.0)
    slow.on = True
    assert ws.live.send(ws.slack.shortcut("start:sar", user_id=NEWCOMER)).status == 200
    (opened,) = ws.fake.wait_for("views.open")
    modal = ws.fake.filled(opened)
    ws.live.settle()
    slow.on = False
    methods = [c.method for c in ws.fake.calls()]
    assert methods.index("views.open") < methods.index("users.info"), methods
    assert slow.opened_then and set(slow.opened_then) == {1}, slow.opened_then
    # Light at first, with nothing to submit; then the whole form, in the same modal.
    assert "submit" not in opened.args["view"]
    assert opened.args["view"]["title"]["text"] == modal["title"]["text"]
    assert modal["callback_id"] == "intake:sar" and modal["submit"]["text"] == "Next"
    assert [b["block_id"] for b in modal["blocks"]] == intake_fields()
    assert ws.fake.count("views.update") == 1


def test_a_decisions_form_and_the_consent_question_open_before_the_database_is_asked(
    ws: Workspace
) -> None:
    _, alert = dpo_alert(ws)
    ws.live.settle()
    before = ws.fake.count("views.open")  # the intake's
    slow = SlowDatabase(ws)
    slow.on = True
    assert ws.live.send(ws.click(alert, "extend")).status == 200
    decide = ws.fake.wait_for("views.open", before + 1)[-1]
    decision = ws.fake.filled(decide)
    asked = slow.opened_then[:]
    assert ws.live.send(ws.slack.shortcut("ask:consent", user_id=DPO)).status == 200
    consent = ws.fake.filled(ws.fake.wait_for("views.open", before + 2)[-1])
    ws.live.settle()
    slow.on = False
    # Each asked the database only once its modal was open.
    assert asked and set(asked) == {before + 1}, asked
    assert set(slow.opened_then[len(asked):]) == {before + 2}, slow.opened_then
    assert decision["callback_id"] == "decide" and decision["submit"]["text"] == "Save"
    assert decision["blocks"] and all(b["type"] in ("input", "context", "section")
                                      for b in decision["blocks"])
    assert consent["callback_id"] == "consent" and consent["submit"]["text"] == "Ask"
    assert {"who", "use"} <= {b.get("block_id") for b in consent["blocks"]}
    assert "Just a moment" in words(decide.args["view"]["blocks"])
