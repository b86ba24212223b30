"""The Teams agent when things go wrong (issue 14): a restart under load, the database cut
mid-turn, activities and card data of the wrong type, and logs that hold no personal data.

Microsoft's TestAdapter drives the real agent in-process (tests/teams/harness.py); the
restart and the wrongly typed activities go through a real `dpo-bot teams` process, sent
tokens signed by a local key that the SDK's own check verifies (tests/teams/microsoft.py).
All on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.teams.server import create, http_app
from tests.conftest import PARENT_SAR, School_, empty_database, make_school
from tests.http_limits import serving, trickle
from tests.test_faults import Cut
from workflows.core.inbound import InboundEvent
from workflows.database import make_engine, session_scope, upgrade
from workflows.people.models import Person
from workflows.sar.models import RightsRequest

from .harness import CARD, ROOT, delivered_to, log_sar, make_teams, run, settings, words
from .microsoft import Microsoft

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


# -- a real `dpo-bot teams` process, sent signed activities -----------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TeamsServer:
    """`dpo-bot teams` running against ``url``, trusting ``microsoft``'s keys and token
    service; its log goes to a file (read on failure)."""

    def __init__(self, microsoft: Microsoft, url: str, log: Path) -> None:
        self.microsoft, self.port, self.log = microsoft, free_port(), log
        self.url = f"http://127.0.0.1:{self.port}/api/messages"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTIONS__")}
        env |= microsoft.env() | {"DPO_BOT_DATABASE_URL": url}
        self.output = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "teams", "--host", "127.0.0.1", "--port",
             str(self.port)], env=env, cwd=ROOT, stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, f"dpo-bot teams exited:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                assert time.monotonic() < deadline, f"no /healthz:\n{log.read_text()}"
                time.sleep(0.1)

    def post(self, body: bytes | dict[str, Any], *, token: str | None = None,
             timeout: float = 30) -> tuple[int, Any]:
        """POST to /api/messages with a signed token (or ``token``); status and JSON body."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.url, data=data, method="POST", headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token or self.microsoft.token()}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, json.loads(raw) if raw.strip() else None

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.output.close()
        return self.log.read_text()


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[School_, str]]:
    """A school whose people are linked to their Teams ids, in a fresh database; and its URL."""
    engine: Engine = empty_database(request.param, tmp_path)
    upgrade(engine)
    school = make_school(engine)
    with session_scope(engine) as session:
        for who, person in school.people.items():
            session.get(Person, person).teams_user_id = f"29:{who}"
    url = engine.url.render_as_string(hide_password=False)  # this run's own database
    yield school, url
    engine.dispose()


def take(microsoft: Microsoft, reference: str, school_id: int, on: str) -> dict[str, Any]:
    """The DPO pressing "Take the case" on an alert card."""
    return microsoft.activity(
        "dee", type="invoke", name="adaptiveCard/action", replyToId=on,
        value={"action": {"type": "Action.Execute", "verb": "act",
                          "data": {"action": "take", "value": f"{reference}|1|{school_id}"}},
               "trigger": "manual"})


