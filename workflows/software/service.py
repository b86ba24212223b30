"""New software approval: requests, the DPO's decisions, and the school's software register.

A request is a case run by the engine (one decision wins, every decision audited); what was
decided lands in the register, which answers the next "is IXL approved?" at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, select

from workflows.audit import service as audit
from workflows.consent.matching import fold
from workflows.core.context import Context
from workflows.core.dates import describe_date, describe_datetime
from workflows.core.fields import UNKNOWN, Answers, Invalid
from workflows.core.wording import render
from workflows.people import service as people
from workflows.people.models import Person, Role
from workflows.reminders.messages import Message
from workflows.reminders.models import Reminder
from workflows.reminders.planner import insert_once
from workflows.schools.models import School
from workflows.schools.service import (
    next_work_day,
    previous_work_day,
    school_days_after,
    work_window_start,
)
from workflows.software.models import (
    Dpia,
    RequestState,
    Software,
    SoftwareMessage,
    SoftwareRequest,
    Status,
)
from workflows.software.screening import Screening, kind_label, parse_kinds, screen

PREFIX = "SW"
REVIEW_MONTHS = 12  # DOMAIN.md 5: approved software is reviewed yearly by default
NUDGE_AFTER_SCHOOL_DAYS = 3
REVIEW_SUBJECT = "software_review"
OPEN_STATES = frozenset({RequestState.AWAITING, RequestState.MORE_INFO})

# Fields of a request as stored, in the order the DPO reads them.
ANSWER_FIELDS = ("product", "website", "purpose", "users", "pupils_use", "data_kinds",
                 "accounts_by", "privacy_notice", "storage", "min_age", "dpa", "ads_ai", "cost")


# Matching a product by name or website, forgivingly.


def name_key(name: str) -> str:
    """“TT Rockstars”, “tt rock-stars” and “TTRockStars” are one product."""
    return fold(name).replace(" ", "")


def domain(text: str | None) -> str | None:
    """The website's host without “www.”: “https://www.ixl.com/uk” is “ixl.com”."""
    if not text or text == UNKNOWN:
        return None
    match = re.match(r"^(?:[a-z]+://)?(?:www\.)?([a-z0-9.-]+\.[a-z]{2,})(?:[/:?#].*)?$",
                     text.strip().lower())
    return match.group(1) if match else None


def _similar(a: str, b: str) -> bool:
    return len(a) >= 4 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def _matches(query: str, name: str, website: str | None) -> int:
    """How well ``query`` names a product: 3 exact, 2 website, 1 close, 0 not at all."""
    key, host = name_key(query), domain(query)
    if not key:
        return 0
    if key == name_key(name):
        return 3
    theirs = domain(website)
    if theirs and (host == theirs or key == name_key(theirs.split(".")[0])):
        return 2
    if _similar(key, name_key(name)):
        return 1
    return 0


def _best(query: str, rows: list[Any], name_attr: str, site_attr: str) -> list[Any]:
    scored = [(_matches(query, getattr(r, name_attr), getattr(r, site_attr)), r) for r in rows]
    top = max((score for score, _ in scored), default=0)
    return [r for score, r in scored if score and score == top]


def find_in_register(session: Session, school_id: int, query: str) -> list[Software]:
    return _best(query, register(session, school_id), "name", "website")


def find_pending(session: Session, school_id: int, query: str) -> list[SoftwareRequest]:
    rows = list(session.exec(
        select(SoftwareRequest).where(
            SoftwareRequest.school_id == school_id,
            col(SoftwareRequest.state).in_([s.value for s in OPEN_STATES]),
        ).order_by(col(SoftwareRequest.id))))
    return _best(query, rows, "product", "website")


def register(session: Session, school_id: int) -> list[Software]:
    return list(session.exec(select(Software).where(Software.school_id == school_id)
                             .order_by(col(Software.name_key))))


def review_overdue(product: Software, today: date) -> bool:
    return (product.status in (Status.APPROVED, Status.CONDITIONS)
            and product.review_on is not None and product.review_on < today)


