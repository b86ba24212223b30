"""Tried as a new user would, in the Teams harness: a SAR, a breach and a software request
from the card forms, saved, then decided step by step by the DPO on the one card the alert
came in, never typing a reference. Each decision answers with the case and the buttons the
core now offers the clicker, keeps ``refresh.userIds`` on the shared card (which has no
buttons), a double click decides once, and a new agent on the same database carries on
from the same card. Every card activity says what it is, with no personal data. SQLite
and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from microsoft_agents.activity import Activity
from sqlmodel import select

from bot.teams import cards
from tests.conftest import School_
from workflows.audit.models import AuditEvent
from workflows.database import session_scope
from workflows.registry import WORKFLOWS

from .harness import Teams, actions, card_of, delivered_to, make_teams, run, words

SAR = {"request_type": "access", "requester_name": "Jane Parent", "relationship": "parent",
       "about_requester": "no", "subject_name": "Tom Parent", "authority_needed": "",
       "requester_email": "jane@example.org", "requester_phone": "", "requester_address": "",
       "channel": "email", "received_at": "yesterday 14:00",
       "details": "All behaviour records for Tom", "id_needed": "no"}
BREACH = {"what_happened": "Emailed Tom's report to the wrong parent", "found_at": "now",
          "ongoing": "no"}
SOFTWARE = {"product": "Maths Whizz", "website": "don't know", "purpose": "Homework",
            "users": "Years 3-6", "pupils_use": "yes", "data_kinds": "1, 4",
            "accounts_by": "Teachers", "privacy_notice": "https://mathswhizz.example/privacy",
            "storage": "UK", "min_age": "none", "dpa": "yes", "ads_ai": "no", "cost": "Free"}
DEE = ["29:dee", "29:vic"]  # the DPO team: the only ones a case card's refresh names


def inputs(values: Mapping[str, str]) -> dict[str, str]:
    return {cards.INPUT + name: value for name, value in values.items()}


class Desk:
    """The DPO's one alert card, clicked step by step (the agent may be replaced between)."""

    def __init__(self, teams: Teams, reference: str) -> None:
        self.teams, self.reference = teams, reference
        self.activity = teams.adapter("dee").activity_queue[-1]
        self.shared = card_of(self.activity)
        self.mine: dict[str, Any] = {}

    @property
    def workflow(self) -> Any:
        return next(w for w in WORKFLOWS.values()
                    if w.prefix == self.reference.split("-")[0])

    async def look(self) -> dict[str, Any]:
        """What Teams shows Dee: the shared card, refreshed for her with her buttons."""
        assert self.shared["refresh"]["userIds"] == DEE
        assert "actions" not in self.shared  # nobody gets buttons but through the refresh
        self.mine, _ = await self.teams.click("dee", self.shared["refresh"]["action"],
                                              on=self.activity.id)
        return self.mine

    async def step(self, action: str, answers: Mapping[str, str] | None = None
                   ) -> dict[str, Any]:
        label = self.workflow.action(action).label
        card, _ = await self.teams.click("dee", actions(self.mine)[label], on=self.activity.id)
        if answers is not None:  # its questions, asked on the card itself
            card, _ = await self.teams.click("dee", actions(card)["Save"], inputs(answers),
                                             on=self.activity.id)
        assert re.search(rf"{re.escape(label)}: Dee Dpo, \w+day", words(card)), words(card)
        # The message everyone sees was replaced: the same case, no buttons, the refresh kept.
        self.shared = card_of(next(a for a in self.teams.adapter("dee").activity_queue
                                   if a.id == self.activity.id))
        assert "actions" not in self.shared and self.shared["refresh"]["userIds"] == DEE
        assert card["refresh"]["userIds"] == DEE
        self.mine = card
        return card

    def offered(self) -> set[str]:
        return set(actions(self.mine))

    def restart(self) -> None:
        """A new agent on the same database (a redeploy): nothing kept in memory."""
        self.teams.bot = make_teams(self.teams.school).bot


