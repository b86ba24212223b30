"""Every payload the bot sends, for every workflow and state, passes Slack's ``slack_sdk``
models and Microsoft's own Adaptive Card renderer under Teams' host config, with no error
and no warning; every card validates against the Adaptive Card 1.5 schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from sqlalchemy import Engine

from tests.cards import checks
from tests.cards.every_payload import SLACK_MARKUP, TRIES, Payloads, walk
from tests.slack.reading import nodes
from tests.teams.harness import CARD_SCHEMA, needs_schemas, without_teams_keys
from workflows.core.fields import Form, Kind

_walked: dict[str, Payloads] = {}


@pytest.fixture
def payloads(engine: Engine) -> Payloads:
    """One walk per database: the payloads are plain data, whichever test reads them."""
    kind = engine.dialect.name
    if kind not in _walked:
        _walked[kind] = walk(engine)
    return _walked[kind]


def report(found: dict[str, checks.Found], what: str) -> str:
    lines = [f"{where}: {problem}" for where, f in found.items()
             for problem in getattr(f, what)]
    return f"{len(lines)} {what}:\n" + "\n".join(lines[:40])


def test_every_kind_of_field_is_tried() -> None:
    assert set(Kind) <= set(TRIES), set(Kind) - set(TRIES)


def test_the_walk_reaches_every_state_of_every_workflow(payloads: Payloads) -> None:
    assert len(payloads.slack_blocks) > 500 and len(payloads.teams_cards) > 500
    from workflows.registry import WORKFLOWS

    for workflow in WORKFLOWS.values():
        for state in workflow.states:
            assert any(where.startswith(f"{workflow.name} round 0 {state} ")
                       for where, _ in payloads.teams_cards), (workflow.name, state)


def test_slack_sdk_takes_every_payload(payloads: Payloads) -> None:
    found: dict[str, checks.Found] = {}
    for where, blocks in payloads.slack_blocks:
        found[f"{where} (message {len(found)})"] = checks.slack_blocks(blocks)
    for where, view in payloads.slack_views:
        found[f"{where} (view {len(found)})"] = checks.slack_view(view)
    assert not any(f.errors for f in found.values()), report(found, "errors")
    assert not any(f.warnings for f in found.values()), report(found, "warnings")


def test_microsofts_renderer_takes_every_card_under_teams_host_config(payloads: Payloads
                                                                      ) -> None:
    missing = checks.node_missing()
    if missing:
        pytest.skip(missing)
    cards = [card for _, card in payloads.teams_cards]
    results = checks.teams_cards(cards)
    assert len(results) == len(cards)
    pairs = zip(payloads.teams_cards, results, strict=True)
    found = {f"{where} (card {i})": result for i, ((where, _), result) in enumerate(pairs)}
    assert not any(f.errors for f in found.values()), report(found, "errors")
    assert not any(f.warnings for f in found.values()), report(found, "warnings")


def test_the_renderer_check_can_fail() -> None:
    """The check itself: a card Teams would not show is reported, with what is wrong."""
    missing = checks.node_missing()
    if missing:
        pytest.skip(missing)
    broken: dict[str, Any] = {"type": "AdaptiveCard", "version": "1.5", "body": [
        {"type": "Input.Text", "id": "same", "isRequired": True},
        {"type": "Input.Text", "id": "same", "label": "Again"},
        {"type": "NoSuchElement"}]}
    [found] = checks.teams_cards([broken])
    assert any("DuplicateId" in e for e in found.errors), found
    assert any("RequiredInputsShouldHaveLabel" in e for e in found.errors), found
    assert any("UnknownElementType" in e for e in found.errors), found


def test_every_card_fits_teams_as_sent(payloads: Payloads) -> None:
    """Measured as the wire carries it (Polish and Arabic escaped), with room for the
    activity around it."""
    from bot.teams import cards

    too_big = [(where, cards.size(card)) for where, card in payloads.teams_cards
               if cards.size(card) > cards.CARD_BYTES]
    assert too_big == []


@needs_schemas
def test_every_card_matches_the_adaptive_card_schema(payloads: Payloads) -> None:
    validator = jsonschema.Draft6Validator(json.loads(CARD_SCHEMA.read_text()))
    problems = [f"{where}: {'/'.join(map(str, e.path))}: {e.message[:200]}"
                for where, card in payloads.teams_cards
                for e in validator.iter_errors(without_teams_keys(card))]
    assert problems == [], "\n".join(problems[:40])


def strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v, key)
    elif isinstance(node, str):
        yield key, node


def test_no_user_text_is_a_function_in_teams(payloads: Payloads) -> None:
    """``{{DATE(...)}}`` and ``${name}`` typed in any field show as typed, never evaluated:
    in text, in facts, in inputs' values and in the card's notification line."""
    assert any("DATE(2017" in card_text for _, c in payloads.teams_cards
               for _, card_text in strings(c))  # the tries did reach the cards
    found = [(where, key, text[:120]) for where, card in payloads.teams_cards
             for key, text in strings(card) if "{{" in text or "${" in text]
    assert found == [], found[:10]


def test_a_teams_form_sends_back_what_it_showed_with_functions_in_it() -> None:
    from bot.teams import cards
    from workflows.core.fields import Field

    typed = "Due {{DATE(2017-02-14T06:08:39Z, SHORT)}} for ${name} {{{x}}}"
    form = Form((Field("notes", Kind.LONG_TEXT, "Notes", "Any notes?"),))
    [shown] = cards.input_elements(form.fields[0], typed)
    assert "{{" not in shown["value"] and "${" not in shown["value"]
    assert cards.submitted_text(form, {shown["id"]: shown["value"]}) == {"notes": typed}


def test_no_user_text_is_markup_a_mention_or_a_link_in_slack(payloads: Payloads) -> None:
    """What staff type (``*bold*``, ``<!channel>``, ``<https://evil.example|click>``, a bare
    URL) reaches Slack only as plain_text or rich text, shown as typed: never in mrkdwn,
    which has no escape for ``*``, ``_``, ``~`` or backticks."""
    everything = [(where, p) for where, p in payloads.slack_blocks] + [
        (where, p) for where, p in payloads.slack_views]
    texts = [(where, node) for where, p in everything for node in text_objects(p)]
    assert any(SLACK_MARKUP in node["text"] for _, node in texts)
    for where, node in texts:
        if node["type"] != "mrkdwn":
            continue
        assert node.get("verbatim") is True, (where, node)
        for raw in ("*bold*", "_it_", "~s~", "`code`", "channel>", "@U1", "evil.example",
                    ":skull:"):
            assert raw not in node["text"], (where, node["text"][:200])


def text_objects(node: Any) -> Iterator[dict[str, Any]]:
    """Text objects and rich text's text elements: everything Slack shows as words."""
    return (n for n in nodes(node)
            if n.get("type") in ("mrkdwn", "plain_text", "text") and "text" in n)

