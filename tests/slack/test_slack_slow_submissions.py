"""A modal submitted while the database is slow is still acked within Slack's 3 s (issue 17).

The core's answer goes in the ack when it comes quickly (the rest of the Slack tests); here
the bot's database is held (tests/slack/slow_database.py) until the ack has come back, so the
ack cannot have waited for it: it is a light "Saving…" view, and the real answer (the
summary, the errors under their fields in the form as typed, the saved notice, a decision)
reaches the same modal by ``views.update`` once the database answers. A double submission
still makes one case. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import School_, make_school
from tests.test_faults import Cut

from .fake_slack import FakeSlack, dm_channel_id
from .reading import words
from .signing import datepicker, plain_text_input
from .slow_database import SlowDatabase
from .test_slack_app import (
    DPO,
    SAVING,
    STAFF,
    USERS,
    Workspace,
    ack_body,
    assert_decided,
    dpo_alert,
    london_day,
    london_today,
    sar_values,
    view_updates,
    workspace,
)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(users=USERS) as server:
        yield server


@pytest.fixture
def ws(school: School_, fake: FakeSlack) -> Iterator[Workspace]:
    yield from workspace(school, fake)


@pytest.fixture
def slow(ws: Workspace) -> SlowDatabase:
    return SlowDatabase(ws)


@pytest.fixture
def cws(cut: Cut, fake: FakeSlack) -> Iterator[Workspace]:
    for each in workspace(make_school(cut.engine), fake):
        yield each
        cut.restore()


def submitted_while_held(ws: Workspace, slow: SlowDatabase, view: dict[str, Any],
                         values: dict[str, Any], user: str = STAFF,
                         times: int = 1) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Submit ``view`` (``times`` at once) with the database held until every ack is back;
    returns the acks and the modal once the bot has updated it."""
    before = view_updates(ws.fake, view["id"])
    submissions = [ws.slack.view_submission(view=view, values=values, user_id=user)
                   for _ in range(times)]
    slow.hold()
    try:
        started = time.monotonic()
        responses = ws.live.send_all(*submissions)
        took = time.monotonic() - started
        acks = [ack_body(r.body) for r in responses]
        for ack in acks:  # Slack shows each ack's view, and gives the modal a new hash
            ws.fake.acked_update(view["id"], ack["view"], before)
    finally:
        slow.release()
    assert all(r.status == 200 for r in responses), responses
    assert took < 3, took  # Slack's limit: within it although the database never answered
    deadline = time.monotonic() + 30
    while view_updates(ws.fake, view["id"]) == before:
        assert time.monotonic() < deadline, "the modal was never updated with the answer"
        time.sleep(0.02)
    ws.live.settle()
    return acks, ws.fake.views[view["id"]]


def assert_saving(ack: dict[str, Any], title: str) -> None:
    assert ack["response_action"] == "update", ack
    assert ack["view"]["title"]["text"] == title
    assert words(ack["view"]["blocks"]) == SAVING and "submit" not in ack["view"]


def test_a_new_case_on_a_held_database_is_acked_saving_and_ends_saved_once(
    ws: Workspace, slow: SlowDatabase
) -> None:
    modal = ws.open_intake(STAFF)
    (ack,), summary = submitted_while_held(ws, slow, modal, sar_values())
    assert_saving(ack, modal["title"]["text"])
    assert ws.cases() == []  # checked, not saved
    assert summary["callback_id"] == "confirm" and summary["submit"]["text"] == "Save"
    assert "Jane Parent" in words(summary["blocks"])

    # Save pressed twice (a double click, or Slack's retry): both acked at once, one case.
    acks, saved = submitted_while_held(ws, slow, summary, {}, times=2)
    for each in acks:
        assert_saving(each, summary["title"]["text"])
    (case,) = ws.cases()
    assert saved["title"]["text"] == "Saved" and case.reference in words(saved["blocks"])
    receipts = [c for c in ws.fake.calls("chat.postMessage")
                if c.response["channel"] == dm_channel_id(STAFF)]
    assert receipts and all(case.reference in words(c.args["blocks"]) for c in receipts)


