"""Who is talking to the Google Chat app, as the (signed) event says.

Every event names its sender: their resource name (``users/…``, kept in
``Person.google_chat_user_id``), display name, email and whether they are a person or a bot.
The email links them to the records the DPO set up; the school's own Workspace domain is
their home, and any other domain is another organisation's. Whether they may be enrolled is
the core's rule (``workflows.schools.membership``): this module only reads the event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workflows.schools.membership import Newcomer


@dataclass(frozen=True)
class ChatUser:
    user_id: str  # "users/1234…"
    name: str
    email: str | None
    human: bool


def sender(event: Mapping[str, Any]) -> ChatUser:
    user = event.get("user")
    user = user if isinstance(user, Mapping) else {}
    user_id = str(user.get("name") or "")
    email = user.get("email")
    return ChatUser(user_id=user_id, name=str(user.get("displayName") or "").strip() or user_id,
                    email=email.strip().lower() if isinstance(email, str) and email.strip()
                    else None,
                    human=user.get("type") == "HUMAN" and user_id.startswith("users/"))


def as_newcomer(user: ChatUser, domains: Sequence[str]) -> Newcomer:
    """The sender as the enrolment rule reads it. Their home is the school's Workspace when
    their email is in one of its domains, else their email's own domain (another
    organisation); a bot, or a sender Chat gave no email for, is vouched for by no one."""
    domain = user.email.rsplit("@", 1)[-1] if user.email and "@" in user.email else None
    home = domains[0] if domain in domains else domain
    return Newcomer(name=user.name, email=user.email, home=home,
                    verified=user.human and domain is not None)
