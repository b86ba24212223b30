"""A Teams message is measured as it goes on the wire (JSON with every non-ASCII character
escaped), against Teams' limit; over it, or refused with a 413, the short form goes, and a
413 is never retried for the same card."""

from __future__ import annotations

import json

from aiohttp import web
from microsoft_agents.activity import Activity
from sqlmodel import select

from bot.teams import cards
from bot.teams.delivery import MESSAGE_BYTES, deliver_once
from bot.teams.turns import wire_bytes
from tests.conftest import School_
from workflows.core.ui import Document
from workflows.database import session_scope
from workflows.notifications import service as notifications
from workflows.notifications.models import Notification

from .harness import log_sar, make_teams, run, words
from .test_teams_delivery import FakeConnector, accepted, cloud_adapter, point_at, waiting

POLISH = "Zażółć gęślą jaźń: uczeń zgubił pendrive’a z ocenami klasy 5b. "
ARABIC = "فقد المعلم حاسوبًا محمولًا يحتوي على درجات التلاميذ. "


def too_large() -> web.Response:
    return web.json_response({"error": {"code": "MessageSizeTooBig"}}, status=413)


def notes(text: str, utf8_bytes: int) -> str:
    """``text`` repeated to about ``utf8_bytes`` in UTF-8: what the old check measured."""
    return (text * (utf8_bytes // len(text.encode()) + 1)).encode()[:utf8_bytes].decode(
        errors="ignore")


def test_a_card_is_measured_as_sent_not_as_utf8() -> None:
    for text, grows in ((POLISH, 1.5), (ARABIC, 2.5)):
        body = notes(text, 21_600)
        card = {"type": "AdaptiveCard", "version": "1.5",
                "body": [{"type": "RichTextBlock", "inlines": [{"type": "TextRun",
                                                                "text": body}]}]}
        as_utf8 = len(json.dumps(card, ensure_ascii=False).encode())
        assert as_utf8 < cards.CARD_BYTES  # what was checked before: it "fitted"
        assert cards.size(card) == len(json.dumps(card).encode()) > as_utf8 * grows
        assert cards.size(card) > MESSAGE_BYTES


def test_notes_in_polish_or_arabic_are_shortened_to_fit_as_sent(school: School_) -> None:
    for text in (POLISH, ARABIC):
        card = cards.message_card([Document("Notes", notes(text, 21_600))])
        assert cards.size(card) <= cards.CARD_BYTES
        assert "shortened to fit Teams" in words(card)


def queue_for(school: School_, who: str, text: str, key: str) -> None:
    with session_scope(school.engine) as session:
        notifications.queue(session, school_id=school.school_id, people=[school.people[who]],
                            kind="test.note", key=key, text=text, by=None)


def test_what_goes_is_what_was_measured_and_within_the_limit(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> FakeConnector:
        await teams.say("dee", "hi")
        queue_for(school, "dee", notes(ARABIC, 6_000), "arabic")
        queue_for(school, "dee", notes(POLISH, 6_000), "polish")
        async with FakeConnector(lambda n: accepted()) as fake:
            point_at(school, "dee", fake.url)
            assert await deliver_once(teams.bot, cloud_adapter(), backoff=0.01) == 2
        return fake

    fake = run(go())
    assert len(fake.posts) == 2
    for post in fake.posts:
        assert post["bytes"] <= MESSAGE_BYTES
        card = post["body"]["attachments"][0]["content"]
        assert ARABIC.strip()[:10] in words(card) or POLISH[:10] in words(card)
        # Measured as the SDK sends it, once it has filled in the conversation: exactly.
        assert wire_bytes(Activity.model_validate(post["body"])) == post["bytes"]


def test_a_message_over_the_limit_goes_as_its_short_form(school: School_, monkeypatch
                                                        ) -> None:
    """Over Teams' limit as sent, the card is never posted (the limit is lowered here: the
    cards themselves are cut to fit well within it)."""
    monkeypatch.setattr("bot.teams.delivery.MESSAGE_BYTES", 3_000)
    teams = make_teams(school)

    async def go() -> tuple[FakeConnector, str]:
        await teams.say("dee", "hi")
        reference = await log_sar(teams)
        async with FakeConnector(lambda n: accepted()) as fake:
            point_at(school, "dee", fake.url)
            assert await deliver_once(teams.bot, cloud_adapter(), backoff=0.01) == 1
        return fake, reference

    fake, reference = run(go())
    [post] = fake.posts
    assert post["bytes"] <= 3_000
    assert reference in words(post["body"]["attachments"][0]["content"])
    assert waiting(school, "dee") == []


def test_a_413_sends_the_short_form_once_and_never_the_card_again(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> tuple[FakeConnector, str]:
        await teams.say("dee", "hi")
        reference = await log_sar(teams)
        async with FakeConnector(lambda n: too_large() if n == 1 else accepted()) as fake:
            point_at(school, "dee", fake.url)
            assert await deliver_once(teams.bot, cloud_adapter(), backoff=0.01) == 1
            assert await deliver_once(teams.bot, cloud_adapter(), backoff=0.01) == 0
        return fake, reference

    fake, reference = run(go())
    assert len(fake.posts) == 2  # the card once, refused; its short form once
    short = fake.posts[1]["body"]["attachments"][0]["content"]
    said = words(short)
    assert reference in said and "too long for Teams" in said, said
    assert "Jane Parent" not in json.dumps(short)  # a reference and a countdown, no detail
    [open_case] = short["actions"]
    assert open_case["title"] == "Open the case"
    assert open_case["data"]["ref"] == reference and open_case["verb"] == cards.REFRESH
    assert waiting(school, "dee") == []


def test_a_413_for_the_short_form_too_is_given_up_not_retried(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> FakeConnector:
        await teams.say("dee", "hi")
        await log_sar(teams)
        async with FakeConnector(lambda n: too_large()) as fake:
            point_at(school, "dee", fake.url)
            for _ in range(3):
                assert await deliver_once(teams.bot, cloud_adapter(), backoff=0.01) == 0
        return fake

    fake = run(go())
    assert len(fake.posts) == 2  # once each, then never again
    assert waiting(school, "dee") == []
    with session_scope(school.engine) as session:
        refused = session.exec(select(Notification).where(
            Notification.person_id == school.people["dee"])).all()
    assert [n.delivered_via for n in refused] == ["teams:refused"]
