"""DPIA and parental-consent screening, worked out from a software request's answers.

DOMAIN.md 5: any "yes" on the ICO's list means a DPIA is required. The result carries its
reasons, so the DPO sees why, and says "can't tell yet" when a "don't know" answer is the
only thing standing between "required" and "not required".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.core.fields import UNKNOWN, Choice
from workflows.core.wording import render

# What goes in: (value, label, aliases). Numbers in the question follow this order.
DATA_KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("names", "Pupils' names", ("name", "names", "first name", "first names", "surname",
                                "surnames", "pupil names", "full name", "full names")),
    ("dob", "Date of birth", ("dob", "d.o.b", "birthday", "birthdays", "birth date",
                              "dates of birth")),
    ("photos", "Photos or video", ("photo", "photos", "video", "videos", "pictures",
                                   "images", "recordings")),
    ("assessment", "Assessment or progress", ("assessment", "assessments", "marks", "grades",
                                              "scores", "results", "progress", "attainment")),
    ("sen_health", "SEN or health", ("sen", "send", "ehcp", "health", "medical",
                                     "special needs", "sen or health", "disability")),
    ("free_text", "Behaviour or free-text notes about pupils", (
        "free text", "notes", "comments", "behaviour", "behavior", "behaviour notes",
        "free text about pupils")),
    ("staff", "Staff details", ("staff", "staff names", "teacher", "teachers",
                                "staff emails")),
    ("none", "No personal data", ("none", "nothing", "no personal data", "no data")),
)
_KIND_LABELS = {value: label for value, label, _ in DATA_KINDS}
PUPIL_KINDS = {"names", "dob", "photos", "assessment", "sen_health", "free_text"}


DATA_CHOICES = tuple(Choice(value, label, aliases) for value, label, aliases in DATA_KINDS)


def none_alone(value: list[str], answers: Mapping[str, Any], ctx: Any) -> str | None:
    """“No personal data” is an answer on its own."""
    if "none" in value and len(value) > 1:
        return "“No personal data” can't go with other kinds of data: which is it?"
    return None


def kind_label(value: str) -> str:
    return _KIND_LABELS.get(value, value)


# Ages at the start of each school year (England): Reception is 4, Year N is N + 4.
_STAGES = {"nursery": 3, "eyfs": 3, "reception": 4, "ks1": 5, "key stage 1": 5, "ks2": 7,
           "key stage 2": 7, "primary": 4, "ks3": 11, "key stage 3": 11, "ks4": 14,
           "key stage 4": 14, "sixth form": 16, "ks5": 16}


def youngest_age(users: str) -> int | None:
    """The youngest pupils' age named in "who will use it", or None if no year is named."""
    text = users.lower()
    ages = [age for name, age in _STAGES.items() if re.search(rf"\b{name}\b", text)]
    for match in re.finditer(r"\b(?:years?|yrs?|y)\s*(\d{1,2})(?:\s*(?:-|to|–)\s*(\d{1,2}))?",
                             text):
        ages.append(int(match.group(1)) + 4)
    return min(ages) if ages else None


def _age(text: str) -> int | None:
    match = re.search(r"\d{1,2}", text)
    return int(match.group()) if match else None


_OUTSIDE_UK = re.compile(r"\b(us|usa|united states|america|outside|worldwide|global|india|"
                         r"china|australia|canada)\b", re.IGNORECASE)
_NO = {"no", "none", "not found", "no privacy notice", "n/a", "nothing"}


# A reason is a key and its facts ({"key": "under_13", "youngest": 9}), worded by
# templates/software/screening_words.j2; one stored as a sentence, by a version that kept
# sentences, is kept and shown as it is.
Reason = dict[str, Any] | str


