"""The Google Chat settings a Workspace admin gives, checked at start with messages that say
what is wrong and where to find it; and the command that serves the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.google_chat.settings import (
    AUDIENCE,
    CREDENTIALS,
    DOMAIN,
    TEST_API,
    TEST_CERTS,
    GoogleChatConfigError,
    GoogleChatSettings,
)
from tests.conftest import run_cli


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "key.json"
    path.write_text('{"type": "service_account", "private_key": "…"}')
    return path


def settings(key: Path, **changed: str) -> dict[str, str]:
    return {AUDIENCE: "123456789012", DOMAIN: "hillside.sch.uk, hillside.org.uk",
            CREDENTIALS: str(key)} | changed


def test_good_settings_are_read(key: Path) -> None:
    read = GoogleChatSettings.from_env(settings(key))
    assert read.by_project_number and read.domains == ("hillside.sch.uk", "hillside.org.uk")
    assert read.api_url == "https://chat.googleapis.com" and read.certs_url is None
    by_url = GoogleChatSettings.from_env(settings(key, **{AUDIENCE: "https://bot.example/gc"}))
    assert not by_url.by_project_number


@pytest.mark.parametrize(("changed", "said"), [
    ({AUDIENCE: ""}, f"{AUDIENCE} is not set"),
    ({AUDIENCE: "my-project"}, "project number (digits) or an https:// URL"),
    ({AUDIENCE: "http://bot.example/gc"}, "https:// URL"),
    ({DOMAIN: "not a domain"}, "a domain like school.org.uk"),
    ({CREDENTIALS: "/nowhere/key.json"}, "names a file that does not exist"),
    ({TEST_API: "https://chat.example.org"}, "must name a loopback address"),
    ({TEST_CERTS: "https://www.googleapis.com/oauth2/v1/certs"}, "loopback"),
])
def test_a_wrong_setting_stops_the_start_and_says_where_to_look(
        key: Path, changed: dict[str, str], said: str) -> None:
    with pytest.raises(GoogleChatConfigError, match=said.replace("(", r"\(").replace(")", r"\)")):
        GoogleChatSettings.from_env(settings(key, **changed))


def test_a_key_that_is_not_a_service_accounts_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "client.json"
    other.write_text('{"installed": {"client_id": "x"}}')
    with pytest.raises(GoogleChatConfigError, match="not a service account's JSON key"):
        GoogleChatSettings.from_env(settings(other))


def test_the_command_names_the_missing_setting(cli_env: dict[str, str]) -> None:
    done = run_cli("google-chat", env=cli_env)
    assert done.returncode == 2
    assert f"{AUDIENCE} is not set" in done.stderr + done.stdout
    assert "Authentication Audience" in done.stderr + done.stdout


def test_long_answers_are_cut_to_googles_limits_saying_so() -> None:
    from bot.google_chat import cards
    from workflows.core.ui import Document, Table

    from .cards_v2 import message_problems, words

    rows = tuple((f"SAR-2026-{n:04d}", "Open", "1 Dec", "3 days") for n in range(150))
    listing = cards.message_card([Table("Open cases", ("Reference",), rows)])
    letter = cards.message_card([Document("A letter", "Dear parent, " * 6_000)])
    for message in (listing, letter):
        assert message_problems(message) == []
        assert "shortened" in words(message).lower()
