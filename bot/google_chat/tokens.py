"""Whether a request comes from Google Chat for this app: the bearer token's signature,
audience and issuer, checked with ``google-auth``.

Two kinds of token, as the app's "Authentication Audience" says
(https://developers.google.com/workspace/chat/verify-requests-from-chat):

- project number: a JWT that Chat's own service account signs, issuer
  ``chat@system.gserviceaccount.com``, audience the project number, keys published at
  ``…/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com``;
- HTTP endpoint URL: a Google-signed OpenID Connect ID token, issuer accounts.google.com,
  audience the URL, ``email`` ``chat@system.gserviceaccount.com`` and verified.

The certificates are fetched at most every few minutes, and at once when a token names a
key not among them (Google rotates its keys).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

from google.auth import exceptions, jwt
from google.auth.transport import requests as google_requests

from bot.google_chat.settings import GoogleChatSettings

CHAT = "chat@system.gserviceaccount.com"
CHAT_CERTS = ("https://www.googleapis.com/service_accounts/v1/metadata/x509/"
              "chat@system.gserviceaccount.com")
GOOGLE_CERTS = "https://www.googleapis.com/oauth2/v1/certs"
ID_TOKEN_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
KEEP_CERTS = 300.0  # seconds
# A token naming a key we lack fetches the certificates again, at most this often: forged
# tokens with made-up key ids must not make every request a call to Google.
REFETCH_AFTER = 30.0
SKEW = 10  # seconds of clock difference allowed either way


class Unverified(Exception):
    """Not a token Google Chat issued for this app (never says which check failed to the
    caller: the log line does)."""


class Verifier:
    def __init__(self, settings: GoogleChatSettings) -> None:
        self.settings = settings
        self.url = settings.certs_url or (CHAT_CERTS if settings.by_project_number
                                          else GOOGLE_CERTS)
        self._request = google_requests.Request()
        self._certs: Mapping[str, str] = {}
        self._fetched = 0.0
        self._lock = threading.Lock()

    def certs(self, *, fresh: bool = False) -> Mapping[str, str]:
        with self._lock:
            age = time.monotonic() - self._fetched
            if not self._certs or age > KEEP_CERTS or (fresh and age > REFETCH_AFTER):
                response = self._request(self.url, method="GET")
                if response.status != 200:
                    raise Unverified(f"the certificates could not be fetched ({response.status})")
                self._certs = json.loads(response.data)
                self._fetched = time.monotonic()
            return self._certs

    def verify(self, authorization: str | None) -> Mapping[str, Any]:
        """The token's claims; raises ``Unverified`` for anything else. Blocking (it may
        fetch certificates): call it off the event loop."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unverified("no bearer token")
        token = token.strip()
        key_id = _key_id(token)
        certs = self.certs()
        if key_id not in certs:
            certs = self.certs(fresh=True)
        try:
            claims: Mapping[str, Any] = jwt.decode(token, certs=certs,
                                                   audience=self.settings.audience,
                                                   clock_skew_in_seconds=SKEW)
        except (ValueError, exceptions.GoogleAuthError) as error:
            raise Unverified(f"rejected: {error.__class__.__name__}") from error
        if self.settings.by_project_number:
            if claims.get("iss") != CHAT:
                raise Unverified("not issued by Google Chat")
        elif (claims.get("iss") not in ID_TOKEN_ISSUERS or claims.get("email") != CHAT
              or claims.get("email_verified") is not True):
            raise Unverified("not an ID token of Google Chat's")
        return claims


def _key_id(token: str) -> str:
    """The key a token says it is signed with (its header, before any check)."""
    try:
        header = token.split(".", 1)[0]
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except ValueError as error:
        raise Unverified("not a JWT") from error
    kid = decoded.get("kid") if isinstance(decoded, dict) else None
    if not isinstance(kid, str):
        raise Unverified("no key id")
    return kid
