"""What staff type never becomes formatting, a mention or a link in Slack.

Slack's mrkdwn has no escape for ``*``, ``_``, ``~`` or backticks, so typed text must reach a
message only where Slack shows text as it is: rich text elements and plain_text. Markup is
typed into every field that reaches a message (a SAR's requester and details, a note, an
extension's reason, a person's name in Slack, an answer in a chat) and read back from every
call the bot made: in no mrkdwn string, and exactly as typed in the literal ones."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PARENT_SAR, School_

from .fake_slack import Call, FakeSlack, dm_channel_id
from .reading import literal_texts, read_as_markup, said, words
from .signing import datepicker, plain_text_input
from .test_slack_app import (
    DPO,
    NEWCOMER,
    USERS,
    Workspace,
    london_today,
    sar_values,
    workspace,
)

MARKUP = "*b* _i_ ~s~ `c` ```pre``` <!here> https://evil.example"
# Any of these in a mrkdwn string would be shown as formatting, a mention or a link (or,
# escaped, still not as typed).
PIECES = ("*b*", "_i_", "~s~", "`c`", "```", "!here", "evil.example")
# Kit joins from Slack: the bot names her as her profile does.
PEOPLE = {**USERS, NEWCOMER: {**USERS[NEWCOMER], "real_name": f"Kit {MARKUP}"}}


@pytest.fixture
def ws(school: School_) -> Iterator[Workspace]:
    with FakeSlack(users=PEOPLE) as fake:
        yield from workspace(school, fake)


def literally(args: Any) -> bool:
    return any(MARKUP in text for text in literal_texts(args))


def decide(ws: Workspace, alert: Call, action: str, values: dict[str, Any]) -> Call:
    """A decision asked in a modal, from the alert's button; returns the alert redrawn."""
    before = ws.fake.count("chat.update")
    ws.live.send(ws.click(alert, action))
    opened = ws.fake.wait_for("views.open", ws.fake.count("views.open"))[-1]
    assert ws.submit(ws.fake.filled(opened), values, DPO) == {}
    return ws.fake.wait_for("chat.update", before + 1)[-1]


def test_typed_markup_reaches_slack_only_as_literal_text(ws: Workspace) -> None:
    modal = ws.open_intake(NEWCOMER)
    summary = ws.submit(modal, sar_values(requester_name=MARKUP, details=MARKUP),
                        NEWCOMER)["view"]
    saved = ws.submit({**summary, "id": modal["id"]}, {}, NEWCOMER)["view"]
    ws.live.settle()
    reference = re.search(r"SAR-\d{4}-\d{4}", words(saved["blocks"])).group(0)
    assert ws.live.deliver() == 1
    alert = ws.alert_for(reference)
    receipt = next(c for c in ws.fake.calls("chat.postMessage")
                   if c.response["channel"] == dm_channel_id(NEWCOMER))

    noted = decide(ws, alert, "note", {"text": {"value": plain_text_input(MARKUP)}})
    extended = decide(ws, alert, "extend", {
        "reason": {"value": plain_text_input(f"Reason: {MARKUP}")},
        "notice_on": {"value": datepicker(london_today())}})
    letters = []
    for kind in ("acknowledgement", "extension"):
        before = ws.fake.count("chat.postMessage")
        ws.live.send(ws.slack.message_im(f"letter {reference} {kind}", user_id=DPO))
        ws.live.settle()
        letters += [c for c in ws.fake.calls("chat.postMessage")[before:]
                    if c.args.get("blocks") and c.args["blocks"][0]["type"] == "header"]
    ws.live.send(ws.slack.slash_command("/dpo", reference, user_id=DPO))
    ws.live.settle()
    (asked,) = ws.fake.calls("response_url")

    # A chat in the DM: the answer already given, shown again after "back".
    for line in (*PARENT_SAR[:2], MARKUP, "back"):
        ws.live.send(ws.slack.message_im(line, user_id=NEWCOMER))
        ws.live.settle()
    again = ws.fake.calls("chat.postMessage")[-1]
    assert f"_Currently: {MARKUP}" in said(again)

    # Where it was typed, it is shown as typed (the reason and the note too, in the letter).
    shown = {"summary": summary, "saved": saved, "receipt": receipt.args,
             "alert": alert.args, "note": noted.args, "extension": extended.args,
             "/dpo": asked.args, "chat": again.args,
             **{f"letter {i}": c.args for i, c in enumerate(letters)}}
    assert [name for name, args in shown.items() if not literally(args)] == []
    assert f"Reason: {MARKUP}" in said(extended) and len(letters) == 2
    assert f"logged by Kit {MARKUP}." in said(alert)  # the name Slack gave
    # And nowhere, in any call the bot made, is any of it where Slack reads markup.
    payloads = {"summary": summary, "saved": saved} | {
        f"{c.method} #{i}": c.args for i, c in enumerate(ws.fake.calls())}
    leaks = [(name, piece, text[:200]) for name, args in payloads.items()
             for text in read_as_markup(args) for piece in PIECES if piece in text]
    assert leaks == []

