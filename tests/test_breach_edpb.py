"""The breach triage held against published conclusions, through the real chat.

Each of the 18 worked examples of the EDPB's Guidelines 01/2021 on examples regarding personal
data breach notification (version 2.0, adopted 14 December 2021) is retold as a school incident,
and typed in answer by answer as a member of staff would, on SQLite and PostgreSQL. The bot's
recommendation must agree with the EDPB's conclusion for the supervisory authority (the ICO,
Art 33) and for the people affected (Art 34). The typical school cases of DOMAIN.md 3 follow
the same way. The reporter answers only the questions the bot asks: an unexpected question, or
an answer the bot never asked for, fails the case.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select

from bot.slack.blocks import card_blocks, form_blocks, modal
from bot.teams import cards as teams_cards
from tests.conftest import School_, text_of
from tests.slack.limits import check_blocks
from tests.teams.harness import CARD_SCHEMA, card_problems, make_teams, run, words
from workflows.breach.flows import BREACH
from workflows.breach.models import Breach
from workflows.core.ui import Card, Question, Reply, Summary, Text

REF = "BRE-2026-0001"


@dataclass(frozen=True)
class Case:
    name: str
    what_happened: str
    answers: dict[str, str]  # the follow-up question's field -> what the reporter types
    ico: bool  # the published conclusion: notify the supervisory authority (Art 33)
    tell: bool  # the published conclusion: communicate to the people affected (Art 34)
    why: str  # the published reason, in one line
    ongoing: str = "no"


EDPB = [
    Case("01 ransomware with a good backup and nothing taken",
         "Ransomware encrypted the office server; IT restored it from last night's backup by "
         "lunchtime and found no sign anything was copied out.",
         {"data_kinds": "names, contact details", "whose": "400 pupils and 600 parents",
          "incident": "ransomware", "exfiltrated": "no", "unavailable": "2"},
         ico=False, tell=False,
         why="Restored within hours from a backup and nothing taken: unlikely to be a risk."),
    Case("02 ransomware without a working backup",
         "Ransomware encrypted the admin server and the backups; the office is rebuilding the "
         "records from paper, which will take about a week. Nothing was copied out.",
         {"data_kinds": "names, contact details", "whose": "300 pupils, 20 staff",
          "incident": "ransomware", "exfiltrated": "no", "unavailable": "days"},
         ico=True, tell=False,
         why="Days without the data is a risk to people, but not a high one for basic data."),
    Case("03 ransomware with a backup where care depends on the data (the hospital)",
         "Ransomware hit the medical room PC with pupils' care plans and medication records; "
         "it was restored from backup but the plans could not be opened for two days.",
         {"data_kinds": "health", "whose": "45 pupils", "incident": "ransomware",
          "exfiltrated": "no", "unavailable": "3"},
         ico=True, tell=True,
         why="Care depends on the data: days without it is a high risk to the people."),
    Case("04 ransomware without a backup, data taken",
         "Ransomware on the MIS server; there is no backup, and the attackers say they copied "
         "the data and will publish it.",
         {"data_kinds": "names, contact details, free school meals",
          "whose": "500 pupils and 700 parents", "incident": "ransomware", "exfiltrated": "yes",
          "unavailable": "lost", "encrypted": "no"},
         ico=True, tell=True, why="Data lost and in an attacker's hands: high risk."),
    Case("05 job application data taken from the website",
         "A flaw in our online job application form let someone download applicants' forms.",
         {"data_kinds": "names, contact details, NI numbers", "whose": "80 applicants",
          "incident": "hacked", "exfiltrated": "yes", "unavailable": "no", "encrypted": "no"},
         ico=True, tell=True,
         why="Identity numbers taken by an attacker: identity theft is a high risk."),
    Case("06 strongly hashed passwords taken from the website",
         "Someone exploited the parent portal and downloaded the login table: usernames and "
         "passwords, strongly hashed and salted; no other data.",
         {"data_kinds": "passwords", "whose": "900 parents", "incident": "hacked",
          "exfiltrated": "yes", "unavailable": "no", "encrypted": "yes"},
         ico=False, tell=False,
         why="Salted state-of-the-art hashes are unintelligible: unlikely to be a risk."),
    Case("07 credential stuffing on the payments portal",
         "Attackers used passwords leaked from other sites to log in to parents' accounts on "
         "our payments portal and saw their payments and card details.",
         {"data_kinds": "names, card details", "whose": "40 parents", "incident": "hacked",
          "exfiltrated": "yes", "unavailable": "no", "encrypted": "no"},
         ico=True, tell=True,
         why="Financial data in an attacker's hands: high risk; people must change passwords."),
    Case("08 a leaving teacher copies the parents' contact list",
         "A teacher who is leaving copied the parents' contact list to start a tutoring "
         "business.",
         {"data_kinds": "names, contact details", "whose": "300 parents", "incident": "7",
          "recipient": "2", "deliberate": "yes"},
         ico=True, tell=False,
         why="Taken on purpose, many people: a risk, but contact details are not a high one."),
    Case("09 sent by mistake to a trusted third party",
         "The office emailed a spreadsheet of parents' names and addresses to our IT support "
         "company instead of the PTA chair; they deleted it and confirmed in writing.",
         {"data_kinds": "names, contact details", "whose": "60 parents", "incident": "1",
          "encrypted": "no", "recipient": "1", "recipients": "1"},
         ico=False, tell=False,
         why="A trusted recipient bound to confidentiality deleted it: unlikely to be a risk."),
    Case("10 stolen device, strongly encrypted, with a copy kept",
         "A BitLocker-encrypted backup drive with staff HR files was stolen from the business "
         "manager's car; the key was not with it and the files are still on the server.",
         {"data_kinds": "names, contact details, NI numbers, health", "whose": "60 staff",
          "incident": "3", "unavailable": "no", "encrypted": "yes"},
         ico=False, tell=False,
         why="Encrypted with the key safe and a copy kept: unlikely to be a risk."),
    Case("11 stolen device, not encrypted",
         "A teacher's laptop, not encrypted, was stolen from their car. It had the markbook and "
         "reports for their classes.",
         {"data_kinds": "names, dates of birth, school reports", "whose": "120 pupils",
          "incident": "laptop", "unavailable": "no", "encrypted": "no"},
         ico=True, tell=True, why="Readable children's data in a thief's hands: high risk."),
    Case("12 stolen paper files with sensitive data",
         "A bag with the paper medical log (pupils' conditions and medication) was stolen from "
         "a trip leader's car; the office has a copy.",
         {"data_kinds": "health", "whose": "30 pupils", "incident": "4", "unavailable": "no"},
         ico=True, tell=True, why="Health data of children, stolen on paper: high risk."),
    Case("13 post mix-up, basic data, given back",
         "Two parents' trip payment letters were swapped in book bags: each family got the "
         "other's letter (name, address). Both families gave the letters back.",
         {"data_kinds": "names, contact details", "whose": "2 parents", "incident": "1",
          "encrypted": "no", "recipient": "2", "deleted": "yes", "recipients": "2"},
         ico=False, tell=False,
         why="Basic data to known people who returned it: unlikely to be a risk."),
    Case("14 highly confidential data sent by email by mistake",
         "The SENCo's email with the SEN register attached (needs and free school meal status) "
         "went to the whole parent mailing list instead of staff.",
         {"data_kinds": "SEN, free school meals", "whose": "60 pupils", "incident": "1",
          "encrypted": "no", "recipient": "2", "deleted": "don't know", "recipients": "350"},
         ico=True, tell=True,
         why="Special category data of many people to many recipients: high risk."),
    Case("15 a trivial health detail sent by email by mistake, deleted",
         "The list for the PTA quiz night (names, email addresses, dietary needs; one person is "
         "lactose intolerant) went to last year's committee instead of the caterer; we noticed "
         "at once and they all confirmed they deleted it.",
         {"data_kinds": "names, contact details, food intolerance", "whose": "15 parents",
          "incident": "1", "encrypted": "no", "recipient": "2", "deleted": "yes",
          "recipients": "15"},
         ico=False, tell=False,
         why="A trivial health detail to known people who deleted it: unlikely to be a risk."),
    Case("16 a letter posted to the wrong address",
         "A letter about a parent's payment plan for the residential trip (name, address, free "
         "school meal status, arrears) was posted to the wrong address; we don't know if the "
         "people there destroyed it.",
         {"data_kinds": "names, contact details, free school meals", "whose": "1 parent",
          "incident": "1", "encrypted": "no", "recipient": "3", "recipients": "1"},
         ico=True, tell=False,
         why="A stranger has it, so a risk; not sensitive enough to be a high one."),
    Case("17 social engineering: someone pretended to be a parent",
         "A caller pretending to be a pupil's father persuaded the office to give out the "
         "pupil's address and latest report.",
         {"data_kinds": "names, contact details, school reports", "whose": "1 pupil",
          "incident": "8"},
         ico=True, tell=True,
         why="An impostor set out to get a child's data: high risk."),
    Case("18 a mailbox forwarding rule set by an attacker",
         "The business manager's mailbox was hacked: a rule forwarded every email with "
         "'invoice' or 'bank' in it to an outside address for three months.",
         {"data_kinds": "names, bank details", "whose": "150 parents and 20 others",
          "incident": "hacked", "exfiltrated": "yes", "unavailable": "no", "encrypted": "no"},
         ico=True, tell=True, why="Bank details forwarded to an attacker: high risk."),
]

DOMAIN = [
    Case("a pupil's SEN report emailed to the wrong parent",
         "I emailed a pupil's SEN report to the wrong parent.",
         {"data_kinds": "SEN", "whose": "1 pupil", "incident": "1", "encrypted": "no",
          "recipient": "2", "deleted": "don't know", "recipients": "1"},
         ico=True, tell=True,
         why="Often reportable if sensitive; a child's SEN details not yet deleted: high."),
    Case("CC instead of BCC to a large parent list",
         "The newsletter went to every parent with all the addresses in CC.",
         {"data_kinds": "contact details", "whose": "200 parents", "incident": "cc"},
         ico=True, tell=False,
         why="Reportable with many recipients; email addresses alone are not a high risk."),
    Case("CC instead of BCC to a few parents",
         "The year 6 trip reminder went to a dozen parents with the addresses in CC.",
         {"data_kinds": "contact details", "whose": "12 parents", "incident": "cc"},
         ico=False, tell=False,
         why="Few recipients and nothing sensitive: logged only."),
    Case("a lost unencrypted USB stick with pupil data",
         "A USB stick with the class markbook and SEN register was lost on the bus; it was not "
         "encrypted.",
         {"data_kinds": "names, school reports, SEN", "whose": "30 pupils", "incident": "usb",
          "unavailable": "no", "encrypted": "no"},
         ico=True, tell=True, why="Lost unencrypted pupil data: the ICO and the people."),
    Case("a lost strongly encrypted laptop",
         "A teacher left an encrypted school laptop on the train.",
         {"data_kinds": "names, school reports", "whose": "30 pupils", "incident": "laptop",
          "unavailable": "no", "encrypted": "yes"},
         ico=False, tell=False, why="Strongly encrypted: log only."),
    Case("ransomware with good backups and no exfiltration",
         "Ransomware on the curriculum server; restored from backup within hours, nothing "
         "copied out.",
         {"data_kinds": "names, health", "whose": "600 pupils", "incident": "ransomware",
          "exfiltrated": "no", "unavailable": "hours"},
         ico=False, tell=False, why="Good backups and no exfiltration: log only."),
    Case("a safeguarding email shown on a classroom whiteboard",
         "A safeguarding email was on the classroom whiteboard while the class was in.",
         {"data_kinds": "safeguarding", "whose": "1 pupil", "incident": "whiteboard",
          "recipient": "2", "recipients": "28"},
         ico=True, tell=True, why="The ICO reprimanded a school for this."),
    # Not a published case: the report to the wrong parent, which the old triage
    # called "only basic identifiers". Judgement: a child's attainment is a risk (report),
    # and once the parent confirmed deletion it is not a high one.
    Case("a pupil's end-of-term report to the wrong parent, deleted",
         "A pupil's end-of-term report was emailed to another pupil's parent, who deleted it.",
         {"data_kinds": "school reports", "whose": "1 pupil", "incident": "1",
          "encrypted": "no", "recipient": "2", "deleted": "yes", "recipients": "1"},
         ico=True, tell=False,
         why="Children's attainment is a risk; confirmed deletion keeps it below high."),
]


def question(replies: list[Reply]) -> Question | None:
    return next((r for r in replies if isinstance(r, Question)), None)


def tell_the_bot(school: School_, case: Case) -> list[str]:
    """Report the breach as the member of staff would, answering only what is asked.

    Returns the questions asked, in order. Checks on the way that the count shown never
    grows and that no question comes after the one shown as the last.
    """
    intake = {"what_happened": case.what_happened, "found_at": "now", "ongoing": case.ongoing}
    answers = intake | case.answers
    asked: list[str] = []
    counts: list[tuple[int, int]] = []
    replies = school.say("sam", "report a breach")
    for _ in range(40):
        if any(isinstance(r, Text) and "is updated and the DPO has it" in r.text
               for r in replies):
            break
        asking = question(replies)
        if asking is None:
            assert any(isinstance(r, Summary) for r in replies), text_of(replies)
            replies = school.say("sam", "yes")
            continue
        assert asking.field in answers, f"unexpected question {asking.field}: {asking.prompt}"
        if asking.field not in intake:  # the follow-up form's own count
            assert asking.step <= asking.total
            if counts:
                assert asking.total <= counts[-1][1], f"the count grew: {counts} {asking.total}"
            counts.append((asking.step, asking.total))
        asked.append(asking.field)
        replies = school.say("sam", answers[asking.field])
    else:
        pytest.fail("the report never finished")
    assert counts and counts[-1][0] == counts[-1][1], counts  # the last was shown as the last
    assert sorted(asked) == sorted(answers), f"asked {asked}, answered {sorted(answers)}"
    return asked


def recommendation(school: School_) -> str:
    shown = school.says("dee", REF)
    line = next(x for x in shown.splitlines() if x.startswith("Recommendation: "))
    return line


ONE_SCREEN = 15  # lines of 80 characters: the assessment, with every reason


def assessment_lines(card: Card) -> int:
    rows = [f"{a}: {b}" for a, b in card.rows if a in ("Severity", "Likelihood",
                                                         "Recommendation")]
    assert len(rows) == 3, card.rows
    return sum(len(textwrap.wrap(row, 80)) for row in rows)


@pytest.mark.parametrize("case", EDPB + DOMAIN, ids=lambda c: c.name)
def test_triage_agrees_with_the_published_conclusion(school: School_, case: Case) -> None:
    tell_the_bot(school, case)
    line = recommendation(school)
    ico = "report to the ICO" in line
    tell = "tell the people affected" in line and "not required" not in line
    assert (ico, tell) == (case.ico, case.tell), f"{case.why}\n{line}"
    # The DPO sees why on one screen, in the terminal and in Slack's Block Kit limits.
    (card,) = [r for r in school.say("dee", REF) if isinstance(r, Card)]
    assert assessment_lines(card) <= ONE_SCREEN
    check_blocks(card_blocks(card))


def test_dont_know_counts_as_the_worse_case_and_says_so(school: School_) -> None:
    """Case 09 again, but the reporter doesn't know who got it: the worse case, stated."""
    known = next(c for c in EDPB if c.name.startswith("09"))
    unsure = Case(known.name, known.what_happened, known.answers | {"recipient": "don't know"},
                  ico=True, tell=False, why="")
    tell_the_bot(school, unsure)
    shown = school.says("dee", REF)
    assert "Who has it: Not known" in shown
    assert ("Not known, so the worse case was assumed: who received it (assumed someone who "
            "may misuse it)") in shown
    assert "Recommendation: Medium risk: report to the ICO" in recommendation(school)


