"""A fake Slack Web API on 127.0.0.1 that records every call.

The bot talks to it through a real slack_sdk WebClient (`WebClient(base_url=fake.url)`, which
the app gets from SLACK_API_URL), so the requests, the retry handlers and the JSON bodies are
the real ones. Responses are shaped like Slack's, and the fake refuses what Slack would refuse:
a bad or missing token, a missing channel or view, a stale view hash, blocks that break
Block Kit limits. Bolt runs listeners in worker threads after ack(), so tests should use
`wait_for()` rather than assert on calls straight after a dispatch.

Usage:
    with FakeSlack(users={"U0DPO": {"name": "dpo", "email": "dpo@school.example"}}) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        client.chat_postMessage(channel="C1", text="hi")
        assert fake.last("chat.postMessage").args["text"] == "hi"
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .limits import check_api_call

# Arguments that slack_sdk form-encodes as JSON strings; parsed back so tests see objects.
JSON_ARGS = {"blocks", "attachments", "view", "metadata", "user_auth_blocks", "files"}

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def dm_channel_id(user_id: str) -> str:
    """The DM channel id the fake gives a user: stable, and D-prefixed like Slack's."""
    return "D" + user_id[1:] if user_id[:1] in ("U", "W") else "D" + user_id


@dataclass(frozen=True)
class Call:
    """One recorded request: what the bot sent and what the fake answered."""

    method: str  # "chat.postMessage", or "response_url" for posts to a response_url
    args: dict[str, Any]  # form, query or JSON arguments; JSON-in-form values parsed
    headers: dict[str, str]  # lower-cased names, e.g. headers["authorization"]
    path: str
    token: str | None  # from "Authorization: Bearer", else a `token` argument
    status: int
    response: Any  # the body answered (a dict, or "ok" for response_url)
    at: float = field(default_factory=time.time)  # when it arrived (a benchmark's latency)


