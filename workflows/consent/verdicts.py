"""Yes or no for one pupil and one use, with the reason (DOMAIN.md 4): the rule, worded only
when shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from dateutil.relativedelta import relativedelta

from workflows.consent.models import DEFAULT_VALIDITY_MONTHS, Pupil, Status
from workflows.core.wording import render


@dataclass(frozen=True)
class Verdict:
    ok: bool
    kind: str  # given, refused, not_asked, withdrawn, expired, safeguarding
    on: date | None = None
    by: str | None = None
    pending: bool = False
    months: int = DEFAULT_VALIDITY_MONTHS

    @property
    def reason(self) -> str:
        # Worded only when shown, and once per wording: a class answer judges every pupil,
        # and most share a handful of reasons and dates.
        return _reason(self.kind, self.on, self.by, self.pending, self.months)


@lru_cache(maxsize=4096)
def _reason(kind: str, on: date | None, by: str | None, pending: bool, months: int) -> str:
    return render("messages/consent_reason.txt.j2", kind=kind, on=on, by=by, pending=pending,
                  months=months)


@lru_cache(maxsize=4096)
def _expires(given_on: date, months: int) -> date:
    return given_on + relativedelta(months=months)


def verdict(pupil: Pupil, consent: Any, months: int, today: date) -> Verdict:
    """Yes or no for one use, with the reason; the safeguarding flag overrides everything."""
    def said(kind: str, ok: bool = False, **values: Any) -> Verdict:
        return Verdict(ok, kind, months=months, **values)

    if pupil.no_photos:
        return said("safeguarding")
    if consent is None or consent.status == Status.NOT_ASKED:
        return said("not_asked")
    if consent.status == Status.REFUSED:
        return said("refused", on=consent.given_on)
    if consent.status == Status.WITHDRAWN:
        return said("withdrawn", on=consent.withdrawn_on, pending=consent.pending_mis)
    if consent.given_on and _expires(consent.given_on, months) < today:
        return said("expired", on=consent.given_on)
    return said("given", ok=True, on=consent.given_on, by=consent.given_by)
