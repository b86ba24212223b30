"""Driving the real Teams agent with Microsoft's TestAdapter, one personal chat per person.

Every activity the agent sends, and every card it answers an ``Action.Execute`` with, is
collected and checked against the Adaptive Card 1.5 schema (Teams' ``msteams`` keys removed),
so any card a test provokes that would not render fails that test.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
)
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext
from microsoft_agents.testing import TestAdapter
from sqlmodel import select

from bot.teams.app import CARD, TeamsBot
from bot.teams.delivery import deliver_once
from bot.teams.settings import TeamsSettings
from tests.conftest import PARENT_SAR, School_
from workflows.database import session_scope
from workflows.people.models import Person

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT.parent / "shared" / "schemas"
CARD_SCHEMA = SCHEMAS / "adaptive-card-1.5.schema.json"
MANIFEST_SCHEMA = SCHEMAS / "teams-manifest-1.22.schema.json"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "66666666-7777-8888-9999-000000000000"
ENV = {
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": CLIENT_ID,
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": TENANT_ID,
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "test-secret-never-printed",
}
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def settings() -> TeamsSettings:
    return TeamsSettings.from_env(ENV)


def without_teams_keys(card: Any) -> Any:
    """The card as the Adaptive Card schema sees it: Teams' own ``msteams`` keys removed."""
    if isinstance(card, dict):
        return {k: without_teams_keys(v) for k, v in card.items() if k != "msteams"}
    if isinstance(card, list):
        return [without_teams_keys(v) for v in card]
    return card


def card_problems(card: Mapping[str, Any]) -> list[str]:
    """Why Teams would not render ``card`` as Adaptive Card 1.5 (empty when it would)."""
    import jsonschema

    schema = json.loads(CARD_SCHEMA.read_text())
    validator = jsonschema.Draft6Validator(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message[:200]}"
            for e in validator.iter_errors(without_teams_keys(card))]


def words(card: Any) -> str:
    """Every TextRun and title of a card, for reading assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextRun" or node.get("type", "").startswith("Action."):
                out.append(node.get("text") or node.get("title") or "")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return "\n".join(out)


def card_of(activity: Activity) -> dict[str, Any]:
    (attachment,) = activity.attachments
    assert attachment.content_type == CARD
    return attachment.content


def is_card(activity: Activity) -> bool:
    """A message holding an Adaptive Card (not a file consent or file card)."""
    return activity.type == ActivityTypes.message and bool(activity.attachments) and \
        activity.attachments[0].content_type == CARD


def actions(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The card's buttons by their title, those behind "More…" too (a person opens it)."""
    found: dict[str, dict[str, Any]] = {}
    for a in card.get("actions", []):
        found[a["title"]] = a
        if a.get("type") == "Action.ShowCard":
            found |= actions(a["card"])
    return found


class Members:
    """Teams' "get conversation member", as far as the bot reads it: each member's email and
    role ("user" unless a test makes them a "guest")."""

    def __init__(self, emails: Mapping[str, str], roles: Mapping[str, str]) -> None:
        self.conversations = self
        self.emails, self.roles = emails, roles

    async def get_conversation_member(self, conversation_id: str, user_id: str
                                      ) -> ChannelAccount:
        return ChannelAccount(id=user_id, email=self.emails.get(user_id),
                              userRole=self.roles.get(user_id, "user"))


class Connected(TestAdapter):
    """A TestAdapter whose turns can look members up, as CloudAdapter's turns can."""

    members: Members

    def create_turn_context(self, activity: Activity, claims_identity=None) -> TurnContext:
        context = super().create_turn_context(activity, claims_identity)
        context.services.set(ConnectorClientBase, self.members)
        return context


