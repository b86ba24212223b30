"""Everyday phrasing: how staff and DPOs actually ask, answered the first time.

One table, from the README's examples, the issue's reports (“take sar-2026-2”, “can Mo go on
twitter”) and the ways a teacher between lessons types: each line is sent through the
terminal chat, Slack's DM (a real Bolt app, signed requests, the fake Web API) and Teams'
personal chat (Microsoft's TestAdapter), and must start the right form, take the right action
or answer with the right words, never “didn't understand” plus a whole help.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlmodel import col, select

from tests.conftest import PARENT_SAR, School_, text_of
from tests.test_consent import PUPILS, export, run_import
from tests.test_software import MATHS_APP
from workflows.core.conversation import ACTIVE
from workflows.core.models import Conversation
from workflows.database import session_scope
from workflows.people.models import Person


@dataclass(frozen=True)
class Form:
    """The message starts this workflow's form (or, with ``action``, that action on a case)."""

    workflow: str
    action: str | None = None


@dataclass(frozen=True)
class Says:
    """The message is answered (no form starts) with words containing each of ``parts``."""

    parts: tuple[str, ...]


def says(*parts: str) -> Says:
    return Says(parts)


HELP = says("Tell me in your own words", "for everything else")
NOT_FOUND_IN_REGISTER = says("not in the school's software register")
MATHS_WAITING = says("Maths Whizz is waiting for the DPO's decision")

