"""Every action form as a Teams card round-trips: filled in its inputs (a colleague chosen
from the people the field allows, a date-time as Input.Date and Input.Time, in winter and
in summer), then shown again as a reopened form shows it (``Form.shown``) and sent back
untouched, it holds the same answers; each card is valid Adaptive Card 1.5. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.teams import cards
from tests.action_forms import action_forms, answer
from tests.conftest import School_, add_staff
from tests.slack.test_slack_forms import SUMMER, WINTER
from tests.teams.harness import CARD_SCHEMA, card_problems
from tests.teams.test_teams_forms import untouched
from workflows.core.fields import Form, FormErrors, Kind
from workflows.core.ui import Card
from workflows.database import session_scope


def filled(form: Form, when: date, chosen: str) -> dict[str, Any]:
    """What Teams sends for ``form`` filled in: each input's id and value."""
    sent: dict[str, Any] = {}
    for field in form.fields:
        text = answer(field, when, chosen)
        if field.kind is Kind.DATETIME:
            sent[cards.INPUT + field.name + cards.TIME] = text[11:]
            text = text[:10]
        sent[cards.INPUT + field.name] = text
    return sent


def form_card(form: Form, shown: dict[str, str]) -> dict[str, Any]:
    card = cards.decision_form(Card("SAR-2026-0001", "A case", "Open", ()), "Act", "act",
                               "SAR-2026-0001|1|1", form, None, shown)
    if CARD_SCHEMA.exists():
        assert card_problems(card) == []
    return card


@pytest.mark.parametrize("when", [WINTER, SUMMER], ids=["winter", "summer"])
def test_every_action_form_round_trips(school: School_, when: date) -> None:
    school.adapter = "teams"
    vic = f"person:{school.people['vic']}"
    checked = []
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        for name, action in action_forms():
            form = action.form.bound(ctx)
            form_card(form, form.initial(ctx))
            once = form.parse_all(cards.submitted_text(form, filled(form, when, vic)), ctx)
            reopened = form_card(form, form.shown(once, ctx))
            again = form.parse_all(cards.submitted_text(form, untouched(reopened)), ctx)
            assert again == once, (name, action.name)
            checked.append((name, action.name))
            for field in form.fields:
                if field.kind is Kind.DATETIME and once.get(field.name) not in (None, "unknown"):
                    assert once[field.name].startswith(f"{when.isoformat()}T09:07:00")
                if field.kind is Kind.PERSON:
                    assert once[field.name] == {"id": school.people["vic"], "name": "Vic Deputy"}
                    shown = next(e for e in reopened["body"]
                                 if e.get("id") == cards.INPUT + field.name)
                    assert shown["type"] == "Input.ChoiceSet" and shown["value"] == vic
                    assert [c["title"] for c in shown["choices"]] == [
                        p.name for p in field.people(ctx)]  # type: ignore[misc]
    assert ("sar", "assign") in checked and ("software", "reassign") in checked


def test_the_card_lists_only_whom_the_field_allows_and_refuses_anyone_else(
        school: School_) -> None:
    school.adapter = "teams"
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        declared = dict(((n, a.name), a) for n, a in action_forms())[("software", "reassign")]
        form = declared.form.bound(ctx)
        picker = next(e for e in form_card(form, {})["body"]
                      if e.get("id") == cards.INPUT + "person")
        assert picker["choices"] == [
            {"title": "Dee Dpo", "value": f"person:{school.people['dee']}"},
            {"title": "Vic Deputy", "value": f"person:{school.people['vic']}"}]
        # A value the card never offered (an old card, a crafted invoke) is still refused.
        kim = f"person:{school.people['kim']}"
        with pytest.raises(FormErrors) as refused:
            form.parse_all(cards.submitted_text(form, filled(form, WINTER, kim)), ctx)
        assert refused.value.errors == {"person": (
            "Kim Teacher can't be chosen here: only the DPO and deputies decide cases. Choose "
            "Dee Dpo or Vic Deputy.")}


def test_a_school_too_large_to_list_on_a_card_is_asked_for_a_name(school: School_) -> None:
    school.adapter = "teams"
    add_staff(school, cards.PEOPLE)
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        declared = dict(((n, a.name), a) for n, a in action_forms())[("sar", "assign")]
        form = declared.form.bound(ctx, cards.PEOPLE)
        card = form_card(form, {})
        box = next(e for e in card["body"] if e.get("id") == cards.INPUT + "person")
        assert box["type"] == "Input.Text"
        assert box["placeholder"] == "Their name, as set up in dpo-bot"
        assert cards.size(card) < 2_000  # the staff list is not on it
        sent = {cards.INPUT + "person": "vic deputy"}
        assert form.parse_all(cards.submitted_text(form, sent), ctx) == {
            "person": {"id": school.people["vic"], "name": "Vic Deputy"}}
        with pytest.raises(FormErrors) as refused:
            form.parse_all(cards.submitted_text(form, {cards.INPUT + "person": "Nobody"}), ctx)
        assert refused.value.errors == {"person": (
            "I don't know “Nobody” as someone at the school. Type their name as it is set up "
            "in dpo-bot.")}
        # Up to the limit, the card lists them, and stays within Teams' size.
        listed = declared.form.bound(ctx, len(declared.form.fields[0].offered(ctx)))
        full = form_card(listed, {})
        picker = next(e for e in full["body"] if e.get("id") == cards.INPUT + "person")
        assert picker["type"] == "Input.ChoiceSet" and len(picker["choices"]) > cards.PEOPLE
        assert cards.size(full) < cards.CARD_BYTES
