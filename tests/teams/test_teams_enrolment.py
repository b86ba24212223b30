"""Who may talk to the Teams bot at all, attacked as outsiders would, on SQLite and PostgreSQL.

Through Microsoft's TestAdapter and the real agent: an activity with no tenant, another
organisation's tenant, no Entra account, a guest of the tenant, an email outside the school's
domains. None is enrolled or told anything of the school's cases, each refusal is audited
without a name or email, and card actions from a group chat never return case details.
"""

from __future__ import annotations

import json

from microsoft_agents.activity import Activity, ActivityTypes
from sqlmodel import col, select

from bot.teams import cards
from tests.conftest import School_
from workflows.audit.models import AuditEvent
from workflows.database import session_scope
from workflows.schools.membership import account_digest
from workflows.schools.models import School

from .harness import delivered_to, log_sar, make_teams, run, words

OTHER_TENANT = "99999999-9999-9999-9999-999999999999"


def refusals(school: School_) -> list[AuditEvent]:
    with session_scope(school.engine) as session:
        return list(session.exec(select(AuditEvent).where(
            AuditEvent.action == "enrolment.refused").order_by(col(AuditEvent.id))))


def test_each_kind_of_outsider_is_refused_and_audited(school: School_) -> None:
    with session_scope(school.engine) as session:
        session.get(School, school.school_id).email_domains = "school.example"
    teams = make_teams(school)
    teams.emails.update({"29:gus": "gus@school.example", "29:eve": "eve@elsewhere.example",
                         "29:nat": "nat@school.example", "29:tia": "tia@school.example"})
    teams.roles["29:gus"] = "guest"
    before = set(teams.people())

    async def go() -> tuple[str, list[str]]:
        reference = await log_sar(teams)  # a case no outsider may hear of
        said = [words(await teams.say("nat", "cases", tenant=None)),  # no tenant at all
                words(await teams.say("ola", "cases", tenant=OTHER_TENANT)),
                words(await teams.say("zed", "cases", aad=False)),
                words(await teams.say("gus", "cases")),  # a guest of the school's tenant
                words(await teams.say("eve", "cases"))]  # an email outside the domains
        return reference, said

    reference, said = run(go())
    nat, ola, zed, gus, eve = said
    assert "Teams did not tell me who you are" in nat and "did not tell me" in zed
    assert "belongs to another organisation" in ola
    assert "guest account" in gus
    assert "email address is not one of the school's" in eve
    for answer in said:
        assert "ask your data protection officer to add you" in answer
        assert reference not in answer and "Jane Parent" not in answer
    assert set(teams.people()) == before  # nobody was enrolled

    audited = refusals(school)
    assert [(e.subject_ref, e.detail) for e in audited] == [
        (account_digest("teams", f"29:{who}"), {"reason": reason}) for who, reason in (
            ("nat", "unverified"), ("ola", "elsewhere"), ("zed", "unverified"),
            ("gus", "guest"), ("eve", "domain"))]
    trail = json.dumps([[e.actor_name, e.subject_ref, e.detail] for e in audited])
    assert not any(word in trail for word in ("29:", "gus@", "eve@", "Gus", "Eve", "Nat"))

    # A member of the school with an email in its domains is enrolled as before.
    run(teams.say("tia", "hello"))
    assert teams.people()["Tia"].role == "staff"


def test_a_known_person_without_a_tenant_is_refused_too(school: School_) -> None:
    teams = make_teams(school)
    said = words(run(teams.say("dee", "cases", tenant=None)))
    assert "did not tell me who you are" in said
    assert [e.detail for e in refusals(school)] == [{"reason": "unverified"}]


def test_card_actions_from_a_group_chat_return_no_case_details(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> tuple[str, list[dict]]:
        await teams.say("dee", "hello")
        reference = await log_sar(teams)
        (alert,) = await delivered_to(teams, "dee")
        # The card pasted into a group chat: its refresh, and a decision button forged from
        # it, pressed there by the DPO herself.
        group = teams.adapter("dee", group=True)
        answers = []
        for data in ({"verb": cards.REFRESH, "data": alert["refresh"]["action"]["data"]},
                     {"verb": cards.FORM, "data": {"workflow": "sar"}}):
            invoke = Activity(type=ActivityTypes.invoke, name="adaptiveCard/action",
                              from_property=teams.account("dee"),
                              value={"action": {"type": "Action.Execute", **data},
                                     "trigger": "manual"})
            sent = await teams.send(group, invoke)
            (response,) = [a for a in sent if a.type == ActivityTypes.invoke_response]
            answers.append(response.value.body["value"])
            assert [a for a in sent if a.type == ActivityTypes.message] == []
        return reference, answers

    reference, answers = run(go())
    for answer in answers:
        shown = json.dumps(answer)
        assert "only work in a personal chat" in words(answer)
        assert reference not in shown and "Jane Parent" not in shown
        assert "actions" not in answer


def test_a_refresh_is_an_audited_read(school: School_) -> None:
    teams = make_teams(school)

    def views() -> int:
        with session_scope(school.engine) as session:
            return len(session.exec(select(AuditEvent).where(
                AuditEvent.action == "sar.viewed",
                AuditEvent.actor_id == school.people["dee"])).all())

    async def go() -> None:
        await teams.say("dee", "hello")
        await log_sar(teams)
        (alert,) = await delivered_to(teams, "dee")
        message_id = teams.adapter("dee").activity_queue[-1].id
        before = views()
        for _ in range(2):  # Teams refreshes each time the card is opened
            mine, _ = await teams.click("dee", alert["refresh"]["action"], on=message_id)
            assert "Jane Parent" in words(mine)
        assert views() == before + 2

    run(go())
