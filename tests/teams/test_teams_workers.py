"""The Teams agent with the core's work in worker processes, as `dpo-bot teams` runs it on
PostgreSQL.

The same real agent and TestAdapter as test_teams_app.py; here every call into the core
crosses to a spawned worker process (its own engine) and back by pickle, on SQLite and
PostgreSQL: messages, card forms and decisions, and the core's refusals. A worker that dies
is replaced and the click is still decided.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import pytest
from sqlmodel import select

from tests.conftest import School_
from workflows.audit.models import AuditEvent
from workflows.core import faults
from workflows.core.context import Context
from workflows.database import session_scope
from workflows.sar.models import RightsRequest, SarState

from .harness import Teams, actions, delivered_to, log_sar, make_teams, run, words
from .test_teams_app import breach_inputs, cases


@pytest.fixture
def teams(school: School_) -> Iterator[Teams]:
    each = make_teams(school, workers=2)
    try:
        warm_up(each)
        yield each
    finally:
        each.bot.close()


def worker_pid(ctx: Context) -> int:
    """Which process ran the work (a module-level function, so a worker can unpickle it)."""
    return os.getpid()


def worker_pids(teams: Teams) -> set[int]:
    bot = teams.bot

    async def all_of_them() -> set[int]:
        return set(await asyncio.gather(*(
            bot.workers.run("29:sam", bot.served, None, worker_pid) for _ in range(8))))

    return run(all_of_them())


def warm_up(teams: Teams) -> None:
    """Spawned workers import the project on their first call: wait for that, not a click."""
    deadline = time.monotonic() + 60
    while len(worker_pids(teams)) < 2:
        assert time.monotonic() < deadline, "the worker processes did not start"


async def take(teams: Teams) -> tuple[str, dict, dict, str]:
    """A SAR logged in the chat and alerted to the DPO, whose card offers her “Take the case”:
    its reference, the alert, her card and the message's id."""
    await teams.say("dee", "hello")  # the DPO has talked to the bot: reachable
    reference = await log_sar(teams)
    (alert,) = await delivered_to(teams, "dee")
    message_id = teams.adapter("dee").activity_queue[-1].id
    mine, _ = await teams.click("dee", alert["refresh"]["action"], on=message_id)
    return reference, alert, mine, message_id


def test_a_case_from_the_chat_to_the_dpos_decision_goes_through_the_workers(
    teams: Teams,
) -> None:
    assert os.getpid() not in worker_pids(teams)

    async def go() -> None:
        reference, _, mine, message_id = await take(teams)
        decided, _ = await teams.click("dee", actions(mine)["Take the case"], on=message_id)
        again, _ = await teams.click("dee", actions(mine)["Take the case"], on=message_id)
        assert "Take the case: Dee Dpo" in words(decided)
        assert "Pause for clarification" in actions(decided)
        assert "You already did “take”" in words(again), words(again)

    run(go())
    (case,) = cases(teams, "sar")
    assert (case.owner_id, case.version, case.state) == (
        teams.school.people["dee"], 2, SarState.OPEN)
    with session_scope(teams.school.engine) as session:
        takes = session.exec(select(AuditEvent).where(AuditEvent.action == "sar.take")).all()
    assert len(takes) == 1


def test_a_card_form_crosses_back_from_a_worker_with_its_errors_then_saves(
    teams: Teams,
) -> None:
    async def go() -> None:
        listing = await teams.say("sam", "form")
        opened, _ = await teams.click("sam", actions(listing)["Breach report (form)"])
        bad, _ = await teams.click("sam", actions(opened)["Next"],
                                   breach_inputs(found_at="not a date"))
        assert "field.found_at" in {e.get("id") for e in bad["body"]}
        assert cases(teams, "breach") == []
        summary, _ = await teams.click("sam", actions(bad)["Next"], breach_inputs())
        saved, more = await teams.click("sam", actions(summary)["Save"])
        assert "Saved as BRE-" in words(saved), words(saved)
        assert len(more) == 1  # the follow-up questions, in the chat

    run(go())
    assert len(cases(teams, "breach")) == 1


def test_the_cores_refusal_in_a_worker_is_told_as_in_a_thread(teams: Teams) -> None:
    async def go() -> None:
        _, _, mine, _ = await take(teams)
        take_it = actions(mine)["Take the case"]
        gone = {**take_it, "data": {**take_it["data"], "value": "SAR-2020-9999|1"}}
        answer, _ = await teams.click("dee", gone)
        assert "SAR-2020-9999" in words(answer), words(answer)
        assert faults.failed()[0].text not in words(answer)

    run(go())


def test_a_worker_that_dies_is_replaced_and_the_click_is_still_decided(
    teams: Teams, caplog: pytest.LogCaptureFixture,
) -> None:
    async def go() -> None:
        reference, _, mine, message_id = await take(teams)
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        decided, _ = await teams.click("dee", actions(mine)["Take the case"], on=message_id)
        assert f"{reference}" in words(decided)
        assert "Take the case: Dee Dpo" in words(decided), words(decided)

    before = worker_pids(teams)
    run(go())
    with session_scope(teams.school.engine) as session:
        (case,) = session.exec(select(RightsRequest)).all()
    assert case.owner_id == teams.school.people["dee"]
    assert "a worker process died; starting new ones" in caplog.text
    assert worker_pids(teams).isdisjoint(before)  # new processes serve the next clicks
