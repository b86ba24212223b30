"""A realistic term of activity at one school, made through the workflows' own services.

``fill_term(session, school, term, seed)`` logs subject access and other rights requests
(some late, some extended, some for educational records), breaches of several kinds (some
reported to the ICO), disclosure requests, software requests in every state, and two consent
imports with withdrawals between them, each at its own moment of the term: answers go through
the declared forms' own parsing, cases through ``engine.create`` and decisions through
``engine.decide``, so what is stored is what the bot would store. Deterministic for a seed.

The summary it returns holds the counts the report must find, worked out here from what was
asked for (not read back from the database), and the names it planted (pupils, parents,
requesters), which must never reach the report.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from workflows.consent.importer import import_consents
from workflows.consent.withdrawals import withdraw
from workflows.core.context import Context
from workflows.core.engine import create, decide
from workflows.people.models import Person, Role
from workflows.registry import WORKFLOWS
from workflows.reports.period import Period, parse_term, term
from workflows.schools.models import School
from workflows.software.importer import import_register

FIRSTS = ("Amelia", "Oliver", "Isla", "Noah", "Ava", "Leo", "Freya", "Arthur", "Mia", "Theo",
          "Ivy", "Oscar", "Rosie", "Alfie", "Poppy", "Jack", "Evie", "Harry", "Ella", "Finley")
LASTS = ("Thistlewood", "Marchbank", "Quillfeather", "Ravensworth", "Pennyfather", "Oakenshaw",
         "Brightwater", "Fairbairn", "Hollingsworth", "Kettleby")
ARBOR_HEADER = ("Arbor ID,Legal first name,Legal last name,Preferred first name,Year group,"
                "Registration form,Date of birth,Photo restriction,Consent date,Consent given by,"
                "Displays consent,Print consent,Website consent,Social media consent,"
                "Video consent,Press (no name) consent,Press (named) consent,"
                "Photographer consent,Apps consent")
USES = 9
# Each term asks about other products: one already approved is refused at intake.
PRODUCTS = {
    "spring": ("Doodle Maths", "Nearpod", "Flipgrid", "Book Creator", "Wordwall", "Plickers"),
    "summer": ("Mathletics", "Seesaw", "Padlet", "Quizlet", "Kahoot", "Spellodrome"),
    "autumn": ("Times Tables Rock Stars", "Purple Mash", "Tapestry", "Reading Eggs",
               "Sumdog", "Century Tech"),
}
INCIDENTS = ("wrong_recipient", "cc_not_bcc", "lost_device", "lost_paper", "cyber", "shown")
# A Kent-style year of term dates, for a school that has imported none (an educational record's
# 15 school days cannot be counted without them).
CALENDAR = """kind,start,end,name
term,2026-01-05,2026-02-13,Spring 1
term,2026-02-23,2026-03-27,Spring 2
term,2026-04-13,2026-05-22,Summer 1
term,2026-06-01,2026-07-22,Summer 2
term,2026-09-02,2026-10-23,Autumn 1
closure,2026-10-05,2026-10-05,INSET day
term,2026-11-02,2026-12-18,Autumn 2
term,2027-01-04,2027-02-12,Spring 1
term,2027-02-22,2027-03-26,Spring 2
term,2027-04-12,2027-05-28,Summer 1
term,2027-06-07,2027-07-21,Summer 2
"""
# Products already in the school's register, imported at the start of the term: the first two
# were due for review during it, and are not reviewed.
REGISTER = {
    "spring": ("Boardmaker", "Lexia", "Showbie"),
    "summer": ("Clicker", "Accelerated Reader", "Scratch"),
    "autumn": ("ParentPay", "Evidence Me", "Oxford Owl"),
}
TEAM = (("Dana Dpo", Role.DPO), ("Dev Deputy", Role.DEPUTY), ("Hana Head", Role.HEAD),
        ("Sol Staff", Role.STAFF), ("Tia Teacher", Role.STAFF))


@dataclass
class Summary:
    """What the term holds, counted as it was made."""

    sars_received: int = 0
    sars_closed: int = 0
    sars_on_time: int = 0
    sars_late: int = 0
    sars_extended: int = 0
    educational: int = 0
    sar_days: list[int] = field(default_factory=list)
    breaches: int = 0
    breach_kinds: dict[str, int] = field(default_factory=dict)
    reported: int = 0
    not_reportable: int = 0
    people_told: int = 0
    disclosures: int = 0
    disclosed: int = 0
    disclosures_on_target: int = 0
    refused: int = 0
    software_requested: int = 0
    software_approved: int = 0
    software_rejected: int = 0
    software_waiting: int = 0
    reviews_overdue: int = 0
    pupils: int = 0
    withdrawals: int = 0
    references: list[str] = field(default_factory=list)
    planted: set[str] = field(default_factory=set)  # names that must never be in a report
    names: dict[str, set[str]] = field(default_factory=dict)  # each case's planted names
    letters: dict[str, str] = field(default_factory=dict)  # each letter's kind: a case it fits
    listed: list[str] = field(default_factory=list)  # products approved, for the notice
    unlisted: list[str] = field(default_factory=list)  # rejected or still waiting


class _Term:
    def __init__(self, session: Session, school: School, period: Period, seed: int) -> None:
        self.session, self.school, self.period = session, school, period
        self.random = random.Random(f"{seed}:{school.slug}")
        self.tz = ZoneInfo(school.timezone)
        self.summary = Summary()
        self.people = {role: self._person(name, role) for name, role in TEAM}

    def _person(self, name: str, role: Role) -> Person:
        found = self.session.exec(select(Person).where(
            Person.school_id == self.school.id, Person.role == role)).first()
        if found is None:
            found = Person(school_id=self.school.id, name=name, role=role)
            self.session.add(found)
            self.session.flush()
        return found

    def day(self, week: int, weekday: int = 0, hour: int = 10) -> datetime:
        """A weekday in the term's ``week`` (0 first), as UTC, never after the term ends."""
        start = self.period.start - timedelta(days=self.period.start.weekday())
        when = min(start + timedelta(weeks=week, days=weekday), self.period.end)
        while when.weekday() >= 5 or when < self.period.start:
            when += timedelta(days=1) if when < self.period.start else -timedelta(days=1)
        return datetime.combine(when, time(hour), tzinfo=self.tz).astimezone(UTC)

    def ctx(self, role: Role, now: datetime) -> Context:
        return Context.of(self.session, self.people[role], "terminal", school=self.school,
                          now=now)

    def name(self) -> str:
        """A name not given before in this term (a withdrawal must match one pupil)."""
        planted = f"{self.random.choice(FIRSTS)} {self.random.choice(LASTS)}"
        while planted in self.summary.planted:
            planted = f"{self.random.choice(FIRSTS)} {self.random.choice(LASTS)}"
        self.summary.planted.add(planted)
        return planted

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def create(self, name: str, now: datetime, raw: dict[str, str]) -> Any:
        """A case from typed answers, as a confirmed chat intake makes it."""
        workflow = WORKFLOWS[name]
        ctx = self.ctx(Role.STAFF, now)
        values = workflow.intake.parse_all(raw, ctx)
        case = create(ctx, workflow, values)
        self.session.flush()
        self.summary.references.append(case.reference)
        self.summary.names[case.reference] = {
            n for n in self.summary.planted if any(n in str(v) for v in raw.values())}
        return case

    def act(self, name: str, case: Any, action: str, now: datetime, raw: dict[str, str],
            role: Role = Role.DPO) -> None:
        """An action as the DPO takes it from a button and form; it must succeed."""
        workflow = WORKFLOWS[name]
        chosen = next(a for a in workflow.actions if a.name == action)
        done = decide(self.ctx(role, now), workflow, chosen, case.reference, case.version, raw)
        assert done.ok, (case.reference, action, done.message, done.errors)
        self.session.flush()

    # --- the workflows -----------------------------------------------------------------

    def rights_requests(self) -> None:
        kinds = ("access",) * 5 + ("educational_record", "erasure", "rectification")
        for n in range(8):
            kind = kinds[n]
            received = self.day(n, n % 5)
            parent, pupil = self.name(), self.name()
            case = self.create("sar", received, {
                "request_type": kind, "requester_name": parent, "relationship": "parent",
                "about_requester": "no", "subject_name": pupil,
                "requester_email": f"parent{n}@example.org", "channel": "email",
                "received_at": self.local(received),
                "details": f"All records held about {pupil}", "id_needed": "no"})
            self.summary.sars_received += 1
            self.summary.educational += kind == "educational_record"
            for letter in {0: ("acknowledgement", "id_request", "clarification"),
                           3: ("extension",), 6: ("refusal",)}.get(n, ()):
                self.summary.letters[letter] = case.reference
            if n == 3:  # extended within the first month, answered inside the extension
                told = received + timedelta(days=7)
                self.act("sar", case, "extend", told, {
                    "reason": "Several thousand emails to search and redact.",
                    "notice_on": told.astimezone(self.tz).date().isoformat()})
                self.summary.sars_extended += 1
            if n >= 6:
                continue  # still open at the end of term
            late = n == 2
            wait = case.due_on - case.received_on + timedelta(days=4) if late else \
                timedelta(days=self.random.randint(8, 20))
            responded = case.received_on + wait
            if responded > self.period.end:
                continue
            outcome = "completed" if kind in ("erasure", "rectification") else "full"
            self.act("sar", case, "close",
                     datetime.combine(responded, time(15), tzinfo=self.tz).astimezone(UTC),
                     {"outcome": outcome, "responded_on": responded.isoformat(),
                      "method": "email"})
            self.summary.sars_closed += 1
            self.summary.letters.setdefault("response", case.reference)
            self.summary.sar_days.append((responded - case.received_on).days)
            if responded <= case.due_on:
                self.summary.sars_on_time += 1
            else:
                self.summary.sars_late += 1

    def breaches(self) -> None:
        for n, incident in enumerate(INCIDENTS):
            found = self.day(n + 1, (n * 2) % 5, 9)
            case = self.create("breach", found, {
                "what_happened": f"Case {n}: a letter about {self.name()} went astray",
                "found_at": self.local(found), "ongoing": "no"})
            self.summary.breaches += 1
            for letter in {0: ("ico_report",), 1: ("log_entry",), 2: ("affected_letter",)}.get(
                    n, ()):
                self.summary.letters[letter] = case.reference
            self.summary.breach_kinds[incident] = self.summary.breach_kinds.get(incident, 0) + 1
            self.act("breach", case, "add_details", found + timedelta(minutes=30), {
                "incident": incident, "data_kinds": "sen" if n % 2 else "contact",
                "whose": "1 pupil"}, role=Role.STAFF)
            later = found + timedelta(hours=6 + 20 * n)
            if n in (0, 2, 4):
                self.act("breach", case, "report_to_ico", later, {
                    "ico_reference": f"IC-{400000 + n}", "reported_at": self.local(later),
                    "delay_reason": "" if n < 4 else
                    "The laptop's loss was only confirmed on the fourth day."})
                self.summary.reported += 1
            elif n != 5:
                self.act("breach", case, "not_reportable", later, {
                    "reason": "Recalled at once and confirmed deleted unread."})
                self.summary.not_reportable += 1
            if n in (0, 2):
                self.act("breach", case, "tell_people", later + timedelta(hours=1), {
                    "tell": "yes", "how": "A phone call and a letter the same day."})
                self.summary.people_told += 1

    def disclosures(self) -> None:
        for n in range(4):
            received = self.day(2 + n * 2, 1)
            case = self.create("disclosure", received, {
                "organisation": "Kent Police", "requester_kind": "police",
                "requester": "DC Example, CID", "contact": "cid@example.police.uk",
                "authority": "dp_form", "form_reference": f"DP/{n}",
                "subjects": self.name(), "data_wanted": "Attendance for October",
                "purpose": "An investigation", "urgency": "urgent" if n == 0 else "standard",
                "channel": "email", "received_at": self.local(received)})
            self.summary.disclosures += 1
            answered = received + timedelta(days=2)
            if n < 3:
                self.act("disclosure", case, "verify", received + timedelta(hours=2), {
                    "how": "Called the station back on its published number."})
            if n in (0, 1):
                self.act("disclosure", case, "disclose", answered, {
                    "extent": "part", "basis": "crime", "what_sent": "Attendance summary",
                    "sent_how": "Secure email", "sent_at": self.local(answered)})
                self.summary.disclosed += 1
                self.summary.disclosures_on_target += n != 0  # urgent: due the same day
            elif n == 2:
                self.act("disclosure", case, "refuse", answered, {
                    "reason": "No lawful basis was given for the medical records."})
                self.summary.refused += 1
                self.summary.disclosures_on_target += 1

    def register(self) -> None:
        """The school's existing register, as `dpo-bot import software` reads it."""
        start = self.period.start
        lines = ["Name,Website,Status,Data,Conditions,DPIA,Approved by,Approved on,Review date"]
        for n, product in enumerate(REGISTER[self.period.season or "autumn"]):
            review = start + timedelta(days=14 + 7 * n) if n < 2 else start.replace(
                year=start.year + 1)
            lines.append(f"{product},{product.lower().replace(' ', '')}.example.com,Approved,"
                         f"names,,not needed,Office,{start.replace(year=start.year - 1)},"
                         f"{review.isoformat()}")
        self.summary.listed += REGISTER[self.period.season or "autumn"]
        import_register(self.session, self.school, ("\n".join(lines) + "\n").encode(),
                        file_name="register.csv", by_name="Office", now=self.day(0, 0, 9))
        self.session.flush()
        self.summary.reviews_overdue = 2

    def software(self) -> None:
        plans = ("approve", "approve", "approve_with_conditions", "reject", "ask", "wait")
        for n, plan in enumerate(plans):
            asked = self.day(1 + n, 2)
            product = PRODUCTS[self.period.season or "autumn"][n]
            case = self.create("software", asked, {
                "product": product, "website": f"{product.lower().replace(' ', '')}.example.com",
                "purpose": "Maths practice", "users": "Year 5 and 6", "pupils_use": "yes",
                "data_kinds": "names", "accounts_by": "the teacher", "privacy_notice": "don't know",
                "storage": "UK", "min_age": "none", "dpa": "yes", "ads_ai": "no",
                "cost": "free"})
            self.summary.software_requested += 1
            decided = asked + timedelta(days=3)
            if plan == "approve":
                self.act("software", case, "approve", decided, {
                    "reason": "A DPA is in place.", "dpia": "not_needed",
                    "dpia_note": "Names only."})
            elif plan == "approve_with_conditions":
                self.act("software", case, "approve_with_conditions", decided, {
                    "conditions": "First names only.", "dpia": "not_needed",
                    "dpia_note": "Names only."})
            elif plan == "reject":
                self.act("software", case, "reject", decided, {"reason": "No DPA offered."})
            elif plan == "ask":
                self.act("software", case, "ask", decided, {"question": "Is there a DPA?"})
            (self.summary.listed if plan.startswith("approve") else self.summary.unlisted
             ).append(product)
            self.summary.software_approved += plan.startswith("approve")
            self.summary.software_rejected += plan == "reject"
            self.summary.software_waiting += plan in ("ask", "wait")

    def consent(self) -> None:
        pupils = [(f"{self.school.slug[:1].upper()}{1000 + n}", self.name()) for n in range(12)]
        self.summary.pupils = len(pupils)
        first = self.day(0, 1, 8)
        withdrawn = {0: 2, 5: 3}  # pupil -> the use the mid-term export says was withdrawn
        self._import(pupils, first, {}, "start.csv")
        # A parent tells a teacher; the export catches up weeks later (and agrees).
        told = self.day(3, 2, 11)
        said = withdraw(self.ctx(Role.DPO, told), pupils[9][1], "website")
        assert "withdrawn" in " ".join(getattr(r, "text", "") for r in said).lower(), said
        self._import(pupils, self.day(6, 1, 8), withdrawn | {9: 2}, "midterm.csv")
        self.summary.withdrawals = len(withdrawn) + 1

    def _import(self, pupils: list[tuple[str, str]], now: datetime, withdrawn: dict[int, int],
                file_name: str) -> None:
        lines = [ARBOR_HEADER]
        for n, (mis_id, name) in enumerate(pupils):
            first, last = name.split()
            answers = ["Given"] * USES
            answers[3] = "Refused" if n % 3 else "Given"  # social media: a third say yes
            if n in withdrawn:
                answers[withdrawn[n]] = "Withdrawn"
            when = now.astimezone(self.tz).date().isoformat()
            lines.append(f"{mis_id},{first},{last},,Year 4,4B,2017-03-14,No,{when},Mother,"
                         + ",".join(answers))
        import_consents(self.session, self.school, ("\n".join(lines) + "\n").encode(),
                        file_name=file_name, mapping=None, by_name="Office", now=now)
        self.session.flush()


def fill_term(session: Session, school: School, term_key: str, seed: int = 1) -> Summary:
    """A term of activity at ``school`` (``autumn-2026``), made through the services."""
    from workflows.deadlines.school_days import TermCalendar

    season, year = parse_term(term_key)
    if not school.term_calendar_csv:
        school.term_calendar_csv = TermCalendar.from_csv(CALENDAR).to_csv()
        session.add(school)
        session.flush()
    calendar = TermCalendar.from_csv(school.term_calendar_csv)
    made = _Term(session, school, term(season, year, calendar), seed)
    made.consent()
    made.rights_requests()
    made.breaches()
    made.disclosures()
    made.register()
    made.software()
    return made.summary

