"""Who is acting, where, and when: passed to every field, check and action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from workflows.people.models import Person
from workflows.schools.models import School


@dataclass
class Context:
    session: Session
    school: School
    person: Person
    adapter: str
    now: datetime  # aware, UTC
    # The schools the app in use serves, when it serves several (one Slack workspace for a
    # trust); empty when it is bound to ctx.school alone.
    served: tuple[int, ...] = ()

    @classmethod
    def of(cls, session: Session, person: Person, adapter: str, *,
           school: School | None = None, now: datetime | None = None,
           served: tuple[int, ...] = ()) -> Context:
        """As ``person`` at ``school`` (by default their own), now unless told otherwise.

        The one way a context is made, so every caller agrees on the rules: ``served`` is kept
        only when the app serves several schools, and the clock is UTC.
        """
        own = school if school is not None else session.get_one(School, person.school_id)
        return cls(session=session, school=own, person=person, adapter=adapter,
                   now=now or datetime.now(UTC), served=served if len(served) > 1 else ())

    @property
    def school_id(self) -> int:
        """The school's id, never None: a context is only made for a saved school."""
        if self.school.id is None:
            raise ValueError("a context needs a saved school")
        return self.school.id

    @property
    def person_id(self) -> int:
        """The person's id, never None: a context is only made for a saved person."""
        if self.person.id is None:
            raise ValueError("a context needs a saved person")
        return self.person.id

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.school.timezone)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)

    @property
    def today(self) -> date:
        return self.local_now.date()