@dataclass
class _Injected:
    times: int
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    """Threaded fake Web API; a context manager that binds 127.0.0.1 on an ephemeral port."""

    def __init__(
        self,
        *,
        team_id: str = "T0DPOTEST",
        team: str = "DPO Test School",
        bot_user_id: str = "U0DPOBOT",
        bot_id: str = "B0DPOBOT",
        app_id: str = "A0DPOBOT",
        users: Mapping[str, Mapping[str, Any]] | None = None,
        bad_tokens: Iterable[str] = (),
        validate_blocks: bool = True,
    ) -> None:
        self.team_id, self.team = team_id, team
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.validate_blocks = validate_blocks
        self.users: dict[str, dict[str, Any]] = {}
        for user_id, info in (users or {}).items():
            self.add_user(user_id, **info)
        self.bad_tokens: set[str] = set(bad_tokens)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view as Slack stores it
        self.home_views: dict[str, str] = {}  # user id -> id of the published home view
        # files_upload_v2: file id -> what was uploaded, and where it was shared once completed
        self.files: dict[str, dict[str, Any]] = {}
        self._calls: list[Call] = []
        self._injected: dict[str, list[_Injected]] = {}
        self._handlers: dict[str, Handler] = {}
        self._delays: dict[str, float] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ts = itertools.count(1)
        self._epoch = int(time.time())
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class _Handler(_RequestHandler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root(self) -> str:
        """http://127.0.0.1:<port>/ — the server itself."""
        assert self._server is not None, "FakeSlack is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def url(self) -> str:
        """The Web API base URL, ending in '/', for WebClient(base_url=...) and SLACK_API_URL."""
        return self.root + "api/"

    def response_url(self, key: str = "1") -> str:
        """A response_url that posts back to this fake (recorded as method 'response_url')."""
        return f"{self.root}response/{key}"

    # -- configuration -----------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        email: str | None = None,
        **extra: Any,
    ) -> None:
        """Add a user to the directory that users.info and users.lookupByEmail answer from."""
        name = name or user_id.lower()
        real_name = real_name or name
        profile = {"real_name": real_name, "display_name": name, "email": email}
        profile.update(extra.pop("profile", {}))
        self.users[user_id] = {
            "id": user_id, "team_id": self.team_id, "name": name, "real_name": real_name,
            "deleted": False, "is_bot": False, "is_admin": False, "tz": "Europe/London",
            "profile": profile, **extra,
        }

    def reject_token(self, token: str) -> None:
        """Answer invalid_auth to every call made with this token."""
        self.bad_tokens.add(token)

    def ratelimit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer HTTP 429 with Retry-After to the next `times` calls of `method`."""
        self._inject(method, _Injected(
            times, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        ))

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer {"ok": false, "error": error} to the next `times` calls of `method`."""
        self._inject(method, _Injected(times, 200, {"ok": False, "error": error}))

    def slow(self, method: str, seconds: float) -> None:
        """Answer every call of `method` after `seconds` (a Slack under load)."""
        self._delays[method] = seconds

    def on(self, method: str, handler: Handler) -> None:
        """Answer `method` with handler(args) — for a method the fake does not implement."""
        self._handlers[method] = handler

    def _inject(self, method: str, injected: _Injected) -> None:
        with self._lock:
            self._injected.setdefault(method, []).append(injected)

    def acked_update(self, view_id: str, view: dict[str, Any], updates_before: int) -> None:
        """Slack applying a submission's ack ``response_action: update``: the modal replaced,
        with a new hash, so a ``views.update`` carrying the submitted view's hash is refused
        as stale. Skipped if the app updated the view since (``updates_before`` updates
        then): Slack had the ack first."""
        with self._lock:
            if sum(1 for c in self._calls if c.method == "views.update"
                   and c.args.get("view_id") == view_id) == updates_before:
                self._store_view(view, view_id)

    # -- inspection --------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call so far (of one method, if given), oldest first."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def count(self, method: str) -> int:
        return len(self.calls(method))

    def last(self, method: str) -> Call:
        """The latest call of `method`; fails the test if there was none."""
        found = self.calls(method)
        assert found, f"no {method} call; calls were: {[c.method for c in self.calls()]}"
        return found[-1]

    def clear(self) -> None:
        """Forget recorded calls (state such as messages and views is kept)."""
        with self._lock:
            self._calls.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        """Wait until at least `count` calls of `method` arrived (Bolt calls after ack()).

        Returns as soon as they have; the timeout only bounds a failure, so it is generous:
        worker processes starting on a busy 2-core machine took more than 3 s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.calls(method)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} {method} call(s) within {timeout}s, got "
                        f"{len(self.calls(method))}; calls were: {[c.method for c in self._calls]}"
                    )
                self._changed.wait(remaining)
            return self.calls(method)

    def filled(self, opened: Call, timeout: float = 30.0) -> dict[str, Any]:
        """The modal ``opened`` (a views.open call) once the app has filled it: the bot
        opens a light one at once and updates it after its look-ups."""
        view_id = opened.response["view"]["id"]
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(c.args.get("view_id") == view_id for c in self.calls("views.update")):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"modal {view_id} was never filled; calls were: "
                                         f"{[c.method for c in self._calls]}")
                self._changed.wait(remaining)
            return self.views[view_id]

    # -- request handling (called from server threads) ---------------------------------------

    def _record(self, call: Call) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()

    def _take_injected(self, method: str) -> _Injected | None:
        with self._lock:
            queue = self._injected.get(method) or []
            if not queue:
                return None
            injected = queue[0]
            injected.times -= 1
            if injected.times <= 0:
                queue.pop(0)
            return injected

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        injected = self._take_injected(method)
        if injected is not None:
            return injected.status, dict(injected.body), dict(injected.headers)
        if token is None:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token in self.bad_tokens:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method in self._handlers:
            return 200, self._handlers[method](args), {}
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        elif token.startswith("xapp-") and method not in ("auth.test", "api.test"):
            return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        if self.validate_blocks:
            try:
                check_api_call(method, args)
            except AssertionError as error:
                code = "invalid_arguments" if method.startswith("views.") else "invalid_blocks"
                return 200, {
                    "ok": False, "error": code,
                    "response_metadata": {"messages": [f"[ERROR] {error}"]},
                }, {}
        implementation = getattr(self, "_m_" + method.replace(".", "_"), None)
        if implementation is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        with self._lock:
            return 200, implementation(args, token), {}

    def _next_ts(self) -> str:
        return f"{self._epoch}.{next(self._ts):06d}"

    # -- Web API methods ---------------------------------------------------------------------

    def _m_api_test(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "args": args}

    def _m_auth_test(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = {
            "ok": True, "url": "https://dpo-test-school.slack.com/", "team": self.team,
            "team_id": self.team_id, "is_enterprise_install": False,
        }
        if token.startswith("xoxb-"):
            body.update(user="dpo-bot", user_id=self.bot_user_id, bot_id=self.bot_id)
        elif token.startswith("xapp-"):
            body.update(app_id=self.app_id)
        else:
            body.update(user="installer", user_id="U0INSTALL")
        return body

    def _m_apps_connections_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        # Nothing listens there: Socket Mode tests dispatch to the app directly.
        port = self.root.rsplit(":", 1)[1].rstrip("/")
        return {"ok": True, "url": f"ws://127.0.0.1:{port}/link/?ticket={secrets.token_hex(8)}"}

    def _channel(self, args: dict[str, Any]) -> str | None:
        channel = args.get("channel")
        if not channel:
            return None
        # Posting to a user id lands in the DM with that user, as on Slack.
        return dm_channel_id(channel) if channel[:1] in ("U", "W") else channel

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message = {
            "type": "message", "user": self.bot_user_id, "bot_id": self.bot_id,
            "app_id": self.app_id, "team": self.team_id, "ts": ts,
            "text": args.get("text", ""),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in args:
                message[key] = args[key]
        return message

    def _m_chat_postMessage(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._channel(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message = self._message(args, ts)
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_update(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, ts = self._channel(args), args.get("ts")
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        message = self._message(args, str(ts))
        self.messages[(channel, str(ts))] = message
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"],
                "message": message}

    def _m_chat_postEphemeral(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        if self._channel(args) is None:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_conversations_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) == 1:
            channel: dict[str, Any] = {"id": dm_channel_id(users[0])}
            if args.get("return_im") in (True, "true", "1"):
                channel.update(is_im=True, user=users[0], created=self._epoch)
            return {"ok": True, "channel": channel, "no_op": False, "already_open": False}
        return {"ok": True, "channel": {"id": "G" + "".join(u[-3:] for u in users)[:10]}}

    def _store_view(self, view: dict[str, Any], view_id: str, **extra: Any) -> dict[str, Any]:
        previous = self.views.get(view_id, {})
        stored = {
            "id": view_id, "team_id": self.team_id, "type": view.get("type", "modal"),
            "blocks": [], "private_metadata": "", "callback_id": "", "external_id": "",
            "state": {"values": {}}, "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": False, "notify_on_close": False,
            "root_view_id": previous.get("root_view_id", view_id),
            "previous_view_id": previous.get("previous_view_id"),
            "app_id": self.app_id, "app_installed_team_id": self.team_id, "bot_id": self.bot_id,
            **view, **extra,
        }
        stored["id"] = view_id
        self.views[view_id] = stored
        return stored

    def _new_view_id(self) -> str:
        return "V" + secrets.token_hex(5).upper()

    def _m_views_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(args.get("view"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._store_view(args["view"], self._new_view_id())}

    def _m_views_push(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        return self._m_views_open(args, token)  # the modal stack itself is not modelled

    def _m_views_update(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        if not isinstance(args.get("view"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (v["id"] for v in self.views.values()
                 if v.get("external_id") == args["external_id"]),
                None,
            )
            if view_id is None:
                return {"ok": False, "error": "not_found"}
        if not view_id:
            return {"ok": False, "error": "invalid_arguments"}
        known = self.views.get(view_id)
        # Unknown ids are accepted: tests often update a view from a hand-built payload.
        if known is not None and args.get("hash") and args["hash"] != known["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._store_view(args["view"], view_id)}

    def _m_views_publish(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(args.get("view"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = self.home_views.get(user_id) or self._new_view_id()
        known = self.views.get(view_id)
        if known is not None and args.get("hash") and args["hash"] != known["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        self.home_views[user_id] = view_id
        return {"ok": True, "view": self._store_view(args["view"], view_id)}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.files) + 1:08d}"
        self.files[file_id] = {"filename": args["filename"], "length": int(args["length"]),
                               "content": None, "channel": None, "title": None}
        return {"ok": True, "upload_url": f"{self.root}upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any],
                                        token: str) -> dict[str, Any]:
        done = []
        for item in args.get("files") or []:
            stored = self.files.get(item.get("id", ""))
            if stored is None or stored["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            stored.update(channel=args.get("channel_id"), title=item.get("title"))
            done.append({"id": item["id"], "name": stored["filename"], "title": item.get("title")})
        return {"ok": True, "files": done}

    def uploaded(self, file_id: str, content: bytes) -> tuple[int, str]:
        """The file's bytes POSTed to its upload URL (as Slack's own upload host takes them)."""
        with self._lock:
            stored = self.files.get(file_id)
            if stored is None:
                return 404, "not_found"
            stored["content"] = content
            return 200, f"OK - {len(content)}"

    def _m_users_info(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        user = self.users.get(str(args.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _m_users_lookupByEmail(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.users.values():
            if str(user["profile"].get("email") or "").lower() == email:
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}


class _RequestHandler(BaseHTTPRequestHandler):
    """Parses one request, asks the owning FakeSlack for the answer, records both."""

    owner: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if parts.path.startswith("/upload/"):
            # A file's bytes, not form arguments: a .docx is not UTF-8.
            status, text = self.owner.uploaded(parts.path[len("/upload/"):], data)
            self.owner._record(Call("upload", {"length": len(data)},
                                    {k.lower(): v for k, v in self.headers.items()},
                                    parts.path, None, status, {"ok": status == 200}))
            reply = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            return
        raw = data.decode("utf-8")
        headers = {k.lower(): v for k, v in self.headers.items()}
        args: dict[str, Any] = {}
        token: str | None = None
        method = parts.path
        try:
            args = _parse_args(parts.query, raw, headers.get("content-type", ""))
            auth = headers.get("authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else args.get("token")
            if parts.path.startswith("/response/"):
                method, status, body, extra = "response_url", 200, "ok", {}
            elif parts.path.startswith("/api/"):
                method = parts.path[len("/api/"):]
                time.sleep(self.owner._delays.get(method, 0))
                status, body, extra = self.owner._answer(method, args, token)
            else:
                status, body, extra = 404, {"ok": False, "error": "not_found"}, {}
        except Exception as error:  # a bug in the fake or a malformed request: say so loudly
            status, body, extra = 500, {"ok": False, "error": f"fake_slack: {error!r}"}, {}

        self.owner._record(Call(method, args, headers, parts.path, token, status, body))
        data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        content_type = "text/plain" if isinstance(body, str) else "application/json"
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _parse_args(query: str, raw: str, content_type: str) -> dict[str, Any]:
    """Arguments as Slack reads them: query string, then a JSON or form body."""
    args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
    if raw:
        if "json" in content_type or raw.lstrip().startswith("{"):
            args.update(json.loads(raw))
        else:
            args.update({k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()})
    for key in JSON_ARGS & args.keys():
        value = args[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            args[key] = json.loads(value)
    return args
