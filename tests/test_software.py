"""New software approval end to end, through the real chat, on SQLite and PostgreSQL.

The school's clock is Monday 23 November 2026, 10:00 (GMT, so UTC and London agree). The
story is the issue's: a teacher asks for a maths app, the DPO asks for more information, the
teacher answers, the DPO approves with a condition, and the register answers the next teacher.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlmodel import Session, col, select

from tests.conftest import School_, run_cli
from tests.test_conversation import in_threads
from workflows.audit.models import AuditEvent
from workflows.core import conversation as conversations
from workflows.core import engine as core
from workflows.core.fields import UNKNOWN, Invalid
from workflows.core.ui import Question, Text
from workflows.core.wording import render
from workflows.database import session_scope
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.registry import WORKFLOWS
from workflows.reminders.models import Reminder
from workflows.reminders.service import DeadlineHandler, handlers, sweep
from workflows.schools.models import School
from workflows.software import service
from workflows.software.export import export_rows
from workflows.software.flows import INTAKE, SOFTWARE
from workflows.software.importer import ImportRefused, import_register
from workflows.software.models import RequestState, Software, SoftwareRequest, Status
from workflows.software.screening import Screening, screen, worded, youngest_age

REF = "SW-2026-0001"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

# A teacher asking for a maths app, answer by answer (one "don't know": where data is stored).
MATHS_APP = (
    "new app",
    "Maths Whizz",
    "mathswhizz.co.uk",
    "Maths practice at home and in class",
    "Years 3 to 6 and their teachers",
    "yes",  # pupils log in themselves
    "names, assessment",
    "I do, with first name and class",
    "https://www.mathswhizz.co.uk/privacy",
    "don't know",  # where the data is stored
    "13",
    "yes",  # a DPA
    "no",  # no advertising or AI training
    "£300 a year",
)


# The test app's screening requires a DPIA: every approval records its outcome.
DPIA = ("done", "DPIA-1, signed off 20 November 2026")
DPIA_RAW = {"dpia": "done", "dpia_note": "DPIA-1, signed off 20 November 2026"}


def ask_for_app(school: School_, who: str = "sam", answers: tuple[str, ...] = MATHS_APP) -> str:
    return school.says(who, *answers, "yes")


def request(school: School_, reference: str = REF) -> SoftwareRequest:
    with Session(school.engine) as session:
        found = session.exec(select(SoftwareRequest).where(
            SoftwareRequest.reference == reference)).one()
        session.expunge(found)
        return found


def products(school: School_) -> list[Software]:
    with Session(school.engine) as session:
        found = list(session.exec(select(Software).order_by(col(Software.name_key))))
        for product in found:
            session.expunge(product)
        return found


def notes_for(school: School_, who: str, kind: str = "") -> list[str]:
    with Session(school.engine) as session:
        return [n.text for n in session.exec(select(Notification).where(
            Notification.person_id == school.people[who],
            col(Notification.kind).startswith(kind)).order_by(col(Notification.id)))]


def events(school: School_, prefix: str = "software.") -> list[tuple[str, str, dict]]:
    with Session(school.engine) as session:
        return [(e.action, e.actor_name, e.detail) for e in session.exec(
            select(AuditEvent).where(col(AuditEvent.action).startswith(prefix))
            .order_by(col(AuditEvent.id)))]


def pending_reminders(school: School_, subject: str = "software") -> list[Reminder]:
    with Session(school.engine) as session:
        return list(session.exec(select(Reminder).where(
            Reminder.subject_type == subject, col(Reminder.sent_at).is_(None),
            col(Reminder.cancelled_at).is_(None)).order_by(col(Reminder.due_at))))


def test_software_is_registered_with_its_reminders() -> None:
    assert WORKFLOWS["software"] is SOFTWARE
    found = handlers(WORKFLOWS)
    assert found["software"] == DeadlineHandler(SOFTWARE)
    assert found[service.REVIEW_SUBJECT] is service.review_reminder


# --- screening ------------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "users": "Staff only", "pupils_use": "no", "data_kinds": ["staff"],
    "privacy_notice": "https://vendor.example/privacy", "storage": "UK", "min_age": "none",
    "dpa": "yes", "ads_ai": "no",
}


@pytest.mark.parametrize(("changes", "dpia", "consent", "why"), [
    ({}, "not_required", "not_needed", "None of the ICO's screening questions applies"),
    ({"data_kinds": ["sen_health"]}, "required", "not_needed", "special category"),
    ({"data_kinds": ["free_text"]}, "required", "not_needed", "tracking behaviour"),
    ({"users": "Years 3-6", "pupils_use": "yes", "data_kinds": ["names", "assessment"]},
     "required", "needed", "online service offered directly to children"),
    ({"users": "Year 10 and 11", "pupils_use": "yes", "data_kinds": ["names"],
      "min_age": "13"}, "required", "not_needed", "online service offered directly"),
    ({"users": "Year 10", "pupils_use": "yes", "data_kinds": ["names"], "min_age": "16+"},
     "required", "needed", "minimum age is 16"),
    ({"ads_ai": "yes"}, "required", "not_needed", "AI training"),
    ({"privacy_notice": "none"}, "required", "not_needed", "without a privacy notice"),
    ({"data_kinds": ["photos"], "users": "Reception staff"}, "not_required", "needed",
     "photo consent"),
    ({"users": "Years 5 and 6", "pupils_use": UNKNOWN, "data_kinds": ["names"]}, "unclear",
     "unclear", "whether pupils use it themselves"),
    ({"ads_ai": UNKNOWN}, "unclear", "not_needed", "advertising, profiling or AI training"),
    ({"privacy_notice": UNKNOWN}, "unclear", "not_needed", "has a privacy notice"),
    ({"users": "Pupils", "pupils_use": "yes", "data_kinds": ["names"]}, "required", "unclear",
     "the pupils' ages"),
])
def test_screening_outcomes(changes: dict[str, Any], dpia: str, consent: str, why: str) -> None:
    found = screen(BASE | changes)
    assert (found.dpia, found.consent) == (dpia, consent)
    assert why in " ".join(worded(found.dpia_reasons + found.consent_reasons))


def test_screening_lists_concerns_and_open_questions() -> None:
    found = screen(BASE | {"dpa": "no", "storage": "USA", "cost": UNKNOWN,
                           "website": UNKNOWN})
    assert found.dpia == "not_required"
    assert [c.split(":")[0] for c in worded(found.concerns)] == [
        "No data processing agreement", "Data stored outside the UK (USA)"]
    assert found.open_questions == ("website", "cost")
    assert "Open questions: the product's website; the cost." in render(
        "software/event.txt.j2", event="new", case=SimpleNamespace(reference="SW-1",
        product="IXL"), actor=SimpleNamespace(name="Sam"), screening=found)


def test_a_screening_stored_as_sentences_still_reads() -> None:
    """Decided requests kept their screening as sentences before it was kept as facts."""
    stored = {"dpia": "required", "dpia_reasons": ["Pupils use it themselves (ICO)."],
              "consent": "unclear", "consent_reasons": ["Not known: the pupils' ages."],
              "concerns": [], "open_questions": ["the cost"]}
    found = Screening.from_dict(stored)
    assert render("software/screening.txt.j2", part="dpia", screening=found) == (
        "DPIA required. Pupils use it themselves (ICO).")
    assert render("software/screening.txt.j2", part="open_questions", screening=found) == (
        "The cost.")
    assert found.as_dict() == stored


@pytest.mark.parametrize(("users", "age"), [
    ("Years 3-6 and their teachers", 7), ("Reception and KS1", 4), ("Y10", 14),
    ("year 7 to year 9", 11), ("sixth form", 16), ("staff only", None), ("EYFS staff", 3),
])
def test_youngest_age_from_the_year_groups(users: str, age: int | None) -> None:
    assert youngest_age(users) == age


def test_data_kinds_by_number_or_name_and_bad_ones_named() -> None:
    field = INTAKE.field("data_kinds")

    def parse(text: str) -> Any:
        return field.parse(text, {}, cast(Any, None))

    assert parse("1, 4") == ["names", "assessment"]
    assert parse("Photos and SEN; dob") == ["photos", "sen_health", "dob"]
    assert parse("names,assessment") == ["names", "assessment"]  # as a multi-select sends it
    with pytest.raises(Invalid, match="I don't know “fingerprints” as data that goes in"):
        parse("names, fingerprints")
    with pytest.raises(Invalid, match="can't go with other kinds"):
        parse("none, names")


# --- the story ----------------------------------------------------------------------


def test_request_question_answer_approval_register_and_audit(school: School_) -> None:
    assert "not in the school's software register" in school.says("sam", "is Maths Whizz ok?")
    said = school.says("sam", *MATHS_APP)
    # The summary shows the screening and the open question before anything is saved.
    assert "DPIA required; parental consent needed. The DPO sees why." in said
    assert "9. Where data is stored: Don't know" in said
    assert "You said “don't know” about: where the data is stored." in said
    said = school.says("sam", "yes")
    assert f"Saved as {REF}." in said
    case = request(school)
    assert (case.state, case.storage, case.data_kinds) == (
        RequestState.AWAITING, UNKNOWN, ["names", "assessment"])
    assert case.decide_by == date(2026, 11, 26)  # 3 school days after Monday
    # The DPO team is told privately; the card says why a DPIA and consent are needed.
    assert notes_for(school, "dee")[0].startswith(
        f"New software request {REF}: Sam Teacher asks to use Maths Whizz.")
    assert notes_for(school, "vic") and not notes_for(school, "hal")
    card = school.says("dee", REF)
    assert "DPIA screening: DPIA required. Pupils use it themselves: an online service " \
           "offered directly to children (ICO)." in card
    assert "Parental consent: Parental consent needed. Pupils as young as 7" in card
    assert "Where data is stored: Don't know (open question)" in card
    assert "Open questions: Where the data is stored." in card
    for button in ("approve", "approve with conditions", "reject", "ask", "reassign"):
        assert f"\n{button} {REF}" in card

    # The DPO asks for more information: the request stays pending, the nudge stops.
    said = school.says("dee", f"ask {REF}", "Where is the data stored, and for how long?", "yes")
    assert "Sam Teacher has been told." in said
    assert request(school).state == RequestState.MORE_INFO
    assert request(school).decide_by is None and not pending_reminders(school)
    assert "Where is the data stored, and for how long?" in notes_for(school, "sam")[-1]
    assert "The DPO has asked Sam Teacher a question." in school.says(
        "kim", "is maths whizz approved?")

    # The teacher answers, a day later: back with the DPO, the 3-day nudge starts again.
    school.now = NOW + timedelta(days=1)
    said = school.says("sam", f"answer {REF}", "UK (London), deleted 30 days after we leave",
                       "yes")
    assert "your answer is with the DPO" in said
    case = request(school)
    assert (case.state, case.decide_by) == (RequestState.AWAITING, date(2026, 11, 27))
    assert "UK (London), deleted 30 days after we leave" in notes_for(school, "dee")[-1]

    # The DPO approves with a condition.
    school.now = NOW + timedelta(days=1, hours=2)
    # The screening says a DPIA is required: approval records its outcome, or is refused.
    said = school.says("dee", f"approve with conditions {REF}", "First names only; no photos",
                       "skip", "yes")
    assert "The screening says a DPIA is required" in said
    assert request(school).decision is None
    said = school.says("dee", "done", "DPIA-7, signed off 20 November 2026", "yes")
    assert said.startswith(f"Approved with conditions: {REF} (Maths Whizz). It is in the "
                           "register, to be reviewed by Wednesday 24 November 2027. Sam "
                           "Teacher has been told.")
    told = notes_for(school, "sam")[-1]
    assert "APPROVED WITH CONDITIONS by Dee Dpo" in told
    assert "Conditions: First names only; no photos" in told
    (product,) = products(school)
    assert (product.name, product.status, product.conditions, product.review_on,
            product.decided_by, product.dpia) == (
        "Maths Whizz", Status.CONDITIONS, "First names only; no photos", date(2027, 11, 24),
        "Dee Dpo", "done")
    assert product.dpia_link == "DPIA-7, signed off 20 November 2026"
    # The register answers the next teacher, by name, by website, or forgivingly.
    for question in ("is Maths Whizz approved?", "can I use mathswhizz.co.uk?",
                     "software maths-whizz", "can we use Maths Whizz for homework?"):
        answer = school.says("kim", question)
        assert "Maths Whizz is approved with conditions (by Dee Dpo, Tuesday 24 November " \
               "2026)." in answer, question
        assert "Conditions: First names only; no photos" in answer
        assert "Next review: Wednesday 24 November 2027." in answer
    # "is it approved?": the requester's own latest request.
    assert "Maths Whizz is approved with conditions" in school.says("sam", "is it approved?")
    # Every decision with who, when and why.
    trail = [(a, who) for a, who, _ in events(school) if not a.endswith(
        ("viewed", "looked_up"))]
    assert trail == [("software.created", "Sam Teacher"), ("software.ask", "Dee Dpo"),
                     ("software.answer", "Sam Teacher"),
                     ("software.approve_with_conditions", "Dee Dpo")]
    detail = next(d for a, _, d in events(school) if a == "software.approve_with_conditions")
    assert detail == {"conditions": "First names only; no photos", "dpia": "done",
                      "dpia_note": "DPIA-7, signed off 20 November 2026"}
    history = school.says("dee", f"history {REF}")
    assert "Dee Dpo | approve with conditions | First names only; no photos | terminal" in history


# --- one decision wins ----------------------------------------------------------------------


def test_a_second_approver_is_told_who_decided(school: School_) -> None:
    ask_for_app(school)
    school.says("dee", f"reject {REF}", "No DPA and it trains AI on pupils' work", "yes")
    said = school.says("vic", f"approve {REF}")
    assert said == (f"Dee Dpo already decided {REF} (Maths Whizz): rejected, Monday 23 "
                    "November 2026 at 10:00. Nothing was changed by this attempt.")
    assert school.says("dee", f"ask {REF}").startswith("You already decided")
    assert request(school).decision == Status.REJECTED
    assert [p.status for p in products(school)] == [Status.REJECTED]


def test_a_double_click_and_a_stale_button_change_nothing(school: School_) -> None:
    ask_for_app(school)
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        first = core.decide(ctx, SOFTWARE, SOFTWARE.action("approve"), REF, 1, DPIA_RAW)
    with session_scope(school.engine) as session:
        ctx = school.context(session, "vic")
        second = core.decide(ctx, SOFTWARE, SOFTWARE.action("reject"), REF, 1,
                             {"reason": "Too expensive"})
    assert first.ok and not second.ok
    assert second.message == (f"Dee Dpo already did “approve” on {REF} (Monday 23 November "
                              "2026 at 10:00). Nothing was changed by this attempt; it is "
                              "now approved.")
    assert (request(school).version, request(school).decision) == (2, Status.APPROVED)
    assert [a for a, _, _ in events(school) if a in ("software.approve", "software.reject")
            ] == ["software.approve"]


def test_two_decisions_at_the_same_moment_change_the_request_once(
    school: School_, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask_for_app(school)
    school.says("dee", f"approve {REF}", "skip", *DPIA)
    school.says("vic", f"reject {REF}", "Not needed: we have one already")
    barrier = threading.Barrier(2, timeout=20)
    original = conversations.claim
    first = threading.local()

    def claim(*args: Any) -> bool:
        if not getattr(first, "done", False):
            first.done = True
            barrier.wait()  # both have read the request before either decides
        return original(*args)

    monkeypatch.setattr(conversations, "claim", claim)
    results = in_threads(lambda: school.say("dee", "yes"), lambda: school.say("vic", "yes"))
    tones = sorted(next(r for r in replies if isinstance(r, Text)).tone for replies in results)
    assert tones == ["error", "success"]
    decided = [(a, who) for a, who, _ in events(school) if a in (
        "software.approve", "software.reject")]
    assert len(decided) == 1
    loser = next(r.text for replies in results for r in replies
                 if isinstance(r, Text) and r.tone == "error")
    assert loser.startswith(f"{decided[0][1]} already did")
    assert request(school).version == 2
    assert len(products(school)) == 1


# --- permissions and reasons ----------------------------------------------------------------


def test_staff_and_the_head_cannot_decide(school: School_) -> None:
    ask_for_app(school)
    for who in ("sam", "hal"):
        said = school.says(who, f"approve {REF}")
        assert said == "Only the DPO or a deputy can approve. Nothing was changed.", who
        with session_scope(school.engine) as session:
            result = core.decide(school.context(session, who), SOFTWARE,
                                 SOFTWARE.action("reject"), REF, 1, {"reason": "no"})
        assert not result.ok and "Only the DPO or a deputy can reject" in result.message
    # Another teacher cannot even see it (but can ask the register).
    assert school.says("kim", f"approve {REF}") == f"I can't find a case {REF} that you can see."
    assert request(school).state == RequestState.AWAITING
    assert not [a for a, _, _ in events(school) if a.startswith("software.approve")]


def test_conditions_and_rejection_need_a_reason(school: School_) -> None:
    ask_for_app(school)
    said = school.says("dee", f"reject {REF}", "skip")
    assert "This one is needed, so it can't be skipped." in said
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        for action, raw in (("reject", {"reason": "  "}),
                            ("approve_with_conditions", {"conditions": ""})):
            result = core.decide(ctx, SOFTWARE, SOFTWARE.action(action), REF, 1, raw)
            assert (result.ok, result.errors) == (False, {next(iter(raw)): "This is required."})
    assert request(school).decision is None


def test_only_the_requester_answers_the_dpos_question(school: School_) -> None:
    ask_for_app(school)
    school.says("dee", f"ask {REF}", "Who sees the pupils' scores?", "yes")
    assert school.says("dee", f"answer {REF}") == "Only Sam Teacher, who asked, can answer that."
    assert "Who sees the pupils' scores?" in school.says("sam", REF)
    assert "answer SW-2026-0001" in school.says("sam", REF)
    # The DPO may still decide while waiting (e.g. after a phone call).
    school.says("dee", f"approve {REF}", "Answered by phone: teachers only", *DPIA, "yes")
    assert request(school).state == RequestState.APPROVED
    assert "is approved, so “Answer the DPO” is not possible now" in school.says(
        "sam", f"answer {REF}")


def test_reassign_to_a_deputy_only(school: School_) -> None:
    ask_for_app(school)
    asked = school.say("dee", f"reassign {REF}")[-1]
    assert isinstance(asked, Question)
    assert [o.label for o in asked.options] == ["Dee Dpo", "Vic Deputy"]  # who decide
    said = school.says("dee", "Kim")
    assert ("Kim Teacher can't be chosen here: only the DPO and deputies decide cases. Choose "
            "Dee Dpo or Vic Deputy.") in said
    said = school.says("dee", "vic", "yes")
    assert f"{REF} is now Vic Deputy's to decide." in said
    assert request(school).owner_id == school.people["vic"]
    assert "has passed software request" in notes_for(school, "vic")[-1]


def test_an_unreachable_requester_still_gets_a_recorded_decision(school: School_) -> None:
    ask_for_app(school)
    with session_scope(school.engine) as session:
        session.get(Person, school.people["sam"]).active = False
    before = len(notes_for(school, "sam"))
    said = school.says("dee", f"approve {REF}", "skip", *DPIA, "yes")
    assert "Sam Teacher no longer uses the bot, so they were not told: the decision is " \
           "recorded; please let them know another way." in said
    assert len(notes_for(school, "sam")) == before
    assert ("software.requester_unreachable", "Dee Dpo") in [
        (a, who) for a, who, _ in events(school)]
    assert request(school).decision == Status.APPROVED


# --- duplicates and "don't know" ------------------------------------------------------------


def test_a_product_already_approved_or_pending_is_not_asked_for_again(school: School_) -> None:
    ask_for_app(school)
    said = school.says("kim", "new software", "maths whizz")
    assert "Maths Whizz is waiting for the DPO's decision: Sam Teacher asked on Monday 23 " \
           "November 2026 (SW-2026-0001)." in said
    assert said.endswith("Which app or website is it? (its name)")
    assert "Cancelled. Nothing was saved." in school.says("kim", "cancel")
    school.says("dee", f"approve {REF}", "skip", *DPIA, "yes")
    said = school.says("kim", "new software", "MathsWhizz")
    assert "Maths Whizz is approved" in said and "no need for a new request" in said
    with Session(school.engine) as session:
        assert len(session.exec(select(SoftwareRequest)).all()) == 1


def test_two_requests_for_one_product_racing_to_the_summary_make_one(school: School_) -> None:
    school.says("sam", *MATHS_APP)
    school.says("kim", *MATHS_APP)
    school.says("sam", "yes")
    said = school.says("kim", "yes")
    assert "Maths Whizz is waiting for the DPO's decision" in said
    assert said.endswith("Which app or website is it? (its name)")  # back to the question
    with Session(school.engine) as session:
        assert len(session.exec(select(SoftwareRequest)).all()) == 1


def test_two_requests_for_one_product_confirmed_at_once_make_one(
    school: School_, monkeypatch: pytest.MonkeyPatch
) -> None:
    school.says("sam", *MATHS_APP)
    school.says("kim", *MATHS_APP)
    barrier = threading.Barrier(2, timeout=20)
    original = conversations.claim
    first = threading.local()

    def claim(*args: Any) -> bool:
        if not getattr(first, "done", False):
            first.done = True
            barrier.wait()  # both are at the summary, with no request yet, before either saves
        return original(*args)

    monkeypatch.setattr(conversations, "claim", claim)
    results = in_threads(lambda: school.say("sam", "yes"), lambda: school.say("kim", "yes"))
    said = sorted(next(r.text for r in replies if isinstance(r, Text)) for replies in results)
    assert said[0].startswith("Maths Whizz is waiting for the DPO's decision")
    assert said[1] == f"Saved as {REF}."
    with Session(school.engine) as session:
        assert len(session.exec(select(SoftwareRequest)).all()) == 1


def test_a_rejected_product_may_be_asked_for_again_with_the_reason_shown(
    school: School_
) -> None:
    ask_for_app(school)
    school.says("dee", f"reject {REF}", "No DPA", "yes")
    assert "Maths Whizz was rejected by Dee Dpo on Monday 23 November 2026: No DPA." in \
        school.says("kim", "is maths whizz approved?")
    said = school.says("kim", *MATHS_APP)
    assert "Maths Whizz was rejected before: No DPA." in said
    school.says("kim", "yes")
    assert "Rejected before: Monday 23 November 2026: No DPA" in school.says(
        "dee", "SW-2026-0002")


def test_dont_know_is_an_answer_but_skip_is_not(school: School_) -> None:
    said = school.says("sam", "new app", "Maths Whizz", "skip")
    assert "This one is needed, so it can't be skipped." in said
    said = school.says("sam", "Not sure")
    assert said == "What will you use it for?"
    said = school.says("sam", "Homework", "Year 4", "maybe")
    assert "“maybe” isn't one of the choices: type a number from 1 to 3, or the name." in said
    said = school.says("sam", "3", "names, fingerprints")
    assert "I don't know “fingerprints” as data that goes in" in said


# --- the register: import, lookup, export ---------------------------------------------------

REGISTER = """App,Website,Status,Data,Conditions,DPIA,Approved by,Date approved,Review date
Purple Mash,purplemash.com,Approved,"names, class, assessment",,Done,Mrs Patel,01/09/2025,
IXL,https://www.ixl.com/uk,approved with conditions,names; assessment,First names only,\
not required,Mrs Patel,12/03/2026,12/12/2026
TT Rockstars,ttrockstars.com,yes,names,,n/a,J Smith,2025-10-01,
ClassDojo,classdojo.com,Rejected,"names, photos, behaviour",,required,Mrs Patel,,
Google Workspace for Education,workspace.google.com,approved,"names, dob, staff",,done,,,
"""


def run_import(school: School_, text: str, dry_run: bool = False) -> Any:
    with session_scope(school.engine) as session:
        return import_register(session, session.get(School, school.school_id), text.encode(),
                               file_name="register.csv", by_name="command line",
                               now=school.now, dry_run=dry_run)


def test_register_import_lookup_and_export(school: School_) -> None:
    report = run_import(school, REGISTER, dry_run=True)
    assert (len(report.added), products(school)) == (5, [])
    report = run_import(school, REGISTER)
    assert report.added == ["Purple Mash", "IXL", "TT Rockstars", "ClassDojo",
                            "Google Workspace for Education"]
    assert report.no_review == ["Google Workspace for Education"]
    found = {p.name: p for p in products(school)}
    assert found["Purple Mash"].review_on == date(2026, 9, 1)  # a year after approval
    assert found["IXL"].data_kinds == ["names", "assessment"]
    assert found["Purple Mash"].data_kinds == ["names", "class", "assessment"]  # kept as typed
    # Lookups: by name, by website, forgivingly; "review overdue" after the review date.
    said = school.says("kim", "is purple mash approved?")
    assert "Purple Mash is approved, review overdue (by Mrs Patel, Monday 1 September 2025)." \
        in said and "Its review was due Tuesday 1 September 2026 and is OVERDUE" in said
    said = school.says("kim", "can I use ixl.com?")
    assert "IXL is approved with conditions (by Mrs Patel" in said
    assert "Next review: Saturday 12 December 2026." in said
    assert "ClassDojo was rejected by Mrs Patel: no reason was recorded." in school.says(
        "kim", "is classdojo allowed?")
    assert "TT Rockstars is approved" in school.says("kim", "software tt rock stars")
    table = school.says("kim", "software")
    assert "Purple Mash | Approved, review overdue | 01 Sep 2026" in table
    # Importing again changes nothing; the export reads back in unchanged.
    assert len(run_import(school, REGISTER).unchanged) == 5
    with session_scope(school.engine) as session:
        rows = export_rows(session, session.get(School, school.school_id), "command line")
    assert [r["name"] for r in rows] == ["ClassDojo", "Google Workspace for Education", "IXL",
                                         "Purple Mash", "TT Rockstars"]
    assert rows[2]["status"] == "approved_with_conditions"
    assert rows[3]["review_overdue"] is True
    from workflows.core.export import to_csv

    assert len(run_import(school, to_csv(rows)).unchanged) == 5
    assert [a for a, _, _ in events(school) if a in ("software.imported", "software.exported")
            ] == ["software.imported", "software.imported", "software.exported",
                  "software.imported"]


def test_a_bad_register_changes_nothing_and_says_which_rows(school: School_) -> None:
    bad = "Product,Status,Review date\nFoo,maybe,\n,approved,\nBar,approved,31/02/2026\n" \
          "bar,rejected,\n"
    with pytest.raises(ImportRefused) as refused:
        run_import(school, bad)
    assert refused.value.reasons == [
        "Line 2: Foo: status “maybe” is not one of approved, approved with conditions, "
        "rejected or pending.",
        "Line 3: no product name.",
        "Line 4: Bar: the review date: There is no 31 February 2026: February 2026 has 28 days.",
        "Line 5: bar is listed twice (also line 4).",
    ]
    with pytest.raises(ImportRefused, match="No status column"):
        run_import(school, "Name,Website\nIXL,ixl.com\n")
    assert products(school) == []


def test_an_import_does_not_overwrite_a_decision_made_in_the_bot(school: School_) -> None:
    ask_for_app(school)
    school.says("dee", f"approve with conditions {REF}", "First names only", *DPIA, "yes")
    report = run_import(school, "Name,Status\nMaths Whizz,rejected\n")
    assert report.kept == ["Maths Whizz"]
    assert [p.status for p in products(school)] == [Status.CONDITIONS]


# --- reminders ------------------------------------------------------------------------------


def test_the_dpo_is_nudged_after_three_school_days(school: School_) -> None:
    with session_scope(school.engine) as session:
        # An INSET day on Wednesday: not a school day, so the nudge moves to Friday.
        session.get(School, school.school_id).term_calendar_csv = (
            "kind,start,end,name\nterm,2026-09-03,2026-12-18,Autumn 2026\n"
            "closure,2026-11-25,2026-11-25,INSET day\n")
    ask_for_app(school)
    assert request(school).decide_by == date(2026, 11, 27)
    (nudge,) = pending_reminders(school)
    assert (nudge.person_id, nudge.due_at) == (
        school.people["dee"], datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    sweep(school.engine, now=datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    assert notes_for(school, "dee", "reminder.deadline") == []
    sweep(school.engine, now=datetime(2026, 11, 27, 8, 5, tzinfo=UTC))
    assert notes_for(school, "dee", "reminder.deadline") == [
        f"Software request {REF} is due TODAY (Friday 27 November 2026). Type “{REF}” to "
        "open it."]


def test_a_decision_cancels_the_nudge_and_plans_the_review(school: School_) -> None:
    ask_for_app(school)
    school.says("dee", f"approve {REF}", "skip", *DPIA, "yes")
    assert pending_reminders(school) == []
    reviews = pending_reminders(school, service.REVIEW_SUBJECT)
    assert [(r.kind, r.due_at) for r in reviews] == [
        # The Friday before, 08:00 in London (BST, so 07:00 UTC).
        ("review.month_before", datetime(2027, 10, 22, 7, 0, tzinfo=UTC)),
        ("review.due", datetime(2027, 11, 23, 8, 0, tzinfo=UTC)),
    ]
    sweep(school.engine, now=datetime(2027, 10, 22, 8, 0, tzinfo=UTC))
    assert notes_for(school, "dee", "reminder.review")[-1].startswith(
        "Maths Whizz is due for its yearly review on Tuesday 23 November 2027, in a month")
    school.now = datetime(2027, 11, 24, 9, 0, tzinfo=UTC)
    assert "Its review was due Tuesday 23 November 2027 and is OVERDUE" in school.says(
        "kim", "is maths whizz approved?")


def test_a_review_reminder_for_a_moved_review_date_is_not_sent(school: School_) -> None:
    run_import(school, "Name,Status,Review date\nIXL,approved,2027-06-30\n")
    run_import(school, "Name,Status,Review date\nIXL,approved,2027-09-30\n")
    sweep(school.engine, now=datetime(2027, 6, 1, 9, 0, tzinfo=UTC))
    sweep(school.engine, now=datetime(2027, 6, 30, 9, 0, tzinfo=UTC))
    assert notes_for(school, "dee", "reminder.review") == []
    sweep(school.engine, now=datetime(2027, 8, 31, 9, 0, tzinfo=UTC))
    assert notes_for(school, "dee", "reminder.review") == [
        "IXL is due for its yearly review on Thursday 30 September 2027, in a month: check "
        "its terms, data and conditions still hold. Type “software IXL” to see it."]


def test_register_reads_are_audited_and_open_to_staff(school: School_) -> None:
    school.says("kim", "is Zoom approved?")
    assert ("software.looked_up", "Kim Teacher", {"query": "Zoom", "found": []}) in events(
        school)


def test_an_imported_pending_product_can_be_asked_for(school: School_) -> None:
    run_import(school, "Name,Status\nMaths Whizz,under review\n")
    assert "pending in the register the school imported" in school.says(
        "kim", "is maths whizz approved?")
    assert f"Saved as {REF}." in ask_for_app(school)
    school.says("dee", f"approve {REF}", "skip", *DPIA, "yes")
    assert [(p.status, p.source) for p in products(school)] == [(Status.APPROVED, "request")]


def test_a_review_already_past_when_imported_is_reminded_as_overdue(school: School_) -> None:
    run_import(school, "Name,Status,Review date\nIXL,approved,2026-09-01\n")
    sweep(school.engine, now=NOW)
    assert notes_for(school, "dee", "reminder.review") == [
        "The review of IXL in the software register was due Tuesday 1 September 2026 and is "
        "OVERDUE: check its terms, data and conditions still hold. Type “software IXL” to see "
        "it."]


# --- the command line -----------------------------------------------------------------------


def test_cli_import_lookup_and_export(tmp_path: Path, cli_env: dict[str, str]) -> None:
    env = cli_env
    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=env)

    done = cli("import", "software", str(register), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "Would import 5 products from register.csv: 5 added, 0 changed, 0 unchanged.")
    assert "Dry run: nothing was written." in done.stdout
    assert "not in the school's software register" in cli("software", "IXL").stdout
    assert cli("import", "software", str(register)).returncode == 0
    found = json.loads(cli("software", "ixl.com", "--json").stdout)
    assert [(p["name"], p["status"], p["conditions"]) for p in found["register"]] == [
        ("IXL", "approved_with_conditions", "First names only")]
    exported = list(csv.DictReader(io.StringIO(cli("export", "software").stdout)))
    assert [r["name"] for r in exported] == ["ClassDojo", "Google Workspace for Education",
                                             "IXL", "Purple Mash", "TT Rockstars"]
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Status\nZoom,maybe\n", encoding="utf-8")
    done = cli("import", "software", str(bad))
    assert done.returncode == 2
    assert "bad.csv was not imported; nothing was changed" in done.stderr
    assert "Line 2: Zoom: status “maybe” is not one of" in done.stderr


def test_what_is_typed_reaches_the_right_answer(school: School_) -> None:
    assert school.says("kim", "is it approved?") == (
        "Which app do you mean? Ask like this: “is IXL approved?”.")
    assert school.says("kim", "software request").endswith("Which app or website is it? "
                                                           "(its name)")
    school.says("kim", "cancel")
    # Not a product but a pupil: the photo consent question it always was.
    assert "No consent register has been imported yet" in school.says(
        "kim", "can we use Amelia's photo in the newsletter?")
    assert not [d for a, _, d in events(school) if a == "software.looked_up"]
