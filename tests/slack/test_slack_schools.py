"""One Slack workspace for a trust's schools: `dpo-bot slack` without --school serves them all.

Each person acts at their own school: newcomers are placed by their email's domain or asked,
a trust DPO chooses the school they work with in the chat, and a button acts at its own
case's school, never at another. On SQLite and PostgreSQL, against the fake Slack Web API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import col, select

from tests.conftest import School_, make_school
from workflows.audit.models import AuditEvent
from workflows.core.engine import Target
from workflows.database import session_scope
from workflows.people.models import Person, Role
from workflows.sar.models import RightsRequest
from workflows.schools.models import School

from .fake_slack import FakeSlack, dm_channel_id
from .reading import words
from .test_slack_app import DPO, STAFF, USERS, Workspace, button_for

TRUST, OLLIE, NIA = "U0TRUST01", "U0OAK0001", "U0NEW0001"
PEOPLE: dict[str, dict[str, Any]] = {
    **USERS,
    TRUST: {"name": "tia", "real_name": "Tia Trust", "email": "tia@trust.example"},
    OLLIE: {"name": "ollie", "real_name": "Ollie Oak", "email": "ollie@oakwood.example"},
    NIA: {"name": "nia", "real_name": "Nia New", "email": "nia@trust.example"},
}


class Trust(Workspace):
    """Hillside (Dee is its DPO) and Oakwood, with Tia the trust DPO at both, in one app."""

    def __init__(self, hillside: School_, oakwood: School_, fake: FakeSlack,
                 workers: int) -> None:
        self.oakwood = oakwood
        super().__init__(hillside, fake, workers)

    def dm(self, user: str, text: str) -> str:
        """Say something in the bot's DM; returns what the bot said back."""
        before = len(self.said_to(user))
        self.live.send(self.slack.message_im(text, user_id=user))
        self.live.settle()
        said = self.said_to(user)
        assert len(said) > before, f"no answer to {text!r}"
        return "\n".join(said[before:])

    def said_to(self, user: str) -> list[str]:
        return [words(c.args.get("blocks") or []) or c.args.get("text", "")
                for c in self.fake.calls("chat.postMessage")
                if c.response.get("channel") == dm_channel_id(user)]

    def records(self, email: str) -> list[tuple[str, str, str | None]]:
        with session_scope(self.engine) as session:
            return sorted((school.slug, person.role, person.slack_user_id)
                          for school, person in session.exec(
                              select(School, Person).join(Person)
                              .where(Person.email == email)))

    def sar(self, reference: str, school: School_) -> RightsRequest:
        with session_scope(self.engine) as session:
            return session.exec(select(RightsRequest).where(
                RightsRequest.reference == reference,
                RightsRequest.school_id == school.school_id)).one()


@pytest.fixture
def trust(school: School_, request: pytest.FixtureRequest) -> Iterator[Trust]:
    """The core in threads, or (``indirect`` parameter 2) in two worker processes."""
    oakwood = make_school(school.engine, "Oakwood Primary", "oakwood")
    with session_scope(school.engine) as session:
        session.get(Person, school.people["sam"]).slack_user_id = STAFF
        session.get(Person, school.people["dee"]).email = USERS[DPO]["email"]
        for found, role in ((school, Role.DEPUTY), (oakwood, Role.DPO)):
            session.get(School, found.school_id).email_domains = (
                "school.example,trust.example" if found is school
                else "oakwood.example,trust.example")
            session.add(Person(school_id=found.school_id, name="Tia Trust", role=role,
                               email=PEOPLE[TRUST]["email"]))
    with FakeSlack(users=PEOPLE) as fake:
        workspace = Trust(school, oakwood, fake, getattr(request, "param", 0))
        try:
            yield workspace
            workspace.live.settle()
        finally:
            workspace.live.close()


def test_newcomers_join_the_school_of_their_email_or_say_which(trust: Trust) -> None:
    # Ollie's domain is Oakwood's alone: he joins it as staff at his first word.
    assert "I help Oakwood Primary" in trust.dm(OLLIE, "hi")
    assert trust.records(PEOPLE[OLLIE]["email"]) == [("oakwood", "staff", OLLIE)]

    # Nia's is the whole trust's: she is asked, and nothing is made until she answers.
    asked = trust.dm(NIA, "hi")
    assert "Which school do you work at?" in asked
    assert "1. Hillside Primary" in asked and "2. Oakwood Primary" in asked
    assert trust.records(PEOPLE[NIA]["email"]) == []
    # A shortcut before answering opens no form: the question comes to her DM (and to the
    # modal opened at once, which asks nothing).
    trust.live.send(trust.slack.shortcut("start:sar", user_id=NIA))
    trust.live.settle()
    (opened,) = trust.fake.calls("views.open")
    assert "submit" not in trust.fake.filled(opened)
    assert "Which school do you work at?" in trust.said_to(NIA)[-1]
    assert "Which school" in trust.dm(NIA, "the big one")  # not a school: asked again
    assert trust.records(PEOPLE[NIA]["email"]) == []

    answer = trust.slack.message_im("Oakwood", user_id=NIA)
    trust.live.send(answer)
    trust.live.settle()
    assert "you're set up as staff at Oakwood Primary" in trust.said_to(NIA)[-1]
    assert trust.records(PEOPLE[NIA]["email"]) == [("oakwood", "staff", NIA)]
    said = len(trust.said_to(NIA))
    trust.live.send(answer)  # Slack's retry of her answer, after she was placed
    trust.live.settle()
    assert len(trust.said_to(NIA)) == said
    assert "Your open" in trust.dm(NIA, "cases")  # and she is simply staff from now on


