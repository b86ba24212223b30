"""Forms a teacher can trust: no surprise questions, a distinct save step, never stuck, never lost.

Issue 18: a count that grew at the end made a "yes" meant as "save" answer a new question;
a breach found days ago was not called late until the end; a long paste was refused; and a
form left unsaved reached nobody.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from tests.conftest import PARENT_SAR, School_, text_of
from workflows.core.fields import Form
from workflows.core.ui import Question, Reply, Summary, Text
from workflows.database import session_scope
from workflows.notifications.models import Notification
from workflows.registry import WORKFLOWS
from workflows.reminders.service import sweep
from workflows.sar.models import RightsRequest


def _forms() -> Iterator[tuple[str, Form]]:
    for workflow in WORKFLOWS.values():
        yield f"{workflow.name} intake", workflow.intake
        for action in workflow.actions:
            if action.form.fields:
                yield f"{workflow.name} {action.name}", action.form


def _paths(form: Form, answers: dict[str, Any], shown: list[tuple[int, int]]
           ) -> Iterator[list[tuple[int, int]]]:
    """Every way through the form: the (step, total) each question shows, to the summary.

    An answer only matters to the count where a later question reads it, so other
    questions take one answer each (their first candidate).
    """
    field = form.next_unanswered(answers)
    if field is None:
        yield shown
        return
    counted = [f.name for f in form.counted(answers)]
    here = shown + [(counted.index(field.name) + 1, len(counted))]
    read = any(field.name in f.depends for f in form.fields)
    for value in field.candidates() if read else field.candidates()[:1]:
        yield from _paths(form, {**answers, field.name: value}, here)


@pytest.mark.parametrize("name,form", list(_forms()), ids=[n for n, _ in _forms()])
def test_the_count_never_grows_on_any_path(name: str, form: Form) -> None:
    for path in _paths(form, {}, []):
        steps = [step for step, _ in path]
        totals = [total for _, total in path]
        assert steps == list(range(1, len(path) + 1)), (name, path)
        assert all(a >= b for a, b in zip(totals, totals[1:], strict=False)), (name, path)
        assert all(step <= total for step, total in path), (name, path)


def _question(replies: list[Reply]) -> Question:
    last = replies[-1]
    assert isinstance(last, Question), replies
    return last


def test_a_sar_counts_what_may_be_asked_and_a_changed_answer_adds_nothing_later(
        school: School_) -> None:
    own = PARENT_SAR[:4] + ("yes",) + PARENT_SAR[6:]  # about her own data: no "whose data"
    seen: list[tuple[int, int]] = []
    for line in own[:-1]:
        asked = _question(school.say("sam", line))
        seen.append((asked.step, asked.total))
    # 13 at most (whose data, and authority for a solicitor); each answer may drop some.
    assert seen[0] == (1, 13)
    assert seen[-1] == (11, 11)
    totals = [t for _, t in seen]
    assert totals == sorted(totals, reverse=True)
    replies = school.say("sam", own[-1])
    assert isinstance(replies[-1], Summary)
    # Changing "about themselves" counts the question it may bring before it is answered.
    asked = _question(school.say("sam", "change 4"))
    assert (asked.field, asked.step, asked.total) == ("about_requester", 4, 12)
    asked = _question(school.say("sam", "no"))
    assert (asked.field, asked.step, asked.total) == ("subject_name", 5, 12)
    assert isinstance(school.say("sam", "Tom Parent")[-1], Summary)


def test_enter_passes_an_optional_question_by_and_a_required_one_asks_again(
        school: School_) -> None:
    for line in PARENT_SAR[:7]:
        asked = _question(school.say("sam", line))
    assert (asked.field, asked.optional) == ("requester_phone", True)
    assert _question(school.say("sam", "")).field == "requester_address"  # as "skip"
    assert _question(school.say("sam", "")).field == "channel"
    refused = school.say("sam", "")
    assert _question(refused).field == "channel"
    assert "Please give an answer" in text_of(refused)


def test_yes_no_takes_words_and_yes_at_a_question_never_saves(school: School_) -> None:
    school.says("sam", "report a breach", "I emailed a pupil's report to the wrong parent",
                "today 9:00")
    said = school.says("sam", "1")
    assert "Please answer yes or no." in said
    replies = school.say("sam", "no")
    assert isinstance(replies[-1], Summary)
    assert "Type “save” to tell the DPO now." in text_of(replies)
    replies = school.say("sam", "save")
    assert "Saved as BRE-2026-0001." in text_of(replies)


def test_a_breach_found_over_72_hours_ago_is_called_late_at_once(school: School_) -> None:
    school.says("sam", "report a breach", "A laptop was left on a train")
    replies = school.say("sam", "last Thursday 9:00")  # Thursday 19 November
    assert "is that right?" in text_of(replies)
    replies = school.say("sam", "yes")
    warned = [r for r in replies if isinstance(r, Text) and r.tone == "warning"]
    assert warned and "already late. Tell the DPO now" in warned[0].text
    assert "Sunday 22 November 2026 at 09:00" in warned[0].text
    assert _question(replies).field == "ongoing"
    replies = school.say("sam", "no")
    assert "already late" in text_of(replies)


def test_a_long_paste_is_kept_to_the_limit_and_the_person_told(school: School_) -> None:
    for line in PARENT_SAR[:11]:
        school.say("sam", line)
    pasted = ("Please send me every record you hold about Tom. " * 80).strip()
    assert len(pasted) > 3000
    replies = school.say("sam", pasted)
    said = [r.text for r in replies if isinstance(r, Text)]
    assert said and f"That was {len(pasted):,} characters" in said[0]
    assert "I kept the first 3,000" in said[0]
    school.say("sam", "no")
    school.say("sam", "save")
    with session_scope(school.engine) as session:
        case = session.exec(select(RightsRequest)).one()
        assert case.details == pasted[:3000].rstrip()


def _notes(school: School_, who: str) -> list[str]:
    with session_scope(school.engine) as session:
        return [n.text for n in session.exec(
            select(Notification).where(Notification.person_id == school.people[who],
                                       col(Notification.kind) == "reminder.unfinished"))]


def test_an_abandoned_breach_reaches_the_dpo_team_without_its_details(school: School_) -> None:
    start = school.now
    school.says("sam", "report a breach", "Sent Amelia's SEN report to the wrong parent")
    sweep(school.engine, now=start + timedelta(minutes=10))
    assert _notes(school, "sam") == [] and _notes(school, "dee") == []
    sweep(school.engine, now=start + timedelta(minutes=16))
    (mine,) = _notes(school, "sam")
    assert "Breach report" in mine and "not saved yet" in mine and "Reply here" in mine
    assert "The DPO team has been told" in mine
    for who in ("dee", "vic"):
        (theirs,) = _notes(school, who)
        assert "Sam Teacher started a breach report at 10:00 today" in theirs
        assert "Amelia" not in theirs and "SEN" not in theirs
    assert _notes(school, "kim") == [] and _notes(school, "hal") == []
    # Sent once: another sweep later sends nothing more.
    sweep(school.engine, now=start + timedelta(hours=2))
    assert len(_notes(school, "dee")) == 1


def test_a_form_still_being_answered_or_saved_is_not_nudged(school: School_) -> None:
    start = school.now
    school.say("sam", PARENT_SAR[0])
    school.now = start + timedelta(minutes=25)
    school.say("sam", PARENT_SAR[1])  # still answering: the nudge waits
    sweep(school.engine, now=start + timedelta(minutes=31))
    assert _notes(school, "sam") == []
    sweep(school.engine, now=start + timedelta(minutes=56))
    (mine,) = _notes(school, "sam")
    assert "Subject access request" in mine
    assert _notes(school, "dee") == []  # a request's nudge is the person's own
    # A breach saved within the time reaches nobody as unfinished.
    school.now = start + timedelta(hours=1)
    school.says("sam", "report a breach", "Lost a USB stick", "now", "no", "save")
    sweep(school.engine, now=start + timedelta(hours=3))
    assert _notes(school, "dee") == []
