"""Photo consent in Slack's DM: a teacher's question answered per use, and the withdrawal
sentence probed by a member of staff who may not look pupils up: every name gets the same
answer, with nothing of who is on roll, their class or any flag (SQLite and PostgreSQL, real
Bolt app, fake Web API)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from tests.conftest import School_
from tests.test_consent import export as consent_export
from tests.test_consent import restrict_lookups, run_import
from workflows.consent.models import Consent, Status
from workflows.database import session_scope
from workflows.notifications.models import Notification

from .fake_slack import FakeSlack
from .test_slack_app import DPO, STAFF, USERS, Workspace, workspace
from .test_slack_enrolment import said_to


@pytest.fixture
def ws(school: School_) -> Iterator[Workspace]:
    """Sam (staff, no consent lookup) linked by Slack id, Dee the DPO by email."""
    with FakeSlack(users=USERS) as fake:
        yield from workspace(school, fake)


def test_a_withdrawal_in_the_dm_reveals_no_pupil(ws: Workspace) -> None:
    """At a school that restricts lookups to a list Sam is not on."""
    run_import(ws.school, consent_export("sims"))
    restrict_lookups(ws.school)
    answers = {}
    for name in ("Grace Taylor", "Amelia", "Nobody Atall"):  # flagged, two pupils, none
        ws.live.send(ws.slack.message_im(f"{name}'s mum withdrew consent for the website",
                                         user_id=STAFF))
        ws.live.settle()
        answers[name] = said_to(ws, STAFF)[-1]
    for name, answer in answers.items():
        assert answer == answers["Amelia"].replace("“Amelia”", f"“{name}”"), answer
        assert "passed to the DPO team" in answer
        assert not any(secret in answer for secret in ("4B", "Year", "Smith", "Khan",
                                                       "NO PHOTOS", "Pupils with"))
    with session_scope(ws.engine) as session:
        withdrawn = session.exec(select(Consent).where(
            Consent.status == Status.WITHDRAWN, Consent.pending_mis)).all()
        assert len(withdrawn) == 1  # Grace's, at once; the others wait for the DPO to match
        to_match = [n for n in session.exec(select(Notification))
                    if n.kind == "consent.withdrawal_to_match"]
    assert {n.person_id for n in to_match} == {ws.school.people["dee"],
                                               ws.school.people["vic"]}
    ws.live.deliver()
    told = "\n".join(said_to(ws, DPO))
    assert "“Amelia”" in told and "matches 2 pupils" in told and "matches no pupil" in told


def test_a_teacher_asks_about_a_class_photo_in_the_dm(ws: Workspace) -> None:
    """By default any member of staff may ask (DOMAIN.md 4), privately: the class photo is
    answered for the photographer's use, saying so; a pupil refused elsewhere is not listed."""
    run_import(ws.school, consent_export("sims"))
    ws.live.send(ws.slack.message_im("class photo 4B", user_id=STAFF))
    ws.live.settle()
    answer = said_to(ws, STAFF)[-1]
    assert "You named no use, so this is for class and individual photos by an external " \
           "photographer." in answer
    assert "Grace Taylor" in answer and "Harry Patel" in answer
    assert "Olly" not in answer and "Zoë" not in answer
    ws.live.send(ws.slack.message_im("Can I put Amelia Smith on the website?", user_id=STAFF))
    ws.live.settle()
    assert "Yes: Amelia Smith (4B, Year 4) may appear." in said_to(ws, STAFF)[-1]
