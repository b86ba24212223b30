"""A case's letter, drafted: the one way the chat and the command line both get it (checked,
audited), so a Word copy is the same letter as the one shown in chat."""

from __future__ import annotations

from dataclasses import replace

from workflows.audit import service as audit
from workflows.core import references
from workflows.core.context import Context
from workflows.core.engine import load
from workflows.core.ui import Document, File, file_named
from workflows.core.wording import render
from workflows.people.permissions import Permission, PermissionDenied, can


class WhichLetter(LookupError):
    """No letter of that name for this case: the names it has, for the person to choose."""

    def __init__(self, reference: str, names: list[str]) -> None:
        super().__init__(reference)
        self.reference, self.names = reference, names

    def __str__(self) -> str:
        return render("chat/message.txt.j2", event="which_letter", reference=self.reference,
                      names=self.names)


def draft(ctx: Context, typed_reference: str, typed_kind: str) -> Document:
    """The letter ``typed_kind`` (“id request” or “id_request”) for the case typed; only the
    DPO team drafts letters, and each draft is audited."""
    workflow, reference = references.resolve(ctx, typed_reference)
    case = load(ctx, workflow, reference)
    if not can(ctx.person, Permission.DECIDE):
        raise PermissionDenied(render("chat/message.txt.j2", event="letters_for_dpo"))
    kind = typed_kind.strip().lower().replace(" ", "_")
    if kind not in workflow.letters:
        raise WhichLetter(case.reference, list(workflow.letters))
    audit.record(ctx, f"{workflow.name}.letter_drafted", workflow.name, case.id, case.reference,
                 letter=kind)
    letter = workflow.letters[kind](ctx, case)
    return replace(letter, file=File("letter", (case.reference, kind), letter.title,
                                     file_named(letter.title, ".docx")))