def test_sigterm_under_load_finishes_every_acknowledged_request(
    served: tuple[School_, str], tmp_path: Path
) -> None:
    """80 messages and the DPO's clicks at once, through a busy Bot Connector; SIGTERM after
    the 30th answer. Teams is answered once the turn is done, so each request answered 2xx
    has its reply sent (or its case decided) before the process exits, and every other one
    got no answer at all, which Teams sends again."""
    school, url = served
    references = [re.search(r"SAR-\d{4}-\d{4}", school.says("sam", *PARENT_SAR, "yes")).group(0)
                  for _ in range(10)]
    with Microsoft(tmp_path, slow=0.5) as microsoft:  # each reply takes half a second
        server = TeamsServer(microsoft, url, tmp_path / "dpo-bot-teams.log")
        requests: list[tuple[str, dict[str, Any]]] = []
        for index in range(80):
            if index % 8 == 5:
                requests.append(("click", take(microsoft, references[index // 8],
                                               school.school_id, on=f"alert-{index}")))
            else:
                requests.append(("message", microsoft.activity(("sam", "kim")[index % 2],
                                                               text="help")))
        acked: list[tuple[str, dict[str, Any], Any]] = []
        refused: list[str] = []
        lock, thirty, termed = threading.Lock(), threading.Event(), threading.Event()
        after_term: list[str] = []  # answered after the signal: finished while stopping

        def send(item: tuple[str, dict[str, Any]]) -> None:
            try:
                status, body = server.post(item[1])
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                with lock:
                    refused.append(type(error).__name__)
                return
            assert 200 <= status < 300, (status, body)  # answered in full, or not at all
            with lock:
                acked.append((*item, body))
                if termed.is_set():
                    after_term.append(item[1]["id"])
                if len(acked) == 30:
                    thirty.set()

        with ThreadPoolExecutor(8) as pool:
            sending = [pool.submit(send, item) for item in requests]
            assert thirty.wait(120), server.log.read_text()
            with lock:
                at_term = len(acked)
            sent_at_term = len(microsoft.sent())
            server.process.send_signal(signal.SIGTERM)
            termed.set()
            for each in sending:
                each.result()
        code = server.process.wait(timeout=90)
        server.output.close()
        log = server.log.read_text()
        assert code == 0, log

        messages = [a for kind, a, _ in acked if kind == "message"]
        clicks = [(a, body) for kind, a, body in acked if kind == "click"]
        replied = {call.path.rsplit("/", 1)[-1] for call in microsoft.sent()}
        print(f"\nTeams restart under load: {len(requests)} sent, {len(acked)} answered 2xx "
              f"({at_term} before SIGTERM, {len(after_term)} after it; {sent_at_term} "
              f"replies sent by then), "
              f"{len(refused)} refused; answered: {len(messages)} messages, {len(clicks)} "
              f"clicks; {len(microsoft.sent())} activities sent to Teams")
        assert after_term  # requests under way at the signal were finished, not dropped
        assert len(acked) + len(refused) == len(requests)
        # Every answered message got its reply, in reply to it, and was recorded as seen.
        assert {a["id"] for a in messages} <= replied
        engine = make_engine(url)
        with session_scope(engine) as session:
            seen = {key.rsplit(":", 1)[-1] for key in session.exec(select(InboundEvent.key))}
            taken = {c.reference for c in session.exec(select(RightsRequest)) if c.owner_id}
        engine.dispose()
        assert {a["id"] for a in messages} <= seen
        # Every answered click got its card and took its case; no other case moved.
        for _, body in clicks:
            assert body["statusCode"] == 200 and body["type"] == CARD, body
        assert taken == {a["value"]["action"]["data"]["value"].split("|")[0]
                         for a, _ in clicks}
        assert "every acknowledged request finished" in log, log
        assert "Traceback" not in log, log



def malformed(microsoft: Microsoft) -> dict[str, bytes | dict[str, Any]]:
    """Bodies a signed request may carry that are not activities Teams sends."""
    activity, name = microsoft.activity, "Jane Parent"
    return {
        "not JSON": b"{not json " + name.encode(),
        "not UTF-8": b'{"type": "message", "text": "\xff\xfe"}',
        "a JSON list": b"[]",
        "conversation: []": activity("sam", text=name, conversation=[]),
        "from: a string": activity("sam", text=name, **{"from": name}),
        "type: a number": activity("sam", text=name, type=5),
        "text: a list": activity("sam", text=[name]),
        "no conversation": {k: v for k, v in activity("sam", text=name).items()
                            if k != "conversation"},
        "card action value: a list": activity("dee", type="invoke", name="adaptiveCard/action",
                                              value=[name]),
        "card action: a list": activity("dee", type="invoke", name="adaptiveCard/action",
                                        value={"action": [name]}),
        "card action data: a list": activity(
            "dee", type="invoke", name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": "act", "data": [name]}}),
    }


def test_activities_of_the_wrong_type_get_400_and_no_traceback(
    served: tuple[School_, str], tmp_path: Path
) -> None:
    """Signed with a good token, so they pass the SDK's check and reach the bot: every body
    that is not an activity is refused 400, with one line in the log and nothing of it."""
    _, url = served
    with Microsoft(tmp_path) as microsoft:
        server = TeamsServer(microsoft, url, tmp_path / "dpo-bot-teams.log")
        try:
            answers = {what: server.post(body) for what, body in malformed(microsoft).items()}
            # Wrong types inside a card's data are an old or garbled card: a card says so.
            status, old_card = server.post(microsoft.activity(
                "dee", type="invoke", name="adaptiveCard/action",
                value={"action": {"type": "Action.Execute", "verb": "intake",
                                  "data": {"school": []}}}))
            unknown = server.post(microsoft.activity("sam", type="dpoSomethingNew", text="hi"))
            good = microsoft.activity("sam", text="help")
            fine = server.post(good)
        finally:
            log = server.stop()
    assert {what: status for what, (status, _) in answers.items()} == {
        what: 400 for what in answers}, answers
    assert status == 200 and UNREADABLE in words(old_card["value"]), old_card
    # An activity type the bot does not know is ignored, as the Activity protocol asks.
    assert unknown == (202, None)
    assert fine == (202, None)
    # One reply in all: to the good message.
    assert [c.path.rsplit("/", 1)[-1] for c in microsoft.sent()] == [good["id"]]
    assert log.count("refused an activity whose fields could not be read") == 5, log
    assert "refused an invoke whose value could not be read" in log, log
    assert "Traceback" not in log and "TypeError" not in log, log
    assert "Jane Parent" not in log, log


def test_tokens_the_sdk_must_refuse_are_refused_401(
    served: tuple[School_, str], tmp_path: Path
) -> None:
    """The real check runs against the local keys: another key, another audience, another
    issuer, an expired token and no token are all refused before the bot sees anything."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    _, url = served
    now = int(time.time())
    with Microsoft(tmp_path) as microsoft:
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(jwt.decode(microsoft.token(), options={"verify_signature": False}),
                            other_key, algorithm="RS256", headers={"kid": "dpo-bot-test-key"})
        tokens = {"another key": forged, "another audience": microsoft.token(aud="someone"),
                  "another issuer": microsoft.token(iss="https://sts.example.org/"),
                  "expired": microsoft.token(exp=now - 3600, nbf=now - 7200, iat=now - 7200)}
        server = TeamsServer(microsoft, url, tmp_path / "dpo-bot-teams.log")
        try:
            refused = {what: server.post(microsoft.activity("sam", text="help"), token=token)[0]
                       for what, token in tokens.items()}
            request = urllib.request.Request(server.url, method="POST", data=json.dumps(
                microsoft.activity("sam", text="help")).encode())
            with pytest.raises(urllib.error.HTTPError) as none:
                urllib.request.urlopen(request, timeout=30)
            accepted = server.post(microsoft.activity("sam", text="help"))
        finally:
            log = server.stop()
    assert refused == {what: 401 for what in tokens}, refused
    assert none.value.code == 401
    assert accepted == (202, None)  # the same activity, signed by the right key
    assert len(microsoft.sent()) == 1
    assert "Traceback" not in log, log


OTHER_TENANT = "99999999-8888-7777-6666-555555555555"
FIRST_PARTY = "d6d49420-f39b-4df7-a1dc-d59a935871db"  # a Microsoft tenant the SDK trusts


def test_tokens_for_another_tenant_or_service_url_are_refused_401(
    served: tuple[School_, str], tmp_path: Path
) -> None:
    """A token from another tenant's Entra, one naming a trusted Microsoft tenant's issuer
    but another tenant, and one signed for another service URL than the activity names (the
    bot would send its replies, with its own token, wherever ``serviceUrl`` points) are all
    refused before the bot sees them; the right ones are answered. An activity from another
    tenant under a good token reaches the bot, which turns its sender away."""
    _, url = served
    with Microsoft(tmp_path) as microsoft:
        good = microsoft.activity("sam", text="help")
        elsewhere = "https://smba.elsewhere.example/teams/"
        refused = {
            "another tenant's Entra": (good, microsoft.token(
                iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0",
                tid=OTHER_TENANT)),
            "a trusted issuer, another tenant": (good, microsoft.token(
                iss=f"https://sts.windows.net/{FIRST_PARTY}/", tid=OTHER_TENANT)),
            "signed for another service URL": (good, microsoft.token(serviceurl=elsewhere)),
            "sent with another service URL": (
                microsoft.activity("sam", text="help", serviceUrl=elsewhere),
                microsoft.token()),
            "another port": (microsoft.activity(
                "sam", text="help", serviceUrl=microsoft.service_url.replace(
                    microsoft.url, "https://127.0.0.1:1")), microsoft.token()),
            "no service URL claimed": (good, jwt_without(microsoft, "serviceurl")),
        }
        stranger = microsoft.activity("sam", text="help")
        stranger["conversation"]["tenantId"] = OTHER_TENANT
        stranger["channelData"]["tenant"]["id"] = OTHER_TENANT
        server = TeamsServer(microsoft, url, tmp_path / "dpo-bot-teams.log")
        try:
            statuses = {what: server.post(activity, token=token)[0]
                        for what, (activity, token) in refused.items()}
            answered = server.post(good)
            from_entra = microsoft.activity("sam", text="help")
            answered_entra = server.post(from_entra, token=microsoft.token(
                iss=f"https://sts.windows.net/{FIRST_PARTY}/", tid=FIRST_PARTY))
            turned_away = server.post(stranger)
        finally:
            log = server.stop()
    assert statuses == {what: 401 for what in refused}, statuses
    assert answered == answered_entra == turned_away == (202, None)
    replies = {c.path.rsplit("/", 1)[-1]: words(c.body) for c in microsoft.sent()}
    assert sorted(replies) == sorted([good["id"], from_entra["id"], stranger["id"]])
    assert replies[good["id"]] == replies[from_entra["id"]]
    assert "your Teams account belongs to another organisation" in replies[stranger["id"]]
    assert all(c.path.startswith("/teams/") for c in microsoft.calls)
    assert "Traceback" not in log, log


def jwt_without(microsoft: Microsoft, claim: str) -> str:
    """A token as the Bot Framework signs one, lacking ``claim``."""
    import jwt

    body = jwt.decode(microsoft.token(), options={"verify_signature": False})
    body.pop(claim)
    return jwt.encode(body, microsoft.key, algorithm="RS256",
                      headers={"kid": "dpo-bot-test-key"})
