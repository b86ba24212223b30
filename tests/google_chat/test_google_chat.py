"""The Google Chat adapter end to end: signed, Google-shaped events posted to the real
aiohttp app (the token checked against the stand-in's certificates), answers checked against
Google's Cards v2 rules, messages sent first through the stand-in's Chat API, on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt
from google.auth import jwt as google_jwt
from sqlmodel import col, select

from bot.google_chat import cards
from bot.google_chat.delivery import deliver_once
from tests.conftest import PARENT_SAR, School_, add_staff, make_school
from tests.slack.test_slack_forms import SUMMER, WINTER, typed
from workflows.audit.models import AuditEvent
from workflows.core.fields import Kind
from workflows.database import session_scope, utcnow
from workflows.notifications.addresses import ChatAddress
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.registry import WORKFLOWS
from workflows.reminders.service import sweep
from workflows.schools.models import School

from .cards_v2 import buttons_of, widgets_of, words
from .google import CHAT, KID, PROJECT, Google, message_event, pem, user
from .harness import Chat, form_inputs, give_emails, run, shown_inputs

# Each kind of field as its Cards v2 control (widget, type).
CONTROL = {Kind.CHOICE: ("selectionInput", "DROPDOWN"),
           Kind.YES_NO: ("selectionInput", "RADIO_BUTTON"),
           Kind.MULTI_CHOICE: ("selectionInput", "CHECK_BOX"),
           Kind.PERSON: ("selectionInput", "DROPDOWN"),
           Kind.DATE: ("dateTimePicker", "DATE_ONLY"),
           Kind.DATETIME: ("dateTimePicker", "DATE_AND_TIME"),
           Kind.LONG_TEXT: ("textInput", "MULTIPLE_LINE")} | {
    kind: ("textInput", "SINGLE_LINE") for kind in (Kind.TEXT, Kind.EMAIL, Kind.PHONE, Kind.URL,
                                                     Kind.NUMBER)}


@pytest.fixture
def google(tmp_path: Path) -> Iterator[Google]:
    stand_in = Google(tmp_path)
    yield stand_in
    stand_in.close()


@pytest.fixture
def chat(school: School_, google: Google) -> Chat:
    give_emails(school)
    return Chat(school, google)


async def log_sar(chat: Chat, who: str = "sam") -> str:
    said = ""
    for line in (*PARENT_SAR, "yes"):
        said = words(await chat.say(who, line))
    found = re.search(r"Saved as (SAR-\d{4}-\d{4})", said)
    assert found, said
    return found.group(1)


async def sar_alert_to_dee(chat: Chat, google: Google) -> dict[str, Any]:
    """A SAR logged by Sam, and the alert about it delivered to the DPO's DM."""
    await chat.say("dee", "hi")
    reference = await log_sar(chat)
    await deliver_once(chat.bot)
    (alert,) = [m for m in google.sent("spaces/dm-dee") if reference in words(m)]
    return alert


def test_only_tokens_google_chat_signed_for_this_app_are_let_in(chat: Chat, google: Google
                                                                ) -> None:
    # Signed as Chat would, with Chat's key id, but by a key that is not Google's.
    stranger = crypt.RSASigner.from_string(
        pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), KID)
    forged = google_jwt.encode(stranger, {"iss": CHAT, "aud": PROJECT, "iat": 0,
                                          "exp": 2**31}).decode()
    event = message_event("sam", "hello")

    async def go() -> list[int]:
        async with chat:
            statuses = []
            for token in ("", "not-a-jwt", forged, google.token(aud="999"),
                          google.token(iss="someone@example.org"),
                          google.token(exp=1, iat=0)):
                status, _ = await chat.post(event, token)
                statuses.append(status)
            good, body = await chat.post(event)
            return [*statuses, good]

    assert run(go()) == [401, 401, 401, 401, 401, 401, 200]
    with session_scope(chat.school.engine) as session:  # only the good one was heard
        linked = session.exec(select(Person).where(
            col(Person.google_chat_user_id).is_not(None))).all()
    assert [p.name for p in linked] == ["Sam Teacher"]


def test_an_app_whose_audience_is_its_url_takes_google_id_tokens_of_chat_only(
        school: School_, google: Google) -> None:
    give_emails(school)
    url = "https://bot.hillside.sch.uk/google-chat"
    chat = Chat(school, google, audience=url)
    id_token = {"iss": "https://accounts.google.com", "aud": url, "email": CHAT,
                "email_verified": True, "sub": "1"}
    event = message_event("sam", "hello")

    async def go() -> list[int]:
        async with chat:
            return [(await chat.post(event, google.token(**claims)))[0] for claims in (
                id_token, id_token | {"iss": "accounts.google.com"},
                id_token | {"email": "someone@gmail.com"},  # any Google account's ID token
                id_token | {"email_verified": False},
                id_token | {"iss": CHAT},
                id_token | {"aud": PROJECT})]

    assert run(go()) == [200, 200, 401, 401, 401, 401]