def test_a_wrong_answer_is_refused_and_the_others_kept(school: School_) -> None:
    school.says("sam", "report a breach", "A teacher's laptop was stolen from their car.", "now",
                "no", "yes", "laptop", "names, school reports", "120 pupils", "no")
    said = school.says("sam", "perhaps")
    assert "Please answer yes, no or “don't know”." in said
    assert "unreadable to whoever has it" in said
    said = school.says("sam", "no", "yes")
    with Session(school.engine) as session:
        case = session.exec(select(Breach)).one()
        assert (case.data_kinds, case.approx_people, case.incident, case.unavailable,
                case.encrypted) == (["identifiers", "reports"], 120, "lost_device", "no", False)
    assert "High risk: report to the ICO; tell the people affected." in said


def test_cancelling_the_follow_ups_keeps_the_report_and_assumes_the_worse(
        school: School_) -> None:
    school.says("sam", "report a breach", "Ransomware on the office server.", "now", "no", "yes",
                "ransomware", "names", "20 staff")
    said = school.says("sam", "cancel")
    assert "stays as it was" in said
    shown = school.says("dee", REF)
    # The kind of incident was never saved (cancelled before "yes"), so nothing is assumed
    # about it; the kinds of data are not known either.
    assert "Recommendation: Medium risk: report to the ICO" in shown


