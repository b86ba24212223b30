"""The chat engine as a person meets it: one question at a time, saved after every answer.

Every test talks to the real chat router (``respond``) on a real database, SQLite and
PostgreSQL, the way an adapter does: one message, one transaction. Dates are real: the
school's clock is Monday 23 November 2026, 10:00 (GMT, so UTC and London agree).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from bot.terminal.render import render
from tests.conftest import PARENT_SAR, School_, text_of
from workflows.audit.models import AuditEvent
from workflows.core import conversation as conversations
from workflows.core import notify
from workflows.core.chat import fault, greet
from workflows.core.fields import Field
from workflows.core.models import Conversation, ConversationStatus
from workflows.core.ui import Card, Question, Reply, Summary, Table, Text
from workflows.database import make_engine, session_scope
from workflows.sar.flows import SAR
from workflows.sar.models import RightsRequest, SarState

# The intake as PARENT_SAR answers it (a parent asking for her son's data): field by field.
FIELDS = (
    "request_type", "requester_name", "relationship", "about_requester", "subject_name",
    "requester_email", "requester_phone", "requester_address", "channel", "received_at",
    "details", "id_needed",
)  # fmt: skip
ANSWERS = dict(zip(FIELDS, PARENT_SAR[1:], strict=True))
TRIGGER = PARENT_SAR[0]
# ...and as the conversation stores them (JSON: dates as ISO strings).
STORED = {
    "request_type": "access", "requester_name": "Jane Parent", "relationship": "parent",
    "about_requester": False, "subject_name": "Tom Parent", "requester_email": "jane@example.org",
    "requester_phone": None, "requester_address": None, "channel": "email",
    "received_at": "2026-11-22T14:00:00+00:00",
    "details": "All behaviour records for Tom held by the class teacher", "id_needed": False,
}
REF = "SAR-2026-0001"
NOT_FOUND = f"I can't find a case {REF} that you can see."
DEADLINE_NOTE = "Deadline: Tuesday 22 December 2026 (one calendar month)."
# A parent asking for their child's data: the ICO's point about the child's own rights.
CHILD_NOTE = ("If the child is about 12 or older and understands their rights, the request is "
              "theirs: the DPO will check the child agrees to the parent acting for them.")


# --- helpers --------------------------------------------------------------------------------


def asked(replies: list[Reply]) -> Question:
    """The question the bot ends on (it must end on one)."""
    assert replies, "no reply at all"
    last = replies[-1]
    assert isinstance(last, Question), f"expected a question, got {replies!r}"
    return last


def summary(replies: list[Reply]) -> Summary:
    last = replies[-1]
    assert isinstance(last, Summary), f"expected the summary, got {replies!r}"
    return last


def texts(replies: list[Reply]) -> list[tuple[str, str]]:
    return [(r.text, r.tone) for r in replies if isinstance(r, Text)]


def start_until(school: School_, field: str, who: str = "sam") -> list[Reply]:
    """Start the intake and answer, in order, every question before ``field``."""
    replies = school.say(who, TRIGGER)
    for name in FIELDS:
        if asked(replies).field == field:
            return replies
        replies = school.say(who, ANSWERS[name])
    raise AssertionError(f"{field} was never asked")


def to_summary(school: School_, who: str = "sam", **changes: str) -> list[Reply]:
    """The whole intake as PARENT_SAR answers it, with some answers typed differently."""
    replies = school.say(who, TRIGGER)
    for name in FIELDS:
        replies = school.say(who, changes.get(name, ANSWERS[name]))
        if replies and isinstance(replies[-1], Question) and "is that right?" in (
                replies[-1].prompt):
            replies = school.say(who, "yes")  # a date weeks ago, read back and confirmed
    summary(replies)
    return replies


def log_case(school: School_, who: str = "sam", ref: str = REF, **changes: str) -> str:
    to_summary(school, who, **changes)
    replies = school.say(who, "yes")
    assert texts(replies)[0] == (f"Saved as {ref}.", "success")
    return ref


def say_all(school: School_, who: str, *typed: str) -> list[Reply]:
    """Several lines in a row; the replies to the last one."""
    replies: list[Reply] = []
    for line in typed:
        replies = school.say(who, line)
    return replies


def latest_conversation(school: School_, who: str) -> Conversation | None:
    with Session(school.engine) as session:
        return session.exec(
            select(Conversation)
            .where(Conversation.person_id == school.people[who])
            .order_by(col(Conversation.id).desc())
        ).first()


def answers_of(school: School_, who: str = "sam") -> dict[str, Any]:
    found = latest_conversation(school, who)
    assert found is not None
    return {k: v for k, v in found.answers.items() if k != conversations.PREVIOUS}


def cases(engine: Engine) -> list[RightsRequest]:
    with Session(engine) as session:
        return list(session.exec(select(RightsRequest).order_by(col(RightsRequest.id))))


def case_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(RightsRequest)).one()


def events(engine: Engine, action: str | None = None) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(session.exec(query))


def the_case(engine: Engine) -> RightsRequest:
    (found,) = cases(engine)
    return found


def reopened(school: School_) -> tuple[School_, Engine]:
    """A brand-new process: a new engine on the same database and a new chat driver."""
    engine = make_engine(school.engine.url.render_as_string(hide_password=False))
    return School_(engine=engine, school_id=school.school_id, people=dict(school.people),
                   now=school.now), engine


def greet_as(school: School_, who: str) -> list[Reply]:
    with session_scope(school.engine) as session:
        return greet(school.context(session, who), f"test:{who}")


def fault_as(school: School_, who: str) -> list[Reply]:
    with session_scope(school.engine) as session:
        return fault(school.context(session, who), f"test:{who}")


def in_threads(*calls: Callable[[], list[Reply]]) -> list[list[Reply]]:
    """Run each call in its own thread, at the same time; re-raise any failure."""
    results: list[list[Reply] | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], list[Reply]]) -> None:
        try:
            results[i] = call()
        except BaseException as error:  # handed back to the test thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


@pytest.fixture
def together(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Arm it once set up: then two messages each read their conversation, wait for each
    other, and only then try to take it, so both act on the same state."""

    def arm() -> None:
        barrier = threading.Barrier(2, timeout=20)
        original = conversations.claim
        first = threading.local()  # only each thread's first try waits: a retry must not

        def claim(*args: Any) -> bool:
            if not getattr(first, "done", False):
                first.done = True
                barrier.wait()
            return original(*args)

        monkeypatch.setattr(conversations, "claim", claim)

    return arm


