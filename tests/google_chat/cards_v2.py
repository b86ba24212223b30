"""Google's Cards v2 rules, as documented, for checking every message and dialog the app
sends (a real Chat client refuses or silently drops what breaks them).

Sources (Google Chat API reference, 2026):
- Card: https://developers.google.com/workspace/chat/api/reference/rest/v1/cards
  "You can add up to 100 widgets per card. Any widgets beyond this limit are ignored."
- CardWithId: "A card. Maximum size is 32 KB."; ``cardId`` "Required if the message
  contains multiple cards."
- Message: https://developers.google.com/workspace/chat/api/reference/rest/v1/spaces.messages
  (``text``: plain text body; the whole message at most 32,000 bytes).
- Widget: exactly one of the widget kinds (a union field ``data``); the kinds used by the
  app and their required fields and enums: TextInput (``name``, ``label``; type
  SINGLE_LINE | MULTIPLE_LINE), SelectionInput (``name``, ``label``, ``items`` with ``text``,
  ``value``, ``selected``; type CHECK_BOX | RADIO_BUTTON | SWITCH | DROPDOWN |
  MULTI_SELECT), DateTimePicker (``name``, ``label``; type DATE_AND_TIME | DATE_ONLY |
  TIME_ONLY; ``valueMsEpoch`` int64 as a string; ``timezoneOffsetDate`` int32 minutes),
  ButtonList (``buttons`` each with ``text`` and ``onClick``), Action (``function``;
  ``parameters`` as ``{key, value}`` strings; ``interaction`` OPEN_DIALOG;
  ``requiredWidgets`` naming widgets of the card).
- ActionResponse: type NEW_MESSAGE | UPDATE_MESSAGE | UPDATE_USER_MESSAGE_CARDS |
  REQUEST_CONFIG | DIALOG | UPDATE_WIDGET; ``dialogAction`` holds a ``dialog.body`` card or
  an ``actionStatus`` (``statusCode`` a google.rpc.Code name, ``userFacingMessage``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

WIDGETS_PER_CARD = 100
CARD_BYTES = 32_000
SELECTION_ITEMS = 100  # "Supports up to 100 items" (SelectionInput.items)
MESSAGE_BYTES = 32_000
WIDGET_KINDS = {"textParagraph", "decoratedText", "buttonList", "textInput", "selectionInput",
                "dateTimePicker", "divider", "image", "grid", "columns", "chipList",
                "carousel"}
ENUMS = {
    "textInput": ("type", {"SINGLE_LINE", "MULTIPLE_LINE"}),
    "selectionInput": ("type", {"CHECK_BOX", "RADIO_BUTTON", "SWITCH", "DROPDOWN",
                                "MULTI_SELECT"}),
    "dateTimePicker": ("type", {"DATE_AND_TIME", "DATE_ONLY", "TIME_ONLY"}),
}
RESPONSE_TYPES = {"NEW_MESSAGE", "UPDATE_MESSAGE", "UPDATE_USER_MESSAGE_CARDS",
                  "REQUEST_CONFIG", "DIALOG", "UPDATE_WIDGET"}
STATUS_CODES = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "UNAUTHENTICATED",
                "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def card_problems(card: Mapping[str, Any], where: str = "card") -> list[str]:
    problems: list[str] = []
    if _size(card) > CARD_BYTES:
        problems.append(f"{where}: {_size(card)} bytes, over {CARD_BYTES}")
    sections = card.get("sections")
    if not isinstance(sections, list) or not sections:
        return problems + [f"{where}: no sections"]
    widgets = [w for s in sections for w in s.get("widgets", [])]
    if len(widgets) > WIDGETS_PER_CARD:
        problems.append(f"{where}: {len(widgets)} widgets, over {WIDGETS_PER_CARD}")
    names = set()
    for widget in widgets:
        kinds = [k for k in widget if k in WIDGET_KINDS]
        if len(kinds) != 1 or len(widget) != 1:
            problems.append(f"{where}: a widget must be exactly one kind, not {list(widget)}")
            continue
        kind, body = kinds[0], widget[kinds[0]]
        if "name" in body:
            names.add(body["name"])
        problems += _widget(kind, body, where)
    for widget in widgets:
        for button in widget.get("buttonList", {}).get("buttons", []):
            action = button.get("onClick", {}).get("action", {})
            missing = set(action.get("requiredWidgets", [])) - names
            if missing:
                problems.append(f"{where}: requiredWidgets names no widget: {missing}")
    return problems


def _widget(kind: str, body: Mapping[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    if kind in ENUMS:
        key, allowed = ENUMS[kind]
        if body.get(key) not in allowed:
            problems.append(f"{where}: {kind}.{key} {body.get(key)!r} is not one of {allowed}")
        for required in ("name", "label"):
            if not isinstance(body.get(required), str) or not body[required]:
                problems.append(f"{where}: {kind} without {required}")
    if kind == "textParagraph" and not isinstance(body.get("text"), str):
        problems.append(f"{where}: textParagraph without text")
    if kind == "decoratedText" and not isinstance(body.get("text"), str):
        problems.append(f"{where}: decoratedText without text")
    if kind == "selectionInput":
        items = body.get("items")
        if not isinstance(items, list) or not items:
            problems.append(f"{where}: selectionInput without items")
        elif len(items) > SELECTION_ITEMS:
            problems.append(f"{where}: selectionInput with {len(items)} items, over "
                            f"{SELECTION_ITEMS}")
        else:
            for item in items:
                if not (isinstance(item.get("text"), str) and isinstance(item.get("value"), str)
                        and isinstance(item.get("selected", False), bool)):
                    problems.append(f"{where}: selectionInput item {item!r} malformed")
            if body.get("type") in ("DROPDOWN", "RADIO_BUTTON") and sum(
                    bool(i.get("selected")) for i in items) > 1:
                problems.append(f"{where}: a single choice with several selected")
    if kind == "dateTimePicker":
        if "valueMsEpoch" in body and not str(body["valueMsEpoch"]).lstrip("-").isdigit():
            problems.append(f"{where}: valueMsEpoch is not an int64")
        if "timezoneOffsetDate" in body and not isinstance(body["timezoneOffsetDate"], int):
            problems.append(f"{where}: timezoneOffsetDate is not an int32")
    if kind == "buttonList":
        for button in body.get("buttons", []):
            action = button.get("onClick", {}).get("action")
            if not isinstance(button.get("text"), str) or not button["text"]:
                problems.append(f"{where}: a button without text")
            if not isinstance(action, Mapping) or not isinstance(action.get("function"), str):
                problems.append(f"{where}: a button without an action function")
                continue
            for parameter in action.get("parameters", []):
                if set(parameter) != {"key", "value"} or not all(
                        isinstance(v, str) for v in parameter.values()):
                    problems.append(f"{where}: a parameter must be key/value strings: "
                                    f"{parameter!r}")
            if action.get("interaction", "OPEN_DIALOG") != "OPEN_DIALOG":
                problems.append(f"{where}: interaction {action['interaction']!r}")
    return problems


def message_problems(message: Mapping[str, Any]) -> list[str]:
    """A message the app creates, updates or answers with."""
    problems: list[str] = []
    if _size(message) > MESSAGE_BYTES:
        problems.append(f"message: {_size(message)} bytes, over {MESSAGE_BYTES}")
    cards = message.get("cardsV2", [])
    if not cards and not message.get("text"):
        problems.append("message: neither text nor cards")
    if len(cards) > 1 and not all(c.get("cardId") for c in cards):
        problems.append("message: several cards need a cardId each")
    for index, card in enumerate(cards):
        problems += card_problems(card.get("card", {}), f"cardsV2[{index}]")
    return problems


def response_problems(response: Mapping[str, Any]) -> list[str]:
    """A synchronous answer to an event: a message, or an action response."""
    action = response.get("actionResponse")
    if action is None:
        return message_problems(response) if response else []
    if action.get("type") not in RESPONSE_TYPES:
        return [f"actionResponse.type {action.get('type')!r}"]
    if action["type"] != "DIALOG":
        return message_problems({k: v for k, v in response.items() if k != "actionResponse"})
    dialog_action = action.get("dialogAction", {})
    if "dialog" in dialog_action:
        return card_problems(dialog_action["dialog"].get("body", {}), "dialog")
    status = dialog_action.get("actionStatus", {})
    if status.get("statusCode") not in STATUS_CODES:
        return [f"actionStatus.statusCode {status.get('statusCode')!r}"]
    return []


def buttons_of(response: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every button of a response or message, by its text."""
    return {b["text"]: b for widget in widgets_of(response)
            for b in widget.get("buttonList", {}).get("buttons", [])}


def widgets_of(response: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    dialog = response.get("actionResponse", {}).get("dialogAction", {}).get("dialog")
    cards = [dialog["body"]] if dialog else [c["card"] for c in response.get("cardsV2", [])]
    for card in cards:
        for section in card.get("sections", []):
            yield from section.get("widgets", [])


def words(response: Mapping[str, Any]) -> str:
    """Everything a person reads in a response, as one string (for assertions)."""
    said: list[str] = []
    for widget in widgets_of(response):
        for body in widget.values():
            for key in ("text", "topLabel", "label"):
                if isinstance(body, Mapping) and isinstance(body.get(key), str):
                    said.append(body[key])
    status = response.get("actionResponse", {}).get("dialogAction", {}).get("actionStatus")
    if status:
        said.append(status.get("userFacingMessage", ""))
    return "\n".join(said)
