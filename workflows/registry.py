"""Every workflow the bot runs. A new workflow is declared in its package and listed here.

Listing it is all: nothing is filled in when this module is imported. The reminder sweep
derives its handlers from ``WORKFLOWS`` (``reminders.service.handlers``), and the router its
phrases (``core.router``).
"""

from __future__ import annotations

from typing import Any

from workflows.breach.flows import BREACH
from workflows.consent import routes as consent
from workflows.core.declaration import Route, Workflow
from workflows.disclosure.flows import DISCLOSURE
from workflows.reports import service as reports
from workflows.sar.flows import SAR
from workflows.software.flows import SOFTWARE

WORKFLOWS: dict[str, Workflow[Any]] = {
    workflow.name: workflow for workflow in (SAR, BREACH, SOFTWARE, DISCLOSURE)
}

# Questions the router answers that belong to no workflow.
QUESTIONS: tuple[Route, ...] = (*consent.ROUTES, *reports.ROUTES)


def by_prefix(prefix: str) -> Workflow[Any] | None:
    return next((w for w in WORKFLOWS.values() if w.prefix == prefix.upper()), None)
