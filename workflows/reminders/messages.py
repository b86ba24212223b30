"""What a reminder handler answers: a message and whom it is for.

Its own module so that a workflow declaring reminder handlers of its own (the software
register's reviews) imports it without importing the sweep, which reads the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from workflows.people.models import Person
from workflows.reminders.models import Reminder


@dataclass
class Message:
    recipients: list[Person]
    text: str
    subject_ref: str | None = None


# What a reminder says and to whom, by subject type; None when it is no longer needed.
Handler = Callable[[Session, Reminder, datetime], Message | None]