async def save_form(teams: Teams, workflow: str, values: Mapping[str, str]) -> str:
    """The workflow's card form, from the start card, as Sam fills it in; its reference."""
    title = WORKFLOWS[workflow].title
    opened, _ = await teams.click("sam", actions(await teams.say("sam", "form"))[
        f"{title} (form)"])
    summary, _ = await teams.click("sam", actions(opened)["Next"], inputs(values))
    saved, _ = await teams.click("sam", actions(summary)["Save"])
    found = re.search(r"Saved as ([A-Z]+-\d{4}-\d{4})", words(saved))
    assert found, words(saved)
    return found.group(1)


async def alert(teams: Teams, reference: str) -> Desk:
    (card,) = [c for c in await delivered_to(teams, "dee") if reference in words(c)]
    sent: Activity = teams.adapter("dee").activity_queue[-1]
    # The notification and the chat list say what it is; never whose data.
    assert sent.summary == sent.text and sent.summary.startswith(f"New: {reference} ")
    assert card["fallbackText"] == sent.summary
    for private in ("Jane", "Tom", "Maths", "Sam"):
        assert private not in sent.summary, sent.summary
    return Desk(teams, reference)


def audited(school: School_, action: str) -> int:
    with session_scope(school.engine) as session:
        return len(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def state(school: School_, workflow: str) -> str:
    with session_scope(school.engine) as session:
        return str(session.exec(select(WORKFLOWS[workflow].model)).one().state)


def test_a_sar_taken_paused_resumed_and_closed_on_one_card(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        await teams.say("dee", "hello")  # Dee has talked to the bot: reachable
        reference = await save_form(teams, "sar", SAR)
        desk = await alert(teams, reference)
        assert re.fullmatch(rf"New: {reference} subject access request: \d+ days left",
                            desk.activity.summary)
        await desk.look()
        assert "Take the case" in desk.offered()

        # A double click: one decision; the second click is told why, on the current case.
        take = actions(desk.mine)["Take the case"]
        first, _ = await teams.click("dee", take, on=desk.activity.id)
        second, _ = await teams.click("dee", take, on=desk.activity.id)
        assert "Take the case: Dee Dpo" in words(first)
        assert "You already did “take”" in words(second)
        for card in (first, second):
            assert "Pause for clarification" in actions(card)
            assert "Take the case" not in actions(card)
        desk.mine = second

        await desk.step("pause", {"asked_on": "today", "question": "Which years?"})
        assert "Clarification received" in desk.offered()
        assert "Pause for clarification" not in desk.offered()
        desk.restart()  # halfway: the same card goes on working with a new agent
        await desk.look()
        await desk.step("resume", {"answered_on": "today"})
        assert "Pause for clarification" in desk.offered()
        await desk.step("close", {"outcome": "disclosed_full", "responded_on": "today",
                                  "method": "email"})
        assert desk.offered() <= {"Add a note"}  # closed: nothing left to decide

    run(go())
    assert audited(school, "sar.take") == 1 and state(school, "sar") == "closed"


def test_a_breach_decided_and_closed_on_one_card(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        await teams.say("dee", "hello")
        reference = await save_form(teams, "breach", BREACH)
        desk = await alert(teams, reference)
        assert re.fullmatch(rf"New: {reference} breach: \d+ hours left to tell the ICO",
                            desk.activity.summary), desk.activity.summary
        await desk.look()
        await desk.step("not_reportable", {"reason": "Recalled unread"})
        assert "Decide on telling people" in desk.offered() and "Close" not in desk.offered()
        desk.restart()
        await desk.look()
        await desk.step("tell_people", {"tell": "no", "exemption": "not_high",
                                        "reason": "Deleted unread; low risk"})
        assert "Close" in desk.offered()
        await desk.step("close", {"remedial": "Recall set up", "lessons": "Check addresses"})
        assert desk.offered() <= {"Add an update"}

    run(go())
    assert state(school, "breach") == "closed"


def test_a_software_request_asked_about_then_approved_on_one_card(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        await teams.say("dee", "hello")
        reference = await save_form(teams, "software", SOFTWARE)
        desk = await alert(teams, reference)
        await desk.look()
        await desk.step("ask", {"question": "Which classes?"})
        assert "Approve" in desk.offered()  # asking decides nothing
        desk.restart()
        await desk.look()
        await desk.step("approve", {"reason": "Fine", "dpia": "done",
                                    "dpia_note": "Done in May"})
        assert not {"Approve", "Reject", "Approve with conditions"} & desk.offered()

    run(go())
    assert state(school, "software") == "approved"