# --- the whole intake -----------------------------------------------------------------------


def test_full_intake_saves_one_case_only_after_yes(school: School_) -> None:
    replies = school.say("sam", TRIGGER)
    assert texts(replies) == [(
        "Subject access request: I'll ask a few questions. You can type “back”, “skip” "
        "(optional questions), “help” or “cancel” at any time.", "info")]
    first = asked(replies)
    assert (first.field, first.step, first.total, first.optional) == ("request_type", 1, 13, False)
    assert len(first.options) == 7
    for name in FIELDS:
        assert case_count(school.engine) == 0
        replies = school.say("sam", ANSWERS[name])
        if name == "received_at":
            # The date is read back in full, so "3/9" can't be taken for 9 March unnoticed.
            assert texts(replies) == [("Received: Sunday 22 November 2026 at 14:00.", "info")]
    # Nothing exists yet, not even a half-made row: only the conversation.
    assert case_count(school.engine) == 0
    assert events(school.engine) == []
    check = summary(replies)
    assert check.title == "Please check: Subject access request"
    assert check.rows == (
        ("1. Type of request", "Subject access: a copy of their personal data"),
        ("2. Requester", "Jane Parent"),
        ("3. Relationship to the school", "Parent or carer"),
        ("4. About themselves", "No"),
        ("5. Whose data", "Tom Parent"),
        ("6. Email", "jane@example.org"),
        ("7. Phone", "(not given)"),
        ("8. Postal address", "(not given)"),
        ("9. Arrived by", "Email"),
        ("10. Received", "Sunday 22 November 2026 at 14:00"),
        ("11. What is asked for", "All behaviour records for Tom held by the class teacher"),
        ("12. Check ID first", "No"),
    )
    assert check.notes == (DEADLINE_NOTE, CHILD_NOTE)
    assert latest_conversation(school, "sam").status == ConversationStatus.CONFIRMING
    assert answers_of(school) == STORED

    replies = school.say("sam", "yes")
    assert texts(replies) == [(f"Saved as {REF}.", "success")]
    assert isinstance(replies[-1], Card) and replies[-1].reference == REF
    case = the_case(school.engine)
    assert (case.reference, case.state, case.requester_name, case.subject_name) == (
        REF, SarState.OPEN, "Jane Parent", "Tom Parent")
    assert (case.received_on, case.due_on) == (date(2026, 11, 22), date(2026, 12, 22))
    assert case.received_at == datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
    assert case.created_by_id == school.people["sam"]
    conversation = latest_conversation(school, "sam")
    assert (conversation.status, case.conversation_id) == (ConversationStatus.DONE,
                                                           conversation.id)
    assert [(e.action, e.actor_name, e.adapter, e.at) for e in events(school.engine)] == [
        ("sar.created", "Sam Teacher", "terminal", school.now)]


@pytest.mark.parametrize(
    ("typed", "read_back", "stored"),
    [
        ("today", "Monday 23 November 2026", "2026-11-23T00:00:00+00:00"),
        ("yesterday", "Sunday 22 November 2026", "2026-11-22T00:00:00+00:00"),
        ("last Friday", "Friday 20 November 2026", "2026-11-20T00:00:00+00:00"),
        ("3/9", "Thursday 3 September 2026", "2026-09-03T00:00:00+01:00"),
        ("3 Sept", "Thursday 3 September 2026", "2026-09-03T00:00:00+01:00"),
        ("3 September 2026", "Thursday 3 September 2026", "2026-09-03T00:00:00+01:00"),
        ("today 9:30", "Monday 23 November 2026 at 09:30", "2026-11-23T09:30:00+00:00"),
    ],
)
def test_received_dates_typed_the_uk_way_are_read_back(
    school: School_, typed: str, read_back: str, stored: str
) -> None:
    start_until(school, "received_at")
    replies = school.say("sam", typed)
    assert texts(replies) == [(f"Received: {read_back}.", "info")]
    if "September" in read_back:  # 2 months ago: read back, and counted only once confirmed
        question = asked(replies)
        assert (question.field, question.step) == ("received_at", 10)
        assert question.prompt == (f"Received: {read_back}. That is 2 months ago: is that "
                                   "right? (yes, or type the right date)")
        assert "received_at" not in answers_of(school)
        replies = school.say("sam", "yes")
    assert asked(replies).field == "details"
    assert answers_of(school)["received_at"] == stored


# --- back, skip, help, cancel, edit ---------------------------------------------------------


