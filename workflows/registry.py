"""Every workflow the bot runs. A new workflow is declared in its package and listed here."""

from __future__ import annotations

from workflows.breach.flows import BREACH
from workflows.core.declaration import Workflow
from workflows.reminders.service import HANDLERS, register_deadline_handler
from workflows.sar.flows import SAR
from workflows.software import service as software
from workflows.software.flows import SOFTWARE

WORKFLOWS: dict[str, Workflow] = {
    workflow.name: workflow for workflow in (SAR, BREACH, SOFTWARE)
}

for _workflow in WORKFLOWS.values():
    if _workflow.reminders is not None:
        register_deadline_handler(_workflow.name)
# Reminders about the software register's review dates, not about a case.
HANDLERS[software.REVIEW_SUBJECT] = software.review_reminder


def by_prefix(prefix: str) -> Workflow | None:
    return next((w for w in WORKFLOWS.values() if w.prefix == prefix.upper()), None)
