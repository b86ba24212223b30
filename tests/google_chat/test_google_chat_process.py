"""A real `dpo-bot google-chat` process: signed events in over HTTP, the case alert out
through the stand-in's Chat API from its own delivery loop, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.google_chat.settings import AUDIENCE, CREDENTIALS, DOMAIN, TEST_API, TEST_CERTS
from tests.conftest import PARENT_SAR, School_, empty_database, make_school
from workflows.database import upgrade

from .cards_v2 import words
from .google import PROJECT, Google, message_event
from .harness import give_emails

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[School_, str]]:
    engine = empty_database(request.param, tmp_path)
    upgrade(engine)
    school = make_school(engine)
    give_emails(school)
    yield school, engine.url.render_as_string(hide_password=False)
    engine.dispose()


def post(port: int, event: dict[str, Any], token: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/google-chat", data=json.dumps(event).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_command_serves_events_and_delivers_alerts_until_sigterm(
        served: tuple[School_, str], tmp_path: Path) -> None:
    school, url = served
    google, port, log = Google(tmp_path), free_port(), tmp_path / "google-chat.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPO_BOT_")} | {
        "DPO_BOT_DATABASE_URL": url, AUDIENCE: PROJECT, DOMAIN: "hillside.sch.uk",
        CREDENTIALS: str(google.credentials), TEST_CERTS: f"{google.url}/certs",
        TEST_API: google.url}
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "google-chat", "--host", "127.0.0.1", "--port",
             str(port)], env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.1)
            assert post(port, message_event("dee", "hi"), "forged")[0] == 401
            status, hello = post(port, message_event("dee", "hi"), google.token())
            assert status == 200 and "Hello Dee Dpo" in words(hello), hello
            school.says("sam", *PARENT_SAR, "yes")  # in the terminal: the alert is queued
            deadline = time.monotonic() + 30
            while not google.sent("spaces/dm-dee"):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        finally:
            process.terminate()
            code = process.wait(timeout=30)
            google.close()
    (alert,) = google.sent("spaces/dm-dee")
    assert "SAR-" in words(alert) and "Jane Parent" in words(alert)
    assert code == 0, log.read_text()
    assert "Jane Parent" not in log.read_text()  # personal data never in the log
