"""The one line a notification, the chat list and Slack's search show before a message is
opened: a case's reference, what it is and its clock, never a name or what was typed."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.conftest import PARENT_SAR, School_
from workflows.core import headline
from workflows.core.engine import card
from workflows.core.ui import Question, Summary, Text
from workflows.database import session_scope
from workflows.registry import WORKFLOWS


def test_a_case_reads_as_its_reference_kind_and_clock_then_its_state(school: School_) -> None:
    school.says("sam", *PARENT_SAR, "yes")
    sar = WORKFLOWS["sar"]
    with session_scope(school.engine) as session:
        ctx = school.context(session, "dee")
        case = session.exec(select(sar.model)).one()
        line = headline.of_case(ctx, sar, case, "new")
        assert re.fullmatch(r"New: SAR-\d{4}-0001 subject access request: \d+ days left", line)
        assert card(ctx, sar, case).headline == line.removeprefix("New: ")
        case.state = "closed"
        assert headline.of_case(ctx, sar, case).endswith("subject access request: closed")
    for private in ("Jane", "Tom", "Sam", "behaviour"):
        assert private not in line


def test_a_message_without_a_case_says_what_kind_it_is_never_its_text() -> None:
    typed = "Amelia Smith has no consent"
    assert headline.of_replies([Text(typed)]) == "A message from the DPO bot"
    assert headline.of_replies([Text(typed, "error")]) == (
        "Not done: open this message to see why")
    asked = Question("name", f"Did you mean {typed}?", "", "text", 2, 9, False)
    assert headline.of_replies([Text(typed), asked]) == "Question 2 of 9"
    assert headline.of_replies([Summary("Breach report", (("Who", typed),))]) == (
        "Check and save: Breach report")
