"""Photo consent, as one name for callers outside the workflow (the CLI, Slack, the tests).

Each concern has its own module: ``settings`` (the school's uses and validity), ``verdicts``
(yes or no, and why), ``register`` (what the latest import holds), ``lookups`` (answering a
question), ``withdrawals`` (a parent's withdrawal told in chat) and ``export``.
"""

from __future__ import annotations

from workflows.consent.export import export_rows
from workflows.consent.lookups import (
    EVERY_USE,
    answer,
    ask,
    class_answer,
    consent_class,
    consent_lookup,
    question_form,
)
from workflows.consent.register import latest_import, resolve_use
from workflows.consent.settings import (
    SettingRefused,
    add_category,
    categories,
    lookups_restricted,
    remove_category,
    rename_category,
    set_lookups_restricted,
    set_validity_months,
    validity_months,
)
from workflows.consent.verdicts import Verdict, verdict
from workflows.consent.withdrawals import consent_withdraw, withdraw

__all__ = [
    "EVERY_USE", "SettingRefused", "Verdict", "add_category", "answer", "ask", "categories",
    "class_answer", "consent_class", "consent_lookup", "consent_withdraw", "export_rows",
    "latest_import", "lookups_restricted", "question_form", "remove_category",
    "rename_category", "resolve_use", "set_lookups_restricted", "set_validity_months",
    "validity_months", "verdict", "withdraw",
]
