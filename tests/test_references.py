"""Case references: each school numbers its own cases per prefix and year, on both databases.

The numbers come from a counter taken in the case's own transaction, so they are never given
twice (even to processes creating cases at the same moment) and a case rolled back gives its
number back. An existing deployment's counters start from the references it already has.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, inspect
from sqlmodel import Session, SQLModel, col, select

from tests.conftest import PARENT_SAR, School_, empty_database, make_school, text_of
from tests.test_software import MATHS_APP
from workflows.breach.flows import BREACH as BREACH_WORKFLOW
from workflows.breach.models import Breach, BreachUpdate
from workflows.core.chat import respond
from workflows.core.engine import create
from workflows.core.numbering import ReferenceCounter
from workflows.database import session_scope, upgrade
from workflows.people.models import Person, Role
from workflows.sar.models import CaseNote, RightsRequest
from workflows.schools.models import School
from workflows.software.models import SoftwareRequest

# Saved at "yes"; "cancel" leaves the follow-up questions, so the next line starts afresh.
BREACH = ("report a breach", "Lost a USB stick with the class list", "now", "no", "yes", "cancel")


def references(engine: Engine, model: type, school: School_) -> list[str]:
    with session_scope(engine) as session:
        return list(session.exec(select(model.reference).where(
            model.school_id == school.school_id).order_by(col(model.id))))


def test_each_school_numbers_its_own_cases_from_0001_per_prefix_and_year(
        school: School_) -> None:
    oakwood = make_school(school.engine, slug="oakwood", name="Oakwood Academy")
    assert "Saved as SAR-2026-0001." in school.says("sam", *PARENT_SAR, "yes")
    assert "Saved as SAR-2026-0002." in school.says("sam", *PARENT_SAR, "yes")
    # Oakwood's first SAR is its own 0001, not the deployment's third.
    assert "Saved as SAR-2026-0001." in oakwood.says("sam", *PARENT_SAR, "yes")
    # Each prefix counts apart: the first breach and the first app at each school are 0001.
    for each in (oakwood, school):
        each.says("sam", *BREACH)
        each.says("sam", *MATHS_APP, "yes")
        assert references(each.engine, Breach, each) == ["BRE-2026-0001"]
        assert references(each.engine, SoftwareRequest, each) == ["SW-2026-0001"]
    # A new year starts again at 0001 (received "yesterday": 3 January 2027).
    school.now = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
    assert "Saved as SAR-2027-0001." in school.says("sam", *PARENT_SAR, "yes")
    assert references(school.engine, RightsRequest, school) == [
        "SAR-2026-0001", "SAR-2026-0002", "SAR-2027-0001"]
    assert references(school.engine, RightsRequest, oakwood) == ["SAR-2026-0001"]


def test_a_case_rolled_back_gives_its_number_back(school: School_) -> None:
    school.says("sam", *PARENT_SAR)  # at the summary, saved
    with Session(school.engine) as session:
        replies = respond(school.context(session, "sam"), "test:sam", "yes")
        assert "Saved as SAR-2026-0001." in text_of(replies)
        session.rollback()  # e.g. the process died before the commit
    assert references(school.engine, RightsRequest, school) == []
    # The same confirmation, again: the number was not used up.
    assert "Saved as SAR-2026-0001." in school.says("sam", "yes")
    assert "Saved as SAR-2026-0002." in school.says("sam", *PARENT_SAR, "yes")


def _breaches_at_once(school: School_, how_many: int) -> list[str]:
    """``how_many`` breaches reported at one moment, each by its own thread and session."""
    start = threading.Barrier(how_many)
    made: list[str] = []
    failed: list[BaseException] = []

    def report() -> None:
        try:
            with session_scope(school.engine) as session:
                ctx = school.context(session, "sam")
                start.wait(timeout=30)
                case = create(ctx, BREACH_WORKFLOW, {"what_happened": "A laptop left on a train",
                                             "found_at": ctx.now.isoformat(),
                                             "ongoing": False})
                # A slow rest of the transaction: the others must wait for this number.
                time.sleep(0.05)
                made.append(case.reference)
        except BaseException as error:  # reported below, in the test's own thread
            failed.append(error)

    threads = [threading.Thread(target=report) for _ in range(how_many)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failed, failed
    return made


def test_cases_created_at_once_get_distinct_consecutive_numbers(school: School_) -> None:
    if school.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one process write at a time; this is PostgreSQL's case")
    # First when the year's counter does not exist yet (every thread tries to create it),
    # then when it does.
    first = _breaches_at_once(school, 12)
    assert sorted(first) == [f"BRE-2026-{n:04d}" for n in range(1, 13)]
    second = _breaches_at_once(school, 12)
    assert sorted(second) == [f"BRE-2026-{n:04d}" for n in range(13, 25)]


# --- an existing deployment, upgraded -----------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def engine_at_0003(request, tmp_path: Path):
    """A database as the release before per-school references left it."""
    engine = empty_database(request.param, tmp_path)
    upgrade(engine, "0003")
    yield engine
    engine.dispose()


def _old_sar(session: Session, school: School_, reference: str) -> None:
    """A SAR as it was stored before 0004 (numbered by row id), with a note hung on it."""
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    case = RightsRequest(
        school_id=school.school_id, reference=reference, request_type="access", state="open",
        requester_name="Jane Parent", relationship="parent", channel="email", received_at=at,
        received_on=at.date(), details="Everything about Tom",
        created_by_id=school.people["sam"], created_at=at)
    session.add(case)
    session.flush()
    session.add(CaseNote(request_id=case.id, author_id=school.people["dee"], at=at,
                         text="Acknowledged"))


def _old_breach(session: Session, school: School_, reference: str) -> None:
    # Only the columns a breach had then: later revisions add some (0006 to 0008).
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    breach_id = session.execute(insert(Breach).values(
        school_id=school.school_id, reference=reference, state="awaiting", version=1,
        what_happened="Lost a USB stick", found_at=at, aware_at=at, reported_at=at, ongoing=False,
        data_kinds=[], whose=[], created_by_id=school.people["sam"], created_at=at,
    ).returning(Breach.id)).scalar_one()
    session.add(BreachUpdate(breach_id=breach_id, author_id=school.people["sam"], at=at,
                             text="It was encrypted"))


def _as_then(engine: Engine, row: SQLModel) -> dict[str, Any]:
    """A row's values for only the columns its table has at this revision: later revisions
    add some, which an insert of today's model would name."""
    table = type(row).__table__.name  # type: ignore[attr-defined]
    columns = {c["name"] for c in inspect(engine).get_columns(table)} - {"id"}
    return {k: v for k, v in row.model_dump().items() if k in columns}


