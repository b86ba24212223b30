"""A first assessment of a breach's risk, from the answers (DOMAIN.md 3; EDPB Guidelines 01/2021).

Risk is likelihood × severity, looked at twice: the data may be seen by someone who should not
see it (confidentiality), and it may be unavailable or lost to the school (availability).
Severity comes from the kinds of data and whose it is; severe consequences make the risk high
even if unlikely. Likelihood comes from who has the data and what stops them using it:
unreadable data makes harm remote; a trusted recipient, or one who confirmed deletion, makes it
low; a stranger, an attacker or someone acting on purpose makes it high; many people raise it.
A fact not known counts as the worse case, and the assessment says so. The bot recommends, with
every reason; the DPO decides and records theirs. Pure: no database (the words are templates).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from workflows.core.wording import render

LEVELS = ("low", "medium", "high")


def said(reason: str, **facts: Any) -> str:
    """A reason in words (``templates/breach/reasons``): the rules here only choose which."""
    return render("breach/reasons.txt.j2", reason=reason, **facts)

SEVERITIES = ("low", "medium", "high", "severe")
LIKELIHOODS = ("remote", "low", "medium", "high")
MANY = 50  # people affected, or people who received it: scale raises the risk

# The kinds of data the ICO asks about, as staff may type them (number, name or alias).
DATA_KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("identifiers", "Names or other basic identifiers", ("name", "names", "identifier", "id",
                                                         "upn", "date of birth", "dob",
                                                         "dates of birth")),
    ("contact", "Contact details", ("contact", "address", "email", "phone", "addresses")),
    ("health", "Health (medical, mental health)", ("medical", "mental health", "illness",
                                                    "care plan", "medication")),
    ("sen", "SEN (special educational needs, EHCP)", ("send", "ehcp", "sen report",
                                                       "special educational needs")),
    ("ethnicity", "Ethnicity or race", ("race", "ethnic")),
    ("religion", "Religion or beliefs", ("religious", "belief", "beliefs")),
    ("biometrics", "Biometrics (fingerprints, face)", ("biometric", "fingerprint", "face")),
    ("sexual_life", "Sex life or sexual orientation", ("sexual", "sexuality", "orientation")),
    ("safeguarding", "Safeguarding or child protection", ("child protection", "cp", "cpoms")),
    ("financial", "Bank or card details, payments", ("bank", "card", "bank details",
                                                      "card details", "money", "payment",
                                                      "payments")),
    ("criminal", "Criminal offences or allegations", ("crime", "police", "offence")),
    ("minor_health", "A minor health detail (e.g. a food intolerance)",
     ("dietary", "diet", "allergy", "intolerance", "food intolerance", "dietary needs")),
    ("fsm", "Free school meals or pupil premium status", ("free school meals",
                                                           "pupil premium")),
    ("id_numbers", "National Insurance or passport numbers", ("ni", "ni number", "ni numbers",
                                                              "national insurance", "passport",
                                                              "passport numbers")),
    ("credentials", "Passwords or login details", ("password", "passwords", "login",
                                                   "logins", "username", "usernames")),
    ("reports", "School reports, attainment or exam results", ("report", "school report",
                                                               "attainment", "grades",
                                                               "marks", "results")),
    ("behaviour", "Behaviour or exclusion records", ("behavior", "exclusion", "exclusions",
                                                     "suspension")),
    ("other", "Other", ()),
)
SPECIAL = frozenset({"health", "minor_health", "sen", "ethnicity", "religion", "biometrics",
                     "sexual_life"})
SENSITIVE = SPECIAL | {"safeguarding", "criminal"}

# What each kind could do to people if it were misused: the level, and why (for the DPO).
HARM: dict[str, tuple[str, str]] = {
    "identifiers": ("low", "names and basic identifiers alone rarely harm anyone"),
    "contact": ("low", "contact details alone rarely harm anyone"),
    "minor_health": ("low", "a minor health detail such as a food intolerance is unlikely "
                            "to harm anyone if seen"),
    "fsm": ("medium", "free school meal or pupil premium status reveals a family's income: "
                      "embarrassment, stigma"),
    "reports": ("medium", "reports and attainment can cause distress or embarrassment"),
    "other": ("medium", "other data: how harmful is not known"),
    "behaviour": ("high", "behaviour and exclusion records can lead to stigma and unfair "
                          "treatment"),
    "financial": ("high", "bank or card details can lead to fraud and financial loss"),
    "id_numbers": ("high", "NI or passport numbers can be used for identity theft"),
    "credentials": ("high", "passwords or logins let someone into people's accounts"),
    "criminal": ("high", "criminal allegations can lead to stigma and discrimination"),
    "safeguarding": ("severe", "safeguarding and child-protection records can put someone's "
                               "safety at risk"),
} | {kind: ("high", "special category data can lead to distress and discrimination")
     for kind in SPECIAL - {"minor_health"}}
# Data that care, support or protection depend on: not having it can itself harm people.
NEEDED = frozenset({"health", "sen", "safeguarding"})

WHOSE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("pupils", "Pupils", ("pupil", "child", "children", "student", "students", "kids")),
    ("parents", "Parents or carers", ("parent", "carer", "carers", "family", "families")),
    ("staff", "Staff", ("teacher", "teachers", "employee", "employees", "staff member")),
    ("vulnerable_adults", "Vulnerable adults", ("vulnerable adult", "vulnerable")),
    ("others", "Others", ("other", "governor", "governors", "volunteer", "volunteers",
                          "visitor", "visitors", "applicant", "applicants")),
)

INCIDENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("wrong_recipient", "Sent to the wrong person (email, post, message)",
     ("wrong person", "wrong parent", "wrong email", "misdirected", "email")),
    ("cc_not_bcc", "Email addresses shown to a group (CC instead of BCC)", ("cc", "bcc")),
    ("lost_device", "Lost or stolen laptop, phone, tablet or USB stick",
     ("device", "laptop", "usb", "phone", "tablet", "stolen laptop")),
    ("lost_paper", "Lost or stolen papers or files", ("paper", "papers", "file")),
    ("cyber", "Cyber attack: ransomware, hacked account, phishing",
     ("ransomware", "hacked", "phishing", "hack")),
    ("shown", "Shown or overheard (screen, whiteboard, conversation)",
     ("whiteboard", "screen", "overheard")),
    ("access", "Looked at or shared by someone who should not have",
     ("wrong access", "snooping")),
    ("tricked", "Someone was tricked into giving it out (a caller or email pretending)",
     ("tricked", "impersonation", "social engineering", "pretending")),
    ("other", "Something else", ()),
)

RECIPIENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("trusted", "Bound to confidentiality: our contractor, another school, a professional",
     ("trusted", "processor", "contractor", "school")),
    ("known", "Someone we know and can contact: a parent, pupil or member of staff",
     ("known", "parent", "pupil", "staff")),
    ("stranger", "A stranger, or someone who may misuse it", ("stranger", "public",
                                                              "unknown person")),
)

UNAVAILABLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("no", "No: the school still has all of it", ("no", "none", "nothing")),
    ("hours", "Restored within a day (e.g. from a backup)", ("hours", "restored", "backup")),
    ("days", "Unavailable for a day or more", ("days", "a day or more", "still unavailable")),
    ("lost", "Lost for good: there is no copy", ("lost", "gone", "no backup")),
)


@dataclass(frozen=True)
class Incident:
    """What a kind of incident implies, and which follow-up questions can change the answer."""

    left_control: bool | None = True  # None: only if an attacker copied data out
    availability: bool = False  # can data be lost or unavailable to the school?
    unreadable: bool = False  # could the data have been unreadable to whoever got it?
    recipient: str | None = None  # who has it, when it follows from the kind; None: ask
    deletion: bool = True  # can the recipient be asked to delete it?
    deliberate: bool | None = False  # None: ask whether it was done on purpose
    recipients: bool = False  # ask how many people received or saw it


INCIDENT = {
    "wrong_recipient": Incident(unreadable=True, recipients=True),
    "cc_not_bcc": Incident(recipient="known", deletion=False),
    "lost_device": Incident(availability=True, unreadable=True, recipient="unknown",
                            deletion=False),
    "lost_paper": Incident(availability=True, recipient="unknown", deletion=False),
    "cyber": Incident(left_control=None, availability=True, unreadable=True,
                      recipient="stranger", deletion=False, deliberate=True),
    "tricked": Incident(recipient="stranger", deletion=False, deliberate=True),
    "shown": Incident(deletion=False, recipients=True),
    "access": Incident(deletion=False, deliberate=None),
    "other": Incident(availability=True, unreadable=True, deliberate=None, recipients=True),
}


def incident_of(value: str | None) -> Incident:
    """An incident not known yet is treated as "something else": every question may matter."""
    return INCIDENT.get(value or "other", INCIDENT["other"])


def label(table: tuple[tuple[str, str, tuple[str, ...]], ...], value: str) -> str:
    return next((lab for v, lab, _ in table if v == value), value)


class BreachFacts(Protocol):
    incident: str | None
    data_kinds: list[str]
    whose: list[str]
    approx_people: int | None
    encrypted: bool | None  # unreadable to whoever has it (encrypted, strongly hashed)
    cyber: bool | None
    exfiltrated: bool | None
    ongoing: bool
    unavailable: str | None
    recipient: str | None
    deleted: bool | None
    deliberate: bool | None
    recipients: int | None


def _yes_no(value: bool | None) -> str:
    return "Not known" if value is None else "Yes" if value else "No"


def shown_facts(breach: BreachFacts) -> list[tuple[str, str]]:
    """The answers that decide the risk, where the kind of incident makes them matter."""
    kind = incident_of(breach.incident)
    rows = []
    if kind.unreadable or breach.encrypted is not None:
        rows.append(("Unreadable to others", _yes_no(breach.encrypted)))
    if kind.availability:
        rows.append(("Data unavailable", label(UNAVAILABLE, breach.unavailable)
                     if breach.unavailable else "Not known"))
    if kind.recipient is None:
        rows.append(("Who has it", label(RECIPIENTS, breach.recipient).split(":")[0]
                     if breach.recipient else "Not known"))
    if kind.deletion and breach.recipient == "known":
        rows.append(("Deletion confirmed", _yes_no(breach.deleted)))
    if kind.deliberate is None:
        rows.append(("On purpose", _yes_no(breach.deliberate)))
    if kind.recipients:
        rows.append(("How many received it", f"about {breach.recipients}"
                     if breach.recipients is not None else "Not known"))
    return rows


@dataclass(frozen=True)
class Assessment:
    likelihood: str  # "remote", "low", "medium", "high"
    severity: str  # "low", "medium", "high", "severe"
    risk: str  # "low", "medium", "high"
    report_to_ico: bool
    tell_people: bool
    reasons: tuple[str, ...]  # every reason, in order: severity, likelihood, conclusion
    like: str | None = None  # the typical school case it resembles, with its usual outcome
    severity_reasons: tuple[str, ...] = ()
    likelihood_reasons: tuple[str, ...] = ()
    assumed: tuple[str, ...] = field(default=())  # facts not known, taken as the worse case

    @property
    def notes(self) -> tuple[str, ...]:
        """The reasons between likelihood and the law: the override and what was assumed."""
        return self.reasons[len(self.severity_reasons) + len(self.likelihood_reasons):-2]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {name: list(getattr(self, name)) for name in (
            "reasons", "severity_reasons", "likelihood_reasons", "assumed")}

    @property
    def summary(self) -> str:
        return said("summary", risk=self.risk, report=self.report_to_ico, tell=self.tell_people)


# severity -> likelihood -> risk. Severe consequences make the risk high even if unlikely;
# high ones keep it reportable even when misuse is unlikely; remote (unreadable) is no risk.
_RISK = {
    "low": {"remote": "low", "low": "low", "medium": "low", "high": "medium"},
    "medium": {"remote": "low", "low": "low", "medium": "medium", "high": "medium"},
    "high": {"remote": "low", "low": "medium", "medium": "high", "high": "high"},
    "severe": {"remote": "low", "low": "high", "medium": "high", "high": "high"},
}

# The typical cases of DOMAIN.md 3, with the usual outcome, as the DPO would recognise them.
LIKE = {
    "wrong_recipient": "Pupil information emailed to the wrong parent: often reportable if the "
                       "data is sensitive.",
    "cc_not_bcc": "CC instead of BCC to a parent list: reportable if many recipients or "
                  "sensitive data.",
    "lost_device_unencrypted": "Lost unencrypted USB stick or laptop with pupil data: usually "
                               "the ICO and the people affected are told.",
    "lost_device_encrypted": "Lost strongly encrypted device: usually logged only.",
    "cyber_contained": "Ransomware with good backups and no data taken: usually logged only.",
    "shown": "A safeguarding email shown on a classroom whiteboard: the ICO reprimanded a "
             "school for this.",
}


def _up(levels: tuple[str, ...], level: str, top: str | None = None) -> str:
    """One level up, no higher than ``top``; a level already above it stays."""
    ceiling = levels.index(top) if top else len(levels) - 1
    return levels[max(levels.index(level), min(levels.index(level) + 1, ceiling))]


@dataclass
class _Track:
    """One way people can be harmed, with its levels and the reasons for them."""

    severity: str
    likelihood: str
    severity_reasons: list[str]
    likelihood_reasons: list[str]

    @property
    def risk(self) -> str:
        return _RISK[self.severity][self.likelihood]


def _severity(breach: BreachFacts, kinds: set[str]) -> tuple[str, list[str]]:
    """How bad it would be for people if the data were misused."""
    reasons: list[str] = []
    known = [k for k, _, _ in DATA_KINDS if k in kinds]
    if known:
        severity = max((HARM[k][0] for k in known), key=SEVERITIES.index)
        reasons += dict.fromkeys(f"{HARM[k][1][0].upper()}{HARM[k][1][1:]}." for k in known
                                 if HARM[k][0] == severity)  # once each, in order
    else:
        severity = "medium"
        reasons.append(said("kinds_unknown"))
    whose = set(breach.whose or ())
    if whose & {"pupils", "vulnerable_adults"}:
        raised = _up(SEVERITIES, severity, "high")
        reasons.append(said("children", raised=raised != severity))
        severity = raised
    if breach.approx_people is not None and breach.approx_people >= MANY:
        severity = _up(SEVERITIES, severity, "high")
        reasons.append(said("many_affected", count=breach.approx_people))
    return severity, reasons


def _confidentiality(breach: BreachFacts, kinds: set[str], kind: Incident,
                     assumed: list[str]) -> _Track | None:
    """The data seen, or possibly seen, by someone who should not have it."""
    likely: list[str] = []
    if kind.left_control is None:  # a cyber attack: was anything copied out?
        if breach.exfiltrated is False:
            return None
        if breach.exfiltrated is None:
            assumed.append("whether data was copied out (assumed it was)")
            likely.append(said("copied_unknown"))
        else:
            likely.append(said("copied"))
    severity, severe_why = _severity(breach, kinds)
    if kind.unreadable and breach.encrypted is True:
        return _Track(severity, "remote", severe_why, likely + [said("unreadable")])
    if kind.unreadable and breach.encrypted is None:
        assumed.append("whether the data was unreadable (assumed readable)")
        likely.append(said("readable_unknown"))
    recipient = kind.recipient or breach.recipient
    if recipient == "trusted":
        likelihood = "low"
        likely.append(said("trusted"))
    elif recipient == "known":
        likelihood = "medium"
        likely.append(said("known"))
        if kind.deletion and breach.deleted is True:
            likelihood = "low"
            likely.append(said("deleted"))
        elif kind.deletion:
            if breach.deleted is None:
                assumed.append("whether they deleted it (assumed not)")
            likely.append(said("not_deleted"))
    elif recipient == "stranger":
        likelihood = "high"
        likely.append(said("stranger"))
    elif recipient == "unknown":
        likelihood = "high"
        likely.append(said("nobody_knows"))
    else:
        likelihood = "high"
        assumed.append("who received it (assumed someone who may misuse it)")
        likely.append(said("recipient_unknown"))
    if kind.deliberate:
        likely.append(said("targeted"))
    elif kind.deliberate is None and breach.deliberate is not False:
        if breach.deliberate is None:
            assumed.append("whether it was done on purpose (assumed it was)")
        likelihood = _up(LIKELIHOODS, likelihood)
        likely.append(said("on_purpose"))
    seen_by = breach.recipients if kind.recipients else (
        breach.approx_people if kind is INCIDENT["cc_not_bcc"] else None)
    if seen_by is not None and seen_by >= MANY:
        likelihood = _up(LIKELIHOODS, likelihood)
        likely.append(said("many_saw", count=seen_by))
    if breach.ongoing:
        likelihood = "high"
        likely.append(said("ongoing"))
    return _Track(severity, likelihood, severe_why, likely)


def _availability(breach: BreachFacts, kinds: set[str], kind: Incident,
                  assumed: list[str]) -> tuple[_Track | None, str | None]:
    """The data lost, or unavailable to the school for a time; with any mitigating reason."""
    if not kind.availability or breach.unavailable == "no":
        return None, None
    if breach.unavailable == "hours":
        return None, said("restored")
    if breach.unavailable is None:
        assumed.append("whether the data is unavailable (assumed for a day or more)")
        lost = said("unavailable_unknown")
    elif breach.unavailable == "lost":
        lost = said("lost")
    else:
        lost = said("unavailable")
    needed = sorted(label(DATA_KINDS, k).split(" (")[0] for k in kinds & NEEDED)
    if needed:
        return _Track("severe", "high", [said("depended_on", needed=needed)], [lost]), None
    return _Track("medium", "high", [said("let_down")], [lost]), None


def assess(breach: BreachFacts) -> Assessment:
    """The recommendation and every reason for it, from whatever is known so far."""
    kinds = set(breach.data_kinds or ())
    kind = incident_of(breach.incident)
    assumed: list[str] = []
    seen = _confidentiality(breach, kinds, kind, assumed)
    unavailable, mitigation = _availability(breach, kinds, kind, assumed)
    tracks = [t for t in (seen, unavailable) if t is not None]
    severity_reasons: list[str] = []
    likelihood_reasons: list[str] = []
    if seen is None:
        likelihood_reasons.append(said("not_seen"))
    if mitigation:
        likelihood_reasons.append(mitigation)
    for track in tracks:
        severity_reasons += track.severity_reasons
        likelihood_reasons += track.likelihood_reasons
    if tracks:
        worst = max(tracks, key=lambda t: (LEVELS.index(t.risk), t is seen))
        severity, likelihood, risk = worst.severity, worst.likelihood, worst.risk
    else:
        severity, severity_reasons = _severity(breach, kinds)
        likelihood, risk = "remote", "low"

    report = risk in ("medium", "high")
    tell = risk == "high"
    conclusion: list[str] = []
    if severity == "severe" and likelihood in ("low", "medium") and tell:
        conclusion.append(said("severe_anyway"))
    elif severity == "high" and likelihood == "low" and report:
        conclusion.append(said("serious_anyway"))
    if assumed:
        conclusion.append(said("assumed", assumed=assumed))
    conclusion.append(said("ico", report=report))
    conclusion.append(said("people", tell=tell))
    return Assessment(
        likelihood=likelihood,
        severity=severity,
        risk=risk,
        report_to_ico=report,
        tell_people=tell,
        reasons=tuple(severity_reasons + likelihood_reasons + conclusion),
        like=_like(breach),
        severity_reasons=tuple(severity_reasons),
        likelihood_reasons=tuple(likelihood_reasons),
        assumed=tuple(assumed),
    )


def _like(breach: BreachFacts) -> str | None:
    if breach.incident == "lost_device":
        key = "lost_device_encrypted" if breach.encrypted else "lost_device_unencrypted"
    elif breach.incident == "cyber":
        key = "cyber_contained" if (breach.exfiltrated is False
                                    and breach.unavailable in ("no", "hours")) else ""
    else:
        key = breach.incident or ""
    return LIKE.get(key)
