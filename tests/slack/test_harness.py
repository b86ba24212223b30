"""The Slack test harness, proved on the product: if these fail, the adapter's results mean
nothing.

Our SlackBot (its real Bolt app, in-process as `dpo-bot slack` runs it, and behind the
production HTTP server) is fed what SlackRequests builds, signed, and talks to FakeSlack. Each
test shows one thing the other Slack tests lean on: every kind of request the harness builds
reaches the bot's own listener; the signature the harness makes is the one the bot checks
(and a forged or stale one is refused before anything runs); the fake records every Web API
call the bot makes, as sent, and answers as Slack does (DM channels, stored messages and
views); the fake's refusals (throttling, a revoked token) reach the bot as Slack's would;
Slack's retries and Socket Mode envelopes arrive as Slack sends them. The Block Kit limits
checker (tests/slack/limits.py), which every payload passes through, is shown to catch what
it must.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from tests.conftest import make_school

from .fake_slack import FakeSlack, dm_channel_id
from .limits import check_blocks
from .reading import words
from .test_slack_app import (
    DPO,
    SLACK_ENV,
    STAFF,
    TOKEN,
    USERS,
    Workspace,
    sar_values,
    workspace,
)


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bolt reads SLACK_* variables (SLACK_CLIENT_ID switches it to OAuth); keep them out."""
    for name in SLACK_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(users=USERS) as server:
        yield server


@pytest.fixture
def ws(sqlite_engine: Engine, fake: FakeSlack) -> Iterator[Workspace]:
    """The product in Slack, on SQLite: what is proved here is the harness, not the database."""
    yield from workspace(make_school(sqlite_engine), fake)


def test_every_kind_of_request_reaches_the_bots_own_listener(ws: Workspace) -> None:
    fake, slack, live = ws.fake, ws.slack, ws.live

    # A slash command and a global shortcut: the bot opens its intake modal with the trigger.
    command = slack.slash_command("/dpo", "sar", user_id=STAFF)
    assert live.send(command).status == 200
    (opened,) = fake.wait_for("views.open")
    assert opened.args["trigger_id"] == command.payload["trigger_id"]
    assert live.send(slack.shortcut("start:sar", user_id=STAFF)).status == 200
    modal = fake.filled(fake.wait_for("views.open", 2)[-1])
    assert modal["callback_id"] == "intake:sar"

    # A view submission carries the typed values the bot reads: its summary repeats them.
    ack = ws.submit(modal, sar_values(requester_name="Jane Harness"))
    assert ack["response_action"] == "update"
    assert "Jane Harness" in json.dumps(ack["view"])

    # app_home_opened: the Home tab is published to that user, and the fake keeps it.
    live.send(slack.app_home_opened(STAFF))
    (published,) = fake.wait_for("views.publish")
    assert published.args["user_id"] == STAFF
    home = fake.views[fake.home_views[STAFF]]
    # A block action from a button on that stored view reaches the bot's listener.
    live.send(slack.block_actions("start:sar", block_id="start", view=home, user_id=STAFF))
    assert fake.wait_for("views.open", 3)[-1].args["view"]["callback_id"] == "intake:sar"

    # A DM: answered in the user's DM channel; the bot's own messages are ignored.
    live.send(slack.message_im("hello", user_id=STAFF))
    (said,) = fake.wait_for("chat.postMessage")
    assert said.response["channel"] == dm_channel_id(STAFF)
    assert words(said.args["blocks"]).startswith("Hello Sam Teacher.")
    assert fake.messages[(said.response["channel"], said.response["ts"])]["text"] == (
        said.args["text"])
    live.send(slack.message_im("hello", user_id=STAFF, from_bot=True))
    live.settle()
    assert fake.count("chat.postMessage") == 1

    # Every call the bot made was recorded with the bot's token, as slack_sdk sent it.
    assert {call.token for call in fake.calls()} == {TOKEN}
    assert {call.headers["authorization"] for call in fake.calls()
            if call.method != "response_url"} == {f"Bearer {TOKEN}"}