# (who, what they type, what must happen). Sam is a teacher (allowed photo-consent lookups),
# Dee the DPO. Sam has logged SAR-2026-0001 and -0002 and asked for Maths Whizz (SW-2026-0001);
# Kim logged SAR-2026-0003, which Sam must not find.
PHRASINGS: tuple[tuple[str, str, Form | Says], ...] = (
    # Subject access and the other rights
    ("sam", "I need to log a subject access request", Form("sar")),
    ("sam", "SAR", Form("sar")),
    ("sam", "sar please", Form("sar")),
    ("sam", "a parent wants a copy of everything we hold on her son", Form("sar")),
    ("sam", "Mum has asked to see Tom's educational record", Form("sar")),
    ("sam", "an ex-pupil wants all the information we hold about him", Form("sar")),
    ("sam", "a parent wants us to delete her data", Form("sar")),
    ("sam", "I've had an erasure request", Form("sar")),
    ("sam", "Dad says he has the right to be forgotten", Form("sar")),
    # Breaches
    ("sam", "report a breach", Form("breach")),
    ("sam", "data breach", Form("breach")),
    ("sam", "I sent an email to the wrong parent", Form("breach")),
    ("sam", "the report went to the wrong family", Form("breach")),
    ("sam", "I've lost my laptop", Form("breach")),
    ("sam", "I left a memory stick on the bus", Form("breach")),
    ("sam", "my bag with the class list was stolen", Form("breach")),
    ("sam", "I think I clicked a phishing link", Form("breach")),
    ("sam", "we've been hacked", Form("breach")),
    # New software, and the register
    ("sam", "new software", Form("software")),
    ("sam", "new app", Form("software")),
    ("sam", "I want to request an app", Form("software")),
    ("sam", "is IXL approved?", NOT_FOUND_IN_REGISTER),
    ("sam", "can I use IXL?", NOT_FOUND_IN_REGISTER),
    ("sam", "I'd like to start using ClassDojo with Y1-Y6", NOT_FOUND_IN_REGISTER),
    ("sam", "we want to use Seesaw", NOT_FOUND_IN_REGISTER),
    ("sam", "can we start using Padlet?", NOT_FOUND_IN_REGISTER),
    ("sam", "software Maths Whizz", MATHS_WAITING),
    ("sam", "is Maths Whizz safe?", MATHS_WAITING),
    ("sam", "software", says("Software register")),
    # Disclosure requests
    ("sam", "disclosure request", Form("disclosure")),
    ("sam", "the police are asking for CCTV of a pupil", Form("disclosure")),
    ("sam", "a social worker wants a pupil's attendance", Form("disclosure")),
    ("sam", "a solicitor wants a copy of the accident book", Form("disclosure")),
    # Photo consent: lookups and withdrawals
    ("sam", "can I put Amelia Smith on the website?", says("Yes: Amelia Smith")),
    ("sam", "can Siobhan go in the newspaper?", says("Siobhan Murphy")),
    ("sam", "can Mo go on twitter", says("Mo Ali")),
    ("sam", "is Olly Jones allowed on Facebook?", says("No: Olly Jones")),
    ("sam", "could Harry Patel be in the prospectus?", says("Harry Patel")),
    ("sam", "can we use Grace Taylor's photo in the newsletter?", says("NO PHOTOS AT ALL")),
    ("sam", "consent Amelia Smith", says("Amelia Smith")),
    ("sam", "photo consent Zoe Brown for social media", says("Withdrawn")),
    ("sam", "who in 4B can't go on social media?", says("4B: leave out of social media")),
    ("sam", "class photo 4B", says("4B")),
    ("dee", "can I put Mo Ali on the website?", says("Mo Ali")),
    ("sam", "Amelia Khan's mum withdrew consent for social media", says("withdrawn")),
    # Lookups and commands, as staff type them
    ("sam", "help", HELP),
    ("sam", "hello", HELP),
    ("sam", "what can you do?", HELP),
    ("sam", "more", says("While answering questions")),
    ("sam", "cases", says("Your open subject access requests", "SAR-2026-0002")),
    ("sam", "my cases", says("SAR-2026-0001")),
    ("sam", "SAR-2026-0001", says("SAR-2026-0001", "Jane Parent")),
    ("sam", "sar 2", says("SAR-2026-0002")),
    ("sam", "sar-2026-2", says("SAR-2026-0002")),
    ("sam", "show SAR 2026 2", says("SAR-2026-0002")),
    ("sam", "#2", says("SAR-2026-0002")),
    ("sam", "#1", says("Which one?", "SAR-2026-0001", "SW-2026-0001")),
    ("sam", "#3", says("can't find #3")),  # Kim's: not among Sam's own
    ("sam", "sw 1", says("SW-2026-0001", "Maths Whizz")),
    ("sam", "add note sar 1", Form("sar", "note")),
    ("sam", "hlep", says("Did you mean", "“help”")),
    ("sam", "casses", says("Did you mean", "“cases”")),
    ("sam", "brech", says("Did you mean", "“breach”")),
    ("sam", "asdfgh", says("didn't understand", "“sar”", "“breach”")),
    # The DPO's commands
    ("dee", "cases", says("All open subject access requests", "SAR-2026-0003")),
    ("dee", "closed cases", says("closed")),
    ("dee", "take sar-2026-2", Form("sar", "take")),
    ("dee", "take SAR-2026-0002", Form("sar", "take")),
    ("dee", "pause sar 1", Form("sar", "pause")),
    ("dee", "extend SAR 3", Form("sar", "extend")),
    ("dee", "history sar 1", says("History of SAR-2026-0001")),
    ("dee", "letter SAR-2026-0001", says("Which letter?")),
    ("dee", "digest", says("Weekly digest")),
    ("dee", "approve sw 1", Form("software", "approve")),
    ("dee", "#1", says("Which one?")),
)
# Siobhan and Mo, as the issue asked about them, beside the consent tests' pupils.
CLASS_3C = (
    ("1007", "Siobhan", "Murphy", "", "3", "3C", "2018-01-09", False, "2026-09-05", "Mother",
     "given", "given"),
    ("1008", "Mohammed", "Ali", "Mo", "3", "3C", "2018-04-21", False, "2026-09-05", "Father",
     "given", "refused"),
)


def test_the_table_covers_every_workflow_and_command() -> None:
    from workflows.registry import WORKFLOWS

    assert len(PHRASINGS) >= 60
    started = {e.workflow for _, _, e in PHRASINGS if isinstance(e, Form) and not e.action}
    assert started == set(WORKFLOWS)
    typed = " ".join(text.lower() for _, text, _ in PHRASINGS)
    for command in ("cases", "help", "more", "take", "history", "letter", "digest", "consent",
                    "withdrew", "class photo", "software"):
        assert command in typed


def prepare(school: School_) -> None:
    """The cases and registers the table asks about, made through the chat itself."""
    with session_scope(school.engine) as session:
        session.get(Person, school.people["sam"]).consent_lookup = True
    run_import(school, export("sims", pupils=[*PUPILS, *CLASS_3C]))
    for who in ("sam", "sam", "kim"):
        assert "Saved as SAR-2026-000" in school.says(who, *PARENT_SAR, "yes")
    assert "Saved as SW-2026-0001" in school.says("sam", *MATHS_APP, "yes")


