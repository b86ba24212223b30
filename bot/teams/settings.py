"""Teams configuration from the environment, in the Microsoft 365 Agents SDK's own convention.

The SDK reads ``CONNECTIONS__SERVICE_CONNECTION__SETTINGS__*`` (client id, tenant id, and a
secret or a certificate); a school's IT lead copies them from the Entra app registration
behind the Azure Bot. A missing one stops the start with a message that names it and says
where to find it. Issuer validation is always switched on here, whatever the environment says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
CLIENT_ID = PREFIX + "CLIENTID"
TENANT_ID = PREFIX + "TENANTID"
CLIENT_SECRET = PREFIX + "CLIENTSECRET"
AUTH_TYPE = PREFIX + "AUTHTYPE"
CERT_FILE = PREFIX + "CERTPFXFILE"
WHERE = {
    CLIENT_ID: "the Azure portal > your Azure Bot > Configuration > Microsoft App ID (a GUID)",
    TENANT_ID: "the Azure portal > Microsoft Entra ID > Overview > Tenant ID (a GUID)",
    CLIENT_SECRET: "the Azure portal > App registrations > your bot's app > Certificates & "
    "secrets > New client secret (copy the Value, not the Secret ID)",
    CERT_FILE: "the path to the bot app's certificate (.pfx) on this server, whose public "
    "part is uploaded under App registrations > Certificates & secrets",
}
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class TeamsConfigError(Exception):
    """What is missing or wrong, in words an IT lead can act on."""


@dataclass(frozen=True)
class TeamsSettings:
    client_id: str
    tenant_id: str
    # The SDK's configuration tree, as ``load_configuration_from_env`` builds it; it holds the
    # secret, so it is never printed or logged (repr=False).
    sdk: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TeamsSettings:
        environ = dict(os.environ if environ is None else environ)
        values = {name: environ.get(name, "").strip() for name in (*WHERE, AUTH_TYPE)}
        for name in (CLIENT_ID, TENANT_ID):
            values[name] = guid(environ, name)
        auth_type = values[AUTH_TYPE] or "ClientSecret"
        if auth_type.lower() == "certificate":
            if not values[CERT_FILE]:
                raise TeamsConfigError(f"{CERT_FILE} is not set ({AUTH_TYPE} is certificate). "
                                       f"It is {WHERE[CERT_FILE]}.")
            if not Path(values[CERT_FILE]).is_file():
                raise TeamsConfigError(f"{CERT_FILE} names a file that does not exist. It is "
                                       f"{WHERE[CERT_FILE]}.")
        elif auth_type == "ClientSecret":
            if not values[CLIENT_SECRET]:
                raise TeamsConfigError(
                    f"{CLIENT_SECRET} is not set. Find it at {WHERE[CLIENT_SECRET]}. (Or set "
                    f"{AUTH_TYPE}=certificate and {CERT_FILE}.)"
                )
        else:
            raise TeamsConfigError(
                f"{AUTH_TYPE} should be ClientSecret or certificate, not “{auth_type}”."
            )
        from microsoft_agents.activity import load_configuration_from_env

        sdk = load_configuration_from_env(
            {key: value for key, value in environ.items()
             if key.startswith(("CONNECTIONS__", "CONNECTIONSMAP__", "AGENTAPPLICATION__"))}
        )
        service = sdk["CONNECTIONS"]["SERVICE_CONNECTION"]["SETTINGS"]
        service["AUTHTYPE"] = "certificate" if auth_type.lower() == "certificate" else auth_type
        service["VALIDATE_ISSUER"] = "true"  # only tokens from Microsoft, for this bot
        return cls(client_id=values[CLIENT_ID], tenant_id=values[TENANT_ID], sdk=sdk)


def guid(environ: Mapping[str, str], name: str) -> str:
    """A setting that must be a GUID (the client id, the tenant id), checked."""
    value = environ.get(name, "").strip()
    if not value:
        raise TeamsConfigError(f"{name} is not set. Find it at {WHERE[name]}.")
    if not GUID.match(value):
        raise TeamsConfigError(f"{name} should be a GUID like "
                               f"00000000-0000-0000-0000-000000000000 but is not. Find it at "
                               f"{WHERE[name]}.")
    return value


def client_id_from_env() -> str:
    """Only the bot's id, for building the app package (no secret needed there)."""
    return guid(os.environ, CLIENT_ID)