@pytest.mark.parametrize("tamper", [{"bad_signature": True}, {"age": 301}, {}])
def test_the_signature_the_harness_makes_is_the_one_the_bot_checks(
        ws: Workspace, tamper: dict[str, Any]) -> None:
    """Over real HTTP to the production server: forged or five minutes old is refused before
    any listener runs; the harness's own signature is accepted."""
    url = ws.live.serve()
    answer = ws.slack.slash_command("/dpo", "sar", user_id=STAFF, **tamper).post(url)
    ws.live.settle()
    if tamper:
        assert (answer.status, answer.json()) == (401, {"error": "invalid request"})
        assert ws.fake.calls() == []
    else:
        assert answer.status == 200
        assert ws.fake.wait_for("views.open")[0].args["view"]["callback_id"] == "intake:sar"


def test_retries_arrive_as_slack_sends_them_over_http_and_socket_mode(ws: Workspace) -> None:
    """The same event_id with X-Slack-Retry-Num (HTTP) or retry_attempt (Socket Mode): the
    bot answers the first delivery and recognises each retry."""
    url = ws.live.serve()
    first = ws.slack.message_im("hello", user_id=STAFF)
    again = ws.slack.retry(first, num=1, reason="http_timeout")
    assert again.body == first.body and again.headers["X-Slack-Retry-Num"] == "1"
    assert first.post(url).status == 200
    ws.fake.wait_for("chat.postMessage")
    assert again.post(url).status == 200
    ws.live.run(ws.slack.retry(first, num=2).async_dispatch_socket_mode(ws.live.bot.app))
    ws.live.settle()
    assert ws.fake.count("chat.postMessage") == 1

    # An unsigned Socket Mode envelope reaches the same listener as a signed HTTP request.
    ws.live.run(ws.slack.slash_command("/dpo", "sar", user_id=STAFF, bad_signature=True)
                .async_dispatch_socket_mode(ws.live.bot.app))
    assert ws.fake.wait_for("views.open")[0].args["view"]["callback_id"] == "intake:sar"


def test_the_fakes_refusals_reach_the_bot_as_slacks_would(ws: Workspace) -> None:
    # Throttled: the bot's retry handler waits as told and sends again.
    ws.log_sar(STAFF)
    ws.fake.ratelimit("chat.postMessage", times=1, retry_after=0)
    ws.allowed_errors.add("ratelimited")
    assert ws.live.deliver() == 1
    assert [c.status for c in ws.fake.calls("chat.postMessage")[1:]] == [429, 200]
    assert ws.fake.calls("chat.postMessage")[-1].response["channel"] == dm_channel_id(DPO)

    # A revoked token: the bot's start-up check hears Slack's invalid_auth.
    ws.fake.reject_token(TOKEN)
    ws.allowed_errors.add("invalid_auth")
    with pytest.raises(SlackApiError) as refused:
        ws.live.run(ws.live.bot.check_token())
    assert refused.value.response["error"] == "invalid_auth"


# -- the Block Kit limits checker ------------------------------------------------------------


def button(label: str) -> dict[str, Any]:
    return {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": label}}


def test_check_blocks_catches_an_overlong_button_label() -> None:
    ok = [{"type": "actions", "block_id": "a", "elements": [button("x" * 75)]}]
    check_blocks(ok)
    bad = [{"type": "divider"}, {"type": "actions", "elements": [button("x" * 76)]}]
    with pytest.raises(AssertionError, match=r"blocks\[1\]\.elements\[0\]\.text\.text: 76"):
        check_blocks(bad)


def test_check_blocks_knows_each_surface() -> None:
    many = [{"type": "divider"}] * 51
    with pytest.raises(AssertionError, match="at most 50"):
        check_blocks({"text": "t", "blocks": many})
    title = {"type": "plain_text", "text": "x" * 24}
    check_blocks({"type": "modal", "title": title, "blocks": many}, surface="modal")
    with pytest.raises(AssertionError, match=r"view\.title\.text: 25"):
        check_blocks({"type": "modal", "title": {"type": "plain_text", "text": "x" * 25},
                      "blocks": []}, surface="modal")
    options = [{"text": {"type": "plain_text", "text": f"o{i}"}, "value": str(i)}
               for i in range(101)]
    select = {"type": "input", "label": {"type": "plain_text", "text": "Pick"},
              "element": {"type": "static_select", "action_id": "s", "options": options}}
    with pytest.raises(AssertionError, match=r"element\.options: 101 items"):
        check_blocks({"view": {"type": "home", "blocks": [select]}}, surface="home")
    with pytest.raises(AssertionError, match="repeats"):
        check_blocks([{"type": "divider", "block_id": "d"}, {"type": "divider", "block_id": "d"}])
