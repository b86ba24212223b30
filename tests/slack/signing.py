"""Signed, real-shaped Slack requests for a Bolt app, and two ways to deliver them.

Slack signs each request with HMAC-SHA256 over `v0:<timestamp>:<raw body>`; Bolt refuses
(401) a wrong signature and a timestamp more than 5 minutes from now. The builders here give
the exact wire forms: slash commands form-encoded, interactivity as a form field `payload=`
holding JSON, Events API as JSON. Shapes follow what Slack sends (and what bolt-python's own
scenario tests use), so Bolt's matchers and the adapter see what production will.

Usage:
    slack = SlackRequests.for_fake("secret", fake)
    response = slack.slash_command("/dpo", "sar").dispatch(app)           # in-process
    result = slack.message_im("hi", user_id="U0STAFF01").post(url)       # over HTTP
    again = slack.retry(first, num=1)        # the same event re-delivered by Slack
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, TypedDict, Unpack
from urllib.parse import parse_qsl, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .fake_slack import FakeSlack, dm_channel_id

if TYPE_CHECKING:
    from slack_bolt import App, BoltResponse
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.socket_mode.request import SocketModeRequest

DEFAULT_USER = "U0STAFF01"
DEFAULT_CHANNEL = "C0GENERAL"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class SignOptions(TypedDict, total=False):
    """How to sign: `bad_signature` flips the HMAC, `age` backdates the timestamp (seconds),
    `retry_num`/`retry_reason` add Slack's re-delivery headers."""

    bad_signature: bool
    age: float
    retry_num: int
    retry_reason: str


