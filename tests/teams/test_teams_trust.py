"""One Teams bot for a trust's schools (one Microsoft 365 tenant): each person acts at their
own school, a trust DPO at whichever they choose, and a button at its case's school.

Two schools, Hillside and Oakwood, each with the usual people. Hillside's are reached in
Teams as ``29:sam``, ``29:dee``…; Oakwood's as ``29:b-sam``, ``29:b-dee``…, unless a test
makes one person of the two (a trust DPO, the same Teams account at both).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.authentication.msal import MsalConnectionManager
from sqlalchemy import Engine
from sqlmodel import select

from bot.teams import cards
from bot.teams.app import TeamsBot
from bot.teams.delivery import deliver_once
from tests.conftest import School_, make_school
from workflows.audit.models import AuditEvent
from workflows.breach.models import Breach
from workflows.core.engine import Target
from workflows.database import session_scope, utcnow
from workflows.notifications.addresses import ChatAddress
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.reminders.service import sweep
from workflows.sar.models import RightsRequest, SarState
from workflows.schools.models import School

from .harness import Teams, actions, card_of, log_sar, run, settings, words
from .test_teams_app import breach_inputs
from .test_teams_delivery import FakeConnector, cloud_adapter, forbidden, point_at


def trust(engine: Engine, *, hillside: str = "hillside.sch.uk", oakwood: str = "oakwood.sch.uk"
          ) -> tuple[Teams, School_, School_]:
    """Hillside and Oakwood (staff email domains as given), served by one bot: no --school."""
    a = make_school(engine)
    b = make_school(engine, "Oakwood Academy", "oakwood")
    with session_scope(engine) as session:
        session.get(School, a.school_id).email_domains = hillside
        session.get(School, b.school_id).email_domains = oakwood
    config = settings()
    bot = TeamsBot(engine, MsalConnectionManager(**config.sdk), client_id=config.client_id,
                   tenant_id=config.tenant_id)
    assert bot.served == (a.school_id, b.school_id)
    teams = Teams(school=a, bot=bot)
    for who in a.people:
        link(a, who, f"29:{who}")
        link(b, who, f"29:b-{who}")
    return teams, a, b


def link(school: School_, who: str, account: str | None, email: str | None = None) -> None:
    with session_scope(school.engine) as session:
        person = session.get(Person, school.people[who])
        person.teams_user_id, person.email = account, email


def person(school: School_, who: str) -> Person:
    with session_scope(school.engine) as session:
        return session.get(Person, school.people[who])


def named(engine: Engine, name: str) -> list[Person]:
    with session_scope(engine) as session:
        return list(session.exec(select(Person).where(Person.name == name)))


def sar_at(school: School_) -> RightsRequest:
    with session_scope(school.engine) as session:
        return session.exec(select(RightsRequest).where(
            RightsRequest.school_id == school.school_id)).one()


def by_chat(sent: list[Activity]) -> dict[str, list[dict[str, Any]]]:
    """Cards delivered, by the personal chat they went to."""
    out: dict[str, list[dict[str, Any]]] = {}
    for activity in sent:
        out.setdefault(activity.conversation.id, []).append(card_of(activity))
    return out


async def deliver(teams: Teams) -> dict[str, list[dict[str, Any]]]:
    """One delivery pass of the one bot (through one adapter: each card names its chat)."""
    adapter = teams.adapter("dee")
    before = len(adapter.activity_queue)
    await deliver_once(teams.bot, adapter)
    sent = adapter.activity_queue[before:]
    for activity in sent:
        teams.check(card_of(activity))
    return by_chat(sent)


# Newcomers


def test_a_newcomer_joins_the_school_their_email_domain_names(engine: Engine) -> None:
    teams, a, b = trust(engine)
    teams.emails["29:newt"] = "Newt@Oakwood.sch.uk"

    card = run(teams.say("newt", "hello"))

    (newt,) = named(engine, "Newt")
    assert (newt.school_id, newt.role, newt.teams_user_id) == (b.school_id, "staff", "29:newt")
    assert "Which school" not in words(card)
    with session_scope(engine) as session:
        (address,) = session.exec(select(ChatAddress)).all()
    assert (address.person_id, address.school_id) == (newt.id, b.school_id)


def test_a_newcomer_on_a_trust_wide_domain_is_asked_which_school(engine: Engine) -> None:
    teams, a, b = trust(engine, hillside="hillside.sch.uk, trust.org.uk",
                        oakwood="oakwood.sch.uk,trust.org.uk")
    teams.emails["29:nia"] = "nia@trust.org.uk"
    adapter = teams.adapter("nia")

    async def go() -> list[str]:
        # Installing says hello: here, the question.
        sent = await teams.send(adapter, Activity(
            type=ActivityTypes.conversation_update, from_property=teams.account("nia"),
            members_added=[adapter.conversation.agent]))
        said = [words(card_of(sent[0]))]
        for text in ("I need to report a breach", "the moon", "2"):
            said.append(words(await teams.say("nia", text)))
        said.append(words(await teams.say("nia", "I need to report a breach")))
        return said

    welcome, first, unknown, answered, then = run(go())
    for question in (welcome, first, unknown):
        assert "Which school do you work at?" in question
        assert "1. Hillside Primary" in question and "2. Oakwood Academy" in question
    assert "set up as staff at Oakwood Academy" in answered, answered
    assert "Question 1 of" in then, then
    (nia,) = named(engine, "Nia")
    assert (nia.school_id, nia.role, nia.email) == (b.school_id, "staff", "nia@trust.org.uk")


def test_a_stranger_is_refused_without_naming_one_of_the_schools(engine: Engine) -> None:
    teams, _, _ = trust(engine)

    said = words(run(teams.say("zed", "hello", tenant="99999999-9999-9999-9999-999999999999")))

    assert "I only work for our schools" in said and "Hillside" not in said
    assert named(engine, "Zed") == []


# A trust DPO


def trust_dpo(a: School_, b: School_) -> None:
    """Dee is the DPO of both schools, set up at each by email; Teams has not met her."""
    link(a, "dee", None, "dee@trust.org.uk")
    link(b, "dee", None, "Dee@Trust.org.uk")


def test_a_trust_dpo_is_linked_at_both_and_logs_a_case_at_the_school_she_chose(
        engine: Engine) -> None:
    teams, a, b = trust(engine)
    trust_dpo(a, b)
    teams.emails["29:dee"] = "dee@trust.org.uk"

    async def go() -> list[str]:
        said = [words(await teams.say("dee", "cases"))]
        said.append(words(await teams.say("dee", "school oakwood")))
        said.append(words(await teams.say("dee", "school")))
        reference = await log_sar(teams, "dee")
        said.append(reference)
        return said

    _, switched, where, reference = run(go())
    assert person(a, "dee").teams_user_id == person(b, "dee").teams_user_id == "29:dee"
    assert "now working with Oakwood Academy" in switched, switched
    assert "You're working with Oakwood Academy" in where, where
    case = sar_at(b)
    assert case.reference == reference and case.created_by_id == b.people["dee"]
    with session_scope(engine) as session:
        assert session.exec(select(RightsRequest).where(
            RightsRequest.school_id == a.school_id)).all() == []
        # Her one personal chat reaches both of her records.
        reached = {c.person_id for c in session.exec(select(ChatAddress))}
    assert reached == {a.people["dee"], b.people["dee"]}


def test_a_dpo_added_at_a_second_school_by_email_is_linked_there(engine: Engine) -> None:
    """Teams cannot look an email up: her first school's record vouches for the second."""
    teams, a, b = trust(engine)
    link(a, "dee", "29:dee", "Dee@Trust.org.uk")  # long known in Teams at Hillside
    link(b, "dee", None, "dee@trust.org.uk")  # then set up at Oakwood by email
    with session_scope(engine) as session:  # a later duplicate there: left alone
        session.add(Person(school_id=b.school_id, name="D. Dpo", email="dee@trust.org.uk"))

    switched = words(run(teams.say("dee", "school oakwood")))

    assert "now working with Oakwood Academy" in switched, switched
    assert person(b, "dee").teams_user_id == "29:dee"
    assert named(engine, "D. Dpo")[0].teams_user_id is None


