"""The Google Chat app when things go wrong: the database cut mid-conversation, a click in an
outage, and buttons carrying data no card of ours sends. Each is answered (Chat shows only
"not responding" otherwise), in one log line without personal data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_school
from tests.teams.test_teams_resilience import UNREADABLE, UNSAVED, assert_no_personal_data
from tests.test_faults import Cut

from .cards_v2 import words
from .google import Google
from .harness import Chat, give_emails, run


@pytest.fixture
def google(tmp_path: Path) -> Google:
    return Google(tmp_path)


def test_a_message_mid_conversation_is_told_nothing_was_saved_and_carries_on_after(
        cut: Cut, google: Google, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    school = make_school(cut.engine)
    give_emails(school)
    chat = Chat(school, google)

    async def go() -> None:
        async with chat:
            for line in ("I need to log a subject access request", "1", "Jane Parent"):
                await chat.say("sam", line)
            cut.cut()
            for _ in range(2):
                assert UNSAVED in words(await chat.say("sam", "parent"))
            cut.restore()
            assert "Is the request about their own data?" in words(
                await chat.say("sam", "parent"))

    try:
        run(go())
    finally:
        google.close()
    assert_no_personal_data(caplog.text)
    assert "could not answer a Google Chat event (nothing saved)" in caplog.text


@pytest.mark.parametrize("parameters", [
    {"school": "x", "workflow": "sar"}, {"workflow": "nothing"},
    {"value": "SAR-2026-0001|1|1", "action": "no-such-action"},
    {"conversation": "x", "workflow": "sar"},
], ids=["school", "workflow", "action", "conversation"])
def test_button_data_no_card_of_ours_sends_is_answered_politely(
        cut: Cut, google: Google, caplog: pytest.LogCaptureFixture,
        parameters: dict[str, Any]) -> None:
    caplog.set_level(logging.INFO)
    school = make_school(cut.engine)
    give_emails(school)
    chat = Chat(school, google)
    function = "intake" if "conversation" not in parameters else "confirm"
    forged = {"text": "Go", "onClick": {"action": {
        "function": "act" if "action" in parameters else function,
        "parameters": [{"key": k, "value": v} for k, v in parameters.items()]}}}

    async def go() -> dict[str, Any]:
        async with chat:
            await chat.say("dee", "hello")
            return await chat.click("dee", forged, submit=True)

    try:
        answer = run(go())
    finally:
        google.close()
    assert UNREADABLE in words(answer)
    assert "Traceback" not in caplog.text
