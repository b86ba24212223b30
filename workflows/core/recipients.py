"""Who a message is for and what it may carry: the role answers every adapter asks.

Adapters address people on their own platform (a Slack id, a Teams reference) but never
decide who decides, who sees a case's buttons or what a notification may hold: one answer
per question here, so Slack, Teams and the terminal cannot drift apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import Session

from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.engine import NotFound, card, load, view
from workflows.core.ui import Card, Reply, Text
from workflows.database import saved_id
from workflows.notifications.models import Notification
from workflows.people import service as people
from workflows.people.models import Person
from workflows.people.permissions import Permission, can
from workflows.schools import membership


def deciders(session: Session, school_id: int) -> list[Person]:
    """The school's active DPO and deputies, in the order they were added: who decides its
    cases, and so who is shown their buttons."""
    return people.decision_makers(session, school_id)


def deciders_at(session: Session, school_ids: Iterable[int]) -> dict[int, list[Person]]:
    """``deciders`` of each of several schools, read together."""
    return people.decision_makers_at(session, school_ids)


def button_holders(ctx: Context, shown: Sequence[Reply]) -> list[Person]:
    """Who is shown the buttons of a case among ``shown``: the school's deciders, and this
    person too when the core gave them buttons of their own (a case they may act on)."""
    holders = deciders(ctx.session, saved_id(ctx.school))
    if any(isinstance(reply, Card) and reply.buttons for reply in shown):
        holders.append(ctx.person)
    return holders


def told_unreachable(session: Session, person: Person) -> list[Person]:
    """Who is told that ``person`` cannot be reached on their platform: the rest of their
    school's DPO team (their own messages would wait, unseen, with the news)."""
    return [p for p in deciders(session, person.school_id) if p.id != person.id]


def shared_with_team(person: Person, note: Notification) -> bool:
    """Whether a notification is a new case for the DPO team, which a team's private channel
    may carry once for all of them; reminders and decisions stay personal."""
    return can(person, Permission.DECIDE) and note.kind.endswith(".new")


def carried(ctx: Context, note: Notification, workflow: Workflow[Any] | None, *,
            shared: bool = False) -> list[Reply]:
    """What ``note`` carries for ``ctx.person``: its text, headed by the school for someone
    at several, and for a decider the case itself. A person gets the whole case (an audited
    read); a ``shared`` channel the case without its details, so no read to audit."""
    replies: list[Reply] = [Text(membership.labelled(ctx, note.text))]
    if workflow is None or note.subject_ref is None or not can(ctx.person, Permission.DECIDE):
        return replies
    with contextlib.suppress(NotFound):  # the case has gone: the text alone
        case = load(ctx, workflow, note.subject_ref)
        replies.append(card(ctx, workflow, case).for_channel() if shared
                       else view(ctx, workflow, case))
    return replies


def alerts_channel(note: Notification, workflow: Workflow[Any] | None) -> bool:
    """Whether ``note`` is the news of a new case whose workflow declares a channel alert
    (a reference and a countdown, never names: ``engine.channel_alert``)."""
    return (workflow is not None and workflow.channel_alert is not None
            and note.subject_ref is not None and note.kind.endswith(".new"))