def test_back_shows_the_earlier_answer_and_enter_keeps_it(school: School_) -> None:
    replies = school.say("sam", TRIGGER)
    replies = school.say("sam", "back")
    assert texts(replies) == [("This is the first question.", "warning")]
    assert asked(replies).field == "request_type"

    school.say("sam", "cancel")
    start_until(school, "relationship")
    replies = school.say("sam", "back")
    question = asked(replies)
    assert (question.field, question.current) == ("requester_name", "Jane Parent")
    assert "requester_name" not in answers_of(school)
    replies = school.say("sam", "")  # Enter keeps it
    assert asked(replies).field == "relationship"
    assert answers_of(school)["requester_name"] == "Jane Parent"

    replies = school.say("sam", "back")
    replies = school.say("sam", "Jane Q. Parent")  # or a new answer replaces it
    assert asked(replies).field == "relationship"
    assert answers_of(school)["requester_name"] == "Jane Q. Parent"


def test_going_back_twice_keeps_both_earlier_answers(school: School_) -> None:
    assert asked(start_until(school, "subject_name")).step == 5
    first = asked(school.say("sam", "back"))
    assert (first.field, first.current, first.step, first.total) == (
        "about_requester", "No", 4, 12)
    second = asked(school.say("sam", "back"))
    assert (second.field, second.current, second.step, second.total) == (
        "relationship", "Parent or carer", 3, 13)  # a solicitor would bring one more
    # Coming forward again, the answer left behind two steps ago is still offered.
    forward = asked(school.say("sam", ""))
    assert (forward.field, forward.current) == ("about_requester", "No")
    forward = asked(school.say("sam", ""))
    assert (forward.field, forward.current) == ("subject_name", None)
    assert answers_of(school) == {"request_type": "access", "requester_name": "Jane Parent",
                                  "relationship": "parent", "about_requester": False}


def test_back_from_the_summary_and_from_an_edit_keeps_every_answer(school: School_) -> None:
    to_summary(school)
    replies = school.say("sam", "edit 5")
    assert (asked(replies).field, asked(replies).current) == ("subject_name", "Tom Parent")
    replies = school.say("sam", "back")
    assert (asked(replies).field, asked(replies).current) == ("about_requester", "No")
    replies = school.say("sam", "")
    assert (asked(replies).field, asked(replies).current) == ("subject_name", "Tom Parent")
    replies = school.say("sam", "")
    assert summary(replies).rows[4] == ("5. Whose data", "Tom Parent")
    # "back" at the summary is the last question, whatever was edited on the way.
    question = asked(school.say("sam", "back"))
    assert (question.field, question.current) == ("id_needed", "No")
    assert answers_of(school) == {k: v for k, v in STORED.items() if k != "id_needed"}
    assert summary(school.say("sam", "")).rows[11] == ("12. Check ID first", "No")


def test_an_edit_that_opens_a_question_asks_it_before_the_summary(school: School_) -> None:
    to_summary(school)
    school.say("sam", "edit 3")
    question = asked(school.say("sam", "solicitor"))
    assert (question.field, question.current) == ("authority_needed", None)
    check = summary(school.say("sam", "no"))
    assert len(check.rows) == 13 and check.rows[5] == ("6. Authority to be checked", "No")
    school.say("sam", "edit 4")
    check = summary(school.say("sam", "yes"))  # about themselves: "whose data" drops out
    assert [label for label, _ in check.rows][3:6] == [
        "4. About themselves", "5. Authority to be checked", "6. Email"]
    school.say("sam", "yes")
    case = the_case(school.engine)
    assert (case.relationship, case.subject_name, case.authority_requested_on) == (
        "solicitor", None, None)


def test_skip_leaves_out_an_optional_question_but_not_a_required_one(school: School_) -> None:
    start_until(school, "requester_name")
    before = answers_of(school)
    replies = school.say("sam", "skip")
    assert texts(replies) == [(
        "This one is needed, so it can't be skipped. The person who asked, even if the data "
        "is about someone else (their child).", "warning")]
    assert asked(replies).field == "requester_name"
    assert answers_of(school) == before

    start_until(school, "requester_phone")
    question = asked(school.say("sam", "skip"))
    assert question.field == "requester_address"
    assert answers_of(school)["requester_phone"] is None
    # As a phone types it: a curly apostrophe is still "don't know", not an address.
    assert asked(school.say("sam", "Don’t know")).field == "channel"
    assert answers_of(school)["requester_address"] is None


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        ("received_at", "The day it reached anyone at the school, even the wrong person, even "
                        "at a weekend: the clock starts that day. It can't be in the future."),
        ("relationship", "What is their relationship with the school? (1. Parent or carer; "
                         "2. Pupil; 3. Former pupil; 4. Staff member; 5. Governor; "
                         "6. Volunteer; 7. Solicitor; 8. Other third party acting for someone; "
                         "9. Other)"),
        ("requester_phone", "Their phone number? (or “skip”) (optional: type “skip” to leave "
                            "it out)"),
    ],
)
def test_help_shows_the_field_help_and_asks_again(school: School_, field: str, shown: str) -> None:
    start_until(school, field)
    before = answers_of(school)
    replies = school.say("sam", "help")
    (help_, commands) = texts(replies)
    assert help_ == (shown, "info")
    assert "“cases” or “more” (everything I do) answer and this question waits" in commands[0]
    assert asked(replies).field == field
    assert answers_of(school) == before


