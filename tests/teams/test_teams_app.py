"""The Teams adapter end to end: the real agent (AgentApplication) driven by Microsoft's
TestAdapter and TestFlow, on SQLite and PostgreSQL.

A. Personal chat: every workflow from a first message to a stored case; the SAR as a TestFlow.
B. Card forms: a validation error shown on the card, then Save, then the follow-up in chat.
C. Decisions: Action.Execute by the DPO, refusal for staff, a double click decided once,
   reasons asked on the card, the buttons only for the DPO team (refresh.userIds).
D. Proactive: conversation references stored on install and first message; a reminder
   delivered through continue_conversation.
E. Who may talk to it: unknown users and other organisations get a clear answer.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.testing import TestFlow
from sqlmodel import col, select

from bot.teams import cards
from tests.conftest import PARENT_SAR, School_
from workflows.audit.models import AuditEvent
from workflows.core.fields import Kind
from workflows.core.models import Conversation, ConversationStatus
from workflows.database import session_scope, utcnow
from workflows.notifications.addresses import ChatAddress
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.registry import WORKFLOWS
from workflows.reminders.service import sweep
from workflows.sar.models import RightsRequest, SarState

from .harness import (
    TENANT_ID,
    Teams,
    actions,
    card_of,
    delivered_to,
    log_sar,
    make_teams,
    run,
    words,
)

ANSWERS = {  # an answer any field of its kind takes
    Kind.TEXT: "Example answer", Kind.LONG_TEXT: "A longer example answer.",
    Kind.CHOICE: "1", Kind.YES_NO: "no", Kind.DATE: "yesterday",
    Kind.DATETIME: "yesterday 09:00", Kind.EMAIL: "someone@example.org",
    Kind.PHONE: "01234 567890", Kind.URL: "example.org", Kind.NUMBER: "3",
    Kind.MULTI_CHOICE: "1, 2",
}


def cases(teams: Teams, workflow: str) -> list[Any]:
    with session_scope(teams.school.engine) as session:
        return list(session.exec(select(WORKFLOWS[workflow].model)))


def asking(teams: Teams, who: str) -> Conversation | None:
    with session_scope(teams.school.engine) as session:
        return session.exec(
            select(Conversation).where(
                Conversation.person_id == teams.school.people[who],
                Conversation.channel_key == f"teams:a:personal-{who}",
                col(Conversation.status).in_(["asking", "confirming"]))
        ).first()


# A. Personal chat


def test_sar_by_testflow_from_first_message_to_stored_case(school: School_) -> None:
    teams = make_teams(school)
    adapter = teams.adapter("sam")
    flow = TestFlow(adapter, teams.bot.app.on_turn)

    def card_says(*expected: str):
        def check(reply: Activity) -> None:
            card = card_of(reply)
            teams.check(card)
            for text in expected:
                assert text in words(card), words(card)
        return check

    async def go() -> None:  # TestFlow schedules each step as it is chained: inside a loop
        steps = flow.send(PARENT_SAR[0]).assert_reply(card_says("Subject access request",
                                                                "Question 1 of"))
        for answer in PARENT_SAR[1:-1]:
            steps = steps.send(answer).assert_reply(card_says("Question"))
        steps = steps.send(PARENT_SAR[-1]).assert_reply(card_says("Jane Parent",
                                                                  "“save” to save"))
        steps = steps.send("yes").assert_reply(card_says("Saved as SAR-", "Jane Parent"))
        await steps.start_test()

    run(go())

    (case,) = cases(teams, "sar")
    assert (case.requester_name, case.subject_name) == ("Jane Parent", "Tom Parent")
    with session_scope(school.engine) as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "sar.created")).one()
        assert audit.adapter == "teams"


def test_every_workflow_runs_in_the_chat_to_a_stored_case(school: School_) -> None:
    """Generic over the registry: a workflow landed tomorrow runs here with no Teams code."""
    teams = make_teams(school)

    async def go() -> None:
        for name, workflow in WORKFLOWS.items():
            card = await teams.say("dee", workflow.triggers[0])
            tried: dict[str, int] = {}
            for _ in range(60):
                current = asking(teams, "dee")
                assert current is not None, words(card)
                if current.status == ConversationStatus.CONFIRMING:
                    break
                field = workflow.intake.field(current.position)
                # Some fields read their own shapes (a list of kinds of data): "1" then.
                attempt = tried.get(field.name, 0)
                tried[field.name] = attempt + 1
                card = await teams.say("dee", (ANSWERS[field.kind], "1")[min(attempt, 1)])
            card = await teams.say("dee", "yes")
            assert f"Saved as {workflow.prefix}-" in words(card), (name, words(card))
            assert len(cases(teams, name)) == 1, name
            if asking(teams, "dee") is not None:  # a follow-up (breach): put it aside
                await teams.say("dee", "cancel")

    run(go())


def test_a_teacher_asks_about_photo_consent_and_lists_her_cases(school: School_) -> None:
    """Photo consent is open to all staff by default, answered per use in her own chat; her
    case list says who and what."""
    from tests.test_consent import export, run_import

    run_import(school, export("sims"))
    teams = make_teams(school)
    photo = words(run(teams.say("sam", "class photo 4B")))
    assert "You named no use, so this is for class and individual photos by an external " \
           "photographer." in photo
    assert "Harry Patel" in photo and "Olly" not in photo
    every = words(run(teams.say("sam", "class consent 4B")))
    assert "Harry Patel · every use: expired: given Wednesday 4 September 2024" in every
    assert every.count("expired") == 1
    run(log_sar(teams, "sam"))
    listed = words(run(teams.say("sam", "cases")))
    assert "Jane Parent (parent) about Tom Parent: All behaviour records for Tom" in listed


def test_a_redelivered_message_is_answered_once(school: School_) -> None:
    teams = make_teams(school)
    adapter = teams.adapter("sam")
    reference = adapter.conversation

    async def deliver() -> int:
        """The same activity (same id), as Teams redelivers it: TestAdapter would renumber
        it, so its turn is built and run directly through the adapter's pipeline."""
        activity = Activity(type=ActivityTypes.message, id="1700000000001",
                            text="I need to report a breach", from_property=teams.account("sam"),
                            recipient=reference.agent, conversation=reference.conversation,
                            service_url=reference.service_url, channel_id="msteams")
        before = len(adapter.activity_queue)
        await adapter.run_pipeline(adapter.create_turn_context(activity), teams.bot.app.on_turn)
        return len(adapter.activity_queue) - before

    assert run(deliver()) == 1
    assert run(deliver()) == 0
    conversation = asking(teams, "sam")
    assert conversation is not None and conversation.position == "what_happened"


