"""Slack's and Microsoft's own code, asked about each payload: what it refuses or warns of.

Slack: ``slack_sdk.models`` parses each block and view and validates it (its own limits and
formats); a payload it parses but gives back changed (a key it does not know dropped) is a
warning. Teams: Microsoft's ``adaptivecards`` renderer under Teams' own host config (from
``adaptivecards-designer``), run by Node (``.ci/cards/check.js``, installed by ``.ci/run``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

ROOT = Path(__file__).resolve().parents[2]
CARDS = ROOT / ".ci" / "cards"
CHECK_JS = CARDS / "check.js"


@dataclass
class Found:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def slack_blocks(blocks: Sequence[dict[str, Any]]) -> Found:
    found = Found()
    for index, block in enumerate(blocks):
        parsed = Block.parse(block)
        if parsed is None:
            found.errors.append(f"block {index}: slack_sdk does not know {block.get('type')!r}")
            continue
        try:
            parsed.validate_json()
            again = parsed.to_dict()
        except SlackObjectFormationError as error:
            found.errors.append(f"block {index} ({block.get('type')}): {error}")
            continue
        if again != block:
            found.warnings.append(f"block {index} ({block.get('type')}): slack_sdk gives back "
                                  f"{json.dumps(again)[:300]}")
    return found


def slack_view(view: dict[str, Any]) -> Found:
    found = slack_blocks(view.get("blocks", []))
    try:
        parsed = View(**view)
        parsed.validate_json()
        again = parsed.to_dict()
    except (SlackObjectFormationError, TypeError) as error:
        found.errors.append(f"view: {error}")
        return found
    if again != view:
        found.warnings.append(f"view: slack_sdk gives back {json.dumps(again)[:300]}")
    return found


def node_missing() -> str | None:
    """Why Microsoft's renderer cannot run here (no Node), or None when it can. With Node
    and without the packages, that is a set-up to finish, not a reason to skip."""
    if shutil.which("node") is None:
        return "node is not installed: Microsoft's adaptivecards renderer runs under Node"
    if not (CARDS / "node_modules" / "adaptivecards-designer").is_dir():
        raise RuntimeError("Microsoft's adaptivecards renderer is not installed: run "
                           "`npm ci --prefix .ci/cards` (.ci/run does)")
    return None


def teams_cards(cards: Sequence[dict[str, Any]]) -> list[Found]:
    """Every card at once, in one Node process: parse, validate and render each under
    Teams' host config."""
    done = subprocess.run(["node", str(CHECK_JS)], input=json.dumps(cards), text=True,
                          capture_output=True, check=True, timeout=600)
    return [Found(r["errors"], r["warnings"]) for r in json.loads(done.stdout)]