def asking(school: School_, who: str) -> Conversation | None:
    with session_scope(school.engine) as session:
        found = session.exec(select(Conversation).where(
            Conversation.person_id == school.people[who],
            col(Conversation.status).in_([s.value for s in ACTIVE]),
        ).order_by(col(Conversation.id).desc())).first()
        if found is not None:
            session.expunge(found)
        return found


def check_all(school: School_, say: Callable[[str, str], str]) -> None:
    """Every phrasing through ``say(who, text)``; every miss is listed, not only the first."""
    misses: list[str] = []
    for who, text, expected in PHRASINGS:
        answer = say(who, text)
        talk = asking(school, who)
        if isinstance(expected, Form):
            got = (talk.workflow, talk.action) if talk else None
            if got != (expected.workflow, expected.action):
                misses.append(f"{who}: {text!r} started {got}, not {expected}: {answer[:300]!r}")
        else:
            if talk is not None:
                misses.append(f"{who}: {text!r} started a form ({talk.workflow})")
            absent = [p for p in expected.parts if p not in answer]
            if absent or "Tell me in your own words" in answer and expected is not HELP:
                misses.append(f"{who}: {text!r} lacks {absent}: {answer[:400]!r}")
        if talk is not None:
            say(who, "cancel")
        assert asking(school, who) is None, text
    assert not misses, "\n".join(misses)


def test_every_phrasing_in_the_terminal_chat(school: School_) -> None:
    prepare(school)
    check_all(school, lambda who, text: text_of(school.say(who, text)))


def test_every_phrasing_in_slack_dms(school: School_) -> None:
    from tests.slack.fake_slack import FakeSlack, dm_channel_id
    from tests.slack.reading import said
    from tests.slack.test_slack_app import DPO, STAFF, USERS, workspace

    prepare(school)
    slack_of = {"sam": STAFF, "dee": DPO}
    with FakeSlack(users=USERS) as fake:
        spaces = workspace(school, fake)
        ws = next(spaces)

        def say(who: str, text: str) -> str:
            before = fake.count("chat.postMessage")
            ws.live.send(ws.slack.message_im(text, user_id=slack_of[who]))
            ws.live.settle()
            return "\n".join(
                said(c) for c in fake.calls("chat.postMessage")[before:]
                if c.response.get("channel") == dm_channel_id(slack_of[who]))

        check_all(school, say)
        next(spaces, None)  # the workspace's own end: its checks on every call made


def test_every_phrasing_in_teams_personal_chats(school: School_) -> None:
    from tests.teams.harness import make_teams, words

    prepare(school)
    teams = make_teams(school)

    def say(who: str, text: str) -> str:
        return words(asyncio.run(teams.say(who, text)))

    check_all(school, say)


@pytest.mark.parametrize("typed", ["cases", "SAR-2026-0001", "more", "history sar 1"])
def test_a_command_mid_form_is_answered_and_the_form_waits(school: School_, typed: str) -> None:
    prepare(school)
    school.says("dee", "report a breach", "I emailed Year 5's reports to the wrong parent")
    before = asking(school, "dee")
    said = school.says("dee", typed)
    assert "still waiting, nothing lost" in said
    assert said.rstrip().endswith("When was it found? (type “now”, or e.g. “today 9:30”)")
    after = asking(school, "dee")
    assert after is not None and before is not None
    assert (after.position, after.answers) == (before.position, before.answers)


def test_answers_that_look_like_commands_stay_answers(school: School_) -> None:
    """The rule: only a whole message that is exactly a command is one. A description that
    starts with “cancel”, “sar 2” or “#2” (a reference without its year) and a command in
    quotes are answers."""
    school.says("sam", "report a breach")
    for answer in ("cancel the trip: the list went to the wrong parent",):
        school.says("sam", answer)
    talk = asking(school, "sam")
    assert talk is not None
    assert talk.answers["what_happened"].startswith("cancel the trip")
    school.says("sam", "cancel")
    school.says("sam", "new software")
    school.says("sam", '"cases"')  # the product's name, in quotes
    talk = asking(school, "sam")
    assert talk is not None and talk.answers.get("product") == "cases"
