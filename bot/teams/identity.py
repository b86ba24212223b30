"""Who is talking to the Teams bot, as Teams says.

A Teams user is matched to a person by their Teams user id (kept in
``Person.teams_user_id``, and used for a card's ``refresh.userIds``), then by email, else
they join as staff. Whether they may is the core's rule (``workflows.schools.membership``):
this module only reads what Teams says of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext

from workflows.schools.membership import Newcomer

log = logging.getLogger(__name__)
# Teams' roles for someone who is not a member of the tenant's organisation.
NOT_MEMBERS = {"guest", "anonymous"}


@dataclass(frozen=True)
class TeamsUser:
    """Who sent an activity, as Teams says."""

    user_id: str  # "29:…", stable for this bot
    aad_object_id: str | None
    name: str
    tenant_id: str | None


def as_newcomer(user: TeamsUser, email: str | None = None, role: str | None = None
                ) -> Newcomer:
    """The sender as the core's enrolment rule reads it: no Entra account is no one Teams
    vouches for, and an activity with no tenant belongs to no organisation."""
    return Newcomer(name=user.name, email=email, home=user.tenant_id,
                    guest=(role or "").lower() in NOT_MEMBERS,
                    verified=bool(user.aad_object_id))


async def look_up(context: TurnContext, user: TeamsUser) -> Newcomer:
    """The sender with their email and role, which Teams gives only on request: the email
    finds the records the DPO set up, and a newcomer's school by its domain; the role says
    whether they are a guest. If Teams will not say, they are not vouched for."""
    client = context.services.get(ConnectorClientBase)
    if client is None or context.activity.conversation is None:
        return Newcomer(name=user.name, email=None, home=user.tenant_id, verified=False)
    try:
        member = await client.conversations.get_conversation_member(
            context.activity.conversation.id, user.user_id)
    except Exception as error:  # a guest cannot be told from a member: not vouched for
        log.warning("could not look up a Teams member (%s)", error.__class__.__name__)
        return Newcomer(name=user.name, email=None, home=user.tenant_id, verified=False)
    extra = member.model_extra or {}
    return as_newcomer(user, extra.get("email") or extra.get("userPrincipalName"),
                       extra.get("userRole"))
