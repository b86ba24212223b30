"""A linked Teams account that Teams later calls a guest loses access without `dpo-bot
people remove` (issue 14), on SQLite and PostgreSQL; the rule itself (the core's
``membership.still_admitted``) with each of the DPO's exceptions.
"""

from __future__ import annotations

from sqlmodel import select

from tests.conftest import School_
from workflows.audit.models import AuditEvent
from workflows.core.context import Context
from workflows.database import session_scope, utcnow
from workflows.people import service as people
from workflows.people.models import Person
from workflows.schools import membership
from workflows.schools.membership import Newcomer, account_digest
from workflows.schools.models import School

from .harness import make_teams, run, words

REFUSED = "can't help you here"


def test_a_linked_member_made_a_guest_loses_access_at_the_next_check(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        assert REFUSED not in words(await teams.say("sam", "hello"))
        teams.roles["29:sam"] = "guest"  # made a guest in the tenant
        assert REFUSED not in words(await teams.say("sam", "cases"))  # asked once a day
        teams.bot.rechecks.forget("29:sam")  # the day is over
        answer = words(await teams.say("sam", "cases"))
        assert REFUSED in answer and "guest account" in answer, answer
        teams.roles["29:sam"] = "user"  # a member again
        teams.bot.rechecks.forget("29:sam")
        assert REFUSED not in words(await teams.say("sam", "cases"))

    run(go())
    with session_scope(school.engine) as session:
        (event,) = session.exec(select(AuditEvent).where(
            AuditEvent.action == "access.refused")).all()
        assert session.get(Person, school.people["sam"]).active  # no `people remove`
    assert (event.actor_id, event.actor_name, event.subject_ref, event.detail) == (
        school.people["sam"], "(linked account)", account_digest("teams", "29:sam"),
        {"reason": "guest"})


def test_the_rule_keeps_the_dpos_exceptions_and_never_a_deactivated_account(
    school: School_,
) -> None:
    """Slack ids here; the rule is the same for every platform."""
    member = Newcomer(name="x", email=None, home="T0HOME")
    with session_scope(school.engine) as session:
        dee = session.get(Person, school.people["dee"])
        ctx = Context(session=session, school=session.get(School, school.school_id),
                      person=dee, adapter="cli", now=utcnow())
        people.add(ctx, "Gus Guest", email="gus@school.example")  # a guest, set up by email
        people.add(ctx, "Cara Connect", slack_id="U0CONNECT")  # another org's, by its id
        session.get(Person, school.people["sam"]).slack_user_id = "U0SAM"  # self-enrolled
        for person in session.exec(select(Person).where(Person.name == "Gus Guest")):
            person.slack_user_id = "U0GUS"  # linked at their first message

    def standing(account: str, **said: object) -> str | None:
        with session_scope(school.engine) as session:
            return membership.still_admitted(session, "slack", account, (school.school_id,),
                                             member.__class__(**{**member.__dict__, **said}),
                                             "T0HOME")

    assert standing("U0SAM") is None
    assert standing("U0SAM", guest=True) == "guest"
    assert standing("U0SAM", deleted=True) == "deleted"
    assert standing("U0SAM", home="T0OTHER") == "elsewhere"
    assert standing("U0SAM", home=None) == "unverified"
    assert standing("U0GUS", guest=True) is None  # the DPO admitted this guest
    assert standing("U0GUS", home="T0OTHER") == "elsewhere"  # by email: not another org's
    assert standing("U0GUS", guest=True, deleted=True) == "deleted"
    assert standing("U0CONNECT", home="T0OTHER") is None  # set up with its own id
    assert standing("U0CONNECT", deleted=True) == "deleted"
    assert standing("U0NOBODY", guest=True) is None  # not linked: enrolment's to decide
