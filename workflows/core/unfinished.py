"""A request or breach started in a chat or a form and never saved: the school is told.

Nothing reaches the DPO until a form is saved, so a teacher who walks away mid-form leaves a
request whose legal clock runs unseen. When a form starts, a reminder row is written in the
same transaction (``plan``), so a restart loses nothing; the reminder worker sends it through
the ordinary outbox (``remind``): the person is nudged, and where the workflow declares it
the DPO team is told that a report was started, by whom, and nothing of what it says.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, update

from workflows.core.declaration import Unfinished, Workflow
from workflows.core.models import Conversation, ConversationStatus
from workflows.core.wording import render
from workflows.database import insert_once, saved_id
from workflows.people import service as people
from workflows.people.models import Role
from workflows.reminders.messages import Message
from workflows.reminders.models import Reminder
from workflows.schools.models import School

SUBJECT = "unfinished"
PERSON, TEAM = "unfinished.person", "unfinished.team"
_WAITING = (ConversationStatus.ASKING, ConversationStatus.CONFIRMING)


def plan(session: Session, workflow: Workflow[Any], conversation: Conversation,
         since: datetime) -> None:
    """The nudges for a form just started, due once it has been quiet ``after`` long."""
    policy = workflow.unfinished
    if policy is None or conversation.action is not None:
        return  # an action's form is on a case already saved: nothing is at risk
    for kind in (PERSON, *((TEAM,) if policy.tell_team else ())):
        _write(session, conversation, policy, kind, since)


def _write(session: Session, conversation: Conversation, policy: Unfinished, kind: str,
           since: datetime) -> None:
    due = since + policy.after
    insert_once(session, Reminder, Reminder(
        school_id=conversation.school_id, subject_type=SUBJECT,
        subject_id=saved_id(conversation), person_id=conversation.person_id, kind=kind,
        target=due.isoformat()[:32], due_at=due, working_hours=not policy.any_hour,
        dedupe_key=f"{SUBJECT}:{conversation.id}:{kind}:{due.isoformat()}",
    ).model_dump(exclude={"id"}), "dedupe_key")


def settle(session: Session, conversation: Conversation, now: datetime) -> None:
    """The form was saved or cancelled: its nudges are no longer needed."""
    session.execute(
        update(Reminder)
        .where(col(Reminder.subject_type) == SUBJECT,
               col(Reminder.subject_id) == conversation.id,
               col(Reminder.sent_at).is_(None), col(Reminder.cancelled_at).is_(None))
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False))


class Remind:
    """The reminder handler for unfinished forms, over the workflows the sweep runs."""

    def __init__(self, registry: Mapping[str, Workflow[Any]]) -> None:
        self.registry = registry

    def __call__(self, session: Session, reminder: Reminder, now: datetime) -> Message | None:
        conversation = session.get(Conversation, reminder.subject_id)
        if conversation is None or conversation.status not in _WAITING:
            return None  # saved or cancelled meanwhile
        workflow = self.registry.get(conversation.workflow)
        policy = workflow.unfinished if workflow is not None else None
        person = people.get(session, conversation.person_id)
        if workflow is None or policy is None or person is None:
            return None
        if conversation.updated_at + policy.after > now:
            # Still being answered: wait until it has been quiet long enough.
            _write(session, conversation, policy, reminder.kind, conversation.updated_at)
            return None
        school = session.get_one(School, conversation.school_id)
        started = conversation.created_at.astimezone(ZoneInfo(school.timezone))
        local_now = now.astimezone(ZoneInfo(school.timezone))
        facts = {"title": workflow.title, "started": started,
                 "today": started.date() == local_now.date(), "reporter": person.name,
                 "team_told": policy.tell_team, "form": conversation.channel_key.startswith(
                     ("slack-view:", "teams-form:"))}
        if reminder.kind == PERSON:
            if not person.active:
                return None
            return Message([person], render("conversation/unfinished.txt.j2", to="person",
                                            **facts))
        team = [p for p in people.by_role(session, school.id or 0, Role.DPO, Role.DEPUTY)
                if p.id != person.id]
        return Message(team, render("conversation/unfinished.txt.j2", to="team", **facts)
                       ) if team else None
