"""Setting the Teams agent up: settings that name what is missing, /api/messages behind the
SDK's JWT check (a real aiohttp server), the app package against the Teams manifest 1.22
schema, every kind of card against the Adaptive Card 1.5 schema, and a fast `--help`.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import struct
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.teams import cards
from bot.teams.package import build
from bot.teams.server import create, http_app
from bot.teams.settings import (
    AUTH_TYPE,
    CERT_FILE,
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT_ID,
    TeamsConfigError,
    TeamsSettings,
)
from workflows.core import router
from workflows.core.ui import (
    Button,
    Card,
    Document,
    Option,
    Question,
    Summary,
    Table,
    Text,
)
from workflows.registry import WORKFLOWS

from .harness import ENV, MANIFEST_SCHEMA, card_problems, needs_schemas, settings

ROOT = Path(__file__).resolve().parents[2]


# Settings


@pytest.mark.parametrize("missing", [CLIENT_ID, TENANT_ID, CLIENT_SECRET])
def test_a_missing_setting_is_named(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(TeamsConfigError, match=missing):
        TeamsSettings.from_env(env)


def test_a_client_id_that_is_not_a_guid_is_refused() -> None:
    with pytest.raises(TeamsConfigError, match="should be a GUID"):
        TeamsSettings.from_env({**ENV, CLIENT_ID: "my-bot"})


def test_a_certificate_instead_of_a_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if k != CLIENT_SECRET} | {AUTH_TYPE: "certificate"}
    with pytest.raises(TeamsConfigError, match=CERT_FILE):
        TeamsSettings.from_env(env)
    pfx = tmp_path / "bot.pfx"
    pfx.write_bytes(b"not checked here: msal reads it")
    found = TeamsSettings.from_env(env | {CERT_FILE: str(pfx)})
    assert found.sdk["CONNECTIONS"]["SERVICE_CONNECTION"]["SETTINGS"]["CERTPFXFILE"] == str(pfx)


def test_issuer_validation_is_on_whatever_the_environment_says() -> None:
    found = TeamsSettings.from_env({**ENV, CLIENT_ID.replace("CLIENTID", "VALIDATE_ISSUER"):
                                    "false"})
    bot_settings = found.sdk["CONNECTIONS"]["SERVICE_CONNECTION"]["SETTINGS"]
    assert bot_settings["VALIDATE_ISSUER"] == "true"
    assert "test-secret-never-printed" not in repr(found)
    # As the SDK's JWT check reads it: on, for Teams' (Bot Framework's) issuer and our tenant.
    from microsoft_agents.authentication.msal import MsalConnectionManager

    checked = MsalConnectionManager(**found.sdk).get_default_connection_configuration()
    assert checked.VALIDATE_ISSUER is True
    assert ENV[CLIENT_ID] == checked.CLIENT_ID
    assert "https://api.botframework.com" in checked.ISSUERS
    assert all("common" not in issuer for issuer in checked.ISSUERS)


def test_dpo_bot_teams_without_settings_names_the_missing_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["teams", "--port", "0"], env={
        CLIENT_ID: "", "DPO_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.exit_code == 2
    assert CLIENT_ID in result.output


# /api/messages


def test_api_messages_without_a_valid_token_is_refused(sqlite_engine, tmp_path: Path) -> None:
    from tests.conftest import make_school

    make_school(sqlite_engine)
    bot, adapter, connections = create(sqlite_engine, settings())
    activity = {"type": "message", "text": "hello", "channelId": "msteams",
                "from": {"id": "29:x"}, "conversation": {"id": "a:x"},
                "recipient": {"id": "28:bot"}, "serviceUrl": "https://smba.trafficmanager.net/"}

    async def go() -> list[tuple[int, Any]]:
        runner = aiohttp.web.AppRunner(http_app(bot, adapter, connections, deliver=False))
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
        url = f"http://127.0.0.1:{port}"
        out = []
        try:
            async with aiohttp.ClientSession() as http:
                kidless = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiIxIn0.c2ln"  # no key id, unsigned
                for headers in ({}, {"Authorization": "Bearer not.a.token"},
                                {"Authorization": f"Bearer {kidless}"},
                                {"Authorization": "Basic dXNlcjpwYXNz"}):
                    async with http.post(f"{url}/api/messages", json=activity,
                                         headers=headers) as response:
                        out.append((response.status, await response.json()))
                async with http.get(f"{url}/healthz") as response:
                    out.append((response.status, await response.text()))
        finally:
            await runner.cleanup()
        return out

    answers = asyncio.run(go())
    assert [status for status, _ in answers] == [401, 401, 401, 401, 200]
    assert answers[0][1] == {"error": "Authorization header not found"}
    assert answers[-1][1] == "ok"


# The app package


def package(tmp_path: Path, *more: str, out: Path | None = None) -> tuple[Any, dict[str, Any]]:
    """``dpo-bot teams package`` (only the bot's id is needed: the admin has no secret), its
    result and the manifest it wrote, checked against the Teams manifest 1.22 schema."""
    import jsonschema

    out = out or tmp_path / "dpo-bot-teams.zip"
    result = CliRunner().invoke(
        cli, ["teams", "package", "--out", str(out), "--website", "https://hillside.example",
              *more],
        env={CLIENT_ID: ENV[CLIENT_ID], TENANT_ID: "", CLIENT_SECRET: "",
             "DPO_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    if result.exit_code != 0:
        return result, {}
    built = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    assert sorted(built.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(built.read("manifest.json"))
    schema = json.loads(MANIFEST_SCHEMA.read_text())
    problems = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(manifest)]
    assert problems == []
    return result, manifest


@needs_schemas
def test_the_package_validates_against_the_teams_manifest_schema(tmp_path: Path) -> None:
    result, manifest = package(tmp_path)
    assert result.exit_code == 0, result.output
    built = zipfile.ZipFile(io.BytesIO((tmp_path / "dpo-bot-teams.zip").read_bytes()))
    assert manifest["id"] == manifest["bots"][0]["botId"] == ENV[CLIENT_ID]
    assert manifest["bots"][0]["scopes"] == ["personal"]  # never a channel: personal data
    assert manifest["developer"]["privacyUrl"] == "https://hillside.example"
    assert icon(built.read("color.png")) == (192, 192, False)
    assert icon(built.read("outline.png")) == (32, 32, True)
    # Every workflow, photo consent, and the words any case needs, in Teams' command menu.
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert titles == [w.triggers[0] for w in WORKFLOWS.values()] + [
        "consent", "cases", "form", "help"]
    assert all(router.named(t) for t in titles[:len(WORKFLOWS)])


SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def semver(text: str) -> tuple[int, ...]:
    found = SEMVER.match(text)
    assert found, text
    return tuple(int(part) for part in found.groups())


@needs_schemas
def test_every_rebuilt_package_has_a_higher_version(tmp_path: Path) -> None:
    """Teams takes an upload for an update only if its version is higher: three builds in
    a row (within one second, at the same path), and one written elsewhere a minute later."""
    versions = []
    for _ in range(3):
        result, manifest = package(tmp_path)
        assert result.exit_code == 0, result.output
        versions.append(semver(manifest["version"]))
    later = datetime.now(UTC) + timedelta(minutes=1)
    elsewhere = build(ENV[CLIENT_ID], now=later, school="Hillside", website="https://h.example",
                      privacy="https://h.example", terms="https://h.example",
                      developer="Hillside")
    with zipfile.ZipFile(io.BytesIO(elsewhere)) as built:
        versions.append(semver(json.loads(built.read("manifest.json"))["version"]))
    assert versions == sorted(set(versions)), versions
    assert all(v[2] < 2**31 for v in versions)  # what Teams admin centre can compare


@needs_schemas
def test_a_trusts_package_names_the_trust(tmp_path: Path) -> None:
    env = {"DPO_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for slug, name in (("hillside", "Hillside Primary"), ("oakwood", "Oakwood Academy")):
        added = CliRunner().invoke(cli, ["schools", "add", slug, "--name", name], env=env)
        assert added.exit_code == 0, added.output
    result, _ = package(tmp_path)  # the first school's name would mislead the others
    assert result.exit_code == 2 and "--organisation" in result.output, result.output
    result, manifest = package(tmp_path, "--organisation", "Riverside Learning Trust")
    assert result.exit_code == 0, result.output
    assert manifest["developer"]["name"] == "Riverside Learning Trust"
    assert manifest["name"]["full"] == "DPO Bot for Riverside Learning Trust"
    assert "Hillside" not in json.dumps(manifest)
    # One school's own package still names that school.
    result, manifest = package(tmp_path, "--school", "oakwood")
    assert result.exit_code == 0, result.output
    assert manifest["developer"]["name"] == "Oakwood Academy"


def icon(png: bytes) -> tuple[int, int, bool]:
    """Width, height, and whether every pixel is white or fully transparent."""
    import zlib

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert png[24:26] == b"\x08\x06"  # 8-bit RGBA
    length = struct.unpack(">I", png[33:37])[0]
    rows = zlib.decompress(png[41:41 + length])
    stride = 1 + 4 * width
    pixels = [rows[y * stride + 1 + 4 * x:y * stride + 5 + 4 * x]
              for y in range(height) for x in range(width)]
    outline = all(p[3] == 0 or p[:3] == b"\xff\xff\xff" for p in pixels)
    return width, height, outline


def test_the_package_needs_https_addresses(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["teams", "package", "--out", str(tmp_path / "p.zip"), "--website",
              "http://hillside.example"],
        env={**ENV, "DPO_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.exit_code == 2 and "https://" in result.output


# Every kind of card


def every_card() -> list[dict[str, Any]]:
    case = Card(title="Breach report", reference="BRE-2026-0001", status="Open",
                rows=(("What happened", "x" * 5000),), deadline="ICO deadline in 3 hours",
                buttons=(Button("take", "Take", "take BRE-2026-0001", "BRE-2026-0001|1",
                                "primary"),
                         Button("close", "Close", "close BRE-2026-0001", "BRE-2026-0001|1",
                                "danger", confirm="Final.")),
                footer="Details privately.")
    replies = [
        Text("Saved.", "success"), Text("Careful.", "warning"), Text("No.", "error"),
        Question("f", "Which?", "help", "choice", 2, 5, True, (Option("a", "A"),), "A"),
        Summary("Check", (("Name", "Jane"),), ("A note.",)),
        case, Table("Open cases", ("Ref",), (("SAR-2026-0001", "Open"),)),
        Table("None", ("Ref",), ()), Document("Letter", "Dear Jane,\n" * 2000),
    ]
    out = [cards.message_card(replies, refresh_for=["29:dee"]),
           cards.case_card(case, with_buttons=True, refresh_for=["29:dee"],
                           notice=Text("You already did it.", "warning"), footer="Done."),
           cards.start_card([Text("Hello")], [(w.name, w.title) for w in WORKFLOWS.values()])]
    for workflow in WORKFLOWS.values():
        errors = {f.name: "Wrong." for f in workflow.intake.fields}
        out.append(cards.intake_form(workflow.name, workflow.title, workflow.intake,
                                     {f.name: "x" for f in workflow.intake.fields}, errors,
                                     note="Refused."))
        out.append(cards.summary_card(Summary("Check", (("a", "b"),)), workflow.name, 1))
        for action in workflow.actions:
            out.append(cards.decision_form(case, action.label, action.name, "BRE-2026-0001|1",
                                           action.form, action.confirm,
                                           errors={f.name: "Wrong." for f in action.form.fields},
                                           note="Please correct it."))
    return out


@needs_schemas
def test_every_kind_of_card_is_valid_adaptive_card_1_5() -> None:
    for card in every_card():
        assert card_problems(card) == [], json.dumps(card)[:1500]


def test_not_now_on_every_decision_form_can_be_clicked_with_its_inputs_empty() -> None:
    """Teams disables an action whose associated inputs are required and empty."""
    forms = [c for c in every_card()
             if any(a.get("verb") == cards.DECIDE for a in c.get("actions", []))]
    assert forms
    for card in forms:
        ways_out = [a for a in card["actions"] if a["verb"] == cards.REFRESH]
        assert [a.get("associatedInputs") for a in ways_out] == ["none"], ways_out


def test_every_card_fits_in_a_teams_message() -> None:
    for card in every_card():
        assert cards.size(card) <= cards.CARD_BYTES
    shortened = cards.message_card([Document("Letter", "Dear Jane,\n" * 20000)])
    assert "shortened to fit Teams" in json.dumps(shortened)


def test_the_cli_starts_without_importing_the_teams_sdk() -> None:
    """`dpo-bot --help` stays fast: the SDK is imported inside the teams command only."""
    code = ("import sys, bot.cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'microsoft_agents', 'msal'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def test_a_school_to_serve_must_exist(sqlite_engine) -> None:
    with pytest.raises(ValueError, match="No school called"):
        create(sqlite_engine, settings(), "nowhere")
