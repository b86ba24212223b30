"""The privacy notice's “Programs used by pupils” section, from the software register.

Schools list these by hand and the list goes stale; made from the register, an approval adds
a product and a rejection keeps it out. What the register does not know (a column an imported
register lacked, a "don't know" answer) is marked for the DPO, never guessed. Products
approved before the register kept these read them from the request that approved them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from workflows.audit.models import AuditEvent
from workflows.core.fields import UNKNOWN
from workflows.core.markdown import web_link
from workflows.core.wording import render
from workflows.database import saved_id, utcnow
from workflows.schools.models import School
from workflows.software.models import SoftwareRequest, Status
from workflows.software.names import register
from workflows.software.screening import kind_label

Format = Literal["html", "md"]
LISTED = frozenset({Status.APPROVED, Status.CONDITIONS})
_BARE_ADDRESS = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/\S*)?$",
                           re.IGNORECASE)


@dataclass(frozen=True)
class Listed:
    """One approved product as the notice shows it; None is for the DPO to complete."""

    name: str
    purpose: str | None
    year_groups: str | None
    data: tuple[str, ...] | None  # () when the request said none; None when nobody said
    storage: str | None
    privacy_notice: str | None  # a web address safe to link to
    website: str | None


def known(value: str | None) -> str | None:
    """What was answered, or None for nothing or “don't know”."""
    return value.strip() if value and value.strip() and value.strip() != UNKNOWN else None


def _address(text: str | None) -> str | None:
    """A vendor's page as a link: “vendor.com/privacy” is https://vendor.com/privacy."""
    found = known(text)
    if found and _BARE_ADDRESS.match(found):
        found = "https://" + found
    return web_link(found)


def listed(session: Session, school: School) -> list[Listed]:
    """The approved products, by name; rejected and pending ones are not in a privacy notice."""
    found = []
    for product in register(session, saved_id(school)):
        if product.status not in LISTED:
            continue
        request = session.get(SoftwareRequest, product.request_id) if product.request_id else None
        kinds = product.data_kinds or (request.data_kinds if request else [])
        found.append(Listed(
            name=product.name,
            purpose=known(product.purpose) or known(request.purpose if request else None),
            year_groups=known(product.year_groups) or known(request.users if request else None),
            data=tuple(kind_label(k) for k in kinds if k != "none") if kinds else None,
            storage=known(product.storage) or known(request.storage if request else None),
            privacy_notice=_address(product.privacy_notice)
            or _address(request.privacy_notice if request else None),
            website=_address(product.website),
        ))
    return found


def software_list(session: Session, school: School, actor: str, format: Format) -> str:
    """The section as HTML (a fragment to paste) or Markdown; the read is audited."""
    products = listed(session, school)
    session.add(AuditEvent(school_id=saved_id(school), at=utcnow(), actor_name=actor,
                           adapter="cli", action="software.listed", subject_type="software",
                           detail={"count": len(products), "format": format}))
    return render(f"documents/software_list.{format}.j2", school=school, products=products) + "\n"
