"""The numbers governors ask for, counted from the stored cases: references and counts only.

Each figure is counted for one school and one period from the workflows' own tables (through
the typed queries in ``workflows.core.cases``), and kept as the raw values it came from (days
to respond, hours to the ICO decision), so that a trust's whole is the sum of its schools
and its medians are the medians of every case, not a median of medians.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from workflows.breach import triage
from workflows.breach.flows import BREACH
from workflows.breach.models import Breach, IcoDecision, PeopleDecision
from workflows.consent.models import (
    ConsentCategory,
    ConsentChange,
    ConsentImport,
    Pupil,
    Status,
)
from workflows.core.cases import of_school
from workflows.core.declaration import Workflow
from workflows.disclosure.flows import DISCLOSURE
from workflows.disclosure.models import DisclosureRequest, DisclosureState
from workflows.disclosure.service import TARGET_SCHOOL_DAYS
from workflows.reports.period import Period
from workflows.sar.flows import SAR
from workflows.sar.models import Outcome, RequestType, RightsRequest
from workflows.schools.models import School
from workflows.schools.service import school_days_after
from workflows.software.flows import SOFTWARE
from workflows.software.models import RequestState, Software, SoftwareRequest
from workflows.software.models import Status as SoftwareStatus

# The workflows counted, named here rather than read from the registry, which names the
# report's own route.
WORKFLOWS: dict[str, Workflow[Any]] = {w.name: w for w in (SAR, BREACH, DISCLOSURE, SOFTWARE)}

ICO_HOURS = 72


def _median(values: list[float]) -> float | None:
    return median(values) if values else None


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


@dataclass
class Rights:
    """Subject access and the other rights requests (DOMAIN.md 1 and 2)."""

    received: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    educational: int = 0
    closed: int = 0
    judged: int = 0  # closed with a deadline to judge against (withdrawn ones are not)
    on_time: int = 0
    extended: int = 0
    days: list[int] = field(default_factory=list)  # receipt to response, per closed case

    def __add__(self, other: Rights) -> Rights:
        return Rights(self.received + other.received, self.by_type + other.by_type,
                      self.educational + other.educational, self.closed + other.closed,
                      self.judged + other.judged, self.on_time + other.on_time,
                      self.extended + other.extended, self.days + other.days)

    @property
    def on_time_percent(self) -> int | None:
        return _percent(self.on_time, self.judged)

    @property
    def median_days(self) -> float | None:
        return _median([float(d) for d in self.days])


@dataclass
class Breaches:
    """Personal data breaches, by when the school became aware (DOMAIN.md 3)."""

    total: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_risk: Counter[str] = field(default_factory=Counter)
    reported: int = 0
    not_reportable: int = 0
    undecided: int = 0
    within_72: int = 0
    hours: list[float] = field(default_factory=list)  # aware to the ICO decision
    people_told: int = 0

    def __add__(self, other: Breaches) -> Breaches:
        return Breaches(self.total + other.total, self.by_kind + other.by_kind,
                        self.by_risk + other.by_risk, self.reported + other.reported,
                        self.not_reportable + other.not_reportable,
                        self.undecided + other.undecided, self.within_72 + other.within_72,
                        self.hours + other.hours, self.people_told + other.people_told)

    @property
    def median_hours(self) -> float | None:
        return _median(self.hours)


@dataclass
class Disclosures:
    """Requests from the police and others for someone's data (DOMAIN.md 8)."""

    received: int = 0
    urgent: int = 0
    disclosed: int = 0
    refused: int = 0
    withdrawn: int = 0
    judged: int = 0
    on_target: int = 0

    def __add__(self, other: Disclosures) -> Disclosures:
        return Disclosures(*(getattr(self, f) + getattr(other, f) for f in _FIELDS_DISCLOSURES))

    @property
    def on_target_percent(self) -> int | None:
        return _percent(self.on_target, self.judged)


_FIELDS_DISCLOSURES = ("received", "urgent", "disclosed", "refused", "withdrawn", "judged",
                       "on_target")


@dataclass
class SoftwareFigures:
    """New software requests and the register's reviews (DOMAIN.md 5)."""

    requested: int = 0
    approved: int = 0
    rejected: int = 0
    waiting: int = 0  # asked for by the period's end and not decided by then
    reviews_overdue: int = 0

    def __add__(self, other: SoftwareFigures) -> SoftwareFigures:
        return SoftwareFigures(self.requested + other.requested, self.approved + other.approved,
                               self.rejected + other.rejected, self.waiting + other.waiting,
                               self.reviews_overdue + other.reviews_overdue)


