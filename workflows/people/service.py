"""Finding people and the DPO team of a school."""

from __future__ import annotations

from sqlmodel import Session, col, select

from workflows.people.models import Person, Role


def by_role(session: Session, school_id: int, *roles: Role) -> list[Person]:
    return list(
        session.exec(
            select(Person)
            .where(
                Person.school_id == school_id,
                col(Person.role).in_([r.value for r in roles]),
                col(Person.active).is_(True),
            )
            .order_by(col(Person.id))
        )
    )


def decision_makers(session: Session, school_id: int) -> list[Person]:
    """The DPO and deputies: told of every new case."""
    return by_role(session, school_id, Role.DPO, Role.DEPUTY)


def find_or_create(
    session: Session, school_id: int, name: str, role: Role | None = None, email: str | None = None
) -> Person:
    person = session.exec(
        select(Person).where(Person.school_id == school_id, Person.name == name)
    ).first()
    if person is None:
        person = Person(school_id=school_id, name=name, role=role or Role.STAFF, email=email)
        session.add(person)
        session.flush()
    elif role is not None and person.role != role:
        person.role = role
    return person


def get(session: Session, person_id: int | None) -> Person | None:
    return session.get(Person, person_id) if person_id is not None else None
