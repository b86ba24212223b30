"""Who may look pupils' photo consent up (DOMAIN.md 4).

The staff who take and publish photos need the answer, so every member of staff may ask
unless the school restricts lookups to a list: the DPO team, and the people the DPO gave
``--consent``. Asked here, with the school's setting, never only in an adapter.
"""

from __future__ import annotations

from workflows.audit import service as audit
from workflows.consent.settings import lookups_restricted
from workflows.core.context import Context
from workflows.core.wording import render
from workflows.people import service as people
from workflows.people.models import Role
from workflows.people.permissions import Permission, PermissionDenied, can


def may_look_up(ctx: Context) -> bool:
    if not ctx.person.active:
        return False
    # Open lookups are open to the staff, who log cases; a governor is not staff.
    return can(ctx.person, Permission.CONSENT_LOOKUP) or (
        can(ctx.person, Permission.START_CASE)
        and not lookups_restricted(ctx.session, ctx.school))


def require_lookup(ctx: Context) -> None:
    """Refused, audited, with exactly what the DPO does to let this person ask."""
    if may_look_up(ctx):
        return
    audit.record(ctx, "consent.refused", "pupil")
    dpo = people.by_role(ctx.session, ctx.school_id, Role.DPO)
    raise PermissionDenied(render("messages/consent_none.txt.j2", what="denied",
                                  active=ctx.person.active, who=ctx.person.name,
                                  school=ctx.school.name, dpo=dpo[0].name if dpo else None,
                                  slug=ctx.school.slug))
