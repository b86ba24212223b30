"""Letters drafted from the case, for the DPO to check and send (words in templates/letters)."""

from __future__ import annotations

from collections.abc import Callable

from workflows.core.context import Context
from workflows.core.ui import Document
from workflows.core.wording import render
from workflows.deadlines import CalendarError, Deadline, DeadlineError
from workflows.people.models import Role
from workflows.people.service import by_role
from workflows.sar import service
from workflows.sar.models import RequestType, RightsRequest

# What the school may wait for before the clock starts, as the requester reads it.
WAITS = (
    ("id", "proof of your identity"),
    ("authority", "the written authority of the person the information is about"),
    ("fee", "the fee"),
)


def _deadline(ctx: Context, case: RightsRequest, *, extended: bool | None = None
              ) -> Deadline | None:
    """None when it can't be worked out (e.g. term dates missing): the letter says so."""
    try:
        return service.deadline(ctx.session, ctx.school, case, extended=extended)
    except (CalendarError, DeadlineError):
        return None


def _started_by(case: RightsRequest, day_one: object) -> str | None:
    """What arrived on day one, when it was not the request itself."""
    if day_one == case.received_on:
        return None
    for what, words in WAITS:
        if getattr(case, f"{what}_received_on") == day_one:
            return words
    return None


def _letter(kind: str, title: str) -> Callable[[Context, RightsRequest], Document]:
    def draft(ctx: Context, case: RightsRequest) -> Document:
        dpo = next(iter(by_role(ctx.session, ctx.school_id, Role.DPO)), None)
        pause = next(iter(reversed(service.pauses(ctx.session, case))), None)
        result = _deadline(ctx, case)
        body = render(
            f"letters/sar/{kind}.txt.j2",
            case=case,
            school=ctx.school,
            dpo=dpo,
            today=ctx.today,
            type_label=service.TYPE_LABELS[RequestType(case.request_type)],
            educational_record=case.request_type == RequestType.EDUCATIONAL_RECORD,
            deadline=result,
            # The extension notice is often drafted before the extension is recorded.
            extended_deadline=result if case.extended else _deadline(ctx, case, extended=True),
            started_by=_started_by(case, result.day_one) if result else None,
            waiting_for=[words for what, words in WAITS
                         if getattr(case, f"{what}_requested_on")
                         and not getattr(case, f"{what}_received_on")],
            pause=pause,
        )
        return Document(title=f"{title} — {case.reference}", body=body)

    return draft


LETTERS = {
    "acknowledgement": _letter("acknowledgement", "Acknowledgement"),
    "id_request": _letter("id_request", "Request for ID"),
    "clarification": _letter("clarification", "Request to clarify"),
    "extension": _letter("extension", "Extension notice"),
    "response": _letter("response", "Response cover letter"),
    "refusal": _letter("refusal", "Refusal"),
}
