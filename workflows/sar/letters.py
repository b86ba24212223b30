"""Letters drafted from the case, for the DPO to check and send (words in templates/letters)."""

from __future__ import annotations

from collections.abc import Callable

from workflows.core.context import Context
from workflows.core.ui import Document
from workflows.core.wording import render
from workflows.people.models import Role
from workflows.people.service import by_role
from workflows.sar import service
from workflows.sar.models import RequestType, RightsRequest


def _letter(kind: str, title: str) -> Callable[[Context, RightsRequest], Document]:
    def draft(ctx: Context, case: RightsRequest) -> Document:
        dpo = next(iter(by_role(ctx.session, ctx.school.id, Role.DPO)), None)
        pause = next(iter(reversed(service.pauses(ctx.session, case))), None)
        result = service.deadline(ctx.session, ctx.school, case)
        body = render(
            f"letters/sar/{kind}.txt.j2",
            case=case,
            school=ctx.school,
            dpo=dpo,
            today=ctx.today,
            type_label=service.TYPE_LABELS[RequestType(case.request_type)],
            educational_record=case.request_type == RequestType.EDUCATIONAL_RECORD,
            deadline=result,
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
