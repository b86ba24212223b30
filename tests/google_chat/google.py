"""A local stand-in for Google, so the real Google Chat adapter can be driven offline.

One HTTP server on 127.0.0.1 plays three parts:

- the certificates Chat's tokens are checked against (``/certs``, ``{key id: PEM}`` as
  Google publishes them): tokens are RS256 JWTs signed here with google-auth's own signer,
  and the adapter's real check (signature, audience, issuer) runs against them;
- Google's OAuth token endpoint, where the app's service account (its key made here) gets
  its access token;
- the Chat REST API: messages created and updated, recorded; a space can be made to refuse
  (403/404, as for a person who removed the app).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt
from google.auth import jwt as google_jwt

CHAT = "chat@system.gserviceaccount.com"
KID = "chat-test-key"
PROJECT = "123456789012"
MESSAGES = re.compile(r"^/v1/(spaces/[^/]+)/messages$")
MESSAGE = re.compile(r"^/v1/(spaces/[^/]+/messages/[^/]+)$")


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def certificate(key: rsa.RSAPrivateKey, name: str) -> str:
    """A self-signed x509 certificate for ``key``, as Google publishes its signing keys."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Call:
    method: str
    path: str
    body: Any
    authorization: str | None


class Google:
    def __init__(self, folder: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signer = crypt.RSASigner.from_string(pem(self.key), KID)
        self.certs = {KID: certificate(self.key, CHAT)}
        self.calls: list[Call] = []
        self.refusing: dict[str, int] = {}  # space -> the status Chat answers for it
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        app_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.credentials = folder / "service-account.json"
        self.credentials.write_text(json.dumps({
            "type": "service_account", "project_id": "dpo-bot-test",
            "private_key_id": "sa-key", "private_key": pem(app_key).decode(),
            "client_email": "dpo-bot@dpo-bot-test.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": f"{self.url}/token"}))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def token(self, **claims: Any) -> str:
        """A token as Chat signs one for an app whose audience is the project number."""
        now = int(time.time())
        body = {"iss": CHAT, "aud": PROJECT, "iat": now - 10, "exp": now + 3600} | claims
        return google_jwt.encode(self.signer, body).decode()

    def sent(self, space: str | None = None) -> list[dict[str, Any]]:
        """Messages the app created (in one space, if given)."""
        with self.lock:
            return [c.body for c in self.calls if c.method == "POST"
                    and (found := MESSAGES.match(c.path))
                    and (space is None or found.group(1) == space)]

    def updated(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(c.path, c.body) for c in self.calls if c.method == "PATCH"]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        google = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def answer(self, body: Any, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self) -> Any:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    return json.loads(raw or b"null")
                except ValueError:
                    return raw.decode()

            def do_GET(self) -> None:
                if self.path == "/certs":
                    return self.answer(google.certs)
                self.answer({"error": "not found"}, 404)

            def do_POST(self) -> None:
                path, body = self.path.split("?")[0], self.body()
                if path == "/token":
                    return self.answer({"access_token": "app-test-token",
                                        "token_type": "Bearer", "expires_in": 3600})
                if found := MESSAGES.match(path):
                    if not self._authorised():
                        return self.answer({"error": "unauthenticated"}, 401)
                    with google.lock:
                        google.calls.append(Call("POST", path, body,
                                                 self.headers.get("Authorization")))
                    refused = google.refusing.get(found.group(1))
                    if refused:
                        return self.answer({"error": {"code": refused}}, refused)
                    return self.answer({"name": f"{found.group(1)}/messages/"
                                                f"{uuid.uuid4().hex[:12]}", **body})
                self.answer({"error": "not found"}, 404)

            def do_PATCH(self) -> None:
                path, body = self.path.split("?")[0], self.body()
                if not MESSAGE.match(path) or not self._authorised():
                    return self.answer({"error": "not found"}, 404)
                with google.lock:
                    google.calls.append(Call("PATCH", self.path, body,
                                             self.headers.get("Authorization")))
                self.answer({"name": path[4:], **body})

            def _authorised(self) -> bool:
                return self.headers.get("Authorization") == "Bearer app-test-token"

        return Handler


def user(who: str, email: str | None = None, kind: str = "HUMAN") -> dict[str, Any]:
    return {"name": f"users/{who}", "displayName": who.title(), "type": kind,
            "email": email if email is not None else f"{who}@hillside.sch.uk",
            "domainId": "hillside"}


def dm(who: str) -> dict[str, Any]:
    return {"name": f"spaces/dm-{who}", "type": "DM", "spaceType": "DIRECT_MESSAGE",
            "singleUserBotDm": True}


def message_event(who: str, text: str, *, sender: Mapping[str, Any] | None = None,
                  space: Mapping[str, Any] | None = None, name: str | None = None
                  ) -> dict[str, Any]:
    """A message as Chat posts it to an HTTP app."""
    where = dict(space or dm(who))
    author = dict(sender or user(who))
    return {"type": "MESSAGE", "eventTime": dt.datetime.now(dt.UTC).isoformat(),
            "space": where, "user": author,
            "message": {"name": name or f"{where['name']}/messages/{uuid.uuid4().hex[:10]}",
                        "text": text, "argumentText": text, "sender": author,
                        "space": where},
            "common": {"hostApp": "CHAT"}}


def click_event(who: str, button: Mapping[str, Any], *, submit: bool = False,
                inputs: Mapping[str, Any] | None = None, message: str | None = None,
                sender: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A click on ``button``: a dialog request for one that opens a dialog, a submission
    (``submit``) for a dialog's own button, with ``inputs`` as ``common.formInputs``."""
    action = button["onClick"]["action"]
    parameters = action.get("parameters", [])
    event: dict[str, Any] = {
        "type": "CARD_CLICKED", "eventTime": dt.datetime.now(dt.UTC).isoformat(),
        "space": dm(who), "user": dict(sender or user(who)),
        "action": {"actionMethodName": action["function"], "parameters": parameters},
        "common": {"hostApp": "CHAT", "invokedFunction": action["function"],
                   "parameters": {p["key"]: p["value"] for p in parameters}}}
    if message:
        event["message"] = {"name": message}
    if action.get("interaction") == "OPEN_DIALOG":
        event |= {"isDialogEvent": True, "dialogEventType": "REQUEST_DIALOG"}
    if submit:
        event |= {"isDialogEvent": True, "dialogEventType": "SUBMIT_DIALOG"}
        event["common"]["formInputs"] = dict(inputs or {})
    return event