def test_a_first_message_links_the_person_set_up_by_email_and_remembers_the_dm(chat: Chat
                                                                              ) -> None:
    async def go() -> dict[str, Any]:
        async with chat:
            return await chat.say("sam", "hello")

    answer = run(go())
    assert "Hello Sam Teacher. I help Hillside Primary" in words(answer), words(answer)
    people = chat.people()
    assert people["Sam Teacher"].google_chat_user_id == "users/sam"
    with session_scope(chat.school.engine) as session:
        (address,) = session.exec(select(ChatAddress)).all()
    assert (address.platform, address.reference) == ("google_chat", {"space": "spaces/dm-sam"})


def test_adding_the_app_welcomes_with_a_form_button_per_workflow_allowed(chat: Chat) -> None:
    added = message_event("sam", "")
    added["type"] = "ADDED_TO_SPACE"
    del added["message"]

    async def go() -> dict[str, Any]:
        async with chat:
            return await chat.send(added)

    welcome = run(go())
    opened = [b["onClick"]["action"] for b in buttons_of(welcome).values()]
    assert {a["function"] for a in opened} == {cards.FORM}
    assert all(a["interaction"] == "OPEN_DIALOG" for a in opened)
    assert {p["value"] for a in opened for p in a["parameters"]} == set(WORKFLOWS)


@pytest.mark.parametrize("when", [WINTER, SUMMER], ids=["winter", "summer"])
def test_every_workflow_goes_from_a_first_message_to_a_stored_case_by_dialog(
        chat: Chat, google: Google, when: date) -> None:
    async def go() -> None:
        async with chat:
            for name, workflow in WORKFLOWS.items():
                offer = await chat.say("sam", f"{name} form")
                (opener,) = buttons_of(offer).values()
                form = await chat.click("sam", opener)
                controls = {body["name"]: (kind, body) for w in _widgets(form)
                            for kind, body in w.items() if "name" in body}
                for f in workflow.intake.fields:
                    kind, body = controls[cards.INPUT + f.name]
                    assert (kind, body.get("type")) == CONTROL[f.kind], (name, f.name)
                answers = {f.name: typed(f, when) for f in workflow.intake.fields}
                summary = await chat.click("sam", buttons_of(form)["Next"], submit=True,
                                           inputs=form_inputs(workflow.intake.fields, answers))
                assert "Save" in buttons_of(summary), words(summary)
                # Change answers gives the form back with every answer in its control.
                again = await chat.click("sam", buttons_of(summary)["Change answers"],
                                         submit=True)
                second = await chat.click("sam", buttons_of(again)["Next"], submit=True,
                                          inputs=shown_inputs(workflow.intake.fields, again))
                assert words(second) == words(summary), name  # every answer read back alike
                before = len(google.sent("spaces/dm-sam"))
                closed = await chat.click("sam", buttons_of(second)["Save"], submit=True)
                status = closed["actionResponse"]["dialogAction"]["actionStatus"]
                assert status["statusCode"] == "OK"
                posted = google.sent("spaces/dm-sam")[before:]
                assert posted and "Saved as" in words(posted[0]), name

    run(go())
    with session_scope(chat.school.engine) as session:
        for workflow in WORKFLOWS.values():
            assert len(session.exec(select(workflow.model)).all()) == 1, workflow.name


def test_a_double_save_saves_one_case_and_posts_it_once(chat: Chat, google: Google) -> None:
    workflow = WORKFLOWS["breach"]
    answers = {f.name: typed(f, WINTER) for f in workflow.intake.fields}

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with chat:
            offer = await chat.say("sam", "breach form")
            form = await chat.click("sam", next(iter(buttons_of(offer).values())))
            summary = await chat.click("sam", buttons_of(form)["Next"], submit=True,
                                       inputs=form_inputs(workflow.intake.fields, answers))
            save = buttons_of(summary)["Save"]
            return (await chat.click("sam", save, submit=True),
                    await chat.click("sam", save, submit=True))

    first, second = run(go())
    said = [r["actionResponse"]["dialogAction"]["actionStatus"] for r in (first, second)]
    assert "Saved as" in said[0]["userFacingMessage"]
    assert "already" in said[1]["userFacingMessage"].lower()
    assert sum("Saved as" in words(m) for m in google.sent("spaces/dm-sam")) == 1
    with session_scope(chat.school.engine) as session:
        assert len(session.exec(select(workflow.model)).all()) == 1


