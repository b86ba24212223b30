"""Teams card forms round-trip: each workflow's intake filled in its controls (a date-time as
Input.Date and Input.Time, in winter and in summer), "Change answers" brings the card back
with every value in its control's format, and sending it untouched holds the same answers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import col, select

from bot.teams import cards
from tests.conftest import School_
from tests.slack.test_slack_forms import SUMMER, WINTER, typed
from workflows.core.fields import Kind
from workflows.core.models import Conversation
from workflows.database import session_scope
from workflows.registry import WORKFLOWS

from .harness import actions, make_teams, run, words


def inputs(name: str, when: date) -> dict[str, str]:
    """What Teams sends for a filled form: each input's id and value."""
    sent: dict[str, str] = {}
    for field in WORKFLOWS[name].intake.fields:
        text = typed(field, when)
        if field.kind is Kind.DATETIME:
            sent[cards.INPUT + field.name + cards.TIME] = text[11:]
            text = text[:10]
        sent[cards.INPUT + field.name] = text
    return sent


def untouched(card: dict[str, Any]) -> dict[str, Any]:
    """What Teams sends for a card submitted as shown: every input's value."""
    return {e["id"]: e["value"] for e in card["body"]
            if e.get("type", "").startswith("Input.") and "value" in e}


@pytest.mark.parametrize("when", [WINTER, SUMMER], ids=["winter", "summer"])
def test_every_card_form_round_trips_through_change_answers(school: School_, when: date
                                                           ) -> None:
    teams = make_teams(school)

    async def go() -> None:
        for name in WORKFLOWS:
            opened = await teams.say("sam", f"{name} form")
            kinds = {e["id"]: e["type"] for e in opened["body"] if "id" in e}
            for field in WORKFLOWS[name].intake.fields:
                if field.kind is Kind.DATETIME:
                    assert kinds[cards.INPUT + field.name] == "Input.Date"
                    assert kinds[cards.INPUT + field.name + cards.TIME] == "Input.Time"
                if field.kind is Kind.MULTI_CHOICE:
                    multi = next(e for e in opened["body"]
                                 if e.get("id") == cards.INPUT + field.name)
                    assert multi["isMultiSelect"] is True
            summary, _ = await teams.click("sam", actions(opened)["Next"], inputs(name, when))
            assert "Save" in actions(summary), words(summary)
            again, _ = await teams.click("sam", actions(summary)["Change answers"])
            shown = untouched(again)
            for field in WORKFLOWS[name].intake.fields:
                if field.kind is Kind.DATETIME:
                    assert shown[cards.INPUT + field.name] == when.isoformat()
                    assert shown[cards.INPUT + field.name + cards.TIME] == "09:07"
            second, _ = await teams.click("sam", actions(again)["Next"], shown)
            assert second["body"] == summary["body"], name
            with session_scope(teams.school.engine) as session:
                one, two = [c.answers for c in session.exec(
                    select(Conversation).order_by(col(Conversation.id)))][-2:]
            assert one == two, name
            saved, _ = await teams.click("sam", actions(second)["Save"])
            assert "Saved as" in words(saved), words(saved)

    run(go())