def test_each_fact_is_on_the_card_the_log_and_the_ico_draft(school: School_) -> None:
    case = next(c for c in EDPB if c.name.startswith("14"))
    tell_the_bot(school, case)
    shown = school.says("dee", REF)
    for fact in ("Who has it: Someone we know and can contact", "Deletion confirmed: Not known",
                 "How many received it: about 350", "Unreadable to others: No",
                 "Severity: High.", "Likelihood: High.",
                 "About 350 people received or saw it"):
        assert fact in shown, fact
    for kind in ("log_entry", "ico_report"):
        body = text_of(school.say("dee", f"letter {REF} {kind}"))
        for fact in ("Who has it: someone we know and can contact",
                     "Deletion confirmed: not known", "About 350 people received or saw it",
                     "Severity high", "likelihood high",
                     "free school meals or pupil premium status"):
            assert fact.lower() in body.lower(), (kind, fact)


def test_the_assessment_in_teams_is_a_valid_card_with_every_reason(school: School_) -> None:
    """Case 14 reported in Teams, answer by answer; the DPO opens it: a card Teams renders."""
    case = next(c for c in EDPB if c.name.startswith("14"))
    teams = make_teams(school)
    order = ["what_happened", "found_at", "ongoing", "yes", "incident", "data_kinds", "whose",
             "encrypted", "recipient", "deleted", "recipients", "yes"]
    answers = {"what_happened": case.what_happened, "found_at": "now", "ongoing": "no",
               "yes": "yes"} | case.answers

    async def go() -> str:
        await teams.say("dee", "hello")
        await teams.says("sam", "I need to report a breach", *(answers[k] for k in order))
        card = await teams.say("dee", REF)  # the harness checks it against the card schema
        return words(card)

    shown = run(go())
    for fact in ("Severity", "Special category data can lead to distress", "Likelihood",
                 "About 350 people received or saw it", "High risk: report to the ICO; tell "
                 "the people affected.", "whether they deleted it (assumed not)"):
        assert fact in shown, fact


def test_the_follow_ups_as_a_slack_modal_and_a_teams_card_form() -> None:
    """“Add details” clicked on a card opens every follow-up at once: within Slack's limits,
    a Teams card that validates, and “don't know” offered wherever it is an answer."""
    form = BREACH.action("add_details").form
    view = modal(title="Add details", callback_id="decide", blocks=form_blocks(form))
    check_blocks(view, surface="modal")
    card = teams_cards.adaptive_card(teams_cards.form_elements(form, {}, {}))
    if CARD_SCHEMA.exists():  # ../shared beside the checkout, as in CI
        assert card_problems(card) == []
    for field in form.fields:
        if field.unknown:
            (block,) = [b for b in view["blocks"] if b.get("block_id") == field.name]
            assert "Don't know" in [o["text"]["text"] for o in block["element"]["options"]]
            (element,) = [e for e in card["body"] if e.get("id") == teams_cards.INPUT + field.name]
            assert {"title": "Don't know", "value": "unknown"} in element["choices"]
