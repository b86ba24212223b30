"""A local stand-in for Microsoft, so a real `dpo-bot teams` process can be driven offline.

One HTTPS server on 127.0.0.1 (its own self-signed certificate, trusted by the bot's process
through SSL_CERT_FILE and REQUESTS_CA_BUNDLE) plays three parts:

- the Bot Framework's signing keys (``/keys``): tokens are RS256 JWTs signed by a key made
  here, and the bot's process checks them with the SDK's real check (signature, audience,
  issuer) against these keys (``DPO_BOT_TEAMS_TEST_KEYS_URL``, a setting only tests use);
- Entra's token service for the bot's own outbound token (an ADFS-style authority, which
  msal discovers from ``/adfs/.well-known/openid-configuration``);
- the Bot Connector (the activity's ``serviceUrl``): replies and member look-ups, recorded.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from ssl import PROTOCOL_TLS_SERVER, SSLContext
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .harness import CLIENT_ID, ENV, TENANT_ID

ISSUER = "https://api.botframework.com"  # what the Bot Framework's tokens say
KID = "dpo-bot-test-key"
MEMBER = re.compile(r"^/teams/v3/conversations/([^/]+)/members/([^/]+)$")
SEND = re.compile(r"^/teams/v3/conversations/([^/]+)/activities(?:/([^/]+))?$")


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "microsoft.pem", folder / "microsoft.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@dataclass
class Call:
    method: str
    path: str
    body: Any
    at: float = field(default_factory=time.time)  # when it arrived (a benchmark's latency)


class Microsoft:
    """The stand-in, serving until closed. ``slow`` delays each reply sent to a chat, as a
    busy Bot Connector does."""

    def __init__(self, folder: Path, *, members: Mapping[str, Mapping[str, str]] = {},
                 slow: float = 0.0) -> None:
        self.cert, cert_key = self_signed(folder)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.members, self.slow = dict(members), slow
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        context = SSLContext(PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, cert_key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.server.daemon_threads = True
        # Each connection's handshake in its own request thread, not in the one accepting
        # them all: a bot opening connections in parallel would otherwise queue on it.
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.service_url = f"{self.url}/teams/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Microsoft:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- what the bot's process needs ---------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The bot's Teams settings, pointed here (the certificate trusted, the keys too)."""
        return ENV | {
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__AUTHORITY": f"{self.url}/adfs",
            "DPO_BOT_TEAMS_TEST_KEYS_URL": f"{self.url}/keys",
            "SSL_CERT_FILE": str(self.cert), "REQUESTS_CA_BUNDLE": str(self.cert),
        }

    def token(self, **claims: Any) -> str:
        """A token as the Bot Framework signs one for this bot (``claims`` override)."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": CLIENT_ID, "serviceurl": self.service_url,
                "nbf": now - 60, "iat": now - 60, "exp": now + 3600} | claims
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": KID})

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [public | {"kid": KID, "use": "sig", "alg": "RS256"}]}

    def activity(self, who: str, **fields: Any) -> dict[str, Any]:
        """An activity from ``who`` in their personal chat, as Teams posts it."""
        return {
            "type": "message", "id": f"1{uuid.uuid4().int % 10**15:015d}",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(), "channelId": "msteams",
            "serviceUrl": self.service_url, "locale": "en-GB",
            "from": {"id": f"29:{who}", "name": who.title(), "aadObjectId": f"aad-{who}"},
            "recipient": {"id": f"28:{CLIENT_ID}", "name": "DPO Bot"},
            "conversation": {"id": f"a:personal-{who}", "conversationType": "personal",
                             "tenantId": TENANT_ID},
            "channelData": {"tenant": {"id": TENANT_ID}},
        } | fields

    # -- what was sent here -------------------------------------------------------------------

    def sent(self, conversation: str | None = None) -> list[Call]:
        """Activities the bot posted (to one conversation, if given)."""
        with self.lock:
            return [c for c in self.calls if c.method == "POST" and SEND.match(c.path)
                    and (conversation is None or SEND.match(c.path).group(1) == conversation)]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        microsoft = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:  # the test reads ``calls`` instead
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
                if "json" in (self.headers.get("Content-Type") or ""):
                    return json.loads(raw or b"null")
                return raw.decode()

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/keys":
                    return self.answer(microsoft.jwks())
                if path == "/adfs/.well-known/openid-configuration":
                    return self.answer({
                        "issuer": f"{microsoft.url}/adfs",
                        "authorization_endpoint": f"{microsoft.url}/adfs/oauth2/authorize",
                        "token_endpoint": f"{microsoft.url}/adfs/oauth2/token"})
                if found := MEMBER.match(path):
                    microsoft.record("GET", path, None)
                    who = found.group(2)
                    return self.answer({"id": who, "objectId": f"aad-{who[3:]}",
                                        "tenantId": TENANT_ID, "userRole": "user",
                                        **microsoft.members.get(who, {})})
                self.answer({"error": "not found"}, 404)

            def do_POST(self) -> None:
                path, body = self.path.split("?")[0], self.body()
                if path == "/adfs/oauth2/token":
                    return self.answer({"access_token": "outbound-test-token",
                                        "token_type": "Bearer", "expires_in": 3600})
                if SEND.match(path):
                    time.sleep(microsoft.slow)
                    microsoft.record("POST", path, body)
                    return self.answer({"id": f"sent-{uuid.uuid4().hex[:12]}"})
                self.answer({"error": "not found"}, 404)

            def do_PUT(self) -> None:
                microsoft.record("PUT", self.path, self.body())
                self.answer({"id": self.path.rsplit("/", 1)[-1]})

        return Handler

    def record(self, method: str, path: str, body: Any) -> None:
        with self.lock:
            self.calls.append(Call(method, path, body))


def walk(node: Any) -> Iterator[Any]:
    """Every value in a JSON tree (for reading a card's words)."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)
