"""Slack configuration from the environment, checked before anything starts.

A school's IT lead sets these once; a missing or wrong one stops the start with a message
that names it and says where in Slack's app settings to find it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

WHERE = {
    "SLACK_BOT_TOKEN": "your app's page at api.slack.com/apps > OAuth & Permissions > "
    "Bot User OAuth Token (starts xoxb-)",
    "SLACK_APP_TOKEN": "Basic Information > App-Level Tokens: create one with the "
    "connections:write scope (starts xapp-)",
    "SLACK_SIGNING_SECRET": "Basic Information > App Credentials > Signing Secret",
}
PREFIX = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}


class SlackConfigError(Exception):
    """What is missing or wrong, in words an IT lead can act on."""


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str
    app_token: str | None
    signing_secret: str | None
    api_url: str | None
    dpo_channel: str | None = None  # a private channel for the DPO team's new-case alerts
    alert_channel: str | None = None  # a shared channel: breach reference and countdown only

    @classmethod
    def from_env(cls, *, http: bool) -> SlackSettings:
        needed = ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET" if http else "SLACK_APP_TOKEN"]
        values = {name: os.environ.get(name, "").strip() for name in WHERE}
        for name in needed:
            if not values[name]:
                raise SlackConfigError(f"{name} is not set. Find it at {WHERE[name]}.")
            prefix = PREFIX.get(name)
            if prefix and not values[name].startswith(prefix):
                raise SlackConfigError(
                    f"{name} should start with {prefix} but does not. Find it at {WHERE[name]}."
                )
        api_url = os.environ.get("SLACK_API_URL", "").strip() or None
        if api_url and not api_url.endswith("/"):
            api_url += "/"
        return cls(
            bot_token=values["SLACK_BOT_TOKEN"],
            app_token=values["SLACK_APP_TOKEN"] or None,
            signing_secret=values["SLACK_SIGNING_SECRET"] or None,
            api_url=api_url,
            dpo_channel=os.environ.get("SLACK_DPO_CHANNEL", "").strip() or None,
            alert_channel=os.environ.get("SLACK_ALERT_CHANNEL", "").strip() or None,
        )
