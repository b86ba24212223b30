"""Who may talk to the Teams bot.

A Teams user is matched to a person by their Teams user id (kept in
``Person.teams_user_id``, and used for a card's ``refresh.userIds``), then by email, else
they join as staff (see ``workflows.schools.membership``). Someone Teams cannot vouch for
(no Microsoft Entra account, or another organisation's) is turned away with an answer that
says why.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TeamsUser:
    """Who sent an activity, as Teams says."""

    user_id: str  # "29:…", stable for this bot
    aad_object_id: str | None
    name: str
    tenant_id: str | None


def refusal(user: TeamsUser, tenant_id: str, serving: str) -> str | None:
    """Why this sender may not use the bot, or None. ``serving`` names whom the bot works
    for: a school's name, or "our schools" when one tenant's bot serves several."""
    if user.tenant_id and user.tenant_id.lower() != tenant_id.lower():
        return (f"I only work for {serving}: your Microsoft 365 account belongs to another "
                "organisation, so I can't help you here.")
    if not user.aad_object_id:
        return (f"I only work for staff of {serving} signed in with their school Microsoft "
                "365 account, and Teams did not tell me who you are. Please sign in to Teams "
                "with your school account and message me again.")
    return None
