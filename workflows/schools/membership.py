"""Which school a chat account speaks for, when one app serves several schools.

A trust runs one Slack workspace or one Microsoft 365 tenant for all its schools, and so one
bot. A person has a record at each school they work with, found by their Slack or Teams id
(or, in the terminal, their name). Most have one and the bot simply uses it. A trust DPO has
several: they say “school St Mary's” and the bot remembers the choice until they change it,
while a button always acts in its own case's school. A newcomer is placed by the domain of
their email, or asked which school is theirs; they never choose a school's DPO team, only to
join it as staff.

Who may be enrolled at all is decided here, for every platform (``admit``): only an account
of the school's own workspace or tenant, a member rather than a guest, not deleted, and with
an email in the school's domains when the school lists any. Anyone else is turned away with
a polite answer that says nothing about the school, and the refusal is audited. The DPO's
exception is ``dpo-bot people add``: a record set up with the account's email (or its Slack
id) is linked whatever the domain or guest status, but never for a deleted account or one of
another organisation, which only a record made with its own id admits.

The same rule holds after enrolment (``still_admitted``): a linked account that its platform
later says is deactivated, a guest, or another organisation's loses access without
``people remove``, unless the DPO's exception covers it. Platforms are asked again about each
account once a day (``Rechecks``), and at once when they say the account changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, func, select

from workflows.audit import service as audit
from workflows.audit.models import AuditEvent
from workflows.core.context import Context
from workflows.core.text import fold
from workflows.core.ui import Reply, Text
from workflows.core.wording import render
from workflows.database import saved_id, utcnow
from workflows.people.models import Person, Role
from workflows.schools.models import ChosenSchool, School

# The person's field holding their id on each chat platform; the terminal knows them by name.
ACCOUNT_FIELD = {"slack": "slack_user_id", "teams": "teams_user_id",
                 "google_chat": "google_chat_user_id"}


def _account_column(adapter: str) -> Mapped[Any]:
    return col(getattr(Person, ACCOUNT_FIELD.get(adapter, "name")))


def account_of(person: Person, adapter: str) -> str | None:
    """The chat account this person record is reached by on ``adapter``."""
    return getattr(person, ACCOUNT_FIELD.get(adapter, "name"))


def records(session: Session, adapter: str, account: str, served: Sequence[int],
            *, active: bool = True) -> list[tuple[School, Person]]:
    """This account's records at the schools served, active ones first, by school name.

    With ``active=False`` a record of someone who has left is kept too, so that they are
    told why they may not act rather than being taken for a newcomer.
    """
    # The account's few records, then the served ones among them: a hosted bot serves
    # thousands of schools, and an IN list of them all, compiled on every message it
    # delivers, was most of its delivery's CPU (bench/monday_peak.py).
    query = (select(School, Person).join(Person, col(Person.school_id) == School.id)
             .where(_account_column(adapter) == account))
    if active:
        query = query.where(col(Person.active))
    here = set(served)
    return [(school, person) for school, person in session.exec(
        query.order_by(col(Person.active).desc(), col(School.name))).all() if school.id in here]


def speaking(session: Session, adapter: str, account: str, served: Sequence[int],
             school_id: int | None = None) -> Person | None:
    """The record this account acts as: at ``school_id`` if given (a button on a case of
    that school), else at the school last chosen, else at their only or first school."""
    mine = records(session, adapter, account, served, active=False)
    if school_id is not None:
        return next((person for school, person in mine if school.id == school_id), None)
    if len(mine) > 1:
        chosen = session.get(ChosenSchool, (adapter, account))
        if chosen is not None:
            return next((p for s, p in mine if s.id == chosen.school_id), mine[0][1])
    return mine[0][1] if mine else None


def remember(session: Session, adapter: str, account: str, school_id: int) -> None:
    chosen = session.get(ChosenSchool, (adapter, account))
    if chosen is None:
        session.add(ChosenSchool(adapter=adapter, account=account, school_id=school_id))
    else:
        chosen.school_id, chosen.chosen_at = school_id, utcnow()
    session.flush()


# Who may be enrolled

# Why an account is turned away: a key of the refusal's template and of its audit entry.
DELETED, UNVERIFIED, ELSEWHERE, GUEST, DOMAIN = (
    "deleted", "unverified", "elsewhere", "guest", "domain")
PLATFORM = {"slack": "Slack", "teams": "Teams", "google_chat": "Google Chat"}


@dataclass(frozen=True)
class Newcomer:
    """What the platform says of an account the bot has not seen, as the rule reads it."""

    name: str
    email: str | None
    home: str | None  # the Slack workspace (team id) or Microsoft 365 tenant it belongs to
    guest: bool = False  # a guest (or a bot), not a member of the organisation
    deleted: bool = False
    verified: bool = True  # the platform said who it is (Teams: an Entra account)


class Refused(Exception):
    """An account the bot will not talk to: ``reason`` is one of the keys above."""

    def __init__(self, reason: str, adapter: str, serving: str):
        super().__init__(reason)
        self.reason, self.adapter, self.serving = reason, adapter, serving

    def replies(self) -> list[Reply]:
        return [Text(render("messages/not_enrolled.txt.j2", reason=self.reason,
                            serving=self.serving,
                            platform=PLATFORM.get(self.adapter, self.adapter)), "warning")]


def serving(session: Session, served: Sequence[int]) -> str:
    """Whom a refusal says the bot works for: naming one of a trust's schools would tell a
    stranger the wrong thing (and which schools share the app)."""
    school = session.get(School, served[0]) if len(served) == 1 else None
    return school.name if school is not None else "our schools"


def barrier(newcomer: Newcomer, home: str | None) -> str | None:
    """Why this account is not the organisation's own, whoever set it up, or None. ``home``
    is the workspace or tenant the app serves; without one nobody can be vouched for."""
    if newcomer.deleted:
        return DELETED
    if not newcomer.verified or not newcomer.home:
        return UNVERIFIED
    if not home or newcomer.home.lower() != home.lower():
        return ELSEWHERE
    return None


def admit(schools: Sequence[School], newcomer: Newcomer) -> list[School]:
    """The schools a member of the organisation may join by themselves: those listing their
    email's domain, else those that list no domain. Raises ``Refused`` for a guest, or for
    an email no school with domains accepts."""
    if newcomer.guest:
        raise Refused(GUEST, "", "")
    email = newcomer.email or ""
    domain = email.rsplit("@", 1)[-1].lower() if "@" in email else None
    listed = [school for school in schools if domain and domain in domains(school)]
    unlisted = [school for school in schools if not domains(school)]
    if not (listed or unlisted):
        raise Refused(DOMAIN, "", "")
    return listed or unlisted


def account_digest(adapter: str, account: str) -> str:
    """The audit's name for a refused account: repeated attempts by one account can be told
    apart, but the trail keeps no identifier of someone the school has no reason to hold."""
    return hashlib.sha256(f"{adapter}:{account}".encode()).hexdigest()[:16]


def refuse(session: Session, adapter: str, account: str, served: Sequence[int],
           reason: str) -> Refused:
    """Audit a refusal at each school served (each DPO sees attempts on their app) and
    return it, to be told. The entry holds the reason and a digest, no name or email."""
    for school_id in served:
        session.add(AuditEvent(school_id=school_id, at=utcnow(), actor_id=None,
                               actor_name="(not enrolled)", adapter=adapter,
                               action="enrolment.refused", subject_type="account",
                               subject_ref=account_digest(adapter, account),
                               detail={"reason": reason}))
    session.flush()
    return Refused(reason, adapter, serving(session, served))


# Accounts already linked: the rule again, as the platform describes them now

# How long what a platform said of an account is trusted before it is asked again: a guest
# or a deactivated account loses access within a day at most, and at once when the platform
# says the account changed (Slack's ``user_change``).
RECHECK_EVERY = timedelta(days=1)
SET_UP = ("person.added", "person.updated")  # the DPO's `dpo-bot people add`


@dataclass
class Rechecks:
    """When this process last asked the platform about each account, and why it may no
    longer act (None: it may). Kept in memory: a restart only asks again sooner."""

    every: timedelta = RECHECK_EVERY
    found: dict[str, tuple[datetime, str | None]] = field(default_factory=dict)

    def due(self, account: str, now: datetime) -> bool:
        last = self.found.get(account)
        return last is None or now - last[0] >= self.every

    def note(self, account: str, now: datetime, reason: str | None) -> None:
        self.found[account] = (now, reason)

    def reason(self, account: str) -> str | None:
        return self.found.get(account, (None, None))[1]

    def forget(self, account: str) -> None:
        """The platform says the account changed: ask again at its next request."""
        self.found.pop(account, None)


def still_admitted(session: Session, adapter: str, account: str, served: Sequence[int],
                   described: Newcomer, home: str | None) -> str | None:
    """Why a linked account may no longer act, as its platform ``described`` it, or None
    (also for an account with no record here: enrolling it is ``place``'s). The exceptions
    are enrolment's: a guest stays if the DPO set their record up (by email or id), another
    organisation's account only if set up with its own id; a deactivated one never."""
    mine = [person.id for _, person in records(session, adapter, account, served)]
    reason = barrier(described, home) or (GUEST if described.guest else None)
    if not mine or reason in (None, DELETED):
        return reason if mine else None
    by_email = by_id = False
    for detail in session.exec(select(AuditEvent.detail).where(
            col(AuditEvent.action).in_(SET_UP), AuditEvent.subject_type == "person",
            col(AuditEvent.subject_id).in_(mine))):
        by_id = by_id or detail.get(ACCOUNT_FIELD.get(adapter, "")) == account
        by_email = by_email or bool(detail.get("email"))
    return None if by_id or (reason == GUEST and by_email) else reason


def withdraw(session: Session, adapter: str, account: str, served: Sequence[int],
             reason: str) -> Refused:
    """Audit that a linked account was turned away (at each school it has a record, as that
    record, with the reason and the account's digest, no name) and return it, to be told."""
    for school, person in records(session, adapter, account, served):
        session.add(AuditEvent(school_id=saved_id(school), at=utcnow(), actor_id=person.id,
                               actor_name="(linked account)", adapter=adapter,
                               action="access.refused", subject_type="account",
                               subject_ref=account_digest(adapter, account),
                               detail={"reason": reason}))
    session.flush()
    return Refused(reason, adapter, serving(session, served))


# Newcomers


@dataclass(frozen=True)
class Choice:
    """A school a newcomer may choose, as plain values that outlive the transaction."""

    id: int
    slug: str
    name: str


class Unplaced(Exception):
    """A newcomer the bot cannot place: these are the schools they may choose from."""

    def __init__(self, schools: Sequence[School]):
        super().__init__("which school?")
        self.schools = tuple(Choice(s.id, s.slug, s.name) for s in schools)  # type: ignore

    def question(self) -> list[Reply]:
        return [Text(_say("which", schools=self.schools))]


def domains(school: School) -> set[str]:
    return {d.strip().lower().lstrip("@") for d in (school.email_domains or "").split(",")
            if d.strip()}


def place(session: Session, adapter: str, account: str, served: Sequence[int],
          newcomer: Newcomer, home: str | None) -> Person:
    """The record for a chat account the bot has not seen: the records the DPO set up by
    email (at every school that has one), else a new staff member at the one school the
    account may join (``admit``). Raises ``Refused`` for an account that may not be
    enrolled, and ``Unplaced`` when the school is not clear."""
    reason = barrier(newcomer, home)
    if reason:
        raise Refused(reason, adapter, "")
    email = newcomer.email
    if email and link_set_up(session, adapter, account, served, {email}):
        found = speaking(session, adapter, account, served)
        if found is not None:
            return found
    schools = list(session.exec(select(School).where(col(School.id).in_(list(served)))
                                .order_by(col(School.name))))
    allowed = admit(schools, newcomer)
    if len(allowed) == 1:
        return join(session, adapter, account, saved_id(allowed[0]), newcomer.name, email)
    # A trust-wide domain names several schools: choose among those. With no domain set up
    # anywhere, any of them (every member of the workspace is the trust's own staff).
    raise Unplaced(allowed)


def link_set_up(session: Session, adapter: str, account: str, served: Sequence[int],
                emails: Iterable[str], linked_at: Iterable[int] = ()) -> bool:
    """Link this account to the records the DPO set up with one of ``emails``: the first set
    up at each school served, other than those in ``linked_at`` (where the account already
    has one). True if any was linked."""
    wanted = {email.lower() for email in emails}
    schools = set(served) - set(linked_at)
    if not wanted or not schools:
        return False
    set_up: dict[int, Person] = {}
    for person in session.exec(
        select(Person).where(func.lower(Person.email).in_(wanted),
                             col(Person.school_id).in_(schools),
                             _account_column(adapter).is_(None), col(Person.active))
        .order_by(col(Person.id))
    ):
        set_up.setdefault(person.school_id, person)  # one a school: the first set up
    for person in set_up.values():
        _link(person, adapter, account)
    session.flush()
    return bool(set_up)


def settle(session: Session, adapter: str, account: str, served: Sequence[int],
           newcomer: Newcomer, home: str | None, answer: str | None = None) -> Refused | None:
    """Give an account the bot has not seen its records (``place``), or, for a newcomer
    asked which school is theirs, the one their ``answer`` names; raises ``Unplaced`` if it
    names none. Nothing to do if another request placed them meanwhile.

    A refusal is audited and returned rather than raised, so that its audit is committed;
    the adapter tells the account why."""
    if speaking(session, adapter, account, served):
        return None
    try:
        place(session, adapter, account, served, newcomer, home)
    except Refused as refused:
        return refuse(session, adapter, account, served, refused.reason)
    except Unplaced as unplaced:
        # Only among the schools the account may join: an outsider to a school's domain
        # cannot name it.
        chosen = pick(unplaced.schools, answer) if answer else None
        if chosen is None:
            raise
        join(session, adapter, account, chosen.id, newcomer.name, newcomer.email)
    return None


def welcomed(ctx: Context) -> Text:
    """What a newcomer is told once the school they named has them."""
    return Text(_say("welcomed", school=ctx.school.name), "success")


def join(session: Session, adapter: str, account: str, school_id: int, name: str,
         email: str | None) -> Person:
    """A new staff member at the school, reached by this account."""
    taken = session.exec(
        select(Person.id).where(Person.school_id == school_id, Person.name == name)
    ).first()
    # Two colleagues can share a name; the account tells them apart.
    person = Person(school_id=school_id, name=f"{name} ({account[-8:]})" if taken else name,
                    email=email, role=Role.STAFF)
    _link(person, adapter, account)
    session.add(person)
    session.flush()
    return person


def _link(person: Person, adapter: str, account: str) -> None:
    if adapter in ACCOUNT_FIELD:  # the terminal's account is the name the record has
        setattr(person, ACCOUNT_FIELD[adapter], account)


def pick(schools: Sequence[Choice], text: str) -> Choice | None:
    """The school a reply names: its number in the list, its short name, or its name."""
    said = fold(text, words=True)
    if said.isdigit() and 1 <= int(said) <= len(schools):
        return schools[int(said) - 1]
    named = {s.slug: (fold(s.name, words=True), fold(s.slug, words=True)) for s in schools}
    exact = [s for s in schools if said in named[s.slug]]
    if len(exact) == 1:
        return exact[0]
    # “Oakwood” or “st marys”: the start of the name, or of a word in it, if only one has
    # it; never a couple of letters, so that “hi” is a greeting and not Hillside.
    partial = [s for s in schools if len(said) >= 3 and (
        named[s.slug][1].startswith(said) or any(
            named[s.slug][0][i:].startswith(said) for i in _word_starts(named[s.slug][0])))]
    return partial[0] if len(partial) == 1 else None


def _word_starts(text: str) -> list[int]:
    return [0, *(i + 1 for i, c in enumerate(text) if c == " ")]


# Choosing, in the chat


def switch(ctx: Context, wanted: str | None) -> list[Reply]:
    """“school”: where I am working and where else I could; “school NAME”: work there."""
    account = account_of(ctx.person, ctx.adapter)
    mine = records(ctx.session, ctx.adapter, account, ctx.served) if account and ctx.served else []
    if account is None or len(mine) <= 1:
        return [Text(_say("only", school=ctx.school.name))]
    others = [Choice(saved_id(school), school.slug, school.name) for school, _ in mine]
    listed = {"schools": others, "current": ctx.school.id}
    if not wanted:
        return [Text(_say("listed", school=ctx.school.name, **listed))]
    school = pick(others, wanted)
    if school is None:
        return [Text(_say("unknown", wanted=wanted, **listed), "warning")]
    remember(ctx.session, ctx.adapter, account, school.id)
    chosen, person = next((s, p) for s, p in mine if s.id == school.id)
    audit.record(Context.of(ctx.session, person, ctx.adapter, school=chosen, now=ctx.now,
                            served=ctx.served),
                 "school.chosen", "school", school.id, None)
    return [Text(_say("chosen", school=school.name), "success")]


def elsewhere(ctx: Context) -> list[School]:
    """The other schools this person works with, in an app that serves them too."""
    account = account_of(ctx.person, ctx.adapter)
    if not account or len(ctx.served) < 2:
        return []
    return [school for school, _ in records(ctx.session, ctx.adapter, account, ctx.served)
            if school.id != ctx.school.id]


def working_with(ctx: Context) -> str | None:
    """A reminder of the school, for someone who works with several, or None."""
    if not elsewhere(ctx):
        return None
    return _say("for", school=ctx.school.name)


def labelled(ctx: Context, text: str) -> str:
    """A message headed by its school, for someone who works with several: each school has
    its own SAR-2026-0001, so a trust DPO must see whose it is."""
    return f"{ctx.school.name}: {text}" if elsewhere(ctx) else text


def _say(event: str, **facts: Any) -> str:
    return render("schools/membership.txt.j2", event=event, **facts)