@dataclass
class ConsentFigures:
    """Photo consent: for each use, how many pupils on roll had a "yes" at the period's end."""

    pupils: int = 0
    given: Counter[str] = field(default_factory=Counter)  # use label -> pupils with a yes
    withdrawals: int = 0

    def __add__(self, other: ConsentFigures) -> ConsentFigures:
        return ConsentFigures(self.pupils + other.pupils, self.given + other.given,
                              self.withdrawals + other.withdrawals)

    def coverage(self) -> dict[str, int]:
        """Per use, the percentage of pupils with consent."""
        return {use: _percent(n, self.pupils) or 0 for use, n in sorted(self.given.items())}


@dataclass(frozen=True)
class OpenItem:
    """An open case: its reference and deadline, never whose it is."""

    school: str
    reference: str
    what: str
    due: date | None


@dataclass
class Figures:
    rights: Rights = field(default_factory=Rights)
    breaches: Breaches = field(default_factory=Breaches)
    disclosures: Disclosures = field(default_factory=Disclosures)
    software: SoftwareFigures = field(default_factory=SoftwareFigures)
    consent: ConsentFigures = field(default_factory=ConsentFigures)

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.rights + other.rights, self.breaches + other.breaches,
                       self.disclosures + other.disclosures, self.software + other.software,
                       self.consent + other.consent)


def count(session: Session, school: School, period: Period, today: date) -> Figures:
    """One school's figures for one period. ``today`` caps what "overdue" can mean."""
    tz = ZoneInfo(school.timezone)
    return Figures(
        rights=_rights(session, school, period),
        breaches=_breaches(session, school, period, tz),
        disclosures=_disclosures(session, school, period, tz),
        software=_software(session, school, period, tz, today),
        consent=_consent(session, school, period, tz),
    )


def _all(session: Session, name: str, school: School) -> list[Any]:
    return list(session.exec(of_school(WORKFLOWS[name], school.id, open_only=None)))


def _rights(session: Session, school: School, period: Period) -> Rights:
    figures = Rights()
    for case in _all(session, "sar", school):
        assert isinstance(case, RightsRequest)
        if case.received_on in period:
            figures.received += 1
            figures.by_type[case.request_type] += 1
            figures.educational += case.request_type == RequestType.EDUCATIONAL_RECORD
        told = case.extension_notice_on or case.received_on
        figures.extended += case.extended and told in period
        if case.closed_on not in period or case.closed_on is None:
            continue
        figures.closed += 1
        figures.days.append((case.closed_on - case.received_on).days)
        if case.outcome != Outcome.WITHDRAWN and case.due_on is not None:
            figures.judged += 1
            figures.on_time += case.closed_on <= case.due_on
    return figures


def risk_of(case: Breach) -> str:
    """The risk the DPO saw when deciding, or the triage's reading of what is known now."""
    seen = (case.recommendation or {}).get("risk")
    return str(seen) if seen else triage.assess(case).risk


def _breaches(session: Session, school: School, period: Period, tz: ZoneInfo) -> Breaches:
    figures = Breaches()
    for case in _all(session, "breach", school):
        assert isinstance(case, Breach)
        if case.aware_at.astimezone(tz).date() not in period:
            continue
        figures.total += 1
        figures.by_kind[case.incident or "not_known"] += 1
        figures.by_risk[risk_of(case)] += 1
        figures.people_told += case.people_decision == PeopleDecision.TELL
        if case.ico_decision is None or case.ico_decided_at is None:
            figures.undecided += 1
            continue
        if case.ico_decision == IcoDecision.REPORTED:
            figures.reported += 1
        else:
            figures.not_reportable += 1
        decided = case.ico_reported_at or case.ico_decided_at
        hours = (decided - case.aware_at).total_seconds() / 3600
        figures.hours.append(round(hours, 1))
        figures.within_72 += hours <= ICO_HOURS
    return figures