@dataclass(frozen=True)
class Screening:
    dpia: str  # "required" / "not_required" / "unclear"
    dpia_reasons: tuple[Reason, ...]
    consent: str  # "needed" / "not_needed" / "unclear"
    consent_reasons: tuple[Reason, ...]
    concerns: tuple[Reason, ...] = ()  # points for the DPO that are not DPIA triggers
    open_questions: tuple[str, ...] = field(default=())  # answer names (or stored sentences)

    def as_dict(self) -> dict[str, Any]:
        return {"dpia": self.dpia, "dpia_reasons": list(self.dpia_reasons),
                "consent": self.consent, "consent_reasons": list(self.consent_reasons),
                "concerns": list(self.concerns), "open_questions": list(self.open_questions)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Screening:
        return cls(data["dpia"], tuple(data["dpia_reasons"]), data["consent"],
                   tuple(data["consent_reasons"]), tuple(data.get("concerns", ())),
                   tuple(data.get("open_questions", ())))


def worded(reasons: Iterable[Reason]) -> list[str]:
    """Each reason as the DPO reads it."""
    return [render("software/screening.txt.j2", part="reason", reason=r) for r in reasons]


# The answers that can be "don't know": the DPO sees them as open questions.
OPEN_QUESTIONS = ("website", "pupils_use", "accounts_by", "privacy_notice", "storage", "min_age",
                  "dpa", "ads_ai", "cost")


def screen(answers: Mapping[str, Any]) -> Screening:
    """Screen one request's answers (as stored: data_kinds a list, unknowns as UNKNOWN)."""
    kinds = set(answers.get("data_kinds") or [])
    pupil_data = bool(kinds & PUPIL_KINDS)
    pupils_use = answers.get("pupils_use")
    ads_ai = answers.get("ads_ai")
    notice = str(answers.get("privacy_notice") or UNKNOWN)
    dpia: list[Reason] = []
    undecided: list[str] = []
    if "sen_health" in kinds:
        dpia.append({"key": "sen_health"})
    if "free_text" in kinds:
        dpia.append({"key": "free_text"})
    if pupils_use == "yes" and pupil_data:
        dpia.append({"key": "pupils_use"})
    elif pupils_use == UNKNOWN and pupil_data:
        undecided.append("pupils_use")
    if ads_ai == "yes":
        dpia.append({"key": "ads_ai"})
    elif ads_ai == UNKNOWN:
        undecided.append("ads_ai")
    if notice.lower().strip(" .") in _NO:
        dpia.append({"key": "no_privacy_notice"})
    elif notice == UNKNOWN:
        undecided.append("privacy_notice")
    if dpia:
        dpia_result = "required"
    elif undecided:
        dpia_result = "unclear"
        dpia = [{"key": "dpia_not_known", "unknown": undecided}]
    else:
        dpia_result = "not_required"
        dpia = [{"key": "no_trigger"}]

    consent: list[Reason] = []
    unclear_consent: list[str] = []
    if "photos" in kinds:
        consent.append({"key": "photos"})
    youngest = youngest_age(str(answers.get("users") or ""))
    if pupils_use == "yes" and pupil_data:
        if youngest is not None and youngest < 13:
            consent.append({"key": "under_13", "youngest": youngest})
        elif youngest is None:
            unclear_consent.append("ages")
    elif pupils_use == UNKNOWN and (youngest is None or youngest < 13):
        unclear_consent.append("pupils_use_short")
    minimum = _age(str(answers.get("min_age") or ""))
    if minimum and youngest is not None and youngest < minimum and pupils_use != "no":
        consent.append({"key": "minimum_age", "minimum": minimum, "youngest": youngest})
    if consent:
        consent_result = "needed"
    elif unclear_consent:
        consent_result = "unclear"
        consent = [{"key": "consent_not_known", "unknown": unclear_consent}]
    else:
        consent_result = "not_needed"
        consent = [{"key": "no_consent_trigger"}]

    concerns: list[Reason] = []
    if answers.get("dpa") == "no":
        concerns.append({"key": "no_dpa"})
    storage = str(answers.get("storage") or "")
    if storage != UNKNOWN and _OUTSIDE_UK.search(storage):
        concerns.append({"key": "outside_uk", "storage": storage})
    open_questions = tuple(name for name in OPEN_QUESTIONS if answers.get(name) == UNKNOWN)
    return Screening(dpia_result, tuple(dpia), consent_result, tuple(consent), tuple(concerns),
                     open_questions)
