"""Every action form of every workflow, filled as a person would: shared by the Slack and
Teams round-trip tests, which put these answers in each adapter's own controls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from tests.slack.test_slack_forms import typed
from workflows.core.declaration import Action
from workflows.core.fields import Field, Kind
from workflows.registry import WORKFLOWS


def action_forms() -> Iterator[tuple[str, Action]]:
    """(workflow, action) for each action that asks something."""
    for name, workflow in WORKFLOWS.items():
        for action in workflow.actions:
            if action.form.fields:
                yield name, action


# Answers a field checks for sense, where a made-up text would not do.
SENSIBLE = {"whose": "3 pupils"}


def answer(field: Field, when: date, person: str) -> str:
    """What a person enters in ``field`` (``person``: the account of whom they choose)."""
    if field.name in SENSIBLE:
        return SENSIBLE[field.name]
    if field.kind is Kind.PERSON:
        return person
    if field.kind is Kind.CHOICE:
        return field.choices[-1].value  # the last choice opens any question it brings
    if field.kind is Kind.YES_NO:
        return "yes"  # "yes" brings the questions that follow it
    return typed(field, when)