STATUS_LABELS = {
    Status.APPROVED: "Approved",
    Status.CONDITIONS: "Approved with conditions",
    Status.REJECTED: "Rejected",
    Status.PENDING: "Pending (from the imported register)",
}


def status_text(product: Software, today: date) -> str:
    label = STATUS_LABELS[Status(product.status)]
    return f"{label}, review overdue" if review_overdue(product, today) else label


# Answering "is IXL approved?" from the register.


@dataclass(frozen=True)
class Found:
    """What the register and the open requests say about one product name."""

    query: str
    products: list[Software]
    pending: list[SoftwareRequest]

    @property
    def any(self) -> bool:
        return bool(self.products or self.pending)


def _clean(query: str) -> str:
    return query.strip().strip("“”\"'?").strip()


def known(ctx: Context, query: str) -> bool:
    """Whether the register or an open request names this product (not audited: no answer)."""
    query = _clean(query)
    return bool(find_in_register(ctx.session, ctx.school.id, query)
                or find_pending(ctx.session, ctx.school.id, query))


def look_up(ctx: Context, query: str) -> Found:
    """The register and open requests for ``query``; audited like every other read."""
    query = _clean(query)
    found = Found(query, find_in_register(ctx.session, ctx.school.id, query),
                  find_pending(ctx.session, ctx.school.id, query))
    audit.record(ctx, "software.looked_up", "software", None, None, query=query,
                 found=[p.name for p in found.products] + [r.reference for r in found.pending])
    return found


# “Is it approved?”: the product this person last asked for.
THIS = {"it", "this", "that", "this app", "that app", "my app", "my request", "the app"}


def last_asked(ctx: Context) -> str | None:
    latest = ctx.session.exec(
        select(SoftwareRequest).where(SoftwareRequest.school_id == ctx.school.id,
                                      SoftwareRequest.created_by_id == ctx.person.id)
        .order_by(col(SoftwareRequest.id).desc())).first()
    return latest.product if latest else None


def answer_text(ctx: Context, found: Found) -> str:
    return render(
        "software/answer.txt.j2",
        found=found,
        today=ctx.today,
        status=lambda p: status_text(p, ctx.today),
        overdue=lambda p: review_overdue(p, ctx.today),
        asked_by=lambda r: name_of(ctx.session, r.created_by_id),
        asked_on=lambda r: describe_date(r.created_at.astimezone(ctx.tz).date()),
        kinds=_kinds_text,
    )


def as_json(ctx: Context, found: Found) -> dict[str, Any]:
    """The same answer for scripts: every match in the register and every open request."""
    return {
        "query": found.query,
        "register": [{
            "name": p.name, "website": p.website, "status": p.status,
            "review_overdue": review_overdue(p, ctx.today), "data": p.data_kinds,
            "conditions": p.conditions, "reason": p.reason, "dpia": p.dpia,
            "dpia_link": p.dpia_link, "decided_by": p.decided_by,
            "decided_on": p.decided_on.isoformat() if p.decided_on else None,
            "review_on": p.review_on.isoformat() if p.review_on else None,
        } for p in found.products],
        "pending": [{
            "reference": r.reference, "product": r.product, "state": r.state,
            "asked_by": name_of(ctx.session, r.created_by_id),
            "asked_at": r.created_at.isoformat(),
        } for r in found.pending],
    }


def _kinds_text(kinds: list[str]) -> str:
    return ", ".join(kind_label(k) for k in kinds) or "Not recorded"


def name_of(session: Session, person_id: int | None) -> str:
    person = people.get(session, person_id)
    return person.name if person else "someone"


def check_new_product(value: str, answers: Answers, ctx: Context) -> str | None:
    """Refuse, at the first question, a product already approved or already being asked about.

    A rejected product may be asked about again (a vendor may since have signed a DPA): the
    summary and the DPO's card show the earlier rejection. So may one an imported register
    lists as pending, which has no request for the DPO to decide.
    """
    approved = [p for p in find_in_register(ctx.session, ctx.school.id, value)
                if p.status in (Status.APPROVED, Status.CONDITIONS)]
    pending = find_pending(ctx.session, ctx.school.id, value)
    if not (approved or pending):
        return None
    text = answer_text(ctx, Found(value, approved, pending))
    return f"{text}\nSo there is no need for a new request: cancel, or give another product."