@pytest.mark.parametrize("trust", [0, 2], indirect=True, ids=["threads", "workers"])
def test_a_trust_dpo_works_with_one_school_at_a_time_and_buttons_act_at_their_own(
        trust: Trust) -> None:
    oak_case = trust.log_sar(OLLIE)  # Ollie joins Oakwood on his first shortcut
    hill_case = trust.log_sar(STAFF)
    assert trust.live.deliver() >= 3
    # Tia was set up by email at both schools: the first delivery found her in Slack, and
    # both records are linked to her one account.
    assert trust.records(PEOPLE[TRUST]["email"]) == [("hillside", "deputy", TRUST),
                                                     ("oakwood", "dpo", TRUST)]
    # Each alert's buttons carry their own school.
    # Both schools' first SAR is SAR-2026-0001: each alert to her says whose it is.
    assert oak_case == hill_case
    oak_alert = trust.alert_for("Oakwood Primary: New subject access request", TRUST)
    take = Target.parse(button_for(oak_alert.args["blocks"], "take")["value"])
    assert (take.reference, take.school_id) == (oak_case, trust.oakwood.school_id)
    # Dee, Hillside's DPO, hears of Hillside's case and nothing of Oakwood's.
    to_dee = [c.args for c in trust.fake.calls("chat.postMessage")
              if c.response.get("channel") == dm_channel_id(DPO)]
    dee_saw = json.dumps(to_dee)
    assert [a["text"].startswith("New: SAR-") for a in to_dee] == [True]
    assert "New subject access request" in json.dumps(to_dee[0]["blocks"])
    assert "Oakwood" not in dee_saw
    assert "Hillside Primary: " not in dee_saw  # one school: no heading

    # She works with Hillside (first by name) until she chooses otherwise.
    assert "“school oakwood” to work with Oakwood Primary" in trust.dm(TRUST, "help")
    listed = trust.dm(TRUST, "school")
    assert "You're working with Hillside Primary" in listed and "Oakwood Primary" in listed
    assert "Unknown Academy" in trust.dm(TRUST, "school Unknown Academy")
    assert "now working with Oakwood Primary" in trust.dm(TRUST, "school oakwood")
    assert oak_case in trust.dm(TRUST, "cases")  # typed: at the school she works with
    # The intake says which school a new case is for.
    modal = trust.open_intake(TRUST)
    assert "This is for Oakwood Primary" in words(modal["blocks"])

    # Back to Hillside, then "take" on Oakwood's alert: it acts at Oakwood all the same.
    assert "now working with Hillside Primary" in trust.dm(TRUST, "switch to hillside")
    trust.live.send(trust.click(oak_alert, "take", user=TRUST))
    trust.live.settle()
    with session_scope(trust.engine) as session:
        tia_at_oakwood = session.exec(select(Person.id).where(
            Person.slack_user_id == TRUST, Person.school_id == trust.oakwood.school_id)).one()
    assert trust.sar(oak_case, trust.oakwood).owner_id == tia_at_oakwood
    assert trust.sar(hill_case, trust.school).owner_id is None
    with session_scope(trust.engine) as session:
        chosen = session.exec(select(AuditEvent).where(AuditEvent.action == "school.chosen")
                              .order_by(col(AuditEvent.id))).all()
        assert [e.school_id for e in chosen] == [trust.oakwood.school_id,
                                                 trust.school.school_id]


def test_a_button_from_another_school_is_refused(trust: Trust) -> None:
    oak_case = trust.log_sar(OLLIE)
    trust.live.deliver()
    oak_alert = trust.alert_for(oak_case, TRUST)
    element = button_for(oak_alert.args["blocks"], "take")
    # Dee is Hillside's DPO only. The value of Oakwood's button, sent as hers, does nothing.
    trust.live.send(trust.slack.block_actions(element["action_id"], value=element["value"],
                                              user_id=DPO, channel_id=dm_channel_id(DPO)))
    trust.live.settle()
    assert "I can't find that case among yours." in trust.said_to(DPO)[-1]
    assert trust.sar(oak_case, trust.oakwood).owner_id is None
    # Nor does typing its reference: it is looked up at her own school.
    assert "I can't find a case" in trust.dm(DPO, oak_case)
    # And a trust member's own case list stays with the school: Dee sees no Oakwood case.
    assert oak_case not in trust.dm(DPO, "cases")


def test_with_several_schools_a_shared_channel_is_not_used(trust: Trust) -> None:
    from dataclasses import replace

    trust.live.bot.settings = replace(trust.live.bot.settings, dpo_channel="C0TEAM001",
                                      alert_channel="C0ALERT01")
    reference = trust.log_sar(STAFF)
    trust.live.deliver()
    channels = {c.args["channel"] for c in trust.fake.calls("chat.postMessage")}
    assert not channels & {"C0TEAM001", "C0ALERT01"}
    assert reference in json.dumps(trust.alert_for(reference, DPO).args)
