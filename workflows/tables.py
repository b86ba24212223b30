"""Every table, imported in one place so the metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from workflows.audit.models import AuditEvent
from workflows.breach.models import Breach, BreachUpdate
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
from workflows.sar.models import CaseNote, ClarificationPause, RightsRequest
from workflows.schools.models import ChosenSchool, School
from workflows.software.models import Software, SoftwareMessage, SoftwareRequest

metadata = SQLModel.metadata

__all__ = [
    "AuditEvent",
    "Breach",
    "BreachUpdate",
    "CaseNote",
    "ChatAddress",
    "ChosenSchool",
    "ClarificationPause",
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
    "RightsRequest",
    "School",
    "Software",
    "SoftwareMessage",
    "SoftwareRequest",
    "metadata",
]