@pytest.mark.parametrize("where", ["details", "summary"])
def test_cancel_discards_everything(school: School_, where: str) -> None:
    if where == "summary":
        to_summary(school)
    else:
        start_until(school, where)
    replies = school.say("sam", "cancel")
    assert texts(replies) == [("Cancelled. Nothing was saved.", "warning")]
    assert latest_conversation(school, "sam").status == ConversationStatus.CANCELLED
    assert case_count(school.engine) == 0
    # A late "yes" has nothing to confirm, and says so rather than saving anything.
    replies = school.say("sam", "yes")
    assert texts(replies) == [(
        "There is nothing waiting for a “yes”: the last form was cancelled, so nothing from it "
        "was saved.", "warning")]
    assert case_count(school.engine) == 0
    assert greet_as(school, "sam")[0].text.startswith("Hello Sam Teacher.")


def test_edit_at_the_summary_returns_to_the_summary(school: School_) -> None:
    to_summary(school)
    replies = school.say("sam", "edit 99")
    assert texts(replies) == [("Type “change” and a number from 1 to 12.", "warning")]
    summary(replies)
    replies = school.say("sam", "edit 2")
    question = asked(replies)
    assert (question.field, question.current) == ("requester_name", "Jane Parent")
    replies = school.say("sam", "Janet Parent")
    check = summary(replies)
    assert check.rows[1] == ("2. Requester", "Janet Parent")
    assert check.notes == (DEADLINE_NOTE, CHILD_NOTE)
    replies = school.say("sam", "change 10")
    replies = school.say("sam", "last Friday")
    assert texts(replies) == [("Received: Friday 20 November 2026.", "info")]
    assert summary(replies).notes == (
        "Deadline: Monday 21 December 2026 (one calendar month).", CHILD_NOTE)
    school.say("sam", "yes")
    case = the_case(school.engine)
    assert (case.requester_name, case.due_on) == ("Janet Parent", date(2026, 12, 21))


def test_the_domain_refusing_the_whole_form_reopens_the_question_at_fault(
    school: School_,
) -> None:
    school.say("sam", TRIGGER)
    for name in FIELDS:
        school.say("sam", "skip" if name == "requester_email" else ANSWERS[name])
    replies = school.say("sam", "yes")
    assert texts(replies) == [(
        "We need at least one way to reply to them: an email address, a phone number or a "
        "postal address.", "error")]
    assert asked(replies).field == "requester_email"
    assert case_count(school.engine) == 0
    replies = school.say("sam", "jane@example.org")
    assert summary(replies).rows[5] == ("6. Email", "jane@example.org")
    school.say("sam", "yes")
    assert the_case(school.engine).requester_email == "jane@example.org"


def test_an_action_the_domain_refuses_changes_nothing_and_asks_again(school: School_) -> None:
    log_case(school)
    # Told after the first month: only the service, on applying it, can say so.
    assert summary(say_all(school, "dee", f"extend {REF}", "Over 400 emails to review",
                           "1 February 2027")).rows[1] == (
        "2. Requester told on", "Monday 1 February 2027")
    replies = school.say("dee", "yes")
    assert texts(replies) == [("The requester had to be told by Tuesday 22 December 2026 (the "
                               "end of the first month); an extension notice after that is out "
                               "of time.", "error")]
    assert (asked(replies).field, asked(replies).current) == (
        "notice_on", "Monday 1 February 2027")
    case = the_case(school.engine)
    assert (case.version, case.extended) == (1, False)  # the claimed version went back too
    assert events(school.engine, "sar.extend") == []
    replies = say_all(school, "dee", "cancel", f"assign {REF}", "Kim Teacher", "yes")
    assert texts(replies)[-1] == (f"{REF} is now Kim Teacher's. They have been told.", "success")
    case = the_case(school.engine)
    assert (case.version, case.owner_id) == (2, school.people["kim"])
    assert [e.detail for e in events(school.engine, "sar.assign")] == [
        {"person": {"id": school.people["kim"], "name": "Kim Teacher"}}]
    assert isinstance(school.say("kim", REF)[0], Card)  # staff see the cases they own


# --- bad input ------------------------------------------------------------------------------

BAD_INPUT = [
    ("received_at", "the 45th of Smarch",
     'Sorry, I didn\'t understand "the 45th of Smarch" as a date and time. Try something like '
     '"yesterday at 3pm", "today 9:30" or "3/9/2026 14:00".'),
    ("received_at", "tomorrow",
     "Tuesday 24 November 2026 is in the future. Please give the date and time it "
     "actually happened (for example “today 9:30” or “yesterday”)."),
    ("received_at", "today 18:00",
     "Monday 23 November 2026 at 18:00 is in the future. Please give the date and time it "
     "actually happened (for example “today 9:30” or “yesterday”)."),
    ("requester_name", "", "Please give an answer: Who made the request? (their full name)"),
    ("requester_name", "   ", "Please give an answer: Who made the request? (their full name)"),
    ("requester_name", "J" * 201,
     "That answer is 201 characters long; requester can be at most 200. Please shorten it."),
    ("relationship", "aunt",
     "“aunt” isn't one of the choices: type a number from 1 to 9, or the name."),
    ("relationship", "10",
     "“10” isn't one of the choices: type a number from 1 to 9, or the name."),
    ("relationship", "my aunt who looks after him on Tuesdays and Thursdays after school",
     "“my aunt who looks after him on Tuesdays and Thursdays…” isn't one of the "
     "choices: type a number from 1 to 9, or the name."),
    ("requester_email", "jane at example dot org",
     "“jane at example dot org” does not look like an email address (like name@example.org)."),
    ("requester_email", "jane@example",
     "“jane@example” does not look like an email address (like name@example.org)."),
    ("about_requester", "maybe", "Please answer yes or no."),
]


