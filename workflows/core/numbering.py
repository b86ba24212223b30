"""Case numbers: each school counts its own cases, per prefix and year, from 1.

A school's register reads SAR-2026-0001, 0002, … whatever the other schools in the deployment
do, so a reference says nothing about how busy another school is. The counter is taken in the
case's own transaction: PostgreSQL's row lock on the counter makes concurrent creators at one
school wait in turn (no number given twice), and a case rolled back gives its number back (no
gap under normal operation). SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Field, Session, SQLModel

from workflows.database import dialect_insert, table_of


class ReferenceCounter(SQLModel, table=True):
    __tablename__ = "reference_counter"

    school_id: int = Field(foreign_key="school.id", primary_key=True)
    prefix: str = Field(max_length=8, primary_key=True)  # "SAR" in SAR-2026-0001
    year: int = Field(primary_key=True)
    last: int = Field(default=0)  # the number most recently given out


def next_number(session: Session, school_id: int, prefix: str, year: int) -> int:
    """The school's next number for ``prefix`` in ``year``, held until the transaction ends."""
    number = _increment(session, school_id, prefix, year)
    if number is None:
        # The year's first case: create the counter at 0. A creator racing us here waits for
        # our row (PostgreSQL) and then does nothing, so both go on to the one counter.
        session.execute(dialect_insert(session, ReferenceCounter)
                        .values(school_id=school_id, prefix=prefix, year=year, last=0)
                        .on_conflict_do_nothing(index_elements=["school_id", "prefix", "year"]))
        number = _increment(session, school_id, prefix, year)
    assert number is not None  # the row exists now, and counters are never deleted
    return number


def _increment(session: Session, school_id: int, prefix: str, year: int) -> int | None:
    # One statement reads and bumps, so no other transaction can slip in between; the row
    # stays locked until ours commits or rolls back.
    table = table_of(ReferenceCounter)
    return session.execute(
        update(table)
        .where(table.c.school_id == school_id, table.c.prefix == prefix, table.c.year == year)
        .values(last=table.c.last + 1)
        .returning(table.c.last)
    ).scalar_one_or_none()
