"""New software approval, as one name for callers outside the workflow (the CLI, the tests).

A request is a case run by the engine (one decision wins, every decision audited); what was
decided lands in the register, which answers the next "is IXL approved?" at once. Each concern
has its own module: ``names`` (finding a product), ``answers`` (what the register says),
``intake`` (a new request), ``decisions`` (the DPO's), ``reviews`` (register rows and dates).
"""

from __future__ import annotations

from workflows.software.answers import (
    STATUS_LABELS,
    THIS,
    Found,
    answer_text,
    as_json,
    known,
    last_asked,
    look_up,
    name_of,
    review_overdue,
    status_text,
)
from workflows.software.decisions import (
    DECISIONS,
    answer,
    answer_guard,
    approve,
    approve_with_conditions,
    ask_for_information,
    decision_facts,
    messages,
    reassign,
    reject,
    undecided,
)
from workflows.software.intake import (
    ANSWER_FIELDS,
    PREFIX,
    build,
    check_new_product,
    created_facts,
    screening_facts,
    screening_of,
    values_of,
)
from workflows.software.names import (
    OPEN_STATES,
    domain,
    earlier_rejections,
    find_in_register,
    find_pending,
    name_key,
    register,
)
from workflows.software.reviews import (
    NUDGE_AFTER_SCHOOL_DAYS,
    REVIEW_MONTHS,
    REVIEW_SUBJECT,
    due,
    plan_review,
    recompute,
    record_decision,
    review_date,
    review_reminder,
)

__all__ = [
    "ANSWER_FIELDS", "DECISIONS", "NUDGE_AFTER_SCHOOL_DAYS", "OPEN_STATES", "PREFIX",
    "REVIEW_MONTHS", "REVIEW_SUBJECT", "STATUS_LABELS", "THIS", "Found", "answer",
    "answer_guard", "answer_text", "approve", "approve_with_conditions", "as_json",
    "ask_for_information", "build", "check_new_product", "created_facts",
    "decision_facts", "domain", "due", "earlier_rejections", "find_in_register", "find_pending",
    "known", "last_asked", "look_up", "messages", "name_key", "name_of", "plan_review",
    "reassign", "recompute", "record_decision", "register", "reject", "review_date",
    "review_overdue", "review_reminder", "screening_facts", "screening_of", "status_text",
    "undecided", "values_of",
]
