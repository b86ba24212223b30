"""“Add a note” is idempotent in Teams: the same invoke repeated (Teams' redelivery, or Save
pressed twice) adds the note once; and no bidirectional control reaches a card (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.teams import cards
from tests.conftest import School_
from workflows.database import session_scope
from workflows.sar.models import CaseNote

from .harness import actions, delivered_to, log_sar, make_teams, run, words


def test_a_repeated_note_invoke_adds_the_note_once(school: School_) -> None:
    teams = make_teams(school)
    typed = {cards.INPUT + "text": "Rang the parent: ID on its way."}

    async def go() -> list[str]:
        await teams.say("dee", "hello")
        await log_sar(teams)
        (alert,) = await delivered_to(teams, "dee")
        message_id = teams.adapter("dee").activity_queue[-1].id
        mine, _ = await teams.click("dee", alert["refresh"]["action"], on=message_id)
        form, _ = await teams.click("dee", actions(mine)["Add a note"], on=message_id)
        said = []
        for _ in range(3):
            done, _ = await teams.click("dee", actions(form)["Save"], typed, on=message_id)
            said.append(words(done))
        return said

    said = run(go())
    assert "Note added." in said[0]
    assert all("Already added" in answer for answer in said[1:]), said
    with session_scope(school.engine) as session:
        assert list(session.exec(select(CaseNote.text))) == ["Rang the parent: ID on its way."]


def test_teams_is_sent_no_bidirectional_controls(school: School_) -> None:
    from tests.test_bidi import NAME
    from tests.test_sar_workflow import intake
    from workflows.core.bidi import CONTROLS

    teams = make_teams(school)

    async def go() -> list[dict]:
        await teams.say("dee", "hello")
        await teams.says("sam", *intake(requester=NAME), "yes")
        return await delivered_to(teams, "dee")

    (alert,) = run(go())
    assert "Jane tnerap Parent" in words(alert)
    assert not CONTROLS.search(json.dumps(teams.cards, ensure_ascii=False))