@dataclass(frozen=True)
class HttpResult:
    """What an HTTP endpoint answered."""

    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class SignedRequest:
    """A request body exactly as sent on the wire, with its headers."""

    body: str
    headers: dict[str, str]
    options: SignOptions = field(default_factory=lambda: SignOptions())

    @property
    def payload(self) -> dict[str, Any]:
        """The body as Bolt parses it (interactivity: the JSON inside `payload=`)."""
        if self.headers["Content-Type"] == JSON:
            return json.loads(self.body)
        form = dict(parse_qsl(self.body, keep_blank_values=True))
        return json.loads(form["payload"]) if "payload" in form else form

    def post(self, url: str, timeout: float = 5.0) -> HttpResult:
        """POST to a running HTTP endpoint (e.g. http://127.0.0.1:<port>/slack/events)."""
        request = urllib.request.Request(
            url, data=self.body.encode("utf-8"), headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return HttpResult(
                    response.status, response.read().decode("utf-8"), dict(response.headers)
                )
        except urllib.error.HTTPError as error:
            return HttpResult(error.code, error.read().decode("utf-8"), dict(error.headers))

    def dispatch(self, app: App) -> BoltResponse:
        """Hand the request to a Bolt App in-process, as Bolt's HTTP adapters do."""
        from slack_bolt import BoltRequest

        return app.dispatch(BoltRequest(body=self.body, headers=dict(self.headers)))

    async def async_dispatch(self, app: AsyncApp) -> BoltResponse:
        """The same for an AsyncApp."""
        from slack_bolt.request.async_request import AsyncBoltRequest

        return await app.async_dispatch(
            AsyncBoltRequest(body=self.body, headers=dict(self.headers))
        )

    def socket_mode_request(self) -> SocketModeRequest:
        """The same delivery as a Socket Mode envelope: unsigned, payload already parsed,
        retries as retry_attempt/retry_reason (only Events API envelopes carry them)."""
        from slack_sdk.socket_mode.request import SocketModeRequest

        payload = self.payload
        if payload.get("type") == "event_callback":
            kind = "events_api"
        elif "command" in payload:
            kind = "slash_commands"
        else:
            kind = "interactive"
        retry = kind == "events_api" and "retry_num" in self.options
        return SocketModeRequest(
            type=kind,
            envelope_id=str(uuid.uuid4()),
            payload=payload,
            accepts_response_payload=kind != "events_api",
            retry_attempt=self.options["retry_num"] if retry else None,
            retry_reason=self.options.get("retry_reason", "http_timeout") if retry else None,
        )

    def dispatch_socket_mode(self, app: App) -> BoltResponse:
        """Run the envelope through Bolt's own Socket Mode glue (run_bolt_app), as
        SocketModeHandler does for each WebSocket message."""
        from slack_bolt.adapter.socket_mode.internals import run_bolt_app

        return run_bolt_app(app, self.socket_mode_request())

    async def async_dispatch_socket_mode(self, app: AsyncApp) -> BoltResponse:
        """The same for an AsyncApp (AsyncSocketModeHandler's glue)."""
        from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app

        return await run_async_bolt_app(app, self.socket_mode_request())


# -- view state values, as Slack puts them in view.state.values[block_id][action_id] ---------


def plain_text_input(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def static_select(value: str | None, text: str | None = None) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": option(value, text) if value else None}


def radio_buttons(value: str | None, text: str | None = None) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": option(value, text) if value else None}


def checkboxes(values: Sequence[str]) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [option(v) for v in values]}


def datepicker(date: str | None) -> dict[str, Any]:
    """`date` is YYYY-MM-DD, as Slack sends it; None for an optional field left empty."""
    return {"type": "datepicker", "selected_date": date}


def users_select(user_id: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user_id}


class SlackRequests:
    """Builds signed requests as one Slack workspace would send them to the app."""

    def __init__(
        self,
        signing_secret: str,
        *,
        team_id: str = "T0DPOTEST",
        team_domain: str = "dpo-test-school",
        api_app_id: str = "A0DPOBOT",
        bot_user_id: str = "U0DPOBOT",
        bot_id: str = "B0DPOBOT",
        response_base: str = "https://hooks.slack.com/actions/T0DPOTEST/",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing_secret = signing_secret
        self.team_id, self.team_domain, self.api_app_id = team_id, team_domain, api_app_id
        self.bot_user_id, self.bot_id = bot_user_id, bot_id
        self.response_base = response_base
        self.clock = clock
        self._seq = itertools.count(1)

    @classmethod
    def for_fake(cls, signing_secret: str, fake: FakeSlack, **kwargs: Any) -> SlackRequests:
        """Requests from the workspace a FakeSlack plays: same ids, response_urls to the fake."""
        return cls(
            signing_secret, team_id=fake.team_id, api_app_id=fake.app_id,
            bot_user_id=fake.bot_user_id, bot_id=fake.bot_id,
            response_base=fake.response_url(""), **kwargs,
        )

    # -- signing -----------------------------------------------------------------------------

    def signature(self, body: str, timestamp: str) -> str:
        """Slack's v0 signature of `body` at `timestamp`."""
        base = f"v0:{timestamp}:{body}".encode()
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return f"v0={digest}"

    def sign(self, body: str, content_type: str, **options: Unpack[SignOptions]) -> SignedRequest:
        """Sign a raw body; the options make the request one Bolt must refuse or a retry."""
        timestamp = str(int(self.clock() - options.get("age", 0)))
        signature = self.signature(body, timestamp)
        if options.get("bad_signature"):
            signature = signature[:-4] + ("0000" if signature[-4:] != "0000" else "1111")
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if "retry_num" in options:
            headers["X-Slack-Retry-Num"] = str(options["retry_num"])
            headers["X-Slack-Retry-Reason"] = options.get("retry_reason", "http_timeout")
        return SignedRequest(body, headers, options)

    def retry(
        self, request: SignedRequest, num: int = 1, reason: str = "http_timeout"
    ) -> SignedRequest:
        """Slack re-delivering the same body (same event_id), freshly signed, with retry headers."""
        return self.sign(
            request.body, request.headers["Content-Type"], retry_num=num, retry_reason=reason
        )

    def _form(self, fields: Mapping[str, Any], **options: Unpack[SignOptions]) -> SignedRequest:
        return self.sign(urlencode(fields), FORM, **options)

    def _interactive(
        self, payload: Mapping[str, Any], **options: Unpack[SignOptions]
    ) -> SignedRequest:
        return self.sign(urlencode({"payload": json.dumps(payload)}), FORM, **options)

    def _json(self, body: Mapping[str, Any], **options: Unpack[SignOptions]) -> SignedRequest:
        return self.sign(json.dumps(body), JSON, **options)

    # -- ids ---------------------------------------------------------------------------------

    def trigger_id(self) -> str:
        serial = f"{next(self._seq)}{secrets.randbelow(10**9)}"
        return f"{int(self.clock())}.{serial}.{secrets.token_hex(16)}"

    def ts(self) -> str:
        """A message ts, unique within this builder."""
        return f"{int(self.clock())}.{next(self._seq):06d}"

    def response_url(self) -> str:
        return f"{self.response_base}{next(self._seq)}{secrets.token_hex(6)}"

    def _user(self, user_id: str) -> dict[str, Any]:
        name = user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    # -- slash command and shortcut ----------------------------------------------------------

    def slash_command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str = DEFAULT_USER,
        channel_id: str = DEFAULT_CHANNEL,
        channel_name: str = "general",
        **options: Unpack[SignOptions],
    ) -> SignedRequest:
        """A slash command: form-encoded fields, as Slack posts them."""
        return self._form({
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url(),
            "trigger_id": self.trigger_id(),
        }, **options)

    def shortcut(
        self, callback_id: str, *, user_id: str = DEFAULT_USER, **options: Unpack[SignOptions]
    ) -> SignedRequest:
        """A global shortcut (from the lightning-bolt menu): no channel, no response_url."""
        return self._interactive({
            "type": "shortcut",
            "token": "legacy-verification-token",
            "action_ts": f"{self.clock():.6f}",
            "team": self._team(),
            "user": self._user(user_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.trigger_id(),
        }, **options)

    # -- block_actions -----------------------------------------------------------------------

    def block_actions(
        self,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str = "actions",
        action_type: str = "button",
        text: str = "Button",
        selected_option: Mapping[str, Any] | str | None = None,
        selected_date: str | None = None,
        user_id: str = DEFAULT_USER,
        channel_id: str = DEFAULT_CHANNEL,
        message: Mapping[str, Any] | None = None,
        view: Mapping[str, Any] | None = None,
        ephemeral: bool = False,
        state: Mapping[str, Mapping[str, Any]] | None = None,
        **options: Unpack[SignOptions],
    ) -> SignedRequest:
        """A click or selection on a message (default), an ephemeral message, or a view.

        Pass `message` (e.g. `fake.last("chat.postMessage").response["message"]`) to click on
        a message the bot really posted, or `view` (e.g. `fake.views[view_id]`) for a
        modal or the Home tab.
        """
        action: dict[str, Any] = {
            "type": action_type, "action_id": action_id, "block_id": block_id,
            "action_ts": f"{self.clock():.6f}",
        }
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": text, "emoji": True}
            if value is not None:
                action["value"] = value
        if isinstance(selected_option, str):
            selected_option = option(selected_option)
        if selected_option is not None:
            action["selected_option"] = dict(selected_option)
        if selected_date is not None:
            action["selected_date"] = selected_date

        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": self.trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {k: dict(v) for k, v in (state or {}).items()}},
            "actions": [action],
        }
        if view is not None:
            full_view = self._view(view)
            payload["container"] = {
                "type": "view", "view_id": full_view["id"],
            }
            payload["view"] = full_view
        else:
            ts = str((message or {}).get("ts") or self.ts())
            payload["container"] = {
                "type": "message", "message_ts": ts, "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
            if not ephemeral:  # Slack does not echo an ephemeral message back
                payload["message"] = {
                    "type": "message", "user": self.bot_user_id, "bot_id": self.bot_id,
                    "app_id": self.api_app_id, "team": self.team_id, "text": "", "blocks": [],
                    **(message or {}), "ts": ts,
                }
            payload["response_url"] = self.response_url()
        return self._interactive(payload, **options)

    # -- view_submission ---------------------------------------------------------------------

    def _view(self, view: Mapping[str, Any]) -> dict[str, Any]:
        """A view as Slack echoes it back: Slack's fields filled in around the app's."""
        view_id = view.get("id") or "V" + secrets.token_hex(5).upper()
        return {
            "id": view_id, "team_id": self.team_id, "type": "modal", "blocks": [],
            "private_metadata": "", "callback_id": "", "external_id": "",
            "state": {"values": {}}, "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": "DPO bot", "emoji": True},
            "clear_on_close": False, "notify_on_close": False, "close": None, "submit": None,
            "previous_view_id": None, "root_view_id": view_id, "app_id": self.api_app_id,
            "app_installed_team_id": self.team_id, "bot_id": self.bot_id,
            **view,
        }

    def view_submission(
        self,
        callback_id: str | None = None,
        values: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        view: Mapping[str, Any] | None = None,
        private_metadata: str | None = None,
        view_id: str | None = None,
        view_hash: str | None = None,
        user_id: str = DEFAULT_USER,
        response_urls: Sequence[Mapping[str, Any]] = (),
        **options: Unpack[SignOptions],
    ) -> SignedRequest:
        """A modal's Submit. `values` maps block_id -> action_id -> a state value (use
        plain_text_input(), static_select(), datepicker()...; a bare str means a text input).

        Pass `view` (e.g. `fake.views[view_id]`, the modal the app opened) to submit that very
        modal; a selected option then carries the option text the modal offered.
        """
        base: dict[str, Any] = dict(view or {})
        if callback_id is not None:
            base["callback_id"] = callback_id
        assert base.get("callback_id"), "a view_submission needs a callback_id or a view"
        if private_metadata is not None:
            base["private_metadata"] = private_metadata
        if view_id is not None:
            base["id"] = view_id
        if view_hash is not None:
            base["hash"] = view_hash
        full_view = self._view(base)
        full_view["state"] = {"values": _state(values or {}, full_view.get("blocks") or [])}
        return self._interactive({
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": self.trigger_id(),
            "view": full_view,
            "response_urls": [dict(r) for r in response_urls],
            "is_enterprise_install": False,
            "enterprise": None,
        }, **options)

    # -- Events API --------------------------------------------------------------------------

    def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        **options: Unpack[SignOptions],
    ) -> SignedRequest:
        """Wrap an event in Slack's `event_callback` envelope (a fresh event_id by default)."""
        now = int(self.clock())
        return self._json({
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": event_time if event_time is not None else now,
            "authorizations": [{
                "enterprise_id": None, "team_id": self.team_id, "user_id": self.bot_user_id,
                "is_bot": True, "is_enterprise_install": False,
            }],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_hex(12),
        }, **options)

    def app_home_opened(
        self,
        user_id: str = DEFAULT_USER,
        *,
        tab: str = "home",
        view: Mapping[str, Any] | None = None,
        **options: Unpack[SignOptions],
    ) -> SignedRequest:
        """The user opened the app's Home (or Messages) tab; `view` is the last published one."""
        event: dict[str, Any] = {
            "type": "app_home_opened", "user": user_id, "channel": dm_channel_id(user_id),
            "tab": tab, "event_ts": f"{self.clock():.6f}",
        }
        if view is not None:
            event["view"] = self._view({"type": "home", **view})
        return self.event(event, **options)

    def message_im(
        self,
        text: str,
        *,
        user_id: str = DEFAULT_USER,
        channel_id: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
        from_bot: bool = False,
        **options: Unpack[SignOptions],
    ) -> SignedRequest:
        """A direct message to the bot (message.im). `from_bot` makes it the bot's own echo,
        which Bolt's IgnoringSelfEvents middleware drops."""
        ts = ts or self.ts()
        event: dict[str, Any] = {
            "type": "message", "text": text, "ts": ts, "event_ts": ts,
            "channel": channel_id or dm_channel_id(user_id), "channel_type": "im",
            "team": self.team_id,
            "blocks": [{
                "type": "rich_text", "block_id": secrets.token_hex(2),
                "elements": [{"type": "rich_text_section",
                              "elements": [{"type": "text", "text": text}]}],
            }],
        }
        if from_bot:
            event.update(user=self.bot_user_id, bot_id=self.bot_id, app_id=self.api_app_id)
        else:
            event.update(user=user_id, client_msg_id=str(uuid.uuid4()))
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return self.event(event, **options)

    def url_verification(
        self, challenge: str = "challenge-token", **options: Unpack[SignOptions]
    ) -> SignedRequest:
        """Slack checking the Events API Request URL; Bolt echoes the challenge."""
        return self._json({
            "token": "legacy-verification-token", "challenge": challenge,
            "type": "url_verification",
        }, **options)

    def ssl_check(self, **options: Unpack[SignOptions]) -> SignedRequest:
        """Slack checking the slash-command URL's certificate; Bolt answers 200, empty."""
        return self._form({"token": "legacy-verification-token", "ssl_check": "1"}, **options)


