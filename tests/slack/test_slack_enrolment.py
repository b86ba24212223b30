"""Who may talk to the Slack bot at all, attacked as outsiders would, on SQLite and PostgreSQL.

Signed requests reach the real Bolt app; the fake Web API's users.info says what Slack would
of each account (a guest, a deleted user, a Slack Connect user of another workspace, an
email outside the school's domains, an account Slack will not describe). None is enrolled,
none hears anything of the school's cases, each refusal is audited without their name or
email, and `dpo-bot people add` admits the DPO's exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from tests.conftest import School_
from workflows.audit.models import AuditEvent
from workflows.database import session_scope
from workflows.people.models import Person
from workflows.schools.membership import account_digest
from workflows.schools.models import School

from .fake_slack import FakeSlack, dm_channel_id
from .reading import words
from .test_slack_app import STAFF, USERS, Workspace

GUEST, SINGLE, GONE, CONNECT, GMAIL, GHOST, BOT = (
    "U0GUEST01", "U0GUEST02", "U0GONE001", "U0CONNECT", "U0GMAIL01", "U0GHOST01", "U0BOTUSER")
OUTSIDERS: dict[str, dict[str, Any]] = {
    GUEST: {"real_name": "Gus Guest", "email": "gus@school.example", "is_restricted": True},
    SINGLE: {"real_name": "Sid Single", "email": "sid@school.example",
             "is_ultra_restricted": True},
    GONE: {"real_name": "Gail Gone", "email": "gail@school.example", "deleted": True},
    CONNECT: {"real_name": "Cara Connect", "email": "cara@school.example",
              "team_id": "T0ELSEWHERE"},
    GMAIL: {"real_name": "Eve Outside", "email": "eve@elsewhere.example"},
    BOT: {"real_name": "Zap Bot", "email": "zap@school.example", "is_bot": True},
}
REASONS = {GUEST: "guest", SINGLE: "guest", GONE: "deleted", CONNECT: "elsewhere",
           GMAIL: "domain", GHOST: "unverified", BOT: "guest"}


@pytest.fixture
def ws(school: School_) -> Iterator[Workspace]:
    """Hillside, whose staff's email is @school.example, with Sam linked and a case open."""
    with session_scope(school.engine) as session:
        session.get(School, school.school_id).email_domains = "school.example"
        session.get(Person, school.people["sam"]).slack_user_id = STAFF
    with FakeSlack(users={**USERS, **OUTSIDERS}) as fake:
        for user, info in OUTSIDERS.items():
            if "team_id" in info:  # a Slack Connect user is of their own workspace
                fake.users[user]["team_id"] = info["team_id"]
        workspace = Workspace(school, fake)
        try:
            yield workspace
            workspace.live.settle()
        finally:
            workspace.live.close()


def said_to(ws: Workspace, user: str) -> list[str]:
    return [words(c.args.get("blocks") or []) or c.args.get("text", "")
            for c in ws.fake.calls("chat.postMessage")
            if c.response.get("channel") == dm_channel_id(user)]


def refusals(ws: Workspace) -> list[AuditEvent]:
    with session_scope(ws.engine) as session:
        return list(session.exec(select(AuditEvent)
                                 .where(AuditEvent.action == "enrolment.refused")))


def people(ws: Workspace) -> set[str]:
    with session_scope(ws.engine) as session:
        return set(session.exec(select(Person.name)))


def test_each_kind_of_outsider_is_refused_politely_and_audited(ws: Workspace) -> None:
    reference = ws.log_sar(STAFF)  # the school has a case an outsider must not hear of
    before = people(ws)
    for user in REASONS:
        ws.live.send(ws.slack.message_im("cases", user_id=user))
        ws.live.send(ws.slack.message_im(reference, user_id=user))
        ws.live.send(ws.slack.shortcut("start:sar", user_id=user))
        ws.live.send(ws.slack.slash_command("/dpo", reference, user_id=user))
        ws.live.settle()

    assert people(ws) == before  # nobody was enrolled
    # Sam's intake, and for each outsider's shortcut a modal that only says no: no form.
    opened = ws.fake.wait_for("views.open", 1 + len(REASONS))
    assert len(opened) == 1 + len(REASONS)
    for each in opened[1:]:
        shown = ws.fake.filled(each)
        assert "add you" in words(shown["blocks"]) and "submit" not in shown, shown
    for user in REASONS:
        said = "\n".join(said_to(ws, user))
        assert said.count("ask your data protection officer to add you") == 4, (user, said)
        assert reference not in said and "Your open" not in said
    assert "guest account" in said_to(ws, GUEST)[0]
    assert "belongs to another organisation" in said_to(ws, CONNECT)[0]
    assert "email address is not one of the school's" in said_to(ws, GMAIL)[0]
    # The slash command's own answer (ephemeral) says nothing of the case either.
    assert reference not in json.dumps([c.args for c in ws.fake.calls("response_url")])

    audited = refusals(ws)
    assert len(audited) == 4 * len(REASONS)
    assert {(e.subject_ref, e.detail["reason"]) for e in audited} == {
        (account_digest("slack", user), reason) for user, reason in REASONS.items()}
    trail = json.dumps([[e.actor_name, e.actor_id, e.subject_ref, e.detail] for e in audited])
    for user, info in OUTSIDERS.items():  # no name, email or Slack id in the audit
        assert user not in trail and info["email"] not in trail
        assert info["real_name"] not in trail


