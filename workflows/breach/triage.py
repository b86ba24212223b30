"""A first assessment of a breach's risk, from the answers (DOMAIN.md 3).

Risk is likelihood × severity. Children's data and special category data raise severity;
data that was unintelligible to whoever got it (strong encryption) makes harm remote. The
bot recommends, with its reasons; the DPO decides and records theirs. Pure: no database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

LEVELS = ("low", "medium", "high")

# The kinds of data the ICO asks about, as staff may type them (number, name or alias).
DATA_KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("identifiers", "Names or other basic identifiers", ("name", "names", "identifier", "id",
                                                         "upn", "date of birth", "dob")),
    ("contact", "Contact details", ("contact", "address", "email", "phone", "addresses")),
    ("health", "Health (medical, mental health)", ("medical", "mental health", "illness")),
    ("sen", "SEN (special educational needs, EHCP)", ("send", "ehcp", "sen report",
                                                       "special educational needs")),
    ("ethnicity", "Ethnicity or race", ("race", "ethnic")),
    ("religion", "Religion or beliefs", ("religious", "belief", "beliefs")),
    ("biometrics", "Biometrics (fingerprints, face)", ("biometric", "fingerprint", "face")),
    ("sexual_life", "Sex life or sexual orientation", ("sexual", "sexuality", "orientation")),
    ("safeguarding", "Safeguarding or child protection", ("child protection", "cp", "cpoms")),
    ("financial", "Financial (bank, free school meals, payments)", ("bank", "money",
                                                                     "fsm", "payment")),
    ("criminal", "Criminal offences or allegations", ("crime", "police", "offence")),
    ("other", "Other", ()),
)
SPECIAL = frozenset({"health", "sen", "ethnicity", "religion", "biometrics", "sexual_life"})
SENSITIVE = SPECIAL | {"safeguarding", "criminal"}

WHOSE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("pupils", "Pupils", ("pupil", "child", "children", "student", "students", "kids")),
    ("parents", "Parents or carers", ("parent", "carer", "carers", "family", "families")),
    ("staff", "Staff", ("teacher", "teachers", "employee", "employees", "staff member")),
    ("vulnerable_adults", "Vulnerable adults", ("vulnerable adult", "vulnerable")),
    ("others", "Others", ("other", "governor", "governors", "volunteer", "volunteers",
                          "visitor", "visitors")),
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
    ("other", "Something else", ()),
)


def label(table: tuple[tuple[str, str, tuple[str, ...]], ...], value: str) -> str:
    return next((lab for v, lab, _ in table if v == value), value)


class BreachFacts(Protocol):
    incident: str | None
    data_kinds: list[str]
    whose: list[str]
    approx_people: int | None
    encrypted: bool | None
    cyber: bool | None
    exfiltrated: bool | None
    ongoing: bool


@dataclass(frozen=True)
class Assessment:
    likelihood: str  # "remote", "low", "medium", "high"
    severity: str  # "low", "medium", "high"
    risk: str  # "low", "medium", "high"
    report_to_ico: bool
    tell_people: bool
    reasons: tuple[str, ...]
    like: str | None = None  # the typical school case it resembles, with its usual outcome

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"reasons": list(self.reasons)}

    @property
    def summary(self) -> str:
        ico = "report to the ICO" if self.report_to_ico else "log it; no ICO report needed"
        people = ("tell the people affected" if self.tell_people
                  else "telling the people affected is not required")
        return f"{self.risk.capitalize()} risk: {ico}; {people}."


_RISK = {  # severity -> likelihood -> risk
    "low": {"low": "low", "medium": "low", "high": "medium"},
    "medium": {"low": "low", "medium": "medium", "high": "high"},
    "high": {"low": "medium", "medium": "high", "high": "high"},
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


def _up(level: str) -> str:
    return LEVELS[min(LEVELS.index(level) + 1, len(LEVELS) - 1)]


def assess(breach: BreachFacts) -> Assessment:
    """The recommendation and its reasons, from whatever is known so far."""
    reasons: list[str] = []
    kinds = set(breach.data_kinds or ())
    whose = set(breach.whose or ())
    incident = breach.incident

    # Severity: what could happen to people if the data is misused.
    if kinds & SENSITIVE:
        severity = "high"
        names = ", ".join(label(DATA_KINDS, k).split(" (")[0]
                          for k, _, _ in DATA_KINDS if k in kinds & SENSITIVE)
        reasons.append(f"The data includes {names}: special category or equally sensitive data "
                       "makes the harm severe (distress, discrimination, risk to safety).")
    elif "financial" in kinds:
        severity = "medium"
        reasons.append("Financial data can lead to fraud or financial loss.")
    elif kinds:
        severity = "low"
        reasons.append("Only basic identifiers or contact details are involved.")
    else:
        severity = "medium"
        reasons.append("The kinds of data are not known yet: assumed medium severity until "
                       "they are.")
    if whose & {"pupils", "vulnerable_adults"}:
        if severity != "high":
            severity = _up(severity)
        reasons.append("Children's (or vulnerable people's) data raises the severity: they are "
                       "less able to protect themselves.")
    many = breach.approx_people is not None and breach.approx_people >= 50
    if many:
        severity = _up(severity)
        reasons.append(f"About {breach.approx_people} people are affected.")

    # Likelihood: how likely that harm is, given what happened.
    like_key: str | None = incident if incident in LIKE else None
    likelihood = "medium"
    if breach.encrypted is True and incident in ("lost_device", None, "other"):
        likelihood = "remote"
        like_key = "lost_device_encrypted" if incident == "lost_device" else None
        reasons.append("The data was strongly encrypted, so it is unintelligible to whoever "
                       "has it: harm is unlikely.")
    elif incident == "lost_device":
        like_key = "lost_device_unencrypted"
        if breach.encrypted is False:
            likelihood = "high"
            reasons.append("The device was not encrypted: anyone who finds it can read the data.")
        else:
            reasons.append("It is not known whether the device was encrypted: find out, as it "
                           "decides whether people are at risk.")
    elif incident == "cyber" or breach.cyber:
        if breach.exfiltrated is False:
            likelihood = "remote"
            like_key = "cyber_contained"
            reasons.append("No sign the data was copied out or seen: if it was restored from "
                           "backups, this is an availability breach with little risk.")
        elif breach.exfiltrated is True:
            likelihood = "high"
            reasons.append("Data was copied out by an attacker: misuse is likely.")
        else:
            reasons.append("It is not known yet whether data was copied out.")
    elif (incident == "wrong_recipient" and kinds and not kinds & (SENSITIVE | {"financial"})
          and (breach.approx_people or 1) <= 5):
        # DOMAIN.md 3: a misdirected email is "often reportable if sensitive"; basic details
        # sent to one known recipient, who can be asked to delete them, rarely harm anyone.
        likelihood = "low"
        reasons.append("Only basic details went to a known recipient, who can be asked to "
                       "delete them: harm is unlikely. Record that they confirmed deletion.")
    elif incident in ("wrong_recipient", "cc_not_bcc", "shown", "access", "lost_paper"):
        reasons.append("The data has been (or may have been) seen by people who should not "
                       "see it.")
    if breach.ongoing:
        likelihood = "high" if likelihood != "remote" else likelihood
        reasons.append("It is still happening: contain it first.")
    if incident == "cc_not_bcc" and many:
        likelihood = "high"

    risk = "low" if likelihood == "remote" else _RISK[severity][likelihood]
    report = risk in ("medium", "high")
    tell = risk == "high"
    if report:
        reasons.append("A risk to people is likely, so the ICO must be told within 72 hours.")
    else:
        reasons.append("A risk to people is unlikely, so it is logged but need not be reported "
                       "to the ICO (record why).")
    if tell:
        reasons.append("The risk is high, so the people affected should be told without undue "
                       "delay (Art 34).")
    return Assessment(
        likelihood=likelihood,
        severity=severity,
        risk=risk,
        report_to_ico=report,
        tell_people=tell,
        reasons=tuple(reasons),
        like=LIKE.get(like_key) if like_key else None,
    )
