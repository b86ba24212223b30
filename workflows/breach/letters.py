"""The breach documents, drafted from the case for the DPO to check (words in templates/)."""

from __future__ import annotations

from collections.abc import Callable

from workflows.breach import service, triage
from workflows.breach.models import Breach
from workflows.core.context import Context
from workflows.core.ui import Document
from workflows.core.wording import render
from workflows.people import service as people
from workflows.people.models import Role


def facts(ctx: Context, case: Breach) -> dict[str, object]:
    """Everything a breach document may say, in the school's time, ready to print."""
    local = lambda m: m.astimezone(ctx.tz) if m else None  # noqa: E731
    result = service.deadline(ctx, case)
    dpo = next(iter(people.by_role(ctx.session, ctx.school_id, Role.DPO)), None)
    reporter = people.get(ctx.session, case.created_by_id)
    recommendation = case.recommendation or service.assessment(case).as_dict()
    return {
        "case": case,
        "school": ctx.school,
        "dpo": dpo,
        "reporter": reporter,
        "today": ctx.today,
        "found_at": local(case.found_at),
        "aware_at": local(case.aware_at),
        "reported_at": local(case.reported_at),
        "happened_at": local(case.happened_at),
        "due": result.local_due,
        "ico_reported_at": local(case.ico_reported_at),
        "ico_decided_at": local(case.ico_decided_at),
        "people_decided_at": local(case.people_decided_at),
        "closed_at": local(case.closed_at),
        "late": case.ico_reported_at is not None and case.ico_reported_at > result.due,
        "incident": triage.label(triage.INCIDENTS, case.incident) if case.incident else None,
        "kinds": [triage.label(triage.DATA_KINDS, k) for k in case.data_kinds],
        "special": [triage.label(triage.DATA_KINDS, k) for k in case.data_kinds
                    if k in triage.SENSITIVE],
        "whose": [triage.label(triage.WHOSE, w) for w in case.whose],
        "children": "pupils" in case.whose,
        "rec": recommendation,
        "triage": triage.shown_facts(case),
        "ico_by": people.get(ctx.session, case.ico_decided_by_id),
        "people_by": people.get(ctx.session, case.people_decided_by_id),
        "exemption": service.EXEMPTIONS.get(case.people_exemption or ""),
        "updates": [(local(u.at), people.get(ctx.session, u.author_id), u.text)
                    for u in service.updates(ctx.session, case)],
    }


def _document(kind: str, title: str) -> Callable[[Context, Breach], Document]:
    def draft(ctx: Context, case: Breach) -> Document:
        body = render(f"letters/breach/{kind}.txt.j2", **facts(ctx, case))
        return Document(title=f"{title} — {case.reference}", body=body)

    return draft


LETTERS = {
    "log_entry": _document("log_entry", "Breach log entry"),
    "ico_report": _document("ico_report", "ICO report draft"),
    "affected_letter": _document("affected_letter", "Letter to the people affected"),
}
