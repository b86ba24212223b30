"""Every action form as a Slack modal round-trips: filled in its controls (a colleague in a
users_select, a date-time as a date and a time picker, in winter and in summer), then shown
again as a reopened form shows it (``Form.shown``) and sent back untouched, it holds the
same answers. A person field takes a Slack user only if the field allows them.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.slack import blocks
from tests.action_forms import action_forms, answer
from tests.conftest import School_
from tests.slack.limits import check_blocks
from tests.slack.signing import datepicker, option, static_select, users_select
from tests.slack.test_slack_forms import SUMMER, WINTER, untouched
from workflows.core.fields import Form, FormErrors, Kind
from workflows.database import session_scope
from workflows.people.models import Person


def slack_ids(school: School_) -> dict[str, str]:
    """Everyone linked to a Slack account, as the bot links them when they first write."""
    ids = {who: f"U0{who.upper()}0001" for who in school.people}
    with session_scope(school.engine) as session:
        for who, person_id in school.people.items():
            session.get_one(Person, person_id).slack_user_id = ids[who]
    return ids


def filled(form: Form, when: date, chosen: str) -> dict[str, dict[str, Any]]:
    """view.state.values for ``form``, each answer in its own control."""
    values: dict[str, dict[str, Any]] = {}
    for field in form.fields:
        text = answer(field, when, chosen)
        if field.kind in (Kind.CHOICE, Kind.YES_NO):
            element = static_select(text)
        elif field.kind is Kind.MULTI_CHOICE:
            element = {"type": "multi_static_select",
                       "selected_options": [option(v) for v in text.split(",")]}
        elif field.kind is Kind.PERSON:
            element = users_select(text)
        elif field.kind in (Kind.DATE, Kind.DATETIME):
            element = datepicker(text[:10])
        else:
            element = {"type": "plain_text_input", "value": text}
        values[field.name] = {"value": element}
        if field.kind is Kind.DATETIME:
            values[field.name + blocks.TIME] = {"value": {"type": "timepicker",
                                                          "selected_time": text[11:]}}
    return values


@pytest.mark.parametrize("when", [WINTER, SUMMER], ids=["winter", "summer"])
def test_every_action_form_round_trips(school: School_, when: date) -> None:
    school.adapter = "slack"
    ids = slack_ids(school)
    checked = []
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        for name, action in action_forms():
            form = action.form
            check_blocks(blocks.modal(title=action.heading, callback_id="decide",
                                      blocks=blocks.form_blocks(form, form.initial(ctx))),
                         "modal")
            once = form.parse_all(blocks.submitted_text(form, filled(form, when, ids["vic"])),
                                  ctx)
            reopened = blocks.modal(title=action.heading, callback_id="decide",
                                    blocks=blocks.form_blocks(form, form.shown(once, ctx)))
            check_blocks(reopened, "modal")
            again = form.parse_all(blocks.submitted_text(form, untouched(reopened)), ctx)
            assert again == once, (name, action.name)
            checked.append((name, action.name))
            for field in form.fields:
                if field.kind is Kind.DATETIME and once.get(field.name) not in (None, "unknown"):
                    assert once[field.name].startswith(f"{when.isoformat()}T09:07:00")
                if field.kind is Kind.PERSON:
                    assert once[field.name] == {"id": school.people["vic"], "name": "Vic Deputy"}
                    shown = next(b for b in reopened["blocks"] if b["block_id"] == field.name)
                    assert shown["element"] == {
                        "type": "users_select", "action_id": "value",
                        "placeholder": blocks.plain("Choose", 150), "initial_user": ids["vic"]}
    assert ("sar", "assign") in checked and ("software", "reassign") in checked
    assert ("breach", "report_to_ico") in checked and ("sar", "close") in checked


def test_a_slack_user_the_field_does_not_allow_is_refused_by_name(school: School_) -> None:
    school.adapter = "slack"
    ids = slack_ids(school)
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        form = dict(((n, a.name), a) for n, a in action_forms())[("software", "reassign")].form
        for chosen, said in (
                (ids["kim"], "Kim Teacher can't be chosen here: only the DPO and deputies "
                             "decide cases. Choose Dee Dpo or Vic Deputy."),
                ("U0NOBODY01", "Nobody set up in dpo-bot at this school has that account or "
                               "its email (add them with the email Slack has for them), so "
                               "they can't be chosen. Choose Dee Dpo or Vic Deputy.")):
            with pytest.raises(FormErrors) as refused:
                form.parse_all(blocks.submitted_text(form, filled(form, WINTER, chosen)), ctx)
            assert refused.value.errors == {"person": said}
        assert form.parse_all(blocks.submitted_text(form, filled(form, WINTER, ids["dee"])),
                              ctx) == {"person": {"id": school.people["dee"], "name": "Dee Dpo"}}
