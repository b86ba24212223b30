"""Google Chat configuration from the environment.

A school's Workspace admin copies three things from the Google Cloud console: the
authentication audience the Chat app was configured with (the project number, or the app's
HTTPS endpoint URL), the school's Workspace domain, and the service account key the app sends
messages with. A missing or wrong one stops the start with a message that names it and says
where to find it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

AUDIENCE = "DPO_BOT_GOOGLE_CHAT_AUDIENCE"
DOMAIN = "DPO_BOT_GOOGLE_CHAT_DOMAIN"
CREDENTIALS = "DPO_BOT_GOOGLE_CHAT_CREDENTIALS"
# Tests only: where a local stand-in for Google serves its certificates and the Chat API.
TEST_CERTS = "DPO_BOT_GOOGLE_CHAT_TEST_CERTS_URL"
TEST_API = "DPO_BOT_GOOGLE_CHAT_TEST_API_URL"
API = "https://chat.googleapis.com"
WHERE = {
    AUDIENCE: "the Google Cloud console > APIs & Services > Google Chat API > Configuration > "
    "Connection settings > Authentication Audience: the project number (Dashboard > Project "
    "info), or the HTTP endpoint URL if you chose that",
    DOMAIN: "your Workspace's primary domain, as in staff email addresses (the Admin console "
    "> Account > Domains); several are separated by commas",
    CREDENTIALS: "the path on this server to the service account's JSON key (the Google Cloud "
    "console > IAM & Admin > Service accounts > your account > Keys > Add key > JSON)",
}
DOMAIN_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


class GoogleChatConfigError(Exception):
    """What is missing or wrong, in words a Workspace admin can act on."""


@dataclass(frozen=True)
class GoogleChatSettings:
    audience: str  # the project number, or the endpoint's https:// URL
    domains: tuple[str, ...]  # the school's Workspace domains; the first is its home
    credentials_file: Path
    certs_url: str | None = None  # tests only
    api_url: str = API

    @property
    def by_project_number(self) -> bool:
        """Chat signs a JWT of its own for a project number, a Google ID token for a URL."""
        return self.audience.isdigit()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GoogleChatSettings:
        environ = os.environ if environ is None else environ
        values = {name: environ.get(name, "").strip() for name in WHERE}
        for name, value in values.items():
            if not value:
                raise GoogleChatConfigError(f"{name} is not set. It is {WHERE[name]}.")
        audience = values[AUDIENCE]
        if not (audience.isdigit() or audience.startswith("https://")):
            raise GoogleChatConfigError(f"{AUDIENCE} should be a project number (digits) or "
                                        f"an https:// URL. It is {WHERE[AUDIENCE]}.")
        domains = tuple(d.strip().lower().lstrip("@") for d in values[DOMAIN].split(",")
                        if d.strip())
        if not domains or not all(DOMAIN_NAME.match(d) for d in domains):
            raise GoogleChatConfigError(f"{DOMAIN} should be a domain like school.org.uk. It "
                                        f"is {WHERE[DOMAIN]}.")
        key = Path(values[CREDENTIALS])
        if not key.is_file():
            raise GoogleChatConfigError(f"{CREDENTIALS} names a file that does not exist. It "
                                        f"is {WHERE[CREDENTIALS]}.")
        try:
            kind = json.loads(key.read_text()).get("type")
        except (ValueError, AttributeError, OSError):
            kind = None
        if kind != "service_account":
            raise GoogleChatConfigError(f"{CREDENTIALS} is not a service account's JSON key. "
                                        f"It is {WHERE[CREDENTIALS]}.")
        certs = environ.get(TEST_CERTS) or None
        api = environ.get(TEST_API) or None
        for name, url in ((TEST_CERTS, certs), (TEST_API, api)):
            if url is not None and not is_loopback(urlsplit(url).hostname or ""):
                raise GoogleChatConfigError(f"{name} is for tests only and must name a "
                                            "loopback address.")
        return cls(audience=audience, domains=domains, credentials_file=key, certs_url=certs,
                   api_url=(api or API).rstrip("/"))


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:  # a name other than localhost
        return False
