"""Block Kit limits, checked before Slack would refuse a payload.

Block Kit has no official schema and slack_sdk's models validate only a block's own attributes
(a 76-character label on a button inside an actions block passes `validate_json()`), so this
walks every block and element itself. A failure raises AssertionError naming the path to the
offending element, e.g. `view.blocks[3].elements[0].text.text`.

Usage:
    check_blocks(args["blocks"])                       # a message's blocks
    check_blocks({"type": "modal", ...}, surface="modal")
    check_api_call("views.open", fake.last("views.open").args)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_TEXT = 40_000

KNOWN_BLOCKS = {
    "actions", "context", "divider", "file", "header", "image", "input", "markdown",
    "rich_text", "section", "video", "table",
}
SELECTS_WITH_OPTIONS = {"static_select", "multi_static_select"}
OTHER_SELECTS = {
    "external_select", "multi_external_select", "users_select", "multi_users_select",
    "conversations_select", "multi_conversations_select", "channels_select",
    "multi_channels_select",
}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Methods whose arguments carry a surface, for check_api_call.
METHOD_SURFACE: dict[str, Surface] = {
    "chat.postMessage": "message",
    "chat.postEphemeral": "message",
    "chat.update": "message",
    "chat.scheduleMessage": "message",
    "response_url": "message",
    "views.open": "modal",
    "views.push": "modal",
    "views.update": "modal",
    "views.publish": "home",
}


def check_blocks(payload: Any, surface: Surface = "message") -> None:
    """Assert a payload is within Slack's Block Kit limits for its surface.

    `payload` may be a list of blocks, message arguments (`{"text":..., "blocks": [...]}`),
    a view (`{"type": "modal", ...}`), view API arguments (`{"view": {...}}`), slack_sdk model
    objects, or JSON strings of any of these (form-encoded API calls send them so).
    """
    payload = _plain(payload)
    if isinstance(payload, Mapping) and "view" in payload:
        view = _plain(payload["view"])
        _Checker(surface).view(view, "view")
        return
    if isinstance(payload, Mapping) and payload.get("type") in ("modal", "home"):
        _Checker(surface).view(payload, "view")
        return
    checker = _Checker(surface)
    if isinstance(payload, Mapping):
        text = payload.get("text")
        if isinstance(text, str):
            checker.max_len(text, MAX_MESSAGE_TEXT, "text")
        if "blocks" in payload:
            checker.blocks(_plain(payload["blocks"]), "blocks")
        return
    checker.blocks(payload, "blocks")


def check_api_call(method: str, args: Mapping[str, Any]) -> None:
    """Check the Block Kit in one recorded Web API call (a no-op for methods without blocks)."""
    surface = METHOD_SURFACE.get(method)
    if surface is None:
        return
    if surface in ("modal", "home"):
        view = _plain(args.get("view"))
        assert isinstance(view, Mapping), f"{method}: no view object in the arguments"
        expected = "home" if method == "views.publish" else "modal"
        assert view.get("type") == expected, (
            f"{method}: view.type is {view.get('type')!r}, expected {expected!r}"
        )
    check_blocks(args, surface)


def _plain(value: Any) -> Any:
    """Turn slack_sdk model objects and JSON strings into plain data."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, str) and value[:1] in ("[", "{"):
        return json.loads(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value


class _Checker:
    """Walks one surface; remembers block_ids, which Slack requires to be unique."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.block_ids: dict[str, str] = {}

    # -- primitives --------------------------------------------------------------------------

    @staticmethod
    def fail(path: str, problem: str) -> None:
        raise AssertionError(f"Block Kit limit broken at {path}: {problem}")

    def max_len(self, value: Any, limit: int, path: str) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {type(value).__name__}")
        if len(value) > limit:
            self.fail(path, f"{len(value)} characters, Slack allows at most {limit}")

    def max_items(self, items: Any, limit: int, path: str, minimum: int = 0) -> list[Any]:
        if items is None:
            items = []
        if not isinstance(items, list):
            self.fail(path, f"expected a list, got {type(items).__name__}")
        if len(items) > limit:
            self.fail(path, f"{len(items)} items, Slack allows at most {limit}")
        if len(items) < minimum:
            self.fail(path, f"{len(items)} items, Slack needs at least {minimum}")
        return items

    def text(
        self, obj: Any, limit: int, path: str, *, plain_only: bool = False, required: bool = True
    ) -> None:
        """A text composition object: plain_text or mrkdwn, non-empty, within `limit`."""
        if obj is None:
            if required:
                self.fail(path, "a text object is required")
            return
        if not isinstance(obj, Mapping):
            self.fail(path, f"expected a text object, got {type(obj).__name__}")
        kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.fail(f"{path}.type", f"{obj.get('type')!r}; must be one of {kinds}")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.fail(f"{path}.text", "text must be a non-empty string")
        self.max_len(value, limit, f"{path}.text")

    def ident(self, value: Any, path: str) -> None:
        self.max_len(value, 255, path)

    # -- surfaces ----------------------------------------------------------------------------

    def view(self, view: Mapping[str, Any], path: str) -> None:
        kind = view.get("type")
        if kind not in ("modal", "home"):
            self.fail(f"{path}.type", f"{kind!r}; a view is 'modal' or 'home'")
        if kind == "modal":
            self.text(view.get("title"), 24, f"{path}.title", plain_only=True)
            self.text(view.get("submit"), 24, f"{path}.submit", plain_only=True, required=False)
            self.text(view.get("close"), 24, f"{path}.close", plain_only=True, required=False)
            has_input = any(
                isinstance(b, Mapping) and b.get("type") == "input" for b in view.get("blocks", [])
            )
            if has_input and view.get("submit") is None:
                self.fail(f"{path}.submit", "a modal with input blocks needs a submit button")
        self.max_len(view.get("private_metadata"), 3000, f"{path}.private_metadata")
        self.ident(view.get("callback_id"), f"{path}.callback_id")
        self.ident(view.get("external_id"), f"{path}.external_id")
        surface: Surface = "home" if kind == "home" else "modal"
        self.surface = surface
        self.blocks(view.get("blocks"), f"{path}.blocks")

    def blocks(self, blocks: Any, path: str) -> None:
        blocks = self.max_items(blocks, MAX_BLOCKS[self.surface], path)
        for index, block in enumerate(blocks):
            self.block(block, f"{path}[{index}]")

    # -- blocks ------------------------------------------------------------------------------

    def block(self, block: Any, path: str) -> None:
        if not isinstance(block, Mapping):
            self.fail(path, f"expected a block object, got {type(block).__name__}")
        kind = block.get("type")
        if kind not in KNOWN_BLOCKS:
            self.fail(f"{path}.type", f"unknown block type {kind!r}")
        block_id = block.get("block_id")
        if block_id is not None:
            self.ident(block_id, f"{path}.block_id")
            if block_id in self.block_ids:
                self.fail(f"{path}.block_id", f"{block_id!r} repeats {self.block_ids[block_id]}")
            self.block_ids[block_id] = path
        action_ids: dict[str, str] = {}

        def element(el: Any, el_path: str) -> None:
            self.element(el, el_path)
            action_id = el.get("action_id") if isinstance(el, Mapping) else None
            if action_id is not None:
                if action_id in action_ids:
                    self.fail(f"{el_path}.action_id", f"{action_id!r} repeats in this block")
                action_ids[action_id] = el_path

        if kind == "section":
            if block.get("text") is None and not block.get("fields"):
                self.fail(path, "a section needs text or fields")
            self.text(block.get("text"), 3000, f"{path}.text", required=False)
            fields = self.max_items(block.get("fields"), 10, f"{path}.fields")
            for i, field in enumerate(fields):
                self.text(field, 2000, f"{path}.fields[{i}]")
            if block.get("accessory") is not None:
                element(block["accessory"], f"{path}.accessory")
        elif kind == "header":
            self.text(block.get("text"), 150, f"{path}.text", plain_only=True)
        elif kind == "actions":
            items = self.max_items(block.get("elements"), 25, f"{path}.elements", minimum=1)
            for i, el in enumerate(items):
                element(el, f"{path}.elements[{i}]")
        elif kind == "context":
            items = self.max_items(block.get("elements"), 10, f"{path}.elements", minimum=1)
            for i, el in enumerate(items):
                el_path = f"{path}.elements[{i}]"
                if isinstance(el, Mapping) and el.get("type") == "image":
                    self.image(el, el_path)
                else:
                    self.text(el, 3000, el_path)
        elif kind == "input":
            self.text(block.get("label"), 2000, f"{path}.label", plain_only=True)
            self.text(block.get("hint"), 2000, f"{path}.hint", plain_only=True, required=False)
            if block.get("element") is None:
                self.fail(f"{path}.element", "an input block needs an element")
            element(block["element"], f"{path}.element")
        elif kind == "image":
            self.image(block, path)
            self.text(block.get("title"), 2000, f"{path}.title", plain_only=True, required=False)
        elif kind == "markdown":
            self.max_len(block.get("text"), 12_000, f"{path}.text")

    # -- elements ----------------------------------------------------------------------------

    def image(self, el: Mapping[str, Any], path: str) -> None:
        self.max_len(el.get("alt_text"), 2000, f"{path}.alt_text")
        self.max_len(el.get("image_url"), 3000, f"{path}.image_url")

    def element(self, el: Any, path: str) -> None:
        if not isinstance(el, Mapping):
            self.fail(path, f"expected an element object, got {type(el).__name__}")
        kind = el.get("type")
        self.ident(el.get("action_id"), f"{path}.action_id")
        self.text(el.get("placeholder"), 150, f"{path}.placeholder", required=False)
        if el.get("confirm") is not None:
            self.confirm(el["confirm"], f"{path}.confirm")
        if kind == "button":
            self.text(el.get("text"), 75, f"{path}.text", plain_only=True)
            self.max_len(el.get("value"), 2000, f"{path}.value")
            self.max_len(el.get("url"), 3000, f"{path}.url")
            self.max_len(el.get("accessibility_label"), 75, f"{path}.accessibility_label")
            if el.get("style") not in (None, "primary", "danger"):
                self.fail(f"{path}.style", f"{el.get('style')!r}; must be primary or danger")
        elif kind in SELECTS_WITH_OPTIONS:
            self.options_element(el, path, limit=100)
        elif kind == "overflow":
            self.options_element(el, path, limit=5, minimum=1, plain_only=True)
        elif kind in ("checkboxes", "radio_buttons"):
            self.options_element(el, path, limit=10, minimum=1, plain_only=False)
        elif kind == "datepicker":
            date = el.get("initial_date")
            if date is not None and not (isinstance(date, str) and DATE_RE.match(date)):
                self.fail(f"{path}.initial_date", f"{date!r} is not YYYY-MM-DD")
        elif kind == "plain_text_input":
            for key in ("min_length", "max_length"):
                value = el.get(key)
                if value is not None and not (isinstance(value, int) and 0 <= value <= 3000):
                    self.fail(f"{path}.{key}", f"{value!r}; Slack allows 0 to 3000")
            initial = el.get("initial_value")
            if isinstance(initial, str) and isinstance(el.get("max_length"), int):
                self.max_len(initial, el["max_length"], f"{path}.initial_value")
        elif kind == "image":
            self.image(el, path)
        elif kind in OTHER_SELECTS or kind in (
            "timepicker", "datetimepicker", "email_text_input", "number_input", "url_text_input",
            "rich_text_input", "file_input", "workflow_button",
        ):
            pass
        else:
            self.fail(f"{path}.type", f"unknown element type {kind!r}")

    def options_element(
        self,
        el: Mapping[str, Any],
        path: str,
        *,
        limit: int,
        minimum: int = 0,
        plain_only: bool = True,
    ) -> None:
        options = list(self.max_items(el.get("options"), limit, f"{path}.options", minimum))
        groups = self.max_items(el.get("option_groups"), 100, f"{path}.option_groups")
        if el.get("type") in SELECTS_WITH_OPTIONS and not options and not groups:
            self.fail(path, "a static select needs options or option_groups")
        for i, option in enumerate(options):
            self.option(option, f"{path}.options[{i}]", plain_only)
        for g, group in enumerate(groups):
            self.text(group.get("label"), 75, f"{path}.option_groups[{g}].label", plain_only=True)
            group_options = self.max_items(
                group.get("options"), 100, f"{path}.option_groups[{g}].options", minimum=1
            )
            for i, option in enumerate(group_options):
                self.option(option, f"{path}.option_groups[{g}].options[{i}]", plain_only)
                options.append(option)
        initial = [el["initial_option"]] if el.get("initial_option") else []
        initial += el.get("initial_options") or []
        known = {(o.get("value"), (o.get("text") or {}).get("text")) for o in options}
        for option in initial:
            key = (option.get("value"), (option.get("text") or {}).get("text"))
            if key not in known:
                self.fail(f"{path}.initial_option", f"{key} is not one of the options")

    def option(self, option: Any, path: str, plain_only: bool) -> None:
        if not isinstance(option, Mapping):
            self.fail(path, f"expected an option object, got {type(option).__name__}")
        self.text(option.get("text"), 75, f"{path}.text", plain_only=plain_only)
        self.max_len(option.get("value"), 150, f"{path}.value")
        if not option.get("value"):
            self.fail(f"{path}.value", "an option needs a non-empty value")
        self.text(option.get("description"), 75, f"{path}.description", required=False)
        self.max_len(option.get("url"), 3000, f"{path}.url")

    def confirm(self, confirm: Any, path: str) -> None:
        if not isinstance(confirm, Mapping):
            self.fail(path, "expected a confirmation dialog object")
        self.text(confirm.get("title"), 100, f"{path}.title", plain_only=True)
        self.text(confirm.get("text"), 300, f"{path}.text")
        self.text(confirm.get("confirm"), 30, f"{path}.confirm", plain_only=True)
        self.text(confirm.get("deny"), 30, f"{path}.deny", plain_only=True)
