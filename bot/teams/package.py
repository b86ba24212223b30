"""The Teams app package a school's Microsoft 365 admin uploads: manifest.json and two icons.

The manifest (schema 1.22) names the bot by the client id of its Entra app registration, and
offers it in personal chats only: case details and consent answers must never land in a
channel. The icons are drawn here (a padlock) so the package needs no binary files; the words are in
``templates/messages/teams_app/``.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from workflows.core.wording import render
from workflows.registry import WORKFLOWS

MANIFEST_SCHEMA = ("https://developer.microsoft.com/en-us/json-schemas/teams/v1.22/"
                   "MicrosoftTeams.schema.json")
ACCENT = (0x1F, 0x5F, 0x8B)
WHITE = (0xFF, 0xFF, 0xFF)


def manifest(bot_id: str, *, school: str, website: str, privacy: str, terms: str,
             developer: str, version: str) -> dict[str, Any]:
    """``school`` is whom the app is for (a school, or a trust for all its schools)."""
    commands = [{"title": w.triggers[0], "description": w.summary} for w in WORKFLOWS.values()]
    commands += [{"title": title, "description": description}
                 for title, description in _listed(render("messages/teams_app/commands.txt.j2"))]
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": "1.22",
        "version": version,
        "id": bot_id,
        "developer": {"name": developer[:32], "websiteUrl": website, "privacyUrl": privacy,
                      "termsOfUseUrl": terms},
        "name": {"short": render("messages/teams_app/name_short.txt.j2")[:30],
                 "full": render("messages/teams_app/name_full.txt.j2", school=school)[:100]},
        "description": {
            "short": render("messages/teams_app/description_short.txt.j2")[:80],
            "full": render("messages/teams_app/description_full.txt.j2", school=school)[:4000],
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [{
            "botId": bot_id,
            "scopes": ["personal"],
            "supportsFiles": True,  # letters as Word documents, through a FileConsentCard
            "isNotificationOnly": False,
            "commandLists": [{"scopes": ["personal"], "commands": commands[:10]}],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def _listed(text: str) -> list[tuple[str, str]]:
    """``title: description`` lines as pairs."""
    return [(title.strip(), description.strip())
            for title, description in (line.split(":", 1) for line in text.splitlines())]


def build(bot_id: str, *, previous: bytes | None = None, now: datetime | None = None,
          **details: str) -> bytes:
    """The zip Teams admin centre accepts: manifest.json and the icons at its top level.
    ``previous`` is the package this one replaces, if at hand: the new one's version is
    higher still."""
    buffer = io.BytesIO()
    stamp = package_version(now or datetime.now(UTC), previous)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(
            manifest(bot_id, version=stamp, **details), indent=2))
        package.writestr("color.png", colour_icon())
        package.writestr("outline.png", outline_icon())
    return buffer.getvalue()


# Teams takes an uploaded package for an update only if its version is higher than the one
# installed, and a rebuilt package (new words, another school added) must be one. So the
# patch number is the build time, in seconds since EPOCH (it fits the 32-bit numbers Teams
# admin centre compares for a century), under the installed dpo-bot's major.minor.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def package_version(now: datetime, previous: bytes | None = None) -> str:
    """``major.minor.seconds-since-EPOCH``; above ``previous``'s, if that has the same
    major.minor (two builds within a second, or a clock set back)."""
    major, minor = _installed()[:2]
    build = max(0, int((now - EPOCH).total_seconds()))
    before = _version_of(previous)
    if before is not None and before[:2] == (major, minor):
        build = max(build, before[2] + 1)
    return f"{major}.{minor}.{build}"


def _version_of(package: bytes | None) -> tuple[int, int, int] | None:
    """The version in a package this module built, or None for anything else."""
    if package is None:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as old:
            found = SEMVER.match(str(json.loads(old.read("manifest.json")).get("version")))
    except (zipfile.BadZipFile, KeyError, ValueError, AttributeError):
        return None
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def _installed() -> tuple[int, ...]:
    try:
        text = version("dpo-bot")
    except PackageNotFoundError:  # running from a checkout that was never installed
        text = "0.1.0"
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3]) + (0, 0)


# Icons: a padlock, as Teams asks (colour 192x192; outline 32x32, white on transparent).


def _padlock(size: int) -> Callable[[float, float], bool]:
    """Whether the point (x, y), in pixels of a ``size`` square, is on the padlock."""
    def on(x: float, y: float) -> bool:
        u, v = x / size, y / size
        body = 0.25 <= u <= 0.75 and 0.45 <= v <= 0.82
        keyhole = 0.46 <= u <= 0.54 and 0.56 <= v <= 0.70
        dx, dy = u - 0.5, v - 0.45
        ring = dy <= 0 and 0.14 ** 2 <= dx * dx + dy * dy <= 0.21 ** 2
        return (body and not keyhole) or ring
    return on


def colour_icon(size: int = 192) -> bytes:
    on = _padlock(size)
    return _png(size, lambda x, y: (*WHITE, 255) if on(x + 0.5, y + 0.5) else (*ACCENT, 255))


def outline_icon(size: int = 32) -> bytes:
    on = _padlock(size)
    return _png(size, lambda x, y: (*WHITE, 255) if on(x + 0.5, y + 0.5) else (0, 0, 0, 0))


def _png(size: int, pixel: Callable[[int, int], tuple[int, int, int, int]]) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
