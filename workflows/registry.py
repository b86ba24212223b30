"""Every workflow the bot runs. A new workflow is declared in its package and listed here."""

from __future__ import annotations

from workflows.breach.flows import BREACH
from workflows.core.declaration import Workflow
from workflows.reminders.service import register_deadline_handler
from workflows.sar.flows import SAR

WORKFLOWS: dict[str, Workflow] = {workflow.name: workflow for workflow in (SAR, BREACH)}

for _workflow in WORKFLOWS.values():
    if _workflow.reminders is not None:
        register_deadline_handler(_workflow.name)


def by_prefix(prefix: str) -> Workflow | None:
    return next((w for w in WORKFLOWS.values() if w.prefix == prefix.upper()), None)