def _disclosures(session: Session, school: School, period: Period,
                 tz: ZoneInfo) -> Disclosures:
    figures = Disclosures()
    for case in _all(session, "disclosure", school):
        assert isinstance(case, DisclosureRequest)
        if case.received_at.astimezone(tz).date() in period:
            figures.received += 1
            figures.urgent += case.urgency == "urgent"
        if case.closed_on is None or case.closed_on not in period:
            continue
        if case.state == DisclosureState.WITHDRAWN:
            figures.withdrawn += 1
            continue
        figures.disclosed += case.state == DisclosureState.DISCLOSED
        figures.refused += case.state == DisclosureState.REFUSED
        # The target is cleared once decided (nothing is due any more): work it out again.
        started = case.complete_at.astimezone(tz).date()
        target = school_days_after(school, started, TARGET_SCHOOL_DAYS[case.urgency])
        figures.judged += 1
        figures.on_target += case.closed_on <= target
    return figures


def _software(session: Session, school: School, period: Period, tz: ZoneInfo,
              today: date) -> SoftwareFigures:
    figures = SoftwareFigures()
    for case in _all(session, "software", school):
        assert isinstance(case, SoftwareRequest)
        asked = case.created_at.astimezone(tz).date()
        decided = case.decided_at.astimezone(tz).date() if case.decided_at else None
        figures.requested += asked in period
        if decided is not None and decided in period:
            figures.approved += case.state == RequestState.APPROVED
            figures.rejected += case.state == RequestState.REJECTED
        figures.waiting += asked <= period.end and (decided is None or decided > period.end)
    # A review is overdue once its day has passed, as at the period's end (or today), for
    # products in the register by then. A review moves review_on on, so an earlier period
    # reads the reviews as they stand now.
    by = min(period.end, today)
    overdue = session.exec(
        select(Software).where(Software.school_id == school.id,
                               col(Software.status) != SoftwareStatus.REJECTED,
                               col(Software.review_on) < by,
                               col(Software.created_at) <= datetime.combine(
                                   period.end, time.max, tzinfo=tz))
    ).all()
    figures.reviews_overdue = len(overdue)
    return figures


def _consent(session: Session, school: School, period: Period, tz: ZoneInfo) -> ConsentFigures:
    """Coverage replayed from the append-only history, so last term reads as it stood then.

    The pupils counted are those on roll at the period's end once the register had been
    imported by then (a pupil has no joining date of their own); none before the first import.
    """
    figures = ConsentFigures()
    end = datetime.combine(period.end, time.max, tzinfo=tz)
    imported = session.exec(select(ConsentImport.id).where(
        ConsentImport.school_id == school.id, col(ConsentImport.at) <= end)).first()
    if imported is None:
        return figures
    labels = {c.id: c.label for c in session.exec(
        select(ConsentCategory).where(ConsentCategory.school_id == school.id))}
    on_roll = {p.id for p in session.exec(select(Pupil).where(Pupil.school_id == school.id))
               if p.left_at is None or p.left_at > end}
    latest: dict[tuple[int, int], str] = {}
    changes = session.exec(
        select(ConsentChange).where(ConsentChange.school_id == school.id,
                                    col(ConsentChange.at) <= end)
        .order_by(col(ConsentChange.at), col(ConsentChange.id)))
    for change in changes:
        # A withdrawal is a known answer taken back: a first import that lists an old
        # withdrawal is not one this term, and an import that confirms a withdrawal told in
        # chat is the same withdrawal again.
        if (change.at.astimezone(tz).date() in period and change.new_status == Status.WITHDRAWN
                and change.old_status not in (None, Status.WITHDRAWN)):
            figures.withdrawals += 1
        latest[(change.pupil_id, change.category_id)] = change.new_status
    figures.pupils = len(on_roll)
    for (pupil, category), status in latest.items():
        if pupil in on_roll and status == Status.GIVEN and category in labels:
            figures.given[labels[category]] += 1
    return figures


def open_items(session: Session, school: School) -> list[OpenItem]:
    """Every open case now, with its deadline: what governors may ask about next."""
    items = []
    tz = ZoneInfo(school.timezone)
    for workflow in WORKFLOWS.values():
        for case in session.exec(of_school(workflow, school.id, open_only=True)):
            # A deadline already met (the ICO decision taken) is no longer an item's deadline.
            due = None if workflow.met_at(case) else workflow.due(case)
            # A breach's 72 hours end at a moment; governors read the day.
            day = due.astimezone(tz).date() if isinstance(due, datetime) else due
            items.append(OpenItem(school.name, case.reference or "", workflow.title, day))
    return sorted(items, key=lambda i: (i.due is None, i.due or date.max, i.reference))

