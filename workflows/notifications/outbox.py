"""The claim every adapter makes before it sends: which notifications are its to send now,
each read as its recipient at their school, with the workflow of the case it tells of.

Slack and Teams address people differently (a Slack id, a stored Teams reference) but claim
the same way: a lease on the most urgent waiting messages of the people they can reach, then
what each one carries, decided by the core (``recipients.carried``), never by the adapter.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlmodel import Session, col, select

from workflows.core import headline, recipients
from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.engine import NotFound, load
from workflows.core.ui import Reply
from workflows.notifications import service as notifications
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.registry import by_prefix
from workflows.schools.models import School


@dataclass(frozen=True)
class Outgoing:
    """One claimed notification: the context is its recipient's, at their own school."""

    note: Notification
    ctx: Context
    workflow: Workflow[Any] | None  # the case's, when the notification tells of one

    @property
    def person(self) -> Person:
        return self.ctx.person

    def replies(self, *, shared: bool = False) -> list[Reply]:
        """What it carries for its recipient (``shared``: for the DPO team's channel)."""
        return recipients.carried(self.ctx, self.note, self.workflow, shared=shared)

    def headline(self) -> str:
        """What it is, in one line with no personal data (a phone shows it unopened): its
        case's reference, kind and countdown, whoever it is for."""
        if self.workflow is not None and self.note.subject_ref is not None:
            with contextlib.suppress(NotFound):  # the case has gone: what kind of message
                case = load(self.ctx, self.workflow, self.note.subject_ref)
                return headline.of_case(self.ctx, self.workflow, case,
                                        self.note.kind.rsplit(".", 1)[-1])
        return headline.of_replies([])


def claim(session: Session, reachable: Select[Any], token: str, *, adapter: str,
          served: tuple[int, ...], now: datetime, limit: int = 50) -> list[Outgoing]:
    """Lease to ``token`` what is waiting for the people ``reachable`` selects (their ids:
    whom ``adapter`` can write to first), most urgent then oldest first, and read each as its
    recipient; commits the lease. The people are a subquery, joined in the database: a hosted
    bot reaches tens of thousands, and passing their ids back cost most of a delivery pass."""
    return _outgoing(session, notifications.claim_where(
        session, col(Notification.person_id).in_(reachable), token, now, limit=limit),
        adapter, served, now)


def _outgoing(session: Session, notes: list[Notification], adapter: str,
              served: tuple[int, ...], now: datetime) -> list[Outgoing]:
    """Each note as its recipient; the recipients and their schools read in one query each
    (a Monday's digests are a pass of different people at different schools)."""
    people = {p.id: p for p in session.exec(
        select(Person).where(col(Person.id).in_({n.person_id for n in notes})))}
    schools = {s.id: s for s in session.exec(
        select(School).where(col(School.id).in_({p.school_id for p in people.values()})))}
    out = []
    for note in notes:
        person = people[note.person_id]
        out.append(Outgoing(note, Context.of(session, person, adapter,
                                             school=schools[person.school_id], now=now,
                                             served=served), _workflow(note)))
    return out


def _workflow(note: Notification) -> Workflow[Any] | None:
    """A case's reference starts with its workflow's prefix (SAR-2026-0001)."""
    return by_prefix(note.subject_ref.split("-", 1)[0]) if note.subject_ref else None
