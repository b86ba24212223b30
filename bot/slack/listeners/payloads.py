"""Reading what Slack sends back: a modal's private_metadata, a button's workflow and
action, where a clicked message is. Anything this app could not have written is refused."""

from __future__ import annotations

import json
from typing import Any

from workflows.core.declaration import Action, Workflow
from workflows.registry import WORKFLOWS, by_prefix


class Unreadable(Exception):
    """A signed request whose payload this app could not have made (a garbled value, a view
    from an older version): nothing is done, and the person is told so."""


# What a modal of ours carries in private_metadata, and of which type.
METADATA: dict[str, type | tuple[type, ...]] = {
    "school": (int, type(None)), "conversation": int, "workflow": str, "ref": str,
    "version": int, "action": str, "channel": (str, type(None)), "ts": (str, type(None)),
    "ephemeral": bool, "response_url": (str, type(None)), "view": bool}


def metadata(view: dict[str, Any], *needed: str) -> dict[str, Any]:
    """The view's private_metadata, with ``needed`` keys present and every key of its type."""
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        raise Unreadable("private_metadata is not JSON") from None
    if not isinstance(found, dict) or any(key not in found for key in needed) or not all(
            _typed(key, value) for key, value in found.items()):
        raise Unreadable("private_metadata is not what this app writes")
    return found


def _typed(key: str, value: Any) -> bool:
    kind = METADATA.get(key, object)
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def workflow_named(name: Any) -> Workflow:
    if name not in WORKFLOWS:
        raise Unreadable("no such workflow")
    return WORKFLOWS[name]


def declared(reference: str, name: str) -> tuple[Workflow, Action]:
    """The workflow of a case reference and one of its actions, as a button names them."""
    workflow = by_prefix(reference.split("-", 1)[0])
    action = next((a for a in workflow.actions if a.name == name), None) if workflow else None
    if action is None:
        raise Unreadable("no such case type or action")
    return workflow, action


def message_ref(body: dict[str, Any]) -> dict[str, Any]:
    """Where the clicked button was: a message (in a channel, perhaps ephemeral) or a view."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return {
        "channel": channel,
        "ts": container.get("message_ts") or (body.get("message") or {}).get("ts"),
        "ephemeral": bool(container.get("is_ephemeral")),
        "response_url": body.get("response_url"),
        "view": container.get("type") == "view",
    }
