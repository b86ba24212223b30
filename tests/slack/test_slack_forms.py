"""Slack modals as forms: every field in its own control, and every form round-trips.

Each workflow's intake is filled as a person would, with a date-time in winter (GMT) and one
in summer (BST); "Change answers" on the summary brings the form back, and submitting it
untouched (Slack sends each control's initial value) must hold exactly the same answers.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.slack import blocks
from tests.slack.reading import lines
from tests.slack.signing import datepicker, option, static_select
from tests.slack.test_slack_app import (  # noqa: F401  (fixtures used by name)
    STAFF,
    Workspace,
    fake,
    ws,
)
from workflows.core.fields import Field, Kind
from workflows.core.models import Conversation
from workflows.database import session_scope
from workflows.registry import WORKFLOWS

LONDON = ZoneInfo("Europe/London")


def last(month: int, day: int) -> date:
    """The latest such day not after today: within the year, so never implausibly old."""
    today = datetime.now(LONDON).date()
    this_year = date(today.year, month, day)
    return this_year if this_year < today else date(today.year - 1, month, day)


WINTER, SUMMER = last(1, 15), last(7, 3)


def typed(field: Field, when: date) -> str:
    """An answer to ``field`` as its control sends it (a date-time as "YYYY-MM-DD HH:MM")."""
    if field.kind in (Kind.CHOICE,):
        return field.choices[0].value
    if field.kind is Kind.YES_NO:
        return "no"
    if field.kind is Kind.MULTI_CHOICE:
        return ",".join(c.value for c in field.choices[:2])
    return {Kind.DATE: when.isoformat(), Kind.DATETIME: f"{when.isoformat()} 09:07",
            Kind.EMAIL: "jane@example.org", Kind.PHONE: "01234 567890",
            Kind.URL: "https://example.org/privacy", Kind.NUMBER: "3"}.get(
        field.kind, f"{field.label} for the test")


def state(name: str, when: date) -> dict[str, dict[str, Any]]:
    """view.state.values for a whole intake form, each answer in its own control."""
    values: dict[str, dict[str, Any]] = {}
    for field in WORKFLOWS[name].intake.fields:
        text = typed(field, when)
        if field.kind in (Kind.CHOICE, Kind.YES_NO):
            element = static_select(text)
        elif field.kind is Kind.MULTI_CHOICE:
            element = {"type": "multi_static_select",
                       "selected_options": [option(v) for v in text.split(",")]}
        elif field.kind in (Kind.DATE, Kind.DATETIME):
            element = datepicker(text[:10])
        else:
            kind = {Kind.EMAIL: "email_text_input", Kind.URL: "url_text_input",
                    Kind.NUMBER: "number_input"}.get(field.kind, "plain_text_input")
            element = {"type": kind, "value": text}
        values[field.name] = {"value": element}
        if field.kind is Kind.DATETIME:
            values[field.name + blocks.TIME] = {"value": {"type": "timepicker",
                                                          "selected_time": text[11:]}}
    return values


def untouched(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What Slack sends for a modal submitted as it was shown: every initial value."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        sent: dict[str, Any] = {"type": element["type"]}
        if element["type"] == "static_select":
            sent["selected_option"] = element.get("initial_option")
        elif element["type"] == "multi_static_select":
            sent["selected_options"] = element.get("initial_options", [])
        elif element["type"] == "datepicker":
            sent["selected_date"] = element.get("initial_date")
        elif element["type"] == "timepicker":
            sent["selected_time"] = element.get("initial_time")
        elif element["type"] == "users_select":
            sent["selected_user"] = element.get("initial_user")
        else:
            sent["value"] = element.get("initial_value")
        values[block["block_id"]] = {element["action_id"]: sent}
    return values


def held(workspace: Workspace) -> list[dict[str, Any]]:
    with session_scope(workspace.engine) as session:
        return [c.answers for c in session.exec(select(Conversation)
                                                .order_by(col(Conversation.id)))]


@pytest.mark.parametrize("when", [WINTER, SUMMER], ids=["winter", "summer"])
@pytest.mark.parametrize("name", list(WORKFLOWS))
def test_change_answers_brings_the_form_back_and_it_round_trips(
        ws: Workspace, name: str, when: date) -> None:  # noqa: F811
    before = ws.fake.count("views.open")
    ws.live.send(ws.slack.slash_command("/dpo", name, user_id=STAFF))
    opened = ws.fake.wait_for("views.open", before + 1)[-1]
    modal = ws.fake.filled(opened)
    assert modal["callback_id"] == f"intake:{name}"

    first = ws.submit(modal, state(name, when))
    assert first["response_action"] == "update", first
    summary = first["view"]
    assert summary["callback_id"] == "confirm"
    edit = next(b for b in summary["blocks"] if b.get("block_id") == blocks.EDIT_ANSWERS)
    assert edit["elements"][0]["text"]["text"] == "Change answers"
    assert "go back" not in json.dumps(summary)

    updates = ws.fake.count("views.update")
    ws.live.send(ws.slack.block_actions(
        blocks.EDIT_ANSWERS, block_id=blocks.EDIT_ANSWERS, user_id=STAFF,
        view={**summary, "id": modal["id"], "hash": ws.fake.views[modal["id"]]["hash"]}))
    updated = ws.fake.wait_for("views.update", updates + 1)[-1]
    assert updated.response["ok"], updated.response
    form = ws.fake.views[modal["id"]]
    assert form["callback_id"] == f"intake:{name}"
    for field in WORKFLOWS[name].intake.fields:
        if field.kind is Kind.DATETIME:  # the school's clock, in each picker's own format
            shown = {b["block_id"]: b["element"] for b in form["blocks"]
                     if b["type"] == "input"}
            assert shown[field.name]["initial_date"] == when.isoformat()
            assert shown[field.name + blocks.TIME]["initial_time"] == "09:07"

    second = ws.submit(form, untouched(form))
    assert second["response_action"] == "update", second
    assert second["view"]["blocks"][:-2] == summary["blocks"][:-2]
    one, two = held(ws)[-2:]
    assert one == two  # the same answers, so the same case
    saved = ws.submit({**second["view"], "id": modal["id"]}, {})
    assert saved["view"]["title"]["text"] == "Saved"
    assert saved["view"]["close"]["text"] == "Close"


def test_every_modal_title_is_whole_within_24_characters() -> None:
    titles = [w.title for w in WORKFLOWS.values()]
    titles += [a.heading for w in WORKFLOWS.values() for a in w.actions if a.form.fields]
    long = [t for t in titles if len(t) > blocks.TITLE_LIMIT]
    assert long == []


def test_a_confirmation_dialog_is_red_only_for_what_cannot_be_undone() -> None:
    from workflows.core.ui import Button

    close = blocks.button(Button("close", "Close", "close X", "X|1|", "danger", "Final."))
    pause = blocks.button(Button("pause", "Pause", "pause X", "X|1|", "default", "Sure?"))
    assert close["confirm"]["style"] == "danger" and close["style"] == "danger"
    assert "style" not in pause["confirm"]



def test_answers_show_as_typed_never_as_slack_formatting() -> None:
    """mrkdwn has no escape for * _ ~ `: answers go out as rich text, labels alone bold."""
    typed = "*Jane* _Parent_ ~x~ `code` https://evil.example <!channel>"
    (block,) = blocks.rows_blocks([("Requester", typed), ("Email", "a_b@c.org")])
    (section,) = block["elements"]
    assert block["type"] == "rich_text" and section["type"] == "rich_text_section"
    assert section["elements"] == [
        {"type": "text", "text": "Requester", "style": {"bold": True}},
        {"type": "text", "text": ": " + typed},
        {"type": "text", "text": "\n"},
        {"type": "text", "text": "Email", "style": {"bold": True}},
        {"type": "text", "text": ": a_b@c.org"}]


def test_a_list_shows_names_as_typed() -> None:
    from workflows.core.ui import Table

    shown = blocks.reply_blocks(Table("Open cases", ("Ref", "Who"),
                                      (("SAR-2026-0001", "*Jane* ~Parent~"),)))
    assert lines(shown[0]) == ["*Open cases*"]
    (item,) = shown[1]["elements"][0]["elements"]
    assert item["elements"] == [{"type": "text", "text": "SAR-2026-0001 · *Jane* ~Parent~"}]