def test_a_card_form_is_saved_at_the_school_it_was_opened_for(engine: Engine) -> None:
    teams, a, b = trust(engine)
    link(b, "dee", "29:dee")  # one Teams account, a record at each school

    async def go() -> dict[str, Any]:
        await teams.say("dee", "school oakwood")
        form = await teams.say("dee", "breach form")
        assert "This is for Oakwood Academy" in words(form), words(form)
        assert actions(form)["Next"]["data"] == {"workflow": "breach", "school": b.school_id}
        await teams.say("dee", "school hillside")  # changes her mind about the chat, not this
        summary, _ = await teams.click("dee", actions(form)["Next"], breach_inputs())
        saved, _ = await teams.click("dee", actions(summary)["Save"])
        return saved

    saved = run(go())
    assert "Saved as BRE-" in words(saved), words(saved)
    with session_scope(engine) as session:
        (breach,) = session.exec(select(Breach)).all()
    assert breach.school_id == b.school_id


def test_a_trust_dpo_decides_on_the_other_schools_case(engine: Engine) -> None:
    teams, a, b = trust(engine)
    link(b, "dee", "29:dee")

    async def go() -> tuple[dict[str, Any], str]:
        await teams.say("dee", "hi")  # working with Hillside, the first
        reference = await log_sar(teams, "b-sam")  # Oakwood's Sam
        chats = await deliver(teams)
        (alert,) = chats["a:personal-dee"]
        assert reference in words(alert)
        assert alert["refresh"]["userIds"] == ["29:dee", "29:b-vic"]
        assert alert["refresh"]["action"]["data"] == {"ref": reference, "school": b.school_id}
        message_id = teams.adapter("dee").activity_queue[-1].id
        mine, _ = await teams.click("dee", alert["refresh"]["action"], on=message_id)
        take = actions(mine)["Take the case"]
        assert Target.parse(take["data"]["value"]).school_id == b.school_id
        decided, _ = await teams.click("dee", take, on=message_id)
        return decided, words(await teams.say("dee", "school"))

    decided, where = run(go())
    assert "Take the case: Dee Dpo" in words(decided), words(decided)
    assert "You're working with Hillside Primary" in where, where
    assert sar_at(b).owner_id == b.people["dee"]


