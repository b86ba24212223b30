"""A linked Slack account that Slack later calls a guest, deactivated, or another
workspace's loses access without `dpo-bot people remove` (issue 14), on SQLite and
PostgreSQL. Slack is asked again once a day an account, and at once after ``user_change``;
the DPO's exceptions (`people add` by email for a guest, by Slack id for another workspace's
account) still hold.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select
from typer.testing import CliRunner

from workflows.audit.models import AuditEvent
from workflows.database import session_scope
from workflows.people.models import Person
from workflows.schools.membership import Rechecks, account_digest

from .test_slack_app import NEWCOMER, STAFF, Workspace
from .test_slack_enrolment import CONNECT, GUEST, said_to, ws  # noqa: F401 (the fixture)

REFUSED = "can't help you here"


def user_change(space: Workspace, user: str) -> None:
    """Slack's word that an account changed, with the account as Slack now describes it."""
    space.live.send(space.slack.event({"type": "user_change", "user": space.fake.users[user],
                                 "event_ts": "1700000000.000100"}))
    space.live.settle()


def dm(space: Workspace, user: str, text: str = "cases") -> str:
    space.live.send(space.slack.message_im(text, user_id=user))
    space.live.settle()
    return said_to(space, user)[-1]


def withdrawn(space: Workspace) -> list[AuditEvent]:
    with session_scope(space.engine) as session:
        return list(session.exec(select(AuditEvent)
                                 .where(AuditEvent.action == "access.refused")))


def test_a_linked_member_made_a_guest_or_deactivated_or_moved_loses_access(
    ws: Workspace,  # noqa: F811
) -> None:
    assert REFUSED not in dm(ws, STAFF)  # Sam, linked by id, a member: answered
    assert REFUSED not in dm(ws, NEWCOMER, "hello")  # Kit enrols by their first DM
    asked = ws.fake.count("users.info")
    assert REFUSED not in dm(ws, STAFF)  # asked once a day, not at every message
    assert ws.fake.count("users.info") == asked

    ws.fake.users[STAFF]["is_restricted"] = True  # made a guest
    user_change(ws, STAFF)
    answer = dm(ws, STAFF)
    assert REFUSED in answer and "guest account" in answer, answer
    ws.fake.users[NEWCOMER]["deleted"] = True  # deactivated
    user_change(ws, NEWCOMER)
    assert REFUSED in dm(ws, NEWCOMER)

    # Still refused at the next message, each attempt audited as that record, no name.
    assert REFUSED in dm(ws, STAFF, "I need to log a subject access request")
    events = withdrawn(ws)
    assert [(e.detail["reason"], e.subject_ref) for e in events] == [
        ("guest", account_digest("slack", STAFF)), ("deleted", account_digest("slack", NEWCOMER)),
        ("guest", account_digest("slack", STAFF))]
    assert {e.actor_name for e in events} == {"(linked account)"}
    assert all("Sam" not in str(e.detail) and "Kit" not in str(e.detail) for e in events)
    with session_scope(ws.engine) as session:  # no `people remove`: their records stand
        assert all(p.active for p in session.exec(select(Person)))

    # Back to a member of the workspace: answered again after Slack says so.
    ws.fake.users[STAFF]["is_restricted"] = False
    user_change(ws, STAFF)
    assert REFUSED not in dm(ws, STAFF)
    # Moved to another workspace (Slack no longer describes them as this one's).
    ws.fake.users[STAFF]["team_id"] = "T0ELSEWHERE"
    user_change(ws, STAFF)
    assert REFUSED in dm(ws, STAFF)
    assert withdrawn(ws)[-1].detail["reason"] == "elsewhere"


def test_the_dpos_exceptions_keep_access_after_a_recheck(ws: Workspace) -> None:  # noqa: F811
    from bot.cli import app

    url = ws.engine.url.render_as_string(hide_password=False)
    for args in (["Gus Guest", "--email", "gus@school.example"],
                 ["Cara Connect", "--slack-id", CONNECT]):
        added = CliRunner().invoke(app, ["people", "add", *args],
                                   env={"DPO_BOT_DATABASE_URL": url})
        assert added.exit_code == 0, added.output
    for user in (GUEST, CONNECT):
        assert REFUSED not in dm(ws, user)
        user_change(ws, user)
        assert REFUSED not in dm(ws, user)
    # A guest the DPO admitted who is then deactivated is refused all the same.
    ws.fake.users[GUEST]["deleted"] = True
    user_change(ws, GUEST)
    assert REFUSED in dm(ws, GUEST)
    assert [e.detail["reason"] for e in withdrawn(ws)] == ["deleted"]


def test_an_account_is_asked_about_again_after_a_day() -> None:
    rechecks, now = Rechecks(), datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert rechecks.due("U1", now)
    rechecks.note("U1", now, "guest")
    assert not rechecks.due("U1", now + timedelta(hours=23, minutes=59))
    assert rechecks.reason("U1") == "guest"
    assert rechecks.due("U1", now + timedelta(days=1))
    rechecks.forget("U1")
    assert rechecks.due("U1", now) and rechecks.reason("U1") is None