def test_a_member_of_the_school_is_still_enrolled_by_their_first_dm(ws: Workspace) -> None:
    assert "Kit Newcomer" not in people(ws)
    ws.live.send(ws.slack.message_im("hello", user_id="U0STAFF02"))  # kit@school.example
    ws.live.settle()
    assert "Kit Newcomer" in people(ws)
    assert refusals(ws) == []


def test_the_dpo_admits_a_guest_with_people_add(ws: Workspace) -> None:
    from bot.cli import app

    ws.live.send(ws.slack.message_im("hello", user_id=GUEST))
    ws.live.settle()
    assert "guest account" in said_to(ws, GUEST)[-1]

    url = ws.engine.url.render_as_string(hide_password=False)
    added = CliRunner().invoke(app, ["people", "add", "Gus Guest", "--email",
                                     "gus@school.example"], env={"DPO_BOT_DATABASE_URL": url})
    assert added.exit_code == 0, added.output
    # A deleted account is never admitted, set up or not; nor another organisation's by
    # email (only `--slack-id` names an account of another workspace).
    for name, email in (("Gail Gone", "gail@school.example"),
                        ("Cara Connect", "cara@school.example")):
        CliRunner().invoke(app, ["people", "add", name, "--email", email],
                           env={"DPO_BOT_DATABASE_URL": url})

    for user in (GUEST, GONE, CONNECT):
        ws.live.send(ws.slack.message_im("cases", user_id=user))
    ws.live.settle()
    assert "can't help you here" not in said_to(ws, GUEST)[-1], said_to(ws, GUEST)[-1]
    with session_scope(ws.engine) as session:
        linked = {name: account for name, account
                  in session.exec(select(Person.name, Person.slack_user_id)).all()}
    assert linked["Gus Guest"] == GUEST
    assert linked["Gail Gone"] is None and linked["Cara Connect"] is None
    assert "can't help you here" in said_to(ws, CONNECT)[-1]

    added = CliRunner().invoke(app, ["people", "add", "Cara Connect", "--slack-id", CONNECT],
                               env={"DPO_BOT_DATABASE_URL": url})
    assert added.exit_code == 0, added.output
    ws.live.send(ws.slack.message_im("cases", user_id=CONNECT))
    ws.live.settle()
    assert "can't help you here" not in said_to(ws, CONNECT)[-1]


def test_in_a_trust_an_outsider_cannot_pick_a_school_whose_domain_they_lack(
        school: School_) -> None:
    from tests.conftest import make_school

    oakwood = make_school(school.engine, "Oakwood Primary", "oakwood")
    with session_scope(school.engine) as session:
        session.get(School, school.school_id).email_domains = "school.example,trust.example"
        session.get(School, oakwood.school_id).email_domains = "oakwood.example,trust.example"
    users = {"U0NIA0001": {"real_name": "Nia New", "email": "nia@trust.example"},
             "U0EVE0001": {"real_name": "Eve Outside", "email": "eve@elsewhere.example"}}
    with FakeSlack(users=users) as fake:
        ws = Workspace(school, fake)
        try:
            for text in ("hello", "Oakwood", "1"):
                ws.live.send(ws.slack.message_im(text, user_id="U0EVE0001"))
                ws.live.settle()
            eve = said_to(ws, "U0EVE0001")
            assert all("can't help you here" in said and "Oakwood" not in said
                       and "Hillside" not in said for said in eve), eve
            assert "I only work for staff of our schools" in eve[0]
            # A trust member is asked among the schools of her domain, as before.
            ws.live.send(ws.slack.message_im("hello", user_id="U0NIA0001"))
            ws.live.settle()
            assert "Which school do you work at?" in said_to(ws, "U0NIA0001")[-1]
        finally:
            ws.live.close()
    with session_scope(school.engine) as session:
        assert session.exec(select(Person).where(Person.name == "Eve Outside")).all() == []
        refused = session.exec(select(AuditEvent.school_id).where(
            AuditEvent.action == "enrolment.refused")).all()
    # Each attempt is on both schools' trails: each DPO sees who knocks at the app.
    assert sorted(refused) == sorted([school.school_id, oakwood.school_id] * 3)