def _school_at_0003(engine: Engine, slug: str, name: str) -> School_:
    """make_school for a database at 0003: each row has only the columns it had then, and the
    people are make_school's."""
    with session_scope(engine) as session:
        added = session.execute(School.__table__.insert().values(
            **_as_then(engine, School(slug=slug, name=name, configured=True))))
        school_id = added.inserted_primary_key[0]
        people = {}
        for person_name, role in (("Sam Teacher", Role.STAFF), ("Dee Dpo", Role.DPO)):
            person = Person(school_id=school_id, name=person_name, role=role)
            people[person_name.split()[0].lower()] = session.execute(
                Person.__table__.insert().values(**_as_then(engine, person))
            ).inserted_primary_key[0]
    return School_(engine=engine, school_id=school_id, people=people)


def test_the_upgrade_counts_on_from_each_schools_highest_reference(
        engine_at_0003: Engine) -> None:
    engine = engine_at_0003
    hillside = _school_at_0003(engine, "hillside", "Hillside Primary")
    oakwood = _school_at_0003(engine, "oakwood", "Oakwood Academy")
    with session_scope(engine) as session:
        # One sequence for the whole deployment, as the row ids gave it.
        for school, reference in ((hillside, "SAR-2026-0001"), (oakwood, "SAR-2026-0002"),
                                  (hillside, "SAR-2026-0003"), (hillside, "SAR-2025-0004"),
                                  (oakwood, "SAR-2026-0005")):
            _old_sar(session, school, reference)
        _old_breach(session, hillside, "BRE-2026-0001")
        _old_breach(session, oakwood, "BRE-2026-0002")

    upgrade(engine)

    with session_scope(engine) as session:
        counters = {(c.school_id, c.prefix, c.year): c.last
                    for c in session.exec(select(ReferenceCounter))}
        # The rows hung on the cases survived the tables' rebuild (SQLite).
        assert len(session.exec(select(CaseNote)).all()) == 5
        assert len(session.exec(select(BreachUpdate)).all()) == 2
    h, o = hillside.school_id, oakwood.school_id
    assert counters == {(h, "SAR", 2026): 3, (h, "SAR", 2025): 4, (o, "SAR", 2026): 5,
                        (h, "BRE", 2026): 1, (o, "BRE", 2026): 2}
    # New cases carry on from there, each school from its own highest number...
    assert "Saved as SAR-2026-0004." in hillside.says("sam", *PARENT_SAR, "yes")
    assert "Saved as SAR-2026-0006." in oakwood.says("sam", *PARENT_SAR, "yes")
    oakwood.says("sam", *BREACH)
    assert references(engine, Breach, oakwood) == ["BRE-2026-0002", "BRE-2026-0003"]
    # ...and one that has never had a case of a kind starts at 0001.
    hillside.says("sam", *MATHS_APP, "yes")
    assert references(engine, SoftwareRequest, hillside) == ["SW-2026-0001"]
    # References are now unique per school only: St Mary's gets its own SAR-2026-0001.
    stmarys = make_school(engine, slug="st-marys", name="St Mary's")
    assert "Saved as SAR-2026-0001." in stmarys.says("sam", *PARENT_SAR, "yes")
