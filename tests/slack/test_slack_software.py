"""A software request in Slack: the intake modal built from the declaration (within Block Kit's
limits), the DPO's card with its decision buttons, a reason refused when empty, and one
decision updating the message; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from tests.slack.fake_slack import dm_channel_id
from tests.slack.reading import literal_texts, read_as_markup, words
from tests.slack.signing import option, plain_text_input, static_select
from tests.slack.test_slack_app import (  # noqa: F401  (fixtures used by name)
    DPO,
    INJECTION,
    STAFF,
    Workspace,
    _no_slack_env,
    actions_of,
    assert_decided,
    button_for,
    fake,
    ws,
)
from workflows.database import session_scope
from workflows.software.models import Software, SoftwareRequest, Status

FIELDS = ["product", "website", "purpose", "users", "pupils_use", "data_kinds", "accounts_by",
          "privacy_notice", "storage", "min_age", "dpa", "ads_ai", "cost"]


def software_values(**changes: Any) -> dict[str, dict[str, Any]]:
    """view.state.values for the software intake modal, as Slack sends them."""
    answers: dict[str, Any] = {
        "product": plain_text_input("Maths Whizz"),
        "website": {"type": "url_text_input", "value": None},  # empty: don't know
        "purpose": plain_text_input(INJECTION),
        "users": plain_text_input("Years 3-6"),
        "pupils_use": static_select("yes"),
        "data_kinds": {"type": "multi_static_select",
                       "selected_options": [option("names"), option("assessment")]},
        "accounts_by": plain_text_input("Teachers, first name and class"),
        "privacy_notice": plain_text_input("https://mathswhizz.example/privacy"),
        "storage": plain_text_input("UK"),
        "min_age": plain_text_input("none"),
        "dpa": static_select("unknown"),
        "ads_ai": static_select("no"),
        "cost": plain_text_input("Free"),
    } | changes
    return {name: {"value": element} for name, element in answers.items()}


def test_a_software_request_from_the_shortcut_and_the_dpo_deciding_with_buttons(
    ws: Workspace,  # noqa: F811  (the fixture imported above)
) -> None:
    assert ws.live.send(ws.slack.shortcut("start:software", user_id=STAFF)).status == 200
    opened = ws.fake.wait_for("views.open")[-1]
    assert opened.args["view"]["callback_id"] == "intake:software"
    modal = ws.fake.filled(opened)
    assert [b["block_id"] for b in modal["blocks"] if b["type"] == "input"] == FIELDS
    options = [o["value"] for o in next(b for b in modal["blocks"] if b.get("block_id") == "dpa")
               ["element"]["options"]]
    assert options == ["yes", "no", "unknown"]  # "don't know" is a choice in a form

    # A data kind the bot does not know is refused on its field; nothing is saved.
    ack = ws.submit(modal, software_values(data_kinds=plain_text_input("fingerprints")))
    assert ack["response_action"] == "errors"
    assert ack["errors"]["data_kinds"].startswith(
        "I don't know “fingerprints” as data that goes in")
    ack = ws.submit(modal, software_values())
    assert ack["response_action"] == "update", ack
    assert "DPIA required; parental consent needed." in words(ack["view"]["blocks"])
    saved = ws.submit({**ack["view"], "id": modal["id"]}, {})
    assert saved["view"]["title"]["text"] == "Saved"
    ws.live.settle()
    with session_scope(ws.engine) as session:
        (request,) = session.exec(select(SoftwareRequest)).all()
        reference = request.reference
        assert (request.website, request.dpa, request.purpose) == ("unknown", "unknown", INJECTION)

    # The DPO's DM: the alert, then the card with the screening and the decision buttons.
    assert ws.live.deliver() == 1
    alert = ws.alert_for(reference)
    shown = words(alert.args["blocks"])
    assert "*DPIA screening*: DPIA required." in shown
    assert "*Data processing agreement*: Don't know (open question)" in shown
    # What staff typed shows as typed, where Slack reads no markup.
    assert not any("<!channel>" in t for t in read_as_markup(alert.args))
    assert any("<!channel>" in t for t in literal_texts(alert.args))
    assert [e["action_id"] for e in actions_of(alert.args["blocks"])] == [
        "act:approve", "act:approve_with_conditions", "act:reject", "act:ask", "act:reassign"]

    # Approve with conditions: the condition is asked in a modal and cannot be left empty.
    assert "confirm" not in button_for(alert.args["blocks"], "approve_with_conditions")
    assert ws.live.send(ws.click(alert, "approve_with_conditions")).status == 200
    opened = ws.fake.wait_for("views.open", 2)[-1]
    decide = ws.fake.filled(opened)
    assert decide["callback_id"] == "decide"
    ack = ws.submit(decide, {"conditions": {"value": plain_text_input(None)}}, DPO)
    assert ack == {"response_action": "errors", "errors": {"conditions": "This is required."}}
    # The screening requires a DPIA: its outcome is asked for on the form, not assumed.
    ack = ws.submit(decide, {"conditions": {"value": plain_text_input("First names only")}}, DPO)
    assert ack["response_action"] == "errors" and list(ack["errors"]) == ["dpia"]
    assert "The screening says a DPIA is required" in ack["errors"]["dpia"]
    ack = ws.submit(decide, {"conditions": {"value": plain_text_input("First names only")},
                             "dpia": {"value": static_select("done")},
                             "dpia_note": {"value": plain_text_input("DPIA-3, 20 Nov 2026")}},
                    DPO)
    assert ack == {}
    (update,) = ws.fake.wait_for("chat.update")
    assert_decided(ws.message(alert)["blocks"], "Approve with conditions")
    with session_scope(ws.engine) as session:
        (product,) = session.exec(select(Software)).all()
        assert (product.status, product.conditions) == (Status.CONDITIONS, "First names only")

    # The requester hears the outcome, with the condition, in their DM.
    assert ws.live.deliver() == 1
    to_sam = [c for c in ws.fake.calls("chat.postMessage")
              if c.response.get("channel") == dm_channel_id(STAFF)]
    assert "APPROVED WITH CONDITIONS by Dee Dpo" in words(to_sam[-1].args["blocks"])
    assert to_sam[-1].args["text"].startswith("SW-")  # what it is about, not the product
    assert "Conditions: First names only" in words(to_sam[-1].args["blocks"])

    # "/dpo is Maths Whizz approved?" answers from the register, privately.
    assert ws.live.send(ws.slack.slash_command("/dpo", "is maths whizz approved?",
                                               user_id=STAFF)).status == 200
    (answer,) = ws.fake.wait_for("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert words(answer.args["blocks"]).startswith("Maths Whizz is approved with conditions")

    # Asking again for a product now approved is refused on the product field, at once.
    assert ws.live.send(ws.slack.shortcut("start:software", user_id=STAFF)).status == 200
    again = ws.fake.views[ws.fake.wait_for("views.open", 3)[-1].response["view"]["id"]]
    ack = ws.submit(again, software_values(product=plain_text_input("maths whizz")))
    assert ack["response_action"] == "errors"
    assert ack["errors"]["product"].startswith("Maths Whizz is approved with conditions")
    with session_scope(ws.engine) as session:
        assert len(session.exec(select(SoftwareRequest)).all()) == 1