def test_a_deputy_of_one_school_cannot_act_on_the_others_case(engine: Engine) -> None:
    teams, a, b = trust(engine)

    async def go() -> list[str]:
        await teams.say("vic", "hi")  # Hillside's deputy only
        reference = await log_sar(teams, "b-sam")
        case = sar_at(b)
        forged = Target(reference, case.version, b.school_id).value
        said = []
        for data, verb in (({"action": "take", "value": forged}, cards.ACT),
                           ({"action": "extend", "value": forged}, cards.ACT),
                           ({"action": "take", "value": forged}, cards.DECIDE),
                           ({"ref": reference, "school": b.school_id}, cards.REFRESH)):
            answer, _ = await teams.click("vic", {"type": "Action.Execute", "verb": verb,
                                                  "data": data})
            said.append(words(answer))
        return said

    for said in run(go()):
        assert said == "I can't find that case among yours.", said
    case = sar_at(b)
    assert case.owner_id is None and case.state == SarState.OPEN and case.version == 1
    with session_scope(engine) as session:
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action.in_(["sar.take", "sar.extend", "sar.viewed"]))).all() == []


# Delivery


def test_one_bot_delivers_both_schools_alerts_and_reminders(engine: Engine) -> None:
    teams, a, b = trust(engine)

    async def go() -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
        for who in ("dee", "b-dee"):
            await teams.say(who, "hi")
        ours, theirs = await log_sar(teams, "sam"), await log_sar(teams, "b-sam")
        alerts = await deliver(teams)
        for chat, reference, school, team in (
                ("a:personal-dee", ours, a, ["29:dee", "29:vic"]),
                ("a:personal-b-dee", theirs, b, ["29:b-dee", "29:b-vic"])):
            (alert,) = alerts[chat]
            assert reference in words(alert) and "Jane Parent" in words(alert)
            assert alert["refresh"]["userIds"] == team
            assert alert["refresh"]["action"]["data"]["school"] == school.school_id
        day = utcnow().replace(hour=11, minute=0) + timedelta(days=40)
        for _ in range(10):  # past a weekend and a bank holiday or two
            if sweep(engine, now=day).sent:
                break
            day += timedelta(days=1)
        return alerts, await deliver(teams)

    alerts, reminders = run(go())
    assert set(alerts) == set(reminders) == {"a:personal-dee", "a:personal-b-dee"}
    for chat in reminders:
        assert any("OVERDUE" in words(card) for card in reminders[chat]), chat


def test_someone_unreachable_is_reported_to_their_own_schools_dpo_team(engine: Engine) -> None:
    teams, a, b = trust(engine)

    async def go() -> None:
        await teams.say("b-dee", "hi")
        await log_sar(teams, "b-sam")
        async with FakeConnector(lambda n: forbidden()) as fake:
            point_at(b, "dee", fake.url)
            assert await deliver_once(teams.bot, cloud_adapter(), backoff=0.01) == 0

    run(go())
    with session_scope(engine) as session:
        (report,) = session.exec(select(Notification).where(
            Notification.kind == "teams.unreachable")).all()
    assert (report.person_id, report.school_id) == (b.people["vic"], b.school_id)
    assert "I can't reach Dee Dpo in Microsoft Teams" in report.text