def _state(
    values: Mapping[str, Mapping[str, Any]], blocks: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """view.state.values, with selected options replaced by the modal's own option objects."""
    offered: dict[tuple[str, str, str], Any] = {}
    for block in blocks:
        element = block.get("element") or block.get("accessory") or {}
        for opt in element.get("options") or []:
            offered[(block.get("block_id", ""), element.get("action_id", ""), opt["value"])] = opt
    state: dict[str, dict[str, Any]] = {}
    for block_id, actions in values.items():
        state[block_id] = {}
        for action_id, value in actions.items():
            entry = plain_text_input(value) if isinstance(value, str) else dict(value)
            chosen = entry.get("selected_option")
            if chosen and (block_id, action_id, chosen["value"]) in offered:
                entry["selected_option"] = offered[(block_id, action_id, chosen["value"])]
            state[block_id][action_id] = entry
    return state


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_bolt_app(app: App, path: str = "/slack/events") -> Iterator[str]:
    """Serve a Bolt App over real HTTP on 127.0.0.1 (ephemeral port) with Bolt's own WSGI
    adapter; yields the endpoint URL and stops the server on exit."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    server = make_server(
        "127.0.0.1", 0, SlackRequestHandler(app, path=path),
        server_class=_ThreadingWSGIServer, handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_async_bolt_app(app: AsyncApp, path: str = "/slack/events") -> Iterator[str]:
    """Serve an AsyncApp with Bolt's aiohttp server (the production HTTP mode) on 127.0.0.1,
    in its own event loop thread; yields the endpoint URL and stops it on exit."""
    from aiohttp import web

    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app.web_app(path=path), access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
