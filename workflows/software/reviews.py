"""What a decision puts in the register, and the dates that follow: the DPO's nudge while a
request waits, and the yearly review of what was approved (DOMAIN.md 5)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, select

from workflows.core.context import Context
from workflows.core.fields import UNKNOWN
from workflows.core.wording import render
from workflows.database import saved_id
from workflows.people import service as people
from workflows.people.models import Role
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
from workflows.software.models import Dpia, RequestState, Software, SoftwareRequest, Status
from workflows.software.names import name_key
from workflows.software.screening import Screening

REVIEW_MONTHS = 12  # DOMAIN.md 5: approved software is reviewed yearly by default
NUDGE_AFTER_SCHOOL_DAYS = 3
REVIEW_SUBJECT = "software_review"

# The DPIA as the register holds it: the DPO's recorded outcome wins over the screening.
_DPIA_RECORDED = {"done": Dpia.DONE, "not_needed": Dpia.NOT_REQUIRED}
_DPIA_SCREENED = {"required": Dpia.REQUIRED, "not_required": Dpia.NOT_REQUIRED}


def recompute(ctx: Context, case: SoftwareRequest) -> None:
    """Keep the nudge day true: 3 school days after the wait (re)began, while it waits."""
    if case.state == RequestState.AWAITING:
        start = case.waiting_since.astimezone(ctx.tz).date()
        case.decide_by = school_days_after(ctx.school, start, NUDGE_AFTER_SCHOOL_DAYS)
    else:
        case.decide_by = None


def due(case: SoftwareRequest) -> date | None:
    return case.decide_by


def review_date(school: School, decided_on: date) -> date:
    """A year after approval, on a day the school works (never a Saturday or bank holiday)."""
    return next_work_day(school, decided_on + relativedelta(months=REVIEW_MONTHS))


def record_decision(ctx: Context, case: SoftwareRequest, status: Status,
                    found: Screening) -> Software:
    """Put the decision in the register: one row per product, updated by a later decision."""
    key = name_key(case.product)
    product = ctx.session.exec(select(Software).where(
        Software.school_id == ctx.school_id, Software.name_key == key)).first()
    if product is None:
        product = Software(school_id=ctx.school_id, name=case.product, name_key=key,
                           status=status, created_at=ctx.now)
    approved = status in (Status.APPROVED, Status.CONDITIONS)
    product.status = status
    product.website = case.website if case.website != UNKNOWN else product.website
    product.purpose = case.purpose
    product.data_kinds = list(case.data_kinds)
    product.year_groups = case.users
    # “don't know” in the request leaves what the register knew (or nothing, for the DPO).
    product.storage = case.storage if case.storage != UNKNOWN else product.storage
    product.privacy_notice = (case.privacy_notice if case.privacy_notice != UNKNOWN
                              else product.privacy_notice)
    product.conditions = case.conditions
    product.reason = case.reason
    product.dpia = (_DPIA_RECORDED.get(case.dpia_outcome or "")
                    or _DPIA_SCREENED.get(found.dpia, Dpia.UNKNOWN))
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


def plan_review(session: Session, school: School, product: Software, now: datetime) -> None:
    """Reminders for this review date; those for an earlier date are no longer sent."""
    if product.review_on is None or product.status not in (Status.APPROVED, Status.CONDITIONS):
        return
    school_id = saved_id(school)
    target = product.review_on.isoformat()
    moments = {
        "review.month_before": product.review_on - relativedelta(months=1),
        "review.due": product.review_on,
    }
    for kind, day in moments.items():
        moment = work_window_start(school, previous_work_day(school, day))
        if kind == "review.month_before" and moment < now:
            continue  # imported with a review date less than a month away: "due" says it
        for person in people.by_role(session, school_id, Role.DPO):
            insert_once(session, Reminder(
                school_id=school_id, subject_type=REVIEW_SUBJECT, subject_id=product.id,
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
    school = session.get_one(School, reminder.school_id)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    text = render("software/review_reminder.txt.j2", product=product,
                  due=reminder.kind == "review.due", overdue=product.review_on < today)
    return Message([person], text)