def test_a_long_teams_conversation_id_fits_the_database(school: School_) -> None:
    """Real personal-chat ids run past a hundred characters; the core keys them by digest."""
    teams = make_teams(school)
    adapter = teams.adapter("sam", conversation="a:1" + "x" * 180)

    async def go() -> None:
        for text in ("I need to report a breach", "A list went to the wrong parent."):
            sent = await teams.send(adapter, Activity(type=ActivityTypes.message, text=text,
                                                      from_property=teams.account("sam")))
            assert "Question" in words(card_of(sent[0]))

    run(go())
    with session_scope(school.engine) as session:
        (conversation,) = session.exec(select(Conversation)).all()
    assert conversation.position != "what_happened" and len(conversation.channel_key) < 64


def test_user_text_is_never_markdown(school: School_) -> None:
    teams = make_teams(school)
    evil = "**Jane** [click](https://evil.example) <at>everyone</at>"

    async def go() -> dict[str, Any]:
        answers = list(PARENT_SAR)
        answers[2] = evil
        return await teams.says("sam", *answers)

    summary = run(go())
    assert evil in words(summary)

    def blocks(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [node.get("type", "")] + [t for v in node.values() for t in blocks(v)]
        if isinstance(node, list):
            return [t for v in node for t in blocks(v)]
        return []

    # Only TextRuns carry text: Teams parses markdown in TextBlocks and FactSets.
    every_type = {t for card in teams.cards for t in blocks(card)}
    assert "TextBlock" not in every_type and "FactSet" not in every_type, every_type


# B. Card forms


def breach_inputs(**changes: str) -> dict[str, str]:
    values = {"what_happened": "A spreadsheet of pupil names went to the wrong parent.",
              "found_at": "yesterday 16:00", "ongoing": "no"}
    values.update(changes)
    return {cards.INPUT + k: v for k, v in values.items()}


def test_a_card_form_shows_errors_on_the_card_then_saves_once(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        listing = await teams.say("sam", "form")
        opened, _ = await teams.click("sam", actions(listing)["Breach report (form)"])
        inputs = {i["id"]: i for i in opened["body"] if i.get("type", "").startswith("Input.")}
        assert inputs["field.what_happened"]["isMultiline"] is True
        assert inputs["field.ongoing"]["type"] == "Input.ChoiceSet"

        # A date in the future: refused on the card, next to its input; nothing saved.
        tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
        bad, _ = await teams.click("sam", actions(opened)["Next"],
                                   {**breach_inputs(found_at=tomorrow),
                                    "field.found_at.time": "09:00"})
        body = bad["body"]
        where = next(i for i, e in enumerate(body) if e.get("id") == "field.found_at")
        after = words(body[where + 2:where + 4])
        assert "is in the future" in after, words(bad)
        assert body[where]["value"] == tomorrow  # what was chosen is kept, in its pickers
        assert body[where + 1] == {**body[where + 1], "type": "Input.Time", "value": "09:00"}
        assert cases(teams, "breach") == []

        summary, _ = await teams.click("sam", actions(bad)["Next"], breach_inputs())
        assert "A spreadsheet of pupil names" in words(summary)
        assert cases(teams, "breach") == []  # nothing until Save
        saved, more = await teams.click("sam", actions(summary)["Save"])
        assert "Saved as BRE-" in words(saved), words(saved)
        # The rest of the breach is asked in the chat, answer by answer.
        (follow_up,) = more
        assert "Question 1 of" in words(card_of(follow_up))
        again, _ = await teams.click("sam", actions(summary)["Save"])  # a double click
        assert "already saved" in words(again)

    run(go())
    assert len(cases(teams, "breach")) == 1


def test_every_workflow_opens_as_a_card_form_with_one_input_per_field(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        for name, workflow in WORKFLOWS.items():
            for typed in (f"{name} form", f"form {workflow.prefix.lower()}"):
                card = await teams.say("sam", typed)
                ids = [e["id"] for e in card["body"] if e.get("type", "").startswith("Input.")]
                assert ids == [cards.INPUT + f.name + suffix for f in workflow.intake.fields
                               for suffix in ("", cards.TIME)[:1 + (f.kind is Kind.DATETIME)]
                               ], typed
                assert actions(card)["Next"]["data"] == {"workflow": name}

    run(go())


# C. Decisions


def test_the_dpo_decides_with_action_execute_and_the_card_is_replaced(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        await teams.say("dee", "hello")  # the DPO has talked to the bot: reachable
        reference = await log_sar(teams)
        (alert,) = await delivered_to(teams, "dee")
        assert reference in words(alert) and "Jane Parent" in words(alert)
        # Everyone who sees the message sees the details; only the DPO team gets buttons.
        assert "actions" not in alert
        assert alert["refresh"]["userIds"] == ["29:dee", "29:vic"]
        message_id = teams.adapter("dee").activity_queue[-1].id

        mine, _ = await teams.click("dee", alert["refresh"]["action"], on=message_id)
        assert "Take the case" in actions(mine)

        decided, _ = await teams.click("dee", actions(mine)["Take the case"], on=message_id)
        # The next steps stay on the card for the DPO: taken, it may be paused, not taken.
        assert "Pause for clarification" in actions(decided)
        assert "Take the case" not in actions(decided)
        assert decided["refresh"]["userIds"] == ["29:dee", "29:vic"]
        assert re.search(r"Take the case: Dee Dpo, \w+day \d{1,2} \w+ \d{4} at \d\d:\d\d\.",
                         words(decided)), words(decided)
        # The message itself was replaced for everyone who sees it: no buttons, which the
        # DPO team get back by the refresh, each their own.
        shared = card_of(next(a for a in teams.adapter("dee").activity_queue
                              if a.id == message_id))
        assert "actions" not in shared and shared["refresh"] == decided["refresh"]
        assert words(shared) == words({**decided, "actions": []})

    run(go())
    (case,) = cases(teams, "sar")
    assert case.owner_id == school.people["dee"]


def test_a_staff_click_on_a_dpo_button_changes_nothing(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        reference = await log_sar(teams)
        shown = await teams.say("sam", reference)  # her own case: details, no buttons
        assert "actions" not in shown
        # The DPO team, and Sam for what staff may do on their own case (add a note).
        assert shown["refresh"]["userIds"] == ["29:dee", "29:vic", "29:sam"]
        mine, _ = await teams.click("sam", shown["refresh"]["action"])
        assert list(actions(mine)) == ["Add a note"]
        with session_scope(school.engine) as session:
            version = session.exec(select(RightsRequest)).one().version
        forged = {"type": "Action.Execute", "verb": cards.ACT,
                  "data": {"action": "take", "value": f"{reference}|{version}"}}
        refused, _ = await teams.click("sam", forged)
        assert "does not allow" in words(refused) or "Only" in words(refused), words(refused)
        extend = {**forged, "data": {"action": "extend", "value": f"{reference}|{version}"}}
        refused, _ = await teams.click("sam", extend)  # a form is not even opened
        assert not any(e.get("type", "").startswith("Input.") for e in refused["body"])

    run(go())
    (case,) = cases(teams, "sar")
    assert case.owner_id is None and case.state == SarState.OPEN


def test_a_double_click_decides_once(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        reference = await log_sar(teams)
        card = await teams.say("dee", reference)
        mine, _ = await teams.click("dee", card["refresh"]["action"])
        take = actions(mine)["Take the case"]
        first, _ = await teams.click("dee", take)
        second, _ = await teams.click("dee", take)
        assert "Take the case: Dee Dpo" in words(first)
        assert "You already did “take”" in words(second), words(second)

    run(go())
    with session_scope(school.engine) as session:
        takes = session.exec(select(AuditEvent).where(AuditEvent.action == "sar.take")).all()
    assert len(takes) == 1


def test_reasons_are_asked_on_the_card(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        reference = await log_sar(teams)
        card = await teams.say("dee", reference)
        mine, _ = await teams.click("dee", card["refresh"]["action"])
        form, _ = await teams.click("dee", actions(mine)["Extend by two months"])
        assert "within the first month" in words(form)  # the confirmation, on the card
        field = WORKFLOWS["sar"].action("extend").form.fields[0]
        assert any(e.get("id") == cards.INPUT + field.name for e in form["body"])
        missing, _ = await teams.click("dee", actions(form)["Save"], {})
        assert "This is required." in words(missing)
        assert cases(teams, "sar")[0].state == SarState.OPEN
        inputs = {cards.INPUT + f.name: ANSWERS[f.kind] for f in
                  WORKFLOWS["sar"].action("extend").form.fields}
        inputs[cards.INPUT + field.name] = "The request covers five years of records."
        done, _ = await teams.click("dee", actions(missing)["Save"], inputs)
        assert "Extend by two months: Dee Dpo" in words(done), words(done)

    run(go())
    assert cases(teams, "sar")[0].extended


# D. Proactive messages


def test_installing_stores_the_personal_chat_but_never_a_group(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        adapter = teams.adapter("kim")
        sent = await teams.send(adapter, Activity(type=ActivityTypes.installation_update,
                                                  action="add",
                                                  from_property=teams.account("kim")))
        assert sent == []  # the hello comes with membersAdded, which Teams sends as well
        await teams.say("sam", "hello", group=True)

    run(go())
    with session_scope(school.engine) as session:
        stored = session.exec(select(ChatAddress)).all()
        kim = session.get(Person, school.people["kim"])
    assert [a.person_id for a in stored] == [kim.id]
    assert stored[0].reference["conversation_reference"]["conversation"]["id"] == "a:personal-kim"
    assert kim.teams_user_id == "29:kim"


def test_the_personal_chat_is_stored_once_not_rewritten_each_turn(school: School_) -> None:
    """Every turn carries its own ids; the address is where the chat is. Rewritten on each
    turn, a person's turns at once would queue on its row."""
    teams = make_teams(school)

    def stored() -> tuple[dict[str, Any], Any]:
        with session_scope(school.engine) as session:
            address = session.exec(select(ChatAddress).where(
                ChatAddress.person_id == school.people["dee"])).one()
            return address.reference, address.updated_at

    run(teams.say("dee", "hello"))
    first = stored()
    run(teams.say("dee", "help"))
    assert stored() == first
    assert first[0]["conversation_reference"]["conversation"]["id"] == "a:personal-dee"


def test_adding_the_bot_to_a_personal_chat_welcomes_and_remembers(school: School_) -> None:
    teams = make_teams(school)
    adapter = teams.adapter("hal")

    async def go() -> None:
        def welcome(reply: Activity) -> None:
            card = card_of(reply)
            teams.check(card)
            assert "Hal Head" in words(card) and "Subject access request (form)" in actions(card)

        flow = TestFlow(adapter, teams.bot.app.on_turn)
        await (flow.send_conversation_update([adapter.conversation.agent])
               .assert_reply(welcome)
               .send_conversation_update([teams.account("kim")])  # someone else: no word
               .start_test())
        assert adapter.activity_queue == []

    run(go())
    with session_scope(school.engine) as session:
        (address,) = session.exec(select(ChatAddress)).all()
    assert address.person_id == school.people["hal"]


def test_a_reminder_reaches_the_dpo_through_continue_conversation(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        await teams.say("dee", "hi")
        await log_sar(teams)
        await delivered_to(teams, "dee")  # the new-case alert
        # Reminders go out in working hours: sweep from 11:00 on the 40th day until one is sent.
        day = utcnow().replace(hour=11, minute=0) + timedelta(days=40)
        for _ in range(10):  # past a weekend and a bank holiday or two
            if sweep(school.engine, now=day).sent:
                break
            day += timedelta(days=1)
        reminders = await delivered_to(teams, "dee")
        assert any("OVERDUE" in words(card) for card in reminders), [words(c) for c in reminders]
        sent = teams.adapter("dee").activity_queue[-1]
        assert sent.conversation.id == "a:personal-dee"  # the stored personal chat

    run(go())
    with session_scope(school.engine) as session:
        waiting = session.exec(select(Notification).where(
            Notification.person_id == school.people["dee"],
            col(Notification.delivered_at).is_(None))).all()
        via = {n.delivered_via for n in session.exec(select(Notification).where(
            Notification.person_id == school.people["dee"]))}
    assert waiting == [] and via == {"teams"}


# E. Who may talk to it


def test_someone_teams_cannot_vouch_for_gets_a_clear_answer(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        card = await teams.say("zed", "I need to report a breach", aad=False)
        assert "did not tell me who you are" in words(card)
        card = await teams.say("zed", "hello", tenant="99999999-9999-9999-9999-999999999999")
        assert "another organisation" in words(card)

    run(go())
    assert "Zed" not in teams.people()


def test_a_newcomer_joins_as_staff_and_the_dpo_is_found_by_teams_id(school: School_) -> None:
    teams = make_teams(school)

    async def go() -> None:
        await teams.say("newt", "hello")
        await teams.say("dee", "cases")

    run(go())
    people = teams.people()
    assert people["Newt"].role == "staff" and people["Newt"].teams_user_id == "29:newt"
    assert people["Dee Dpo"].teams_user_id == "29:dee"
    assert sum(1 for p in people.values() if "Dee" in p.name) == 1
    assert TENANT_ID  # every test conversation carried the school's tenant