def earlier_rejections(session: Session, school_id: int, product: str) -> list[Software]:
    return [p for p in find_in_register(session, school_id, product)
            if p.status == Status.REJECTED]


# Creating a request.


def values_of(case: SoftwareRequest) -> dict[str, Any]:
    return {name: getattr(case, name) for name in ANSWER_FIELDS}


def screening_of(case: SoftwareRequest) -> Screening:
    """As the DPO saw it when deciding; until then, worked out from the answers as they are."""
    if case.screening is not None:
        return Screening.from_dict(case.screening)
    return screen(values_of(case))


def build(ctx: Context, values: Mapping[str, Any]) -> SoftwareRequest:
    """The request, unless the product was approved or asked about meanwhile."""
    # Checked again here: someone may have asked about the same product while this request
    # was being answered. The school's row is locked first (PostgreSQL; SQLite has one writer
    # anyway), so two requests confirmed at the same moment are checked one after the other.
    ctx.session.exec(select(School.id).where(School.id == ctx.school.id)
                     .with_for_update(key_share=True))  # FOR NO KEY UPDATE
    problem = check_new_product(values["product"], values, ctx)
    if problem:
        raise Invalid(problem, "product")
    return SoftwareRequest(
        school_id=ctx.school.id,
        conversation_id=values.get("__conversation_id__"),
        state=RequestState.AWAITING,
        product=values["product"],
        website=values.get("website"),
        purpose=values["purpose"],
        users=values["users"],
        pupils_use=values["pupils_use"],
        data_kinds=parse_kinds(values["data_kinds"]),
        accounts_by=values["accounts_by"],
        privacy_notice=values["privacy_notice"],
        storage=values["storage"],
        min_age=values["min_age"],
        dpa=values["dpa"],
        ads_ai=values["ads_ai"],
        cost=values["cost"],
        waiting_since=ctx.now,
        created_by_id=ctx.person.id,
        created_at=ctx.now,
    )


def created_facts(case: SoftwareRequest) -> dict[str, Any]:
    found = screen(values_of(case))
    return {"product": case.product, "dpia": found.dpia, "consent": found.consent}


# What the notices say beyond the case (see ``flows.SOFTWARE.notices``).


def screening_facts(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]
                    ) -> dict[str, Any]:
    return {"screening": screen(values_of(case))}


def decision_facts(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]
                   ) -> dict[str, Any]:
    product = ctx.session.exec(select(Software).where(
        Software.school_id == case.school_id, Software.name_key == name_key(case.product))).one()
    return {"status": DECISIONS[Status(case.decision)], "product": product}


# The nudge: the DPO is reminded once a request has waited 3 school days.


def recompute(ctx: Context, case: SoftwareRequest) -> None:
    """Keep the nudge day true: 3 school days after the wait (re)began, while it waits."""
    if case.state == RequestState.AWAITING:
        start = case.waiting_since.astimezone(ctx.tz).date()
        case.decide_by = school_days_after(ctx.school, start, NUDGE_AFTER_SCHOOL_DAYS)
    else:
        case.decide_by = None


def review_date(school: School, decided_on: date) -> date:
    """A year after approval, on a day the school works (never a Saturday or bank holiday)."""
    return next_work_day(school, decided_on + relativedelta(months=REVIEW_MONTHS))


def due(case: SoftwareRequest) -> date | None:
    return case.decide_by


# Decisions. Every one is a compare-and-set in the engine; these say what it does.


