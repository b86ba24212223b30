"""The Slack adapter with the core's work in worker processes, as `dpo-bot slack` runs it.

The same real Bolt app, signed requests and fake Slack as test_slack_app.py; here every call
into the core crosses to a spawned worker process (its own engine) and back by pickle, on
SQLite and PostgreSQL. A worker that dies is replaced and the click is still decided.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.conftest import School_
from workflows.sar.models import SarState

from .fake_slack import FakeSlack, dm_channel_id
from .reading import words
from .test_slack_app import (
    STAFF,
    USERS,
    Workspace,
    assert_decided,
    dpo_alert,
    london_day,
    sar_values,
    workspace,
)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(users=USERS) as server:
        yield server


@pytest.fixture
def ws(school: School_, fake: FakeSlack) -> Iterator[Workspace]:
    for each in workspace(school, fake, workers=2):
        warm_up(each)
        yield each


def worker_pid(ctx) -> int:
    """Which process ran the work (a module-level function, so a worker can unpickle it)."""
    return os.getpid()


def worker_pids(ws: Workspace) -> set[int]:
    bot = ws.live.bot

    async def both() -> set[int]:
        import asyncio

        return set(await asyncio.gather(*(bot.run(STAFF, worker_pid) for _ in range(8))))

    return ws.live.run(both(), timeout=60)


def warm_up(ws: Workspace) -> None:
    """Spawned workers import the project on their first call: wait for that, not a click."""
    deadline = time.monotonic() + 60
    while len(worker_pids(ws)) < 2:
        assert time.monotonic() < deadline, "the worker processes did not start"


def test_a_case_from_the_modal_to_the_dpos_decision_goes_through_the_workers(
    ws: Workspace,
) -> None:
    assert os.getpid() not in worker_pids(ws)
    reference, alert = dpo_alert(ws)
    assert ws.live.send(ws.click(alert, "take")).status == 200
    ws.fake.wait_for("chat.update", timeout=20)
    shown = ws.message(alert)
    assert_decided(shown["blocks"], "Take the case")
    assert f":white_check_mark: {reference} is yours now." in words(shown["blocks"])
    case = ws.case(reference)
    assert (case.owner_id, case.version, case.state) == (
        ws.school.people["dee"], 2, SarState.OPEN)


def test_form_errors_cross_back_from_a_worker_onto_the_right_block(ws: Workspace) -> None:
    modal = ws.open_intake(STAFF)
    ack = ws.submit(modal, sar_values(received_at=f"{london_day(1)} 09:00",
                                      requester_email="not an email"))
    assert ack["response_action"] == "errors"
    assert sorted(ack["errors"]) == ["received_at", "requester_email"]
    assert ws.cases() == []


def test_a_retried_dm_is_answered_once_from_a_worker(ws: Workspace) -> None:
    first = ws.slack.message_im("I need to log a SAR", user_id=STAFF)
    ws.live.send_all(first, ws.slack.retry(first, num=1))
    ws.live.settle()
    (answer,) = ws.fake.calls("chat.postMessage")
    assert answer.response["channel"] == dm_channel_id(STAFF)


def test_a_worker_that_dies_is_replaced_and_the_click_is_still_decided(
    ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    reference, alert = dpo_alert(ws)
    before = worker_pids(ws)
    for pid in before:
        os.kill(pid, signal.SIGKILL)

    assert ws.live.send(ws.click(alert, "take")).status == 200
    ws.fake.wait_for("chat.update", timeout=60)
    assert_decided(ws.message(alert)["blocks"], "Take the case")
    assert ws.case(reference).owner_id == ws.school.people["dee"]
    assert "a worker process died; starting new ones" in caplog.text
    assert worker_pids(ws).isdisjoint(before)  # new processes serve the next clicks


def test_closing_the_bot_ends_its_workers(school: School_, fake: FakeSlack) -> None:
    for each in workspace(school, fake, workers=2):
        warm_up(each)
        pids = worker_pids(each)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_worker_processes_start_only_where_they_pay(school: School_) -> None:
    """On SQLite one writer at a time: workers would cost memory and add nothing."""
    from bot.cli.slack import default_workers

    expected = 0 if school.engine.dialect.name == "sqlite" else 2
    assert default_workers(school.engine) == expected
