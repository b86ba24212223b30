"""Proactive delivery through the SDK's real CloudAdapter, against a local fake of the Bot
Connector service (an aiohttp server on 127.0.0.1 that records each post and answers as
told): throttling retried with backoff, and a person Teams refuses reported to the DPO once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity, ActivityTypes, ChannelAccount
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ConnectorClientBase, TeamsConnectorClient
from microsoft_agents.testing import TestAdapter
from sqlmodel import col, select

from bot.teams.connections import PooledAdapter
from bot.teams.delivery import deliver_forever, deliver_once
from tests.conftest import School_
from workflows.database import session_scope
from workflows.notifications import service as notifications
from workflows.notifications.addresses import ChatAddress
from workflows.notifications.models import Notification
from workflows.people.models import Person

from .harness import delivered_to, log_sar, make_teams, run, settings, words

Answer = Callable[[int], web.Response]


class FakeConnector:
    """Bot Connector's "send to conversation": answers each post with ``answer(n)``."""

    def __init__(self, answer: Answer, members: dict[str, dict[str, Any]] | None = None
                 ) -> None:
        self.answer = answer
        self.members = members or {}  # "Get conversation member": what Teams says of them
        self.posts: list[dict[str, Any]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeConnector:
        async def post(request: web.Request) -> web.Response:
            self.posts.append({"path": request.path, "body": await request.json(),
                               "bytes": len(await request.read()),
                               "from": request.transport.get_extra_info("peername")})
            return self.answer(len(self.posts))

        async def member(request: web.Request) -> web.Response:
            found = self.members.get(request.match_info["member"])
            return web.json_response(found or {}, status=200 if found else 404)

        app = web.Application()
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", member)
        app.router.add_post("/v3/conversations/{conversation}/activities", post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", post)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def throttled(retry_after: str = "0") -> web.Response:
    return web.json_response({"error": {"code": "Throttled"}}, status=429,
                             headers={"Retry-After": retry_after})


def accepted() -> web.Response:
    return web.json_response({"id": "1:delivered"}, status=201)


def forbidden() -> web.Response:
    return web.json_response({"error": {"code": "BotDisabledByAdmin"}}, status=403)


def point_at(school: School_, who: str, url: str) -> None:
    """Teams' service for this person's chat is the fake one (anonymous: no token needed)."""
    with session_scope(school.engine) as session:
        address = session.exec(select(ChatAddress).where(
            ChatAddress.person_id == school.people[who])).one()
        reference = dict(address.reference)
        reference["conversation_reference"] = {
            **reference["conversation_reference"], "serviceUrl": url}
        reference["claims"] = {}
        address.reference = reference
        session.add(address)


def cloud_adapter() -> CloudAdapter:
    return CloudAdapter(connection_manager=MsalConnectionManager(**settings().sdk))


def waiting(school: School_, who: str) -> list[Notification]:
    with session_scope(school.engine) as session:
        return list(session.exec(select(Notification).where(
            Notification.person_id == school.people[who],
            col(Notification.delivered_at).is_(None))))


def test_throttling_is_retried_with_backoff_and_then_delivered(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> FakeConnector:
        await teams.say("dee", "hi")
        await log_sar(teams)
        async with FakeConnector(lambda n: throttled() if n <= 2 else accepted()) as fake:
            point_at(school, "dee", fake.url)
            assert await deliver_once(teams.bot, cloud_adapter(), backoff=0.01) == 1
        return fake

    fake = run(go())
    assert len(fake.posts) == 3  # two 429s, then accepted
    card = fake.posts[-1]["body"]["attachments"][0]["content"]
    assert "New subject access request" in words(card)
    assert waiting(school, "dee") == []


def test_throttling_past_the_retries_leaves_it_for_the_next_pass(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> FakeConnector:
        await teams.say("dee", "hi")
        await log_sar(teams)
        async with FakeConnector(lambda n: throttled()) as fake:
            point_at(school, "dee", fake.url)
            assert await deliver_once(teams.bot, cloud_adapter(), retries=2,
                                      backoff=0.01) == 0
        return fake

    fake = run(go())
    assert len(fake.posts) == 3  # the first try and two retries
    (note,) = waiting(school, "dee")
    assert note.claimed_by is None  # not sent, not marked sent, free for the next pass


def test_someone_teams_refuses_is_reported_to_the_dpo_team_once(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> FakeConnector:
        await teams.say("dee", "hi")
        await log_sar(teams)
        async with FakeConnector(lambda n: forbidden()) as fake:
            point_at(school, "dee", fake.url)
            assert await deliver_once(teams.bot, cloud_adapter(), backoff=0.01) == 0
            assert await deliver_once(teams.bot, cloud_adapter(), backoff=0.01) == 0
        return fake

    fake = run(go())
    assert len(fake.posts) == 1  # not retried on the next pass
    with session_scope(school.engine) as session:
        reports = session.exec(select(Notification).where(
            Notification.kind == "teams.unreachable")).all()
        address = session.exec(select(ChatAddress).where(
            ChatAddress.person_id == school.people["dee"])).one()
    assert [r.person_id for r in reports] == [school.people["vic"]]
    assert "I can't reach Dee Dpo in Microsoft Teams" in reports[0].text
    assert "1 message for them is waiting" in reports[0].text
    assert address.unreachable_at is not None
    (note,) = waiting(school, "dee")  # never marked sent
    assert note.claimed_by is None

    async def back() -> list[dict[str, Any]]:
        await teams.say("dee", "hello again")  # reachable again, in her personal chat
        return await delivered_to(teams, "dee")

    (card,) = run(back())
    assert "New subject access request" in words(card)
    assert waiting(school, "dee") == []


def test_messages_to_teams_go_over_kept_connections(school: School_) -> None:
    """The SDK opens a connection (a TLS handshake, with Teams) for each message; the bot's
    adapter keeps them: a pass of messages to several people goes over a few connections."""
    teams = make_teams(school)
    chats = ("dee", "vic", "hal")

    async def go(adapter: CloudAdapter) -> FakeConnector:
        with session_scope(school.engine) as session:
            for n in range(4):
                notifications.queue(session, school_id=school.school_id,
                                    people=[school.people[who] for who in chats],
                                    kind="reminder.deadline", key=f"kept:{id(adapter)}:{n}",
                                    text=f"Nudge {n}", by=None)
        async with FakeConnector(lambda n: accepted()) as fake:
            for who in chats:
                point_at(school, who, fake.url)
            assert await deliver_once(teams.bot, adapter) == 12
            if isinstance(adapter, PooledAdapter):
                await adapter.close()
        return fake

    async def greeted() -> None:
        for who in chats:
            await teams.say(who, "hi")

    run(greeted())
    kept = run(go(PooledAdapter(MsalConnectionManager(**settings().sdk))))
    assert len({post["from"] for post in kept.posts}) <= len(chats)  # one a chat at most
    opened = run(go(cloud_adapter()))  # the SDK as it comes: a connection a message
    assert len({post["from"] for post in opened.posts}) == 12


def test_the_dpo_set_up_by_email_is_found_through_teams(school: School_) -> None:
    """Teams gives a sender's email only on request: the bot asks the connector once."""
    teams = make_teams(school)
    with session_scope(school.engine) as session:
        dee = session.get(Person, school.people["dee"])
        dee.teams_user_id, dee.email = None, "Dee.Dpo@hillside.example"

    async def go() -> None:
        member = {"id": "29:dee-new", "name": "Dee Dpo", "aadObjectId": "aad-dee",
                  "email": "dee.dpo@hillside.example"}
        async with FakeConnector(lambda n: accepted(), {"29:dee-new": member}) as fake:
            connector = TeamsConnectorClient(endpoint=fake.url, token="")

            class Connected(TestAdapter):  # what CloudAdapter puts in every turn
                def create_turn_context(self, activity, claims_identity=None):
                    context = super().create_turn_context(activity, claims_identity)
                    context.services.set(ConnectorClientBase, connector)
                    return context

            adapter = Connected(conversation=teams.adapter("dee").conversation)
            await teams.send(adapter, Activity(
                type=ActivityTypes.message, text="cases",
                from_property=ChannelAccount(id="29:dee-new", name="Dee Dpo",
                                             aad_object_id="aad-dee")))
            await connector.close()

    run(go())
    people = teams.people()
    assert people["Dee Dpo"].teams_user_id == "29:dee-new"
    assert not any(name.startswith("Dee Dpo (") for name in people)


def test_a_backlog_goes_out_pass_after_pass_without_waiting(school: School_) -> None:
    """The Monday digests: more than a pass's worth waiting is all sent, each pass straight
    after the last, not one pass per interval (here an hour)."""
    teams = make_teams(school)
    dee = school.people["dee"]

    async def go() -> FakeConnector:
        await teams.say("dee", "hi")
        with session_scope(school.engine) as session:
            for n in range(120):
                notifications.queue(session, school_id=school.school_id, people=[dee],
                                    kind="reminder.deadline", key=f"backlog:{n}",
                                    text=f"Nudge {n}", by=None)
        async with FakeConnector(lambda n: accepted()) as fake:
            point_at(school, "dee", fake.url)
            stop = asyncio.Event()
            running = asyncio.create_task(
                deliver_forever(teams.bot, cloud_adapter(), stop, interval=3600))
            async with asyncio.timeout(60):
                while len(fake.posts) < 120:
                    await asyncio.sleep(0.05)
            stop.set()
            await running
        return fake

    fake = run(go())
    assert len(fake.posts) == 120  # each once
    assert waiting(school, "dee") == []