def test_the_step_by_step_chat_in_the_dm_saves_a_case(chat: Chat) -> None:
    async def go() -> str:
        async with chat:
            return await log_sar(chat)

    reference = run(go())
    assert reference.startswith("SAR-")


def test_a_dialog_with_a_validation_error_comes_back_with_the_answers_kept(chat: Chat) -> None:
    workflow = WORKFLOWS["sar"]
    answers = {f.name: typed(f, WINTER) for f in workflow.intake.fields}
    answers["requester_email"] = "jane at example dot org"

    async def go() -> dict[str, Any]:
        async with chat:
            offer = await chat.say("sam", "sar form")
            form = await chat.click("sam", next(iter(buttons_of(offer).values())))
            return await chat.click("sam", buttons_of(form)["Next"], submit=True,
                                    inputs=form_inputs(workflow.intake.fields, answers))

    again = run(go())
    assert again["actionResponse"]["type"] == "DIALOG"
    assert "Next" in buttons_of(again)  # the form again, not a summary
    assert "email" in words(again).lower()
    email = next(w["textInput"] for w in _widgets(again)
                 if w.get("textInput", {}).get("name") == cards.INPUT + "requester_email")
    assert email["value"] == "jane at example dot org"
    with session_scope(chat.school.engine) as session:
        assert session.exec(select(WORKFLOWS["sar"].model)).all() == []


def test_dpo_decides_by_button_staff_are_refused_and_a_double_click_changes_nothing(
        chat: Chat, google: Google) -> None:
    async def go() -> tuple[dict[str, Any], ...]:
        async with chat:
            await chat.say("dee", "hi")
            await chat.say("kim", "hi")
            reference = await log_sar(chat)
            assert await deliver_once(chat.bot) >= 1  # the new case, into the DPO's DM
            (alert,) = [m for m in google.sent("spaces/dm-dee") if reference in words(m)]
            plain = next(b for b in buttons_of(alert).values()
                         if "interaction" not in b["onClick"]["action"])
            # A staff member's click on the DPO's button (forwarded, or forged) is refused.
            refused = await chat.click("kim", plain, message="spaces/dm-kim/messages/x")
            decided = await chat.click("dee", plain, message="spaces/dm-dee/messages/alert")
            twice = await chat.click("dee", plain, message="spaces/dm-dee/messages/alert")
            return refused, decided, twice

    refused, decided, twice = run(go())
    assert refused["actionResponse"]["type"] == "NEW_MESSAGE"
    assert "can't find a case" in words(refused)  # as if it did not exist: nothing of it
    assert "Jane Parent" not in words(refused)
    assert decided["actionResponse"]["type"] == "UPDATE_MESSAGE"
    assert "Dee Dpo" in words(decided)  # who decided, on the updated message
    assert twice["actionResponse"]["type"] == "NEW_MESSAGE"  # told, the message left alone
    with session_scope(chat.school.engine) as session:
        events = session.exec(select(AuditEvent.action).where(
            col(AuditEvent.actor_id) == chat.school.people["dee"])).all()
    decisions = [e for e in events if not e.endswith((".viewed", ".listed"))]
    assert len(decisions) == 1, decisions


def test_a_decision_in_a_dialog_updates_the_message_it_came_from(chat: Chat, google: Google
                                                                ) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with chat:
            alert = await sar_alert_to_dee(chat, google)
            opener = buttons_of(alert)["Assign to someone"]
            assert opener["onClick"]["action"]["interaction"] == "OPEN_DIALOG"
            refused = await chat.click("sam", opener, message="spaces/dm-sam/messages/x")
            form = await chat.click("dee", opener, message="spaces/dm-dee/messages/alert")
            (field,) = WORKFLOWS["sar"].action("assign").form.fields
            wrong = await chat.click("dee", buttons_of(form)["Save"], submit=True,
                                     inputs=form_inputs((field,), {field.name: "Nobody Here"}),
                                     message="spaces/dm-dee/messages/alert")
            assert not google.updated()
            # The dialog lists the colleagues the field allows; Vic is chosen from it.
            (picker,) = [w["selectionInput"] for w in widgets_of(form)
                         if "selectionInput" in w]
            vic = next(i["value"] for i in picker["items"] if i["text"] == "Vic Deputy")
            assert picker["type"] == "DROPDOWN"
            done = await chat.click("dee", buttons_of(wrong)["Save"], submit=True,
                                    inputs=form_inputs((field,), {field.name: vic}),
                                    message="spaces/dm-dee/messages/alert")
            return refused, wrong, done

    refused, wrong, done = run(go())
    assert refused["actionResponse"]["type"] == "DIALOG"  # a notice, to the clicker alone
    assert "Only the DPO or a deputy can assign" in words(refused)  # the case's own author
    assert "I don't know “Nobody Here” as someone at the school" in words(wrong)
    assert "Not now" in buttons_of(wrong)
    assert done["actionResponse"]["dialogAction"]["actionStatus"]["statusCode"] == "OK"
    ((path, body),) = google.updated()
    assert path.startswith("/v1/spaces/dm-dee/messages/alert?")
    assert "Dee Dpo" in words(body)