def undecided(ctx: Context, case: SoftwareRequest) -> str | None:
    """A decided request takes no second decision: say who decided, and when."""
    if case.decision is None:
        return None
    when = describe_datetime(case.decided_at.astimezone(ctx.tz)) if case.decided_at else ""
    who = "You" if case.decided_by_id == ctx.person.id else name_of(ctx.session,
                                                                   case.decided_by_id)
    return (f"{who} already decided {case.reference} ({case.product}): "
            f"{DECISIONS[case.decision].lower()}, {when}. Nothing was changed by this attempt.")


DECISIONS = {
    Status.APPROVED: "Approved",
    Status.CONDITIONS: "Approved with conditions",
    Status.REJECTED: "Rejected",
}


def approve(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    for name, said, why in (("dpa", "no", "there is no data processing agreement"),
                            ("dpa", UNKNOWN, "nobody knows of a data processing agreement"),
                            ("ads_ai", "yes", "it uses pupils' data for advertising or AI")):
        if getattr(case, name) == said:
            raise Invalid(f"The request says {why}: approve it with conditions that deal with "
                          "that (e.g. “only once a DPA is signed”), or reject it.", "reason")
    _record_dpia(case, values)
    return _decide(ctx, case, Status.APPROVED, reason=values.get("reason"))


def approve_with_conditions(ctx: Context, case: SoftwareRequest,
                            values: Mapping[str, Any]) -> str:
    _record_dpia(case, values)
    return _decide(ctx, case, Status.CONDITIONS, conditions=values["conditions"],
                   reason=values.get("reason"))


def _record_dpia(case: SoftwareRequest, values: Mapping[str, Any]) -> None:
    """An approval the screening says needs a DPIA stands only with the DPIA's outcome."""
    found = screen(values_of(case))
    if found.dpia != "not_required" and not values.get("dpia"):
        why = " ".join(found.dpia_reasons) or "Whether one is needed can't be told yet."
        raise Invalid(f"The screening says a DPIA is required: {why} Record its outcome: "
                      "“done” with its date or reference, or “not needed” with your reason.",
                      "dpia")
    if values.get("dpia") and not (values.get("dpia_note") or "").strip():
        raise Invalid("Give the DPIA's date or reference, or why it is not needed.",
                      "dpia_note")
    case.dpia_outcome = values.get("dpia")
    case.dpia_note = values.get("dpia_note")


def reject(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    return _decide(ctx, case, Status.REJECTED, reason=values["reason"])


def _decide(ctx: Context, case: SoftwareRequest, status: Status, *,
            reason: str | None = None, conditions: str | None = None) -> str:
    found = screen(values_of(case))
    case.screening = found.as_dict()
    case.decision = status.value
    case.decided_by_id = ctx.person.id
    case.decided_at = ctx.now
    case.reason = reason
    case.conditions = conditions
    product = _register(ctx, case, status, found)
    review = (f" It is in the register, to be reviewed by {describe_date(product.review_on)}."
              if product.review_on else " It is in the register as rejected.")
    return f"{DECISIONS[status]}: {case.reference} ({case.product}).{review}"


def _register(ctx: Context, case: SoftwareRequest, status: Status,
              found: Screening) -> Software:
    """Put the decision in the register: one row per product, updated by a later decision."""
    key = name_key(case.product)
    product = ctx.session.exec(select(Software).where(
        Software.school_id == ctx.school.id, Software.name_key == key)).first()
    if product is None:
        product = Software(school_id=ctx.school.id, name=case.product, name_key=key,
                           status=status, created_at=ctx.now)
    approved = status in (Status.APPROVED, Status.CONDITIONS)
    product.status = status
    product.website = case.website if case.website != UNKNOWN else product.website
    product.purpose = case.purpose
    product.data_kinds = list(case.data_kinds)
    product.conditions = case.conditions
    product.reason = case.reason
    product.dpia = ({"done": Dpia.DONE, "not_needed": Dpia.NOT_REQUIRED}.get(
        case.dpia_outcome or "") or {"required": Dpia.REQUIRED,
                                     "not_required": Dpia.NOT_REQUIRED}.get(found.dpia,
                                                                            Dpia.UNKNOWN))
    product.dpia_link = (case.dpia_note or "")[:500] or product.dpia_link
    product.decided_by = ctx.person.name
    product.decided_by_id = ctx.person.id
    product.decided_on = ctx.today
    product.review_on = review_date(ctx.school, ctx.today) if approved else None
    product.request_id = case.id
    product.source = "request"
    product.version += 1
    product.updated_at = ctx.now
    ctx.session.add(product)
    ctx.session.flush()
    plan_review(ctx.session, ctx.school, product, ctx.now)
    return product


def ask_for_information(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    ctx.session.add(SoftwareMessage(request_id=case.id, author_id=ctx.person.id,
                                    kind="question", at=ctx.now, text=values["question"]))
    return (f"Asked. {case.reference} stays pending until the answer comes; the 3-day nudge "
            "starts again then.")


def answer_guard(ctx: Context, case: SoftwareRequest) -> str | None:
    if case.created_by_id != ctx.person.id:
        return f"Only {name_of(ctx.session, case.created_by_id)}, who asked, can answer that."
    return None


def answer(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    ctx.session.add(SoftwareMessage(request_id=case.id, author_id=ctx.person.id,
                                    kind="answer", at=ctx.now, text=values["answer"]))
    case.waiting_since = ctx.now
    return f"Thank you: your answer is with the DPO, and {case.reference} is back with them."


def reassign(ctx: Context, case: SoftwareRequest, values: Mapping[str, Any]) -> str:
    person = _decider(ctx, values["person"])
    case.owner_id = person.id
    return f"{case.reference} is now {person.name}'s to decide."


def check_decider(value: str, answers: Answers, ctx: Context) -> str | None:
    try:
        _decider(ctx, value)
    except Invalid as error:
        return error.message
    return None


def _decider(ctx: Context, name: str) -> Person:
    team = people.decision_makers(ctx.session, ctx.school_id)
    names = ", ".join(p.name for p in team) or "nobody yet"
    return people.colleague(team, name, f"“{name}” is not the DPO or a deputy here, so can't "
                                        f"decide it. Those who can: {names}.")


def messages(session: Session, case: SoftwareRequest) -> list[SoftwareMessage]:
    return list(session.exec(select(SoftwareMessage)
                             .where(SoftwareMessage.request_id == case.id)
                             .order_by(col(SoftwareMessage.at), col(SoftwareMessage.id))))


# Review reminders: the DPO a month before the review date, and on it.


def plan_review(session: Session, school: School, product: Software, now: datetime) -> None:
    """Reminders for this review date; those for an earlier date are no longer sent."""
    if product.review_on is None or product.status not in (Status.APPROVED, Status.CONDITIONS):
        return
    target = product.review_on.isoformat()
    moments = {
        "review.month_before": product.review_on - relativedelta(months=1),
        "review.due": product.review_on,
    }
    for kind, day in moments.items():
        moment = work_window_start(school, previous_work_day(school, day))
        if kind == "review.month_before" and moment < now:
            continue  # imported with a review date less than a month away: "due" says it
        for person in people.by_role(session, school.id, Role.DPO):
            insert_once(session, Reminder(
                school_id=school.id, subject_type=REVIEW_SUBJECT, subject_id=product.id,
                person_id=person.id, kind=kind, target=target, due_at=max(moment, now),
                dedupe_key=f"{REVIEW_SUBJECT}:{product.id}:{target}:{kind}:{person.id}",
            ))


def review_reminder(session: Session, reminder: Reminder, now: datetime) -> Message | None:
    """The reminder worker's handler: None once the review date moved or no longer applies."""
    product = session.get(Software, reminder.subject_id)
    person = people.get(session, reminder.person_id)
    if (product is None or product.review_on is None
            or product.review_on.isoformat() != reminder.target
            or product.status not in (Status.APPROVED, Status.CONDITIONS)
            or person is None or not person.active):
        return None
    school = session.get(School, reminder.school_id)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    text = render("software/review_reminder.txt.j2", product=product,
                  due=reminder.kind == "review.due", overdue=product.review_on < today)
    return Message([person], text)