@dataclass
class Teams:
    """A school with the agent in Teams; each person talks to it in their own personal chat."""

    school: School_
    bot: TeamsBot
    adapters: dict[str, TestAdapter] = field(default_factory=dict)
    cards: list[dict[str, Any]] = field(default_factory=list)  # every card sent, in order
    emails: dict[str, str] = field(default_factory=dict)  # Teams id to email, when Teams knows
    roles: dict[str, str] = field(default_factory=dict)  # Teams id to its role, if not "user"

    def account(self, who: str, *, aad: bool = True) -> ChannelAccount:
        name = {"sam": "Sam Teacher", "kim": "Kim Teacher", "dee": "Dee Dpo",
                "vic": "Vic Deputy", "hal": "Hal Head"}.get(who, who.title())
        return ChannelAccount(id=f"29:{who}", name=name,
                              aad_object_id=f"aad-{who}" if aad else None)

    def adapter(self, who: str, *, tenant: str | None = TENANT_ID, group: bool = False,
                aad: bool = True, conversation: str | None = None) -> TestAdapter:
        key = f"{who}:{tenant}:{group}:{aad}:{conversation}"
        if key not in self.adapters:
            reference = ConversationReference(
                channel_id="msteams",
                service_url="https://smba.trafficmanager.net/uk/",
                user=self.account(who, aad=aad),
                agent=ChannelAccount(id=f"28:{CLIENT_ID}", name="DPO Bot"),
                conversation=ConversationAccount(
                    id=conversation or f"a:{'group' if group else 'personal'}-{who}",
                    tenant_id=tenant,
                    is_group=group, conversation_type="groupChat" if group else "personal"),
                locale="en-GB",
            )
            adapter = Connected(conversation=reference)
            adapter.members = Members(self.emails, self.roles)
            self.adapters[key] = adapter
        return self.adapters[key]

    def link(self, who: str) -> None:
        """Set up as `dpo-bot people add` would: this person's Teams id is known in advance."""
        with session_scope(self.school.engine) as session:
            person = session.get(Person, self.school.people[who])
            person.teams_user_id = f"29:{who}"

    async def send(self, adapter: TestAdapter, activity: Activity) -> list[Activity]:
        before = len(adapter.activity_queue)
        await adapter.process_activity(adapter.claims_identity, activity, self.bot.app.on_turn)
        new = adapter.activity_queue[before:]
        for sent in new:
            if is_card(sent):
                self.check(card_of(sent))
        return new

    def check(self, card: dict[str, Any]) -> None:
        self.cards.append(card)
        if CARD_SCHEMA.exists():
            assert card_problems(card) == [], json.dumps(card)[:2000]

    async def say(self, who: str, text: str, *, tenant: str | None = TENANT_ID,
                  group: bool = False, aad: bool = True) -> dict[str, Any]:
        """A message in the chat; returns the one card the agent answers with."""
        adapter = self.adapter(who, tenant=tenant, group=group, aad=aad)
        sent = await self.send(adapter, Activity(type=ActivityTypes.message, text=text,
                                                 from_property=self.account(who, aad=aad)))
        messages = [a for a in sent if is_card(a)]
        assert len(messages) == 1, [a.type for a in sent]
        return card_of(messages[0])

    async def says(self, who: str, *texts: str) -> dict[str, Any]:
        card: dict[str, Any] = {}
        for text in texts:
            card = await self.say(who, text)
        return card

    async def click(self, who: str, action: Mapping[str, Any], inputs: Mapping[str, str] = (),
                    *, on: str | None = None) -> tuple[dict[str, Any], list[Activity]]:
        """Press an Action.Execute button (with what was typed into the card's inputs).

        Returns the card Teams shows the clicker instead, and whatever else the agent sent.
        ``on`` is the id of the message holding the card (default: the last one sent).
        """
        assert action["type"] == "Action.Execute", action
        adapter = self.adapter(who)
        # Teams says which message the card was on; by default, the last one sent here.
        on = on or next(a.id for a in reversed(adapter.activity_queue)
                        if a.type == ActivityTypes.message)
        invoke = Activity(type=ActivityTypes.invoke, name="adaptiveCard/action",
                          from_property=self.account(who), reply_to_id=on,
                          value={"action": {"type": "Action.Execute", "verb": action["verb"],
                                            "data": {**action["data"], **dict(inputs)}},
                                 "trigger": "manual"})
        sent = await self.send(adapter, invoke)
        (response,) = [a for a in sent if a.type == ActivityTypes.invoke_response]
        body = response.value.body
        assert response.value.status == 200 and body["statusCode"] == 200, body
        assert body["type"] == CARD, body
        self.check(body["value"])
        return body["value"], [a for a in sent if a.type != ActivityTypes.invoke_response]

    def people(self) -> dict[str, Person]:
        with session_scope(self.school.engine) as session:
            return {p.name: p for p in session.exec(select(Person))}


def make_teams(school: School_, workers: int = 0) -> Teams:
    """The agent for ``school``, its core's work in ``workers`` processes (0: threads): the
    caller closes ``bot`` when it starts any."""
    config = settings()
    bot = TeamsBot(school.engine, MsalConnectionManager(**config.sdk), client_id=config.client_id,
                   tenant_id=config.tenant_id, workers=workers)
    teams = Teams(school=school, bot=bot)
    for who in school.people:
        teams.link(who)
    return teams


needs_schemas = pytest.mark.skipif(
    not CARD_SCHEMA.exists() or not MANIFEST_SCHEMA.exists(),
    reason="../shared/schemas is absent: the Adaptive Card and Teams manifest schemas live there",
)


async def log_sar(teams: Teams, who: str = "sam") -> str:
    said = words(await teams.says(who, *PARENT_SAR, "yes"))
    found = re.search(r"Saved as (SAR-\d{4}-\d{4})\.", said)
    assert found, said
    return found.group(1)


async def delivered_to(teams: Teams, who: str) -> list[dict[str, Any]]:
    adapter = teams.adapter(who)
    before = len(adapter.activity_queue)
    await deliver_once(teams.bot, adapter)
    new = adapter.activity_queue[before:]
    out = []
    for activity in new:
        card = card_of(activity)
        teams.check(card)
        out.append(card)
    return out