def test_reminders_reach_the_dpo_proactively_in_their_dm(chat: Chat, google: Google) -> None:
    async def go() -> list[dict[str, Any]]:
        async with chat:
            await chat.say("dee", "hi")
            await log_sar(chat)
            await deliver_once(chat.bot)
            before = len(google.sent("spaces/dm-dee"))
            day = utcnow().replace(hour=11, minute=0) + timedelta(days=40)
            for _ in range(10):  # past a weekend and a bank holiday or two
                if sweep(chat.school.engine, now=day).sent:
                    break
                day += timedelta(days=1)
            assert await deliver_once(chat.bot) >= 1
            return google.sent("spaces/dm-dee")[before:]

    reminders = run(go())
    assert any("OVERDUE" in words(m) for m in reminders), [words(m) for m in reminders]
    authorised = {c.authorization for c in google.calls}
    assert authorised == {"Bearer app-test-token"}  # as the app, with its service account


def test_someone_chat_cannot_reach_is_reported_to_the_dpo_team_once(chat: Chat, google: Google
                                                                   ) -> None:
    google.refusing["spaces/dm-dee"] = 404

    async def go() -> None:
        async with chat:
            await chat.say("dee", "hi")
            await log_sar(chat)
            assert await deliver_once(chat.bot, backoff=0.01) == 0
            assert await deliver_once(chat.bot, backoff=0.01) == 0

    run(go())
    assert len(google.sent("spaces/dm-dee")) == 1  # not tried again on the next pass
    with session_scope(chat.school.engine) as session:
        reports = session.exec(select(Notification).where(
            Notification.kind == "google_chat.unreachable")).all()
    assert [r.person_id for r in reports] == [chat.school.people["vic"]]
    assert "I can't reach Dee Dpo in Google Chat" in reports[0].text
    assert "1 message for them is waiting" in reports[0].text
    del google.refusing["spaces/dm-dee"]

    async def back() -> int:
        async with chat:
            await chat.say("dee", "hello again")  # reachable again, in her DM
            return await deliver_once(chat.bot, backoff=0.01)

    assert run(back()) >= 1
    assert any("SAR-" in words(m) for m in google.sent("spaces/dm-dee")[1:])
    with session_scope(chat.school.engine) as session:
        assert session.exec(select(Notification).where(
            Notification.person_id == chat.school.people["dee"],
            col(Notification.delivered_at).is_(None))).all() == []


def test_a_newcomer_to_a_trust_says_which_school_is_theirs(school: School_, google: Google
                                                          ) -> None:
    make_school(school.engine, "Riverside Academy", "riverside")
    chat = Chat(school, google)  # one app for both schools of the trust's Workspace

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with chat:
            return await chat.say("nia", "hello"), await chat.say("nia", "Riverside Academy")

    asked, placed = run(go())
    assert "Hillside Primary" in words(asked) and "Riverside Academy" in words(asked)
    assert "Riverside Academy" in words(placed)
    with session_scope(school.engine) as session:
        nia = session.exec(select(Person).where(Person.google_chat_user_id == "users/nia")).one()
        riverside = session.exec(select(School).where(School.slug == "riverside")).one()
    assert (nia.school_id, nia.role, nia.email) == (riverside.id, "staff", "nia@hillside.sch.uk")


