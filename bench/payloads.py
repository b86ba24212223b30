"""Every payload the bot sends, counted and checked by Slack's and Microsoft's own code.

The walk of ``tests/cards`` (every workflow, every state, every form, notification and
letter, each field filled with realistic and hostile text) on a scratch SQLite database; then
``slack_sdk.models`` on each Slack payload, Microsoft's ``adaptivecards`` renderer under
Teams' host config on each card (Node, ``npm ci --prefix .ci/cards``), and each card's size
as sent. Printed: a table of payloads, errors and warnings, the largest card as sent against
Teams' limit, and the first problems found.

    python bench/payloads.py [--rounds 6]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's test tools (tests/cards) and the checkout

from bot.teams import cards  # noqa: E402
from bot.teams.delivery import MESSAGE_BYTES  # noqa: E402
from tests.cards import checks  # noqa: E402
from tests.cards.every_payload import ROUNDS, walk  # noqa: E402
from workflows.database import make_engine, upgrade  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help=f"walks, each with the next tries (default {ROUNDS}: all of them)")
    rounds = parser.parse_args().rounds
    console = Console()
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/payloads.db")
        upgrade(engine)
        with console.status("walking every workflow…"):
            payloads = walk(engine, rounds)
        engine.dispose()

    table = Table(title="Every payload, as Slack's and Microsoft's code see it")
    for column in ("payloads", "checked by", "errors", "warnings", "largest card as sent"):
        table.add_column(column, justify="right" if column != "checked by" else "left")
    problems: list[str] = []

    found = [(w, checks.slack_blocks(b)) for w, b in payloads.slack_blocks]
    found += [(w, checks.slack_view(v)) for w, v in payloads.slack_views]
    table.add_row(f"{len(found):,}", "slack_sdk.models", *counts(found, problems), "")

    missing = checks.node_missing()
    sizes = [cards.size(card) for _, card in payloads.teams_cards]
    largest = f"{max(sizes):,} B (cut at {cards.CARD_BYTES:,}; Teams' limit {MESSAGE_BYTES:,})"
    if missing:
        table.add_row(f"{len(sizes):,}", f"not checked: {missing}", "", "", largest)
    else:
        with console.status("rendering every card under Teams' host config…"):
            results = checks.teams_cards([card for _, card in payloads.teams_cards])
        teams = [(w, r) for (w, _), r in zip(payloads.teams_cards, results, strict=True)]
        table.add_row(f"{len(sizes):,}", "adaptivecards (Teams host config)",
                      *counts(teams, problems), largest)
    console.print(table)
    for problem in problems[:20]:
        console.print(problem, markup=False)
    return 1 if problems else 0


def counts(found: list[tuple[str, checks.Found]], problems: list[str]) -> tuple[str, str]:
    problems += [f"{where}: {p}" for where, f in found for p in f.errors + f.warnings]
    return (f"{sum(len(f.errors) for _, f in found):,}",
            f"{sum(len(f.warnings) for _, f in found):,}")


if __name__ == "__main__":
    sys.exit(main())