def test_errors_found_late_show_under_their_fields_in_the_form_as_typed(
    ws: Workspace, slow: SlowDatabase
) -> None:
    modal = ws.open_intake(STAFF)
    typed = sar_values(received_at=f"{london_day(1)} 09:00", requester_email="not an email",
                       requester_name="Jane <!channel> Parent")
    (ack,), form = submitted_while_held(ws, slow, modal, typed)
    assert_saving(ack, modal["title"]["text"])
    assert ws.cases() == []
    # Still the form, to correct and submit again: each error under its own field.
    assert form["callback_id"] == "intake:sar" and form["submit"]["text"] == "Next"
    assert form["private_metadata"] == modal["private_metadata"]
    ids = [b.get("block_id") for b in form["blocks"]]
    for field in ("received_at", "requester_email"):
        error = form["blocks"][ids.index(f"error:{field}")]
        assert ids.index(f"error:{field}") == ids.index(field) + 1
        assert error["type"] == "context" and words([error]).startswith(":warning: "), error
    assert sum(1 for i in ids if str(i).startswith("error:")) == 2
    # What was typed is there again, as typed, and nothing of it became formatting.
    block = {b["block_id"]: b for b in form["blocks"] if b["type"] == "input"}
    assert block["requester_name"]["element"]["initial_value"] == "Jane <!channel> Parent"
    assert block["relationship"]["element"]["initial_option"]["value"] == "parent"
    assert block["received_at"]["element"]["initial_date"] == london_day(1)
    assert block["received_at__time"]["element"]["initial_time"] == "09:00"
    assert "initial_value" not in block["requester_phone"]["element"]

    # Corrected and sent again: the errors go, and the summary follows.
    (again,), summary = submitted_while_held(ws, slow, form, sar_values())
    assert_saving(again, modal["title"]["text"])
    assert summary["callback_id"] == "confirm"


def test_a_decision_on_a_held_database_is_acked_then_said_in_the_modal_and_the_message(
    ws: Workspace, slow: SlowDatabase
) -> None:
    reference, alert = dpo_alert(ws)
    assert ws.live.send(ws.click(alert, "extend")).status == 200
    modal = ws.fake.filled(ws.fake.wait_for("views.open", 2)[-1])
    reason = {"reason": {"value": plain_text_input("Thousands of emails")}}

    (ack,), form = submitted_while_held(
        ws, slow, modal, reason | {"notice_on": {"value": datepicker("2020-01-06")}}, DPO)
    assert_saving(ack, modal["title"]["text"])
    assert "That is before the request arrived" in words(form["blocks"])
    assert ws.case(reference).extended is False and ws.fake.count("chat.update") == 0

    (ack,), done = submitted_while_held(
        ws, slow, form, reason | {"notice_on": {"value": datepicker(london_today())}}, DPO)
    assert_saving(ack, modal["title"]["text"])
    assert done["callback_id"] == "notice" and "submit" not in done
    assert words(done["blocks"]).startswith(":white_check_mark: ")
    assert ws.case(reference).extended is True
    (update,) = ws.fake.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (alert.response["channel"],
                                                           alert.response["ts"])
    assert_decided(ws.message(alert)["blocks"], "Extend by two months")


def test_a_quick_database_still_answers_in_the_ack(ws: Workspace) -> None:
    """Errors Slack shows under the fields itself, and no "Saving…" flash."""
    modal = ws.open_intake(STAFF)

    def ack(values: dict[str, Any]) -> dict[str, Any]:
        response = ws.live.send(ws.slack.view_submission(view=modal, values=values,
                                                         user_id=STAFF))
        return ack_body(response.body)

    errors = ack(sar_values(requester_email="not an email"))
    assert errors["response_action"] == "errors" and list(errors["errors"]) == [
        "requester_email"]
    summary = ack(sar_values())
    assert summary["response_action"] == "update" and summary["view"]["callback_id"] == "confirm"
    assert view_updates(ws.fake, modal["id"]) == 1  # its filling when it opened, no more


def test_a_database_lost_while_saving_is_said_above_the_form_as_typed(
    cws: Workspace, cut: Cut, caplog: pytest.LogCaptureFixture
) -> None:
    """The ack has gone ("Saving…"); the database is then cut before the bot could reach
    it: the modal says nothing was saved, above everything typed, ready to send again."""
    modal = cws.open_intake(STAFF)
    slow = SlowDatabase(cws)
    cws.engine.dispose()  # the next statement needs a new connection: held, then cut
    slow.hold()
    try:
        response = cws.live.send(cws.slack.view_submission(view=modal, values=sar_values(),
                                                           user_id=STAFF))
        ack = ack_body(response.body)
        cws.fake.acked_update(modal["id"], ack["view"], 1)
        cut.cut()
    finally:
        slow.release()
    assert_saving(ack, modal["title"]["text"])
    cws.fake.wait_for("views.update", 2)
    cws.live.settle()
    shown = cws.fake.views[modal["id"]]
    assert shown["callback_id"] == "intake:sar" and shown["submit"]["text"] == "Next"
    said = words(shown["blocks"])
    assert said.startswith(":no_entry: Sorry, I can't reach the database just now"), said
    typed = {b["block_id"]: b["element"] for b in shown["blocks"] if b["type"] == "input"}
    assert typed["requester_name"]["initial_value"] == "Jane Parent"
    assert "Jane Parent" not in caplog.text and "Traceback" not in caplog.text
    cut.restore()
    summary = cws.submit(shown, sar_values())
    assert summary["response_action"] == "update" and summary["view"]["callback_id"] == "confirm"
