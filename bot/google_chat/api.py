"""The Chat REST API, as the app: messages sent first (reminders, alerts, a saved case) and
messages updated (a decision taken in a dialog).

Authenticated with the app's service account (scope ``chat.bot``) through google-auth's
``AuthorizedSession``, which fetches and renews the access token itself. Blocking: called
off the event loop. Reference:
https://developers.google.com/workspace/chat/api/reference/rest/v1/spaces.messages
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from bot.google_chat.settings import GoogleChatSettings

log = logging.getLogger(__name__)
SCOPE = "https://www.googleapis.com/auth/chat.bot"
TIMEOUT = 30.0


class ChatApiError(Exception):
    """Chat refused a call: its HTTP status, and how long it asked us to wait, if it did."""

    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"the Chat API answered {status}")
        self.status, self.retry_after = status, retry_after


class ChatApi:
    def __init__(self, settings: GoogleChatSettings) -> None:
        credentials = service_account.Credentials.from_service_account_file(
            str(settings.credentials_file), scopes=[SCOPE])
        self.session = AuthorizedSession(credentials)
        self.base = settings.api_url

    def _call(self, method: str, path: str, body: Mapping[str, Any],
              params: Mapping[str, str] | None = None) -> dict[str, Any]:
        response = self.session.request(method, f"{self.base}/v1/{path}", json=body,
                                        params=params, timeout=TIMEOUT)
        if response.status_code >= 400:
            raise ChatApiError(response.status_code, response.headers.get("Retry-After"))
        answer: dict[str, Any] = response.json() if response.content else {}
        return answer

    def create(self, space: str, message: Mapping[str, Any]) -> dict[str, Any]:
        """A new message in ``space`` (``spaces/…``): a person's DM with the app."""
        return self._call("POST", f"{space}/messages", message)

    def update(self, name: str, message: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the text and cards of the message ``name`` (``spaces/…/messages/…``)."""
        return self._call("PATCH", name, message, {"updateMask": "text,cardsV2"})
