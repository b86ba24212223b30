"""Pupils and their photo consent, as imported from the school's MIS (DOMAIN.md 4).

The MIS stays the truth: every answer names the import it came from. A withdrawal typed in chat
is kept as its own change (``pending_mis``) until an import agrees with it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflows.database import UTCDateTime, utcnow


class Status(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    NOT_ASKED = "not_asked"
    WITHDRAWN = "withdrawn"


class Source(StrEnum):
    IMPORT = "import"
    CHAT = "chat"


# DOMAIN.md 4: the categories on real English school forms; a school may rename or add its own.
DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("displays", "in-school displays and learning records"),
    ("print", "printed publications and the prospectus"),
    ("website", "the school website"),
    ("social_media", "social media"),
    ("video", "video"),
    ("press_unnamed", "local press without the pupil's name"),
    ("press_named", "local press with the pupil's full name"),
    ("photographer", "class and individual photos by an external photographer"),
    ("apps", "third-party apps such as ClassDojo"),
)

DEFAULT_VALIDITY_MONTHS = 12


class Pupil(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("school_id", "mis_id", name="uq_pupil_school_mis"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    mis_id: str = Field(max_length=32)
    legal_first: str = Field(max_length=100)
    legal_last: str = Field(max_length=100)
    preferred_name: str | None = Field(default=None, max_length=100)
    year_group: str = Field(default="", max_length=16)
    reg_class: str = Field(default="", max_length=16, index=True)
    date_of_birth: date | None = Field(default=None)
    # Adopted or looked-after children, court orders: no photo at all, whatever else says yes.
    no_photos: bool = Field(default=False)
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def first(self) -> str:
        return self.preferred_name or self.legal_first

    @property
    def display_name(self) -> str:
        return f"{self.first} {self.legal_last}"


class ConsentCategory(SQLModel, table=True):
    __tablename__ = "consent_category"
    __table_args__ = (UniqueConstraint("school_id", "key", name="uq_consent_category_key"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    key: str = Field(max_length=32)
    label: str = Field(max_length=200)
    position: int = Field(default=0)


class ConsentSetting(SQLModel, table=True):
    """The school's consent settings: how long a "yes" lasts before it must be renewed, and
    whether lookups are open to all staff (DOMAIN.md 4's default) or to a list."""

    __tablename__ = "consent_setting"

    school_id: int = Field(foreign_key="school.id", primary_key=True)
    validity_months: int = Field(default=DEFAULT_VALIDITY_MONTHS)
    # Restricted: only the DPO team and the people given `--consent` may look pupils up.
    lookups_restricted: bool = Field(default=False)


class Consent(SQLModel, table=True):
    """The current answer for one pupil and one use."""

    __table_args__ = (UniqueConstraint("pupil_id", "category_id", name="uq_consent_pupil_cat"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    category_id: int = Field(foreign_key="consent_category.id")
    status: Status = Field(default=Status.NOT_ASKED, sa_type=String(16))
    given_on: date | None = Field(default=None)  # the date on the form (given, refused)
    given_by: str | None = Field(default=None, max_length=200)
    withdrawn_on: date | None = Field(default=None)
    source: Source = Field(default=Source.IMPORT, sa_type=String(8))
    # Withdrawn in chat and not yet in an import: the office must still update the MIS.
    pending_mis: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsentChange(SQLModel, table=True):
    """Append-only history: when and how each answer changed, and who said so (Art 7(1))."""

    __tablename__ = "consent_change"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    category_id: int = Field(foreign_key="consent_category.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    old_status: str | None = Field(default=None, max_length=16)
    new_status: str = Field(max_length=16)
    source: Source = Field(sa_type=String(8))
    by_id: int | None = Field(default=None, foreign_key="person.id")
    by_name: str = Field(max_length=200)
    import_id: int | None = Field(default=None, foreign_key="consent_import.id")
    note: str | None = Field(default=None, max_length=500)


class ConsentImport(SQLModel, table=True):
    __tablename__ = "consent_import"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    file_name: str = Field(max_length=255)
    format: str = Field(max_length=16)
    rows: int = Field(default=0)
    added: int = Field(default=0)
    changed: int = Field(default=0)
    unchanged: int = Field(default=0)
    left: int = Field(default=0)
    by_name: str = Field(max_length=200)