def test_outsiders_and_bots_are_refused_and_audited(chat: Chat) -> None:
    async def go() -> list[dict[str, Any]]:
        async with chat:
            return [
                await chat.say("eve", "hello", sender=user("eve", "eve@elsewhere.org")),
                await chat.say("robo", "hello", sender=user("robo", kind="BOT")),
                await chat.say("nomail", "hello", sender=user("nomail", "")),
            ]

    answers = run(go())
    assert "another organisation" in words(answers[0])
    assert all("I only work" in words(a) for a in answers)
    with session_scope(chat.school.engine) as session:
        refused = session.exec(select(AuditEvent).where(
            AuditEvent.action == "enrolment.refused")).all()
        strangers = session.exec(select(Person).where(
            col(Person.google_chat_user_id).is_not(None))).all()
    assert len(refused) == 3 and strangers == []
    assert all("eve" not in (e.subject_ref or "") for e in refused)


def test_nothing_personal_goes_to_a_shared_space(chat: Chat) -> None:
    room = {"name": "spaces/staffroom", "type": "ROOM", "spaceType": "SPACE",
            "singleUserBotDm": False}

    async def go() -> dict[str, Any]:
        async with chat:
            await log_sar(chat)
            return await chat.say("sam", "cases", space=room)

    answer = run(go())
    assert "SAR-" not in words(answer)
    assert "personal chat" in words(answer)


def test_typed_text_never_becomes_formatting_a_link_or_a_mention(chat: Chat) -> None:
    typed_in = '<users/all> *bold* <a href="https://evil.example">x</a> <https://evil|y>'

    async def go() -> dict[str, Any]:
        async with chat:
            return await chat.say("sam", typed_in)

    answer = run(go())
    shown = words(answer)
    assert "<users/all>" not in shown and "&lt;users/all&gt;" in shown
    assert '<a href="https://evil.example">' not in shown
    assert "<" not in answer["text"] and "*bold*" not in answer["text"]


def test_a_redelivered_message_is_answered_once(chat: Chat) -> None:
    event = message_event("sam", "I need to log a subject access request",
                          name="spaces/dm-sam/messages/1")

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with chat:
            return await chat.send(event), await chat.send(event)

    first, second = run(go())
    assert words(first) and second == {}


def _widgets(response: dict[str, Any]) -> list[dict[str, Any]]:
    from .cards_v2 import widgets_of

    return list(widgets_of(response))


def test_the_governors_report_is_no_file_here_the_answer_says_how_to_get_it(
        chat: Chat) -> None:
    """A Chat app cannot upload an attachment as itself, so the report is not sent here."""
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with chat:
            return (await chat.say("dee", "report autumn-2026"),
                    await chat.say("sam", "report autumn-2026"))

    dpo, staff = run(go())
    said = " ".join(words(dpo).split())
    assert "this chat does not let me send files" in said, said
    assert "dpo-bot report governors --term autumn-2026 --out report.pdf" in said
    assert "for the DPO, deputies, the head and governors" in words(staff)
    with session_scope(chat.school.engine) as session:  # nothing was made
        assert not session.exec(select(AuditEvent).where(
            AuditEvent.action == "report.governors")).all()


def test_a_school_with_more_people_than_a_dropdown_holds_is_asked_for_a_name(
        chat: Chat, google: Google) -> None:
    add_staff(chat.school, cards.PEOPLE)  # with the school's own, over Google's 100 items

    async def go() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with chat:
            alert = await sar_alert_to_dee(chat, google)
            form = await chat.click("dee", buttons_of(alert)["Assign to someone"],
                                    message="spaces/dm-dee/messages/alert")
            (field,) = WORKFLOWS["sar"].action("assign").form.fields
            wrong = await chat.click("dee", buttons_of(form)["Save"], submit=True,
                                     inputs=form_inputs((field,), {field.name: "Nobody Here"}),
                                     message="spaces/dm-dee/messages/alert")
            done = await chat.click("dee", buttons_of(wrong)["Save"], submit=True,
                                    inputs=form_inputs((field,), {field.name: "vic deputy"}),
                                    message="spaces/dm-dee/messages/alert")
            return form, wrong, done

    form, wrong, done = run(go())
    assert not [w for w in widgets_of(form) if "selectionInput" in w]
    (box,) = [w["textInput"] for w in widgets_of(form) if "textInput" in w]
    assert box["hintText"] == "Their name, as set up in dpo-bot"
    # The refusal says how to name someone, not a hundred names.
    assert ("I don't know “Nobody Here” as someone at the school. Type their name as it is "
            "set up in dpo-bot.") in words(wrong)
    assert "Teacher 000" not in words(wrong)
    assert done["actionResponse"]["dialogAction"]["actionStatus"]["statusCode"] == "OK"
    ((_, body),) = google.updated()
    assert "Vic Deputy" in words(body)
