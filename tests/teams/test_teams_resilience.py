"""The Teams agent when things go wrong (issue 14): the database cut mid-turn, card data of
the wrong type, and logs that hold no personal data. Microsoft's TestAdapter drives the real
agent (tests/teams/harness.py) on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import urllib.request

import pytest

from bot.teams.server import create, http_app
from tests.conftest import make_school
from tests.http_limits import serving, trickle
from tests.test_faults import Cut

from .harness import delivered_to, log_sar, make_teams, run, settings, words

UNSAVED = ("Sorry, I can't reach the database just now, so that was not saved. Your earlier "
           "answers are safe: try again in a moment.")
UNREADABLE = "That button or form is out of date, or could not be read, so nothing was done."
PERSONAL = ("Jane Parent", "jane@example.org", "Tom Parent", "All behaviour records")


def assert_no_personal_data(text: str) -> None:
    for each in PERSONAL:
        assert each not in text, each
    assert "Traceback" not in text


def test_a_message_mid_conversation_is_told_nothing_was_saved_and_carries_on_after(
    cut: Cut, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    teams = make_teams(make_school(cut.engine))

    async def go() -> None:
        await teams.says("sam", "I need to log a subject access request", "1", "Jane Parent")
        cut.cut()
        for _ in range(2):
            assert UNSAVED in words(await teams.say("sam", "parent"))
        cut.restore()
        assert "Is the request about their own data?" in words(await teams.say("sam", "parent"))

    run(go())
    assert_no_personal_data(caplog.text)
    assert "could not answer a Teams message (nothing saved): database unreachable" in (
        caplog.text)


def test_a_card_action_in_an_outage_gets_a_card_not_an_error(
    cut: Cut, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    teams = make_teams(make_school(cut.engine))

    async def go() -> None:
        await teams.say("dee", "hello")
        await log_sar(teams)
        (alert,) = await delivered_to(teams, "dee")
        cut.cut()
        answer, _ = await teams.click("dee", alert["refresh"]["action"])
        assert UNSAVED in words(answer)

    run(go())
    assert_no_personal_data(caplog.text)


@pytest.mark.parametrize("data", [
    {"school": []}, {"school": {"id": 1}}, {"school": "x"}, {"workflow": ["sar"]},
    {"value": ["SAR-2026-0001"], "action": "take"}, {"conversation": [], "workflow": "sar"},
])
def test_card_data_of_the_wrong_type_is_answered_politely(
    cut: Cut, caplog: pytest.LogCaptureFixture, data: dict
) -> None:
    caplog.set_level(logging.INFO)
    teams = make_teams(make_school(cut.engine))

    async def go() -> None:
        await teams.say("dee", "hello")
        for verb in ("intake", "confirm", "act"):
            answer, _ = await teams.click("dee", {"type": "Action.Execute", "verb": verb,
                                                  "data": data})
            # A card each time (teams.click checks it), and no "something went wrong".
            assert "Sorry, something went wrong" not in words(answer), words(answer)
            if "school" in data or "value" in data:
                assert UNREADABLE in words(answer), words(answer)

    run(go())
    assert "Traceback" not in caplog.text and "TypeError" not in caplog.text


def test_a_client_sending_its_headers_slowly_is_cut_off(sqlite_engine) -> None:
    """/api/messages under ``dpo-bot teams``'s serving: one header line every 0.3 s is
    closed at the 1 s limit given, before its token is even looked at."""
    make_school(sqlite_engine)
    bot, adapter, connections = create(sqlite_engine, settings())
    slow_head = [b"POST /api/messages HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n"] + [
        f"X-Slow-{n}: {'a' * 20}\r\n".encode() for n in range(30)]
    with serving(http_app(bot, adapter, connections, deliver=False),
                 header_seconds=1.0) as port:
        took, _ = trickle(port, slow_head, every=0.3)
        assert took < 4, took
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as ok:
            assert ok.read() == b"ok"
