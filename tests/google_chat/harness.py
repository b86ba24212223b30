"""The real Google Chat adapter (its aiohttp app, token check, events, cards, Chat API
client) driven with signed, Google-shaped events against the local stand-in for Google."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.google_chat import cards
from bot.google_chat.api import ChatApi
from bot.google_chat.app import GoogleChatBot
from bot.google_chat.server import PATH, http_app
from bot.google_chat.settings import GoogleChatSettings
from tests.conftest import School_
from workflows.core.fields import Field, Kind
from workflows.database import session_scope
from workflows.people.models import Person

from .cards_v2 import message_problems, response_problems
from .google import PROJECT, Google, click_event, message_event

T = TypeVar("T")
DOMAIN = "hillside.sch.uk"
LONDON = ZoneInfo("Europe/London")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def give_emails(school: School_) -> None:
    """The DPO set everyone up with their school email: how Chat users are linked."""
    with session_scope(school.engine) as session:
        for who, person_id in school.people.items():
            person = session.get_one(Person, person_id)
            person.email = f"{who}@{DOMAIN}"
            session.add(person)


class Chat:
    """A test's view of the app: ``start`` serves it, then events are posted as Chat does."""

    def __init__(self, school: School_, google: Google, audience: str = PROJECT) -> None:
        self.school, self.google = school, google
        self.settings = GoogleChatSettings(
            audience=audience, domains=(DOMAIN,), credentials_file=google.credentials,
            certs_url=f"{google.url}/certs", api_url=google.url)
        self.bot = GoogleChatBot(school.engine, self.settings, ChatApi(self.settings))
        self.client: TestClient[Any, Any] | None = None

    async def __aenter__(self) -> Chat:
        self.client = TestClient(TestServer(http_app(self.bot, deliver=False)))
        await self.client.start_server()
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.client is not None
        await self.client.close()

    async def post(self, event: Mapping[str, Any], token: str | None = None
                   ) -> tuple[int, dict[str, Any]]:
        assert self.client is not None
        token = self.google.token() if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(PATH, json=event, headers=headers)
        return response.status, await response.json()

    async def send(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """An event that must be answered; every answer is checked against Cards v2."""
        status, body = await self.post(event)
        assert status == 200, body
        problems = response_problems(body)
        assert not problems, problems
        for message in [*self.google.sent(), *(body for _, body in self.google.updated())]:
            assert not message_problems(message), message_problems(message)
        return body

    async def say(self, who: str, text: str, **kw: Any) -> dict[str, Any]:
        return await self.send(message_event(who, text, **kw))

    async def click(self, who: str, button: Mapping[str, Any], **kw: Any) -> dict[str, Any]:
        return await self.send(click_event(who, button, **kw))

    def people(self) -> dict[str, Person]:
        with session_scope(self.school.engine) as session:
            return {p.name: p for p in session.exec(select(Person))}


def form_inputs(fields: tuple[Field, ...], typed: Mapping[str, str]) -> dict[str, Any]:
    """What Chat sends as ``common.formInputs`` for a dialog filled with ``typed`` (the
    text each field's control holds: a moment as "YYYY-MM-DD HH:MM" on the school's clock)."""
    inputs: dict[str, Any] = {}
    for field in fields:
        text = typed.get(field.name, "")
        if text == "":
            continue
        name = cards.INPUT + field.name
        if field.kind is Kind.DATE:
            day = date.fromisoformat(text)
            ms = int(datetime.combine(day, time(), UTC).timestamp() * 1000)
            inputs[name] = {"dateInput": {"msSinceEpoch": str(ms)}}
        elif field.kind is Kind.DATETIME:
            moment = datetime.fromisoformat(text).replace(tzinfo=LONDON)
            inputs[name] = {"dateTimeInput": {"msSinceEpoch": str(int(moment.timestamp() * 1000)),
                                              "hasDate": True, "hasTime": True}}
        else:
            values = text.split(",") if field.kind is Kind.MULTI_CHOICE else [text]
            inputs[name] = {"stringInputs": {"value": values}}
    return inputs


def shown_inputs(fields: tuple[Field, ...], response: Mapping[str, Any]) -> dict[str, Any]:
    """What Chat sends for a dialog submitted as shown: each widget's current value."""
    from .cards_v2 import widgets_of

    inputs: dict[str, Any] = {}
    for widget in widgets_of(response):
        if "textInput" in widget and "value" in widget["textInput"]:
            inputs[widget["textInput"]["name"]] = {
                "stringInputs": {"value": [widget["textInput"]["value"]]}}
        if "selectionInput" in widget:
            chosen = [i["value"] for i in widget["selectionInput"]["items"] if i["selected"]]
            if chosen:
                inputs[widget["selectionInput"]["name"]] = {"stringInputs": {"value": chosen}}
        if "dateTimePicker" in widget and "valueMsEpoch" in widget["dateTimePicker"]:
            picker = widget["dateTimePicker"]
            key = "dateInput" if picker["type"] == "DATE_ONLY" else "dateTimeInput"
            inputs[picker["name"]] = {key: {"msSinceEpoch": picker["valueMsEpoch"]}}
    return inputs
