"""Every table, imported in one place so the metadata (and Alembic) sees them all.

The core's tables are listed here; each workflow's come with its declaration in the registry,
so a new workflow's tables need no line here.
"""

from sqlmodel import SQLModel

import workflows.registry  # noqa: F401  (each workflow's tables, with its declaration)
from workflows.audit.models import AuditEvent
from workflows.consent.models import (
    Consent,
    ConsentCategory,
    ConsentChange,
    ConsentImport,
    ConsentSetting,
    Pupil,
)
from workflows.core.inbound import InboundEvent
from workflows.core.models import Conversation
from workflows.core.numbering import ReferenceCounter
from workflows.notifications.addresses import ChatAddress
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.reminders.models import Reminder
from workflows.schools.models import ChosenSchool, School

metadata = SQLModel.metadata

__all__ = [
    "AuditEvent",
    "ChatAddress",
    "ChosenSchool",
    "Consent",
    "ConsentCategory",
    "ConsentChange",
    "ConsentImport",
    "ConsentSetting",
    "Conversation",
    "InboundEvent",
    "Notification",
    "Person",
    "Pupil",
    "ReferenceCounter",
    "Reminder",
    "School",
    "metadata",
]
