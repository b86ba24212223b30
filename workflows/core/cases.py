"""Queries over a workflow's case table, typed by its declaration.

A declaration types its table as ``type[C]``, C bound by the ``Case`` protocol, so that its
callables are checked against the table's own columns; SQLAlchemy cannot see from that
protocol that the type is a mapped table. This is the one place that says it is, so the
engine and the chat query any workflow's cases with types rather than through ``Any``.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Column
from sqlmodel import SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from workflows.core.declaration import C, Workflow
from workflows.database import table_of


def table(workflow: Workflow[Any]) -> type[SQLModel]:
    """The mapped class of the workflow's cases (for ``update`` and ``session.get``)."""
    return cast(type[SQLModel], workflow.model)


def column(workflow: Workflow[Any], name: str) -> Column[Any]:
    """One column of the case table: ``state``, ``school_id``, ``reference``…"""
    return table_of(workflow.model).c[name]


def cases(workflow: Workflow[C]) -> SelectOfScalar[C]:
    """``SELECT`` the workflow's cases, each typed as its declaration's case."""
    return cast("SelectOfScalar[C]", select(table(workflow)))


def of_school(workflow: Workflow[C], school_id: int | None, *,
              open_only: bool | None = True) -> SelectOfScalar[C]:
    """A school's cases: the open ones (``open_only``), the closed ones (False), or all (None)."""
    query = cases(workflow).where(column(workflow, "school_id") == school_id)
    state = column(workflow, "state")
    if open_only:
        return query.where(state.in_(list(workflow.open_states)))
    if open_only is False:
        return query.where(state.not_in(list(workflow.open_states)))
    return query
