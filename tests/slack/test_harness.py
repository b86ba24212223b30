"""Tests of the Slack test harness itself: if these fail, adapter test results mean nothing.

A real Bolt App, in HTTP mode, talks to FakeSlack; requests come from SlackRequests, either
over real HTTP (Bolt's WSGI adapter) or through App.dispatch.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from .fake_slack import FakeSlack, dm_channel_id
from .limits import check_api_call, check_blocks
from .signing import (
    SlackRequests,
    datepicker,
    plain_text_input,
    serve_bolt_app,
    static_select,
)

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bolt reads SLACK_* variables (SLACK_CLIENT_ID switches it to OAuth); keep them out."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID",
                 "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN", "SLACK_VERIFICATION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    users = {"U0STAFF01": {"name": "teacher", "real_name": "A Teacher",
                           "email": "teacher@school.example"}}
    with FakeSlack(users=users) as server:
        yield server


@pytest.fixture
def slack(fake: FakeSlack) -> SlackRequests:
    return SlackRequests.for_fake(SECRET, fake)


def make_app(fake: FakeSlack, **kwargs: Any) -> App:
    # The token must ride on the client: given both, Bolt ignores `token=` for `client.token`.
    client = WebClient(token=TOKEN, base_url=fake.url)
    return App(client=client, signing_secret=SECRET, **kwargs)


# -- the fake Web API ------------------------------------------------------------------------


def test_fake_records_calls_and_answers_like_slack(fake: FakeSlack) -> None:
    client = WebClient(token=TOKEN, base_url=fake.url)
    first = client.chat_postMessage(channel="C0GENERAL", text="one")
    second = client.chat_postMessage(channel="U0STAFF01", text="two", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "two"}}])

    assert first["ok"] and first["channel"] == "C0GENERAL"
    assert float(second["ts"]) > float(first["ts"])
    assert second["channel"] == dm_channel_id("U0STAFF01")  # posting to a user lands in the DM
    call = fake.last("chat.postMessage")
    assert call.args["blocks"][0]["type"] == "section"
    assert call.headers["authorization"] == f"Bearer {TOKEN}" and call.token == TOKEN
    assert fake.messages[(second["channel"], second["ts"])]["text"] == "two"

    assert client.conversations_open(users="U0STAFF01")["channel"]["id"] == "D0STAFF01"
    assert client.users_info(user="U0STAFF01")["user"]["profile"]["email"] == (
        "teacher@school.example")
    opened = client.views_open(trigger_id="1.2.3", view={
        "type": "modal", "callback_id": "sar", "title": {"type": "plain_text", "text": "SAR"},
        "blocks": []})["view"]
    assert opened["id"].startswith("V") and opened["hash"]
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=opened["id"], hash="stale", view=opened | {"blocks": []})
    assert stale.value.response["error"] == "hash_conflict"
    assert client.views_publish(user_id="U0STAFF01", view={"type": "home", "blocks": []})["ok"]
    assert [c.method for c in fake.calls()] == [
        "chat.postMessage", "chat.postMessage", "conversations.open", "users.info",
        "views.open", "views.update", "views.publish"]

    fake.clear()
    assert fake.calls() == []


def test_fake_rejects_bad_token_and_unknown_method(fake: FakeSlack) -> None:
    fake.reject_token("xoxb-revoked")
    with pytest.raises(SlackApiError) as bad:
        WebClient(token="xoxb-revoked", base_url=fake.url).auth_test()
    assert bad.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as unknown:
        WebClient(token=TOKEN, base_url=fake.url).api_call("chat.postMesage")
    assert unknown.value.response["error"] == "unknown_method"
    # Bolt checks the token with auth.test at construction, so a bad token fails fast.
    with pytest.raises(BoltError):
        App(client=WebClient(token="xoxb-revoked", base_url=fake.url), signing_secret=SECRET)


def test_ratelimit_is_retried_by_slack_sdk_retry_handler(fake: FakeSlack) -> None:
    fake.ratelimit("chat.postMessage", times=1)
    client = WebClient(token=TOKEN, base_url=fake.url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert client.chat_postMessage(channel="C0GENERAL", text="hello")["ok"]
    statuses = [c.status for c in fake.calls("chat.postMessage")]
    assert statuses == [429, 200]

    fake.ratelimit("chat.postMessage", times=1)
    with pytest.raises(SlackApiError) as error:  # without the handler the 429 surfaces
        WebClient(token=TOKEN, base_url=fake.url, retry_handlers=[]).chat_postMessage(
            channel="C0GENERAL", text="hello")
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "1"


def test_fake_refuses_blocks_over_the_limits(fake: FakeSlack) -> None:
    client = WebClient(token=TOKEN, base_url=fake.url)
    too_long = {"type": "actions", "elements": [
        {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "x" * 76}}]}
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C0GENERAL", text="t", blocks=[too_long])
    assert error.value.response["error"] == "invalid_blocks"
    assert "blocks[0].elements[0].text.text" in error.value.response["response_metadata"][
        "messages"][0]


# -- a real Bolt app over HTTP ---------------------------------------------------------------


def test_bolt_acks_signed_slash_command_and_posts(fake: FakeSlack, slack: SlackRequests) -> None:
    app = make_app(fake)
    assert fake.count("auth.test") == 1  # Bolt's only start-up call in HTTP mode

    @app.command("/dpo")
    def dpo(ack: Any, command: dict[str, Any], say: Any, respond: Any) -> None:
        ack()
        say(f"You asked: {command['text']}")
        respond("Only you can see this")

    with serve_bolt_app(app) as url:
        result = slack.slash_command("/dpo", "new sar", channel_id="C0OFFICE").post(url)
    assert result.status == 200
    posted = fake.wait_for("chat.postMessage")[0]
    assert posted.args["channel"] == "C0OFFICE"
    assert posted.args["text"] == "You asked: new sar"
    assert fake.wait_for("response_url")[0].args["text"] == "Only you can see this"


@pytest.mark.parametrize("tamper", [{"bad_signature": True}, {"age": 301}])
def test_bad_signature_and_stale_timestamp_get_401(
    fake: FakeSlack, slack: SlackRequests, tamper: dict[str, Any]
) -> None:
    app = make_app(fake)
    handled = threading.Event()

    @app.command("/dpo")
    def dpo(ack: Any) -> None:
        handled.set()
        ack()

    with serve_bolt_app(app) as url:
        result = slack.slash_command("/dpo", **tamper).post(url)
        assert result.status == 401
        assert result.json() == {"error": "invalid request"}
        assert not handled.is_set()
        fresh = slack.slash_command("/dpo").post(url)
    assert fresh.status == 200  # the same app accepts a properly signed request
    assert handled.is_set()


def test_every_payload_kind_reaches_its_bolt_listener(
    fake: FakeSlack, slack: SlackRequests
) -> None:
    app = make_app(fake, process_before_response=True)  # listeners finish before the response
    seen: dict[str, Any] = {}

    @app.command("/dpo")
    def command(ack: Any, command: dict[str, Any]) -> None:
        ack()
        seen["command"] = (command["user_id"], command["trigger_id"])

    @app.shortcut("report_breach")
    def shortcut(ack: Any, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=shortcut["trigger_id"], view={
            "type": "modal", "callback_id": "breach",
            "title": {"type": "plain_text", "text": "Report a breach"},
            "submit": {"type": "plain_text", "text": "Report"},
            "blocks": [{"type": "input", "block_id": "kind",
                        "label": {"type": "plain_text", "text": "What happened?"},
                        "element": {"type": "static_select", "action_id": "pick", "options": [
                            {"text": {"type": "plain_text", "text": "Lost laptop"},
                             "value": "loss"}]}}]})

    @app.action("approve")
    def approve(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        seen["action"] = (action["value"], action["block_id"], body["message"]["ts"],
                          body["container"]["channel_id"], body["user"]["id"])

    @app.view("breach")
    def submitted(ack: Any, view: dict[str, Any]) -> None:
        ack()
        values = view["state"]["values"]
        seen["view"] = (values["kind"]["pick"]["selected_option"]["text"]["text"],
                        values["when"]["date"]["selected_date"],
                        values["what"]["text"]["value"], view["private_metadata"])

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    @app.event("message")
    def dm(event: dict[str, Any], say: Any) -> None:
        if event.get("channel_type") == "im":
            say(f"echo {event['text']}")

    assert slack.slash_command("/dpo").dispatch(app).status == 200
    assert seen["command"][0] == "U0STAFF01"

    assert slack.shortcut("report_breach").dispatch(app).status == 200
    modal_id = fake.last("views.open").response["view"]["id"]

    posted = WebClient(token=TOKEN, base_url=fake.url).chat_postMessage(
        channel="C0DPO", text="Approve?")
    click = slack.block_actions("approve", value="case-7", block_id="decide",
                                channel_id="C0DPO", message=posted["message"])
    assert click.dispatch(app).status == 200
    assert seen["action"] == ("case-7", "decide", posted["ts"], "C0DPO", "U0STAFF01")

    submit = slack.view_submission(view=fake.views[modal_id], private_metadata="case-7", values={
        "kind": {"pick": static_select("loss")},
        "when": {"date": datepicker("2026-03-02")},
        "what": {"text": plain_text_input("Left on a train")},
    })
    assert submit.dispatch(app).status == 200
    assert seen["view"] == ("Lost laptop", "2026-03-02", "Left on a train", "case-7")

    assert slack.app_home_opened("U0STAFF01").dispatch(app).status == 200
    assert fake.last("views.publish").args["user_id"] == "U0STAFF01"

    assert slack.message_im("hello").dispatch(app).status == 200
    echoed = fake.last("chat.postMessage").args
    assert (echoed["channel"], echoed["text"]) == ("D0STAFF01", "echo hello")
    before = fake.count("chat.postMessage")
    assert slack.message_im("me", from_bot=True).dispatch(app).status == 200  # self: ignored
    assert fake.count("chat.postMessage") == before

    for call in fake.calls():
        check_api_call(call.method, call.args)


def test_retry_headers_and_event_id_reach_the_listener(
    fake: FakeSlack, slack: SlackRequests
) -> None:
    app = make_app(fake, process_before_response=True)
    deliveries: list[tuple[str, str | None]] = []

    @app.event("message")
    def dm(body: dict[str, Any], request: Any) -> None:
        deliveries.append((body["event_id"], request.headers.get("x-slack-retry-num", [None])[0]))

    first = slack.message_im("hello")
    again = slack.retry(first, num=1, reason="http_timeout")
    assert again.body == first.body and again.headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert first.dispatch(app).status == 200 and again.dispatch(app).status == 200
    assert deliveries[0][0] == deliveries[1][0]  # the same event_id: dedupe on it
    assert [d[1] for d in deliveries] == [None, "1"]


def test_socket_mode_delivery_uses_bolts_own_glue(fake: FakeSlack, slack: SlackRequests) -> None:
    app = make_app(fake, process_before_response=True)
    seen: list[Any] = []

    @app.command("/dpo")
    def dpo(ack: Any, command: dict[str, Any]) -> None:
        ack(text=f"got {command['text']}")

    @app.event("message")
    def dm(request: Any) -> None:
        seen.append(request.headers.get("x-slack-retry-num", [None])[0])

    tampered = slack.slash_command("/dpo", "sar", bad_signature=True)
    envelope = tampered.socket_mode_request()
    assert envelope.type == "slash_commands" and envelope.payload["command"] == "/dpo"
    response = tampered.dispatch_socket_mode(app)  # no signatures over a WebSocket
    assert response.status == 200 and "got sar" in response.body

    event = slack.message_im("hello")
    event.dispatch_socket_mode(app)
    slack.retry(event, num=2).dispatch_socket_mode(app)
    assert seen == [None, "2"]  # Bolt mirrors retry_attempt into the HTTP retry header


def test_async_app_over_aiohttp(fake: FakeSlack, slack: SlackRequests) -> None:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from .signing import serve_async_bolt_app

    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=fake.url), signing_secret=SECRET)
    assert fake.count("auth.test") == 0  # AsyncApp checks the token on its first request

    @app.command("/dpo")
    async def dpo(ack: Any, say: Any) -> None:
        await ack()
        await say("async hello")

    with serve_async_bolt_app(app) as url:
        assert slack.slash_command("/dpo", bad_signature=True).post(url).status == 401
        assert slack.slash_command("/dpo", age=600).post(url).status == 401
        assert slack.slash_command("/dpo").post(url).status == 200
        assert fake.wait_for("chat.postMessage")[0].args["text"] == "async hello"
    assert fake.count("auth.test") == 1

    async def over_socket_mode() -> Any:
        response = await slack.slash_command("/dpo").async_dispatch_socket_mode(app)
        for _ in range(150):  # the listener runs on as a task after ack(); let it finish
            if fake.count("chat.postMessage") == 2:
                break
            await asyncio.sleep(0.02)
        return response

    assert asyncio.run(over_socket_mode()).status == 200
    assert fake.calls("chat.postMessage")[1].args["text"] == "async hello"


def test_async_client_retries_a_ratelimit(fake: FakeSlack) -> None:
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

    fake.ratelimit("views.publish", times=1, retry_after=0)
    client = AsyncWebClient(token=TOKEN, base_url=fake.url,
                            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    view = {"type": "home", "blocks": []}
    assert asyncio.run(client.views_publish(user_id="U0STAFF01", view=view))["ok"]
    assert [c.status for c in fake.calls("views.publish")] == [429, 200]


def test_url_verification_and_ssl_check(fake: FakeSlack, slack: SlackRequests) -> None:
    app = make_app(fake)
    with serve_bolt_app(app) as url:
        challenge = slack.url_verification("abc123").post(url)
        ssl = slack.ssl_check().post(url)
    assert challenge.status == 200 and challenge.json() == {"challenge": "abc123"}
    assert ssl.status == 200 and ssl.body == ""


def test_harness_is_quick_to_start_and_stop() -> None:
    started = time.monotonic()
    for _ in range(5):
        with FakeSlack() as server:
            WebClient(token=TOKEN, base_url=server.url).auth_test()
    assert time.monotonic() - started < 5


# -- Block Kit limits ------------------------------------------------------------------------


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