@pytest.mark.parametrize(("field", "typed", "message"), BAD_INPUT,
                         ids=[f"{f}:{t[:12]!r}" for f, t, _ in BAD_INPUT])
def test_bad_input_is_refused_and_the_same_question_asked_again(
    school: School_, field: str, typed: str, message: str
) -> None:
    start_until(school, field)
    before = latest_conversation(school, "sam")
    replies = school.say("sam", typed)
    assert texts(replies) == [(message, "error")]
    assert asked(replies).field == field
    after = latest_conversation(school, "sam")
    assert (after.answers, after.position, after.status) == (
        before.answers, before.position, before.status)
    # ...and the right answer still goes through from there.
    assert asked(school.say("sam", ANSWERS[field])).field != field
    assert case_count(school.engine) == 0


def test_over_long_answer_at_the_limit_is_taken(school: School_) -> None:
    start_until(school, "requester_name")
    assert asked(school.say("sam", "J" * 200)).field == "relationship"
    assert answers_of(school)["requester_name"] == "J" * 200


# --- restarts and crashes -------------------------------------------------------------------


def test_a_restart_resumes_at_the_same_question(school: School_) -> None:
    start_until(school, "requester_phone")
    school.engine.dispose()  # the old process goes away
    again, engine = reopened(school)
    try:
        replies = greet_as(again, "sam")
        assert texts(replies) == [("Picking up where you left off: Subject access request.",
                                   "info")]
        question = asked(replies)
        assert (question.field, question.step, question.total) == ("requester_phone", 7, 12)
        for name in FIELDS[FIELDS.index("requester_phone"):]:
            replies = again.say("sam", ANSWERS[name])
        assert summary(replies).notes == (DEADLINE_NOTE, CHILD_NOTE)
        replies = again.say("sam", "yes")
        assert texts(replies) == [(f"Saved as {REF}.", "success")]
        assert the_case(engine).subject_name == "Tom Parent"
    finally:
        engine.dispose()


def test_a_restart_at_the_summary_shows_the_summary(school: School_) -> None:
    to_summary(school)
    again, engine = reopened(school)
    try:
        replies = greet_as(again, "sam")
        assert summary(replies).notes == (DEADLINE_NOTE, CHILD_NOTE)
        assert case_count(engine) == 0
    finally:
        engine.dispose()


def _fail_once(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, when: str) -> None:
    """Make ``target.name`` raise RuntimeError the first time ``when`` is being handled."""
    original = getattr(target, name)
    state = {"armed": True}

    def boom(*args: Any, **kwargs: Any) -> Any:
        hit = when in (getattr(a, "name", None) for a in args) or when == "*"
        if state["armed"] and hit:
            state["armed"] = False
            raise RuntimeError("simulated crash")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, boom)


def test_a_crash_while_answering_loses_nothing_and_saves_nothing(
    school: School_, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_until(school, "channel")
    before = latest_conversation(school, "sam")
    _fail_once(monkeypatch, Field, "parse", "channel")
    with pytest.raises(RuntimeError, match="simulated crash"):
        school.say("sam", "email")
    after = latest_conversation(school, "sam")
    assert (after.answers, after.position, after.version) == (
        before.answers, before.position, before.version)
    # What the adapter says after the fault: sorry, and the same question again.
    replies = fault_as(school, "sam")
    assert texts(replies) == [(
        "Sorry, something went wrong on my side, so your last message was not saved. "
        "Everything you answered before it is kept.", "error")]
    assert asked(replies).field == "channel"
    assert asked(school.say("sam", "email")).field == "received_at"


def test_a_crash_after_the_answer_was_written_rolls_it_back(
    school: School_, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_until(school, "channel")
    before = answers_of(school)
    # The answer is parsed and flushed to the conversation row; then the process dies.
    _fail_once(monkeypatch, conversations, "_prompt", "*")
    with pytest.raises(RuntimeError, match="simulated crash"):
        school.say("sam", "email")
    assert answers_of(school) == before
    assert latest_conversation(school, "sam").position == "channel"


def test_a_crash_while_saving_the_case_saves_no_half_made_case(
    school: School_, monkeypatch: pytest.MonkeyPatch
) -> None:
    to_summary(school)
    # The case row, its reference and audit event are flushed before the team is alerted.
    _fail_once(monkeypatch, notify, "send", "*")
    with pytest.raises(RuntimeError, match="simulated crash"):
        school.say("sam", "yes")
    assert case_count(school.engine) == 0
    assert events(school.engine) == []
    assert latest_conversation(school, "sam").status == ConversationStatus.CONFIRMING
    assert summary(fault_as(school, "sam")).notes == (DEADLINE_NOTE, CHILD_NOTE)
    replies = school.say("sam", "yes")
    # PostgreSQL does not hand back a rolled-back id, so the reference may skip one.
    reference = the_case(school.engine).reference
    assert reference in (REF, "SAR-2026-0002")
    assert texts(replies) == [(f"Saved as {reference}.", "success")]
    assert [e.action for e in events(school.engine)] == ["sar.created"]


def test_fault_with_nothing_in_progress_just_apologises(school: School_) -> None:
    assert texts(fault_as(school, "sam")) == [(
        "Sorry, something went wrong on my side, so your last message was not saved.", "error")]


# --- confirming twice -----------------------------------------------------------------------


def test_yes_twice_saves_one_case(school: School_) -> None:
    to_summary(school)
    school.say("sam", "yes")
    replies = school.say("sam", "yes")
    assert texts(replies) == [(f"That was already saved as {REF}; nothing more to do.",
                               "warning")]
    assert case_count(school.engine) == 1
    assert len(events(school.engine, "sar.created")) == 1


def test_two_confirms_at_the_same_moment_save_one_case(
    school: School_, together: Callable[[], None]
) -> None:
    to_summary(school)
    together()
    results = in_threads(lambda: school.say("sam", "yes"), lambda: school.say("sam", "yes"))
    said = sorted(texts(r)[0] for r in results)
    assert said == [(f"Saved as {REF}.", "success"),
                    (f"That was already saved as {REF}; nothing more to do.", "warning")]
    assert case_count(school.engine) == 1
    assert len(events(school.engine, "sar.created")) == 1


def test_a_stale_yes_that_bypasses_the_router_saves_nothing_more(school: School_) -> None:
    """An adapter holding the conversation as it was (a retried button) confirms it late."""
    to_summary(school)
    with session_scope(school.engine) as session:
        ctx = school.context(session, "sam")
        stale = conversations.active(ctx, "test:sam")
        assert stale is not None
        school.say("sam", "yes")  # meanwhile, in another transaction
        replies = conversations.handle(ctx, SAR, stale, "yes")
    assert texts(replies) == [("That was already saved.", "warning")]
    assert case_count(school.engine) == 1


def test_two_answers_at_the_same_moment_are_both_kept(
    school: School_, together: Callable[[], None]
) -> None:
    start_until(school, "requester_name")
    together()
    # "Parent" reads as a name and as a relationship: whichever comes second answers the
    # second question instead of overwriting the first answer.
    results = in_threads(lambda: school.say("sam", "Parent"), lambda: school.say("sam", "Parent"))
    assert sorted(asked(r).field for r in results) == ["about_requester", "relationship"]
    assert answers_of(school) == {"request_type": "access", "requester_name": "Parent",
                                  "relationship": "parent"}
    assert latest_conversation(school, "sam").position == "about_requester"


def test_a_conversation_that_keeps_moving_is_left_alone(
    school: School_, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_until(school, "requester_name")
    before = latest_conversation(school, "sam")
    monkeypatch.setattr(conversations, "claim", lambda ctx, conversation: False)
    replies = school.say("sam", "Jane Parent")
    assert texts(replies) == [("Sorry, I was still busy with your previous messages. Please "
                               "send that again.", "warning")]
    after = latest_conversation(school, "sam")
    assert (after.answers, after.position, after.version) == (
        before.answers, before.position, before.version)


# --- permissions ----------------------------------------------------------------------------


def _snapshot(school: School_) -> tuple[Any, ...]:
    case = the_case(school.engine)
    return case.state, case.version, case.owner_id, case.closed_on, len(events(school.engine))


@pytest.mark.parametrize("who", ["sam", "hal"])
@pytest.mark.parametrize(("verb", "label"), [("take", "take the case"), ("close", "close")])
def test_only_the_dpo_team_decides(school: School_, who: str, verb: str, label: str) -> None:
    log_case(school)
    if who == "hal":
        school.say("hal", REF)  # the head can see it...
    before = _snapshot(school)
    replies = school.say(who, f"{verb} {REF}")
    assert texts(replies) == [(f"Only the DPO or a deputy can {label}. Nothing was changed.",
                               "error")]
    assert _snapshot(school) == before  # ...but not decide: no change, no change event
    started = latest_conversation(school, who)
    assert started is None or started.status == ConversationStatus.DONE  # no form was begun


def test_staff_cannot_see_a_colleagues_case_nor_learn_it_exists(school: School_) -> None:
    log_case(school)
    for typed in (REF, f"history {REF}", f"take {REF}", f"note {REF}", f"letter {REF}"):
        assert texts(school.say("kim", typed)) == [(NOT_FOUND, "error")], typed
        missing = typed.replace(REF, "SAR-2026-0999")
        assert texts(school.say("kim", missing)) == [(NOT_FOUND.replace(REF, "SAR-2026-0999"),
                                                      "error")], missing
    table = school.say("kim", "cases")[0]
    assert isinstance(table, Table) and table.rows == ()
    assert table.title == "Your open subject access requests"
    assert events(school.engine, "sar.viewed") == []


@pytest.mark.parametrize("who", ["sam", "dee", "vic", "hal"])
def test_the_logger_and_the_dpo_team_see_the_case(school: School_, who: str) -> None:
    log_case(school)
    (card,) = school.say(who, REF)
    assert isinstance(card, Card) and card.reference == REF
    assert ("Requester", "Jane Parent (Parent or carer)") in card.rows
    commands = [b.command for b in card.buttons]
    if who in ("dee", "vic"):
        assert commands[0] == f"take {REF}" and f"close {REF}" in commands
    else:  # staff and the head may only add to it
        assert commands == [f"note {REF}"]
    table = school.say(who, "cases")[0]
    assert isinstance(table, Table) and [r[0] for r in table.rows] == [REF]


# --- two DPOs, one case ---------------------------------------------------------------------


def test_two_dpos_taking_the_same_case_one_wins(school: School_) -> None:
    log_case(school)
    for who in ("dee", "vic"):
        replies = school.say(who, f"take {REF}")
        assert texts(replies) == [(f"Take the case — {REF}.", "info")]
        assert summary(replies).title == "Please check: Take the case"
    replies = school.say("dee", "yes")
    assert texts(replies) == [(f"{REF} is yours now. You'll get its reminders.", "success")]
    replies = school.say("vic", "yes")
    assert texts(replies) == [(
        f"Dee Dpo already did “take” on {REF} (Monday 23 November 2026 at 10:00). Nothing was "
        "changed by this attempt; it is now open.", "error")]
    case = the_case(school.engine)
    assert (case.owner_id, case.version) == (school.people["dee"], 2)
    assert [e.actor_name for e in events(school.engine, "sar.take")] == ["Dee Dpo"]


def test_two_dpos_closing_the_same_case_one_wins(school: School_) -> None:
    log_case(school)
    for who in ("dee", "vic"):
        replies = [school.say(who, typed) for typed in (f"close {REF}", "1", "today", "email")]
        assert texts(replies[2]) == [("Responded on: Monday 23 November 2026.", "info")]
        check = summary(replies[-1])
        assert check.rows == (("1. Outcome", "Disclosed in full"),
                              ("2. Responded on", "Monday 23 November 2026"),
                              ("3. How", "Email (secure)"))
        # No confirm dialog in a chat: the warning is on the summary itself.
        assert check.notes == ("Closing is final: afterwards the record can only be added to.",)
    school.now += timedelta(minutes=5)
    replies = school.say("vic", "yes")
    assert texts(replies)[0][1] == "success"
    replies = school.say("dee", "yes")
    assert texts(replies) == [(
        f"Vic Deputy already did “close” on {REF} (Monday 23 November 2026 at 10:05). Nothing "
        "was changed by this attempt; it is now closed.", "error")]
    case = the_case(school.engine)
    assert (case.state, case.version, case.closed_on) == (SarState.CLOSED, 2, date(2026, 11, 23))
    assert [e.actor_name for e in events(school.engine, "sar.close")] == ["Vic Deputy"]


def test_the_loser_is_told_who_decided_not_who_last_wrote_a_note(school: School_) -> None:
    log_case(school)
    for who in ("dee", "vic"):
        school.says(who, f"close {REF}", "1", "today", "email")
    school.say("dee", "yes")
    school.now += timedelta(minutes=2)
    school.says("hal", f"note {REF}", "Parent phoned to say thank you", "yes")
    school.say("dee", f"letter {REF} response")
    replies = school.say("vic", "yes")
    assert texts(replies) == [(
        f"Dee Dpo already did “close” on {REF} (Monday 23 November 2026 at 10:00). Nothing "
        "was changed by this attempt; it is now closed.", "error")]


def test_two_dpos_confirming_at_the_same_moment_change_the_case_once(
    school: School_, together: Callable[[], None]
) -> None:
    log_case(school)
    for who in ("dee", "vic"):
        school.says(who, f"close {REF}", "1", "today", "email")
    together()
    results = in_threads(lambda: school.say("dee", "yes"), lambda: school.say("vic", "yes"))
    tones = sorted(texts(r)[0][1] for r in results)
    assert tones == ["error", "success"]
    loser = next(texts(r)[0][0] for r in results if texts(r)[0][1] == "error")
    winner = events(school.engine, "sar.close")
    assert len(winner) == 1
    assert loser == (
        f"{winner[0].actor_name} already did “close” on {REF} (Monday 23 November 2026 at "
        "10:00). Nothing was changed by this attempt; it is now closed.")
    assert (the_case(school.engine).version, the_case(school.engine).state) == (2, SarState.CLOSED)


def test_a_stale_double_click_says_it_was_already_done(school: School_) -> None:
    log_case(school)
    # The same person confirms the same action from two places (a DM and an old thread).
    school.say("dee", f"take {REF}", channel="dm")
    school.say("dee", f"take {REF}", channel="thread")
    assert texts(school.say("dee", "yes", channel="dm"))[0][1] == "success"
    replies = school.say("dee", "yes", channel="thread")
    assert texts(replies) == [(
        f"You already did “take” on {REF} (Monday 23 November 2026 at 10:00). Nothing was "
        "changed by this attempt; it is now open.", "error")]
    # A second "yes" in the same place: already done, nothing more.
    replies = school.say("dee", "yes", channel="dm")
    assert texts(replies) == [(
        f"There is nothing waiting for a “yes”: “Take the case” on {REF} is finished. "
        f"Type “{REF}” to see where it stands.", "warning")]
    # And starting it again is refused before any question is asked.
    assert texts(school.say("dee", f"take {REF}")) == [("It is already yours.", "error")]
    assert the_case(school.engine).version == 2
    assert len(events(school.engine, "sar.take")) == 1


# --- audit ----------------------------------------------------------------------------------


def test_every_read_and_change_is_audited(school: School_) -> None:
    log_case(school)
    school.now += timedelta(minutes=1)
    school.say("dee", REF)
    school.adapter = "slack"
    school.now += timedelta(minutes=1)
    school.say("vic", f"history {REF}")
    school.adapter = "terminal"
    school.now += timedelta(minutes=1)
    school.says("dee", f"take {REF}", "yes")
    school.now += timedelta(minutes=1)
    school.says("sam", REF)
    case_id = the_case(school.engine).id
    got = [(e.action, e.actor_name, e.adapter, e.at, e.subject_id, e.subject_ref, e.detail)
           for e in events(school.engine)]
    t = school.now - timedelta(minutes=4)
    assert got == [
        ("sar.created", "Sam Teacher", "terminal", t, case_id, REF,
         {"request_type": "access", "received_on": "2026-11-22", "due_on": "2026-12-22"}),
        ("sar.viewed", "Dee Dpo", "terminal", t + timedelta(minutes=1), case_id, REF, {}),
        ("sar.viewed", "Vic Deputy", "slack", t + timedelta(minutes=2), case_id, REF,
         {"what": "history"}),
        ("sar.take", "Dee Dpo", "terminal", t + timedelta(minutes=3), case_id, REF, {}),
        ("sar.viewed", "Sam Teacher", "terminal", t + timedelta(minutes=4), case_id, REF, {}),
    ]
    (history,) = school.say("dee", f"history {REF}")
    assert isinstance(history, Table)
    assert history.rows == (
        ("23 Nov 2026 10:00", "Sam Teacher", "created", "", "terminal"),
        ("23 Nov 2026 10:01", "Dee Dpo", "viewed", "", "terminal"),
        ("23 Nov 2026 10:02", "Vic Deputy", "viewed", "", "slack"),
        ("23 Nov 2026 10:03", "Dee Dpo", "take", "", "terminal"),
        ("23 Nov 2026 10:04", "Sam Teacher", "viewed", "", "terminal"),
    )


def test_the_case_list_says_who_and_what_only_to_who_may_see_the_case(
        school: School_) -> None:
    log_case(school)
    for who in ("sam", "dee"):  # who logged it, and the DPO
        (sars, *_) = school.say(who, "cases")
        assert isinstance(sars, Table) and sars.columns[-1] == "Who and what"
        (row,) = sars.rows
        assert row[0] == REF and row[-1].startswith("Jane Parent (parent) about Tom Parent: ")
        assert len(row[-1]) <= 70
    shown = text_of(school.say("kim", "cases")) + text_of(school.say("kim", "all cases"))
    assert REF not in shown and "Jane" not in shown
    with Session(school.engine) as session:
        listed = session.exec(select(AuditEvent).where(AuditEvent.action == "sar.listed")).all()
    assert [(e.actor_name, e.detail["references"]) for e in listed] == [
        ("Sam Teacher", [REF]), ("Dee Dpo", [REF])]


def test_the_case_list_puts_the_most_urgent_first(school: School_) -> None:
    log_case(school)  # due Tuesday 22 December 2026
    log_case(school, ref="SAR-2026-0002", received_at="4/10")  # due Wednesday 4 November
    log_case(school, ref="SAR-2026-0003", id_needed="yes")  # no clock until the ID arrives
    tables = school.say("dee", "cases")  # one table per workflow
    (table,) = [t for t in tables if t.title == "All open subject access requests"]
    assert isinstance(table, Table)
    kind = "Subject access request"  # each row says its kind: the workflow has several
    assert tuple(row[:5] for row in table.rows) == (
        ("SAR-2026-0002", "Open", "Wed 04 Nov 2026", "overdue by 19 days", kind),
        (REF, "Open", "Tue 22 Dec 2026", "29 days", kind),
        ("SAR-2026-0003", "Waiting for ID or authority", "clock stopped", "", kind),
    )


# --- user text stays text -------------------------------------------------------------------

HOSTILE = "<!channel> [bold]x[/bold] & <script>alert(1)</script>"


def test_user_text_is_kept_and_returned_verbatim(school: School_) -> None:
    school.say("sam", TRIGGER)
    for name in FIELDS:
        typed = HOSTILE if name in ("requester_name", "details") else ANSWERS[name]
        replies = school.say("sam", typed)
    check = summary(replies)
    assert check.rows[1] == ("2. Requester", HOSTILE)
    assert check.rows[10] == ("11. What is asked for", HOSTILE)
    edit = asked(school.say("sam", "edit 2"))
    assert edit.current == HOSTILE
    school.say("sam", "")
    replies = school.say("sam", "yes")
    case = the_case(school.engine)
    assert (case.requester_name, case.details) == (HOSTILE, HOSTILE)
    card = replies[-1]
    assert isinstance(card, Card)
    assert ("Requester", f"{HOSTILE} (Parent or carer)") in card.rows
    assert ("Asked for", HOSTILE) in card.rows
    # A bad email echoes what was typed, unescaped too.
    start_until(school, "requester_email")
    assert texts(school.say("sam", "<!here>")) == [(
        "“<!here>” does not look like an email address (like name@example.org).", "error")]


def test_the_terminal_prints_user_text_literally(school: School_) -> None:
    school.say("sam", TRIGGER)
    for name in FIELDS:
        replies = school.say("sam", HOSTILE if name == "requester_name" else ANSWERS[name])
    edit = school.say("sam", "edit 2")
    back = school.say("sam", "")
    saved = school.say("sam", "yes")
    console = Console(record=True, width=100, color_system=None)
    for reply in [*replies, *edit, *back, *saved]:
        render(console, reply)
    # An error that echoes what was typed is drawn as typed too.
    start_until(school, "requester_email")
    for reply in school.say("sam", "[bold]x[/bold]@"):
        render(console, reply)
    shown = console.export_text()
    assert "“[bold]x[/bold]@” does not look like an email address" in shown
    assert shown.count(HOSTILE) == 4  # the summary twice, the card and the edit prompt
    assert f"{HOSTILE} (Parent or carer)" in shown
    assert f"Currently: {HOSTILE} (press Enter to keep it)" in shown
    assert "&amp;" not in shown and "&lt;" not in shown
