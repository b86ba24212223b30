"""Column mappings for the consent exports schools download from their MIS.

Each MIS names its columns its own way; a ``Mapping`` says which column holds what. The
built-in mappings follow the exports as schools typically set them up (the column headers are
the report's defaults; a school whose report differs uses ``generic`` with a mapping file).

SIMS (Reports > Student details, consent fields added):
    Adno, Legal Forename, Legal Surname, Preferred Forename, Year, Reg, DOB,
    No Photographs, Consent Date, Consent Given By, and one column per use:
    Consent - Displays, Consent - Printed Publications, Consent - Website,
    Consent - Social Media, Consent - Video, Consent - Press No Name,
    Consent - Press With Name, Consent - Photographer, Consent - Apps.
    Values Yes / No / Not Asked / Withdrawn; dates DD/MM/YYYY.

Arbor (Students > Consents export):
    Arbor ID, Legal first name, Legal last name, Preferred first name, Year group,
    Registration form, Date of birth, Photo restriction, Consent date, Consent given by,
    Displays consent, Print consent, Website consent, Social media consent, Video consent,
    Press (no name) consent, Press (named) consent, Photographer consent, Apps consent.
    Values Given / Refused / Not asked / Withdrawn; dates YYYY-MM-DD.

Bromcom (Students > Consent report):
    Student Id, Legal Forename, Legal Surname, Preferred Name, Year Group, Tutor Group,
    Date of Birth, Do Not Photograph, Consent Date, Consent Recorded From,
    Photo - Displays, Photo - Print, Photo - Website, Photo - Social Media, Photo - Video,
    Photo - Press Unnamed, Photo - Press Named, Photo - Photographer, Photo - Apps.
    Values Y / N / NA / W; dates DD/MM/YYYY.

Generic: a JSON or TOML file::

    [columns]          # required: mis_id, legal_first, legal_last; the rest optional
    mis_id = "UPN"
    legal_first = "First"
    legal_last = "Last"
    preferred_name = "Known as"
    year_group = "Year"
    reg_class = "Class"
    date_of_birth = "Born"
    no_photos = "No photos"
    given_on = "Form date"
    given_by = "Signed by"
    [consents]         # category key = column
    website = "Web"
    social_media = "Socials"
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.consent.models import Status
from workflows.core.text import fold
from workflows.core.wording import render

PUPIL_FIELDS = ("mis_id", "legal_first", "legal_last", "preferred_name", "year_group",
                "reg_class", "date_of_birth", "no_photos", "given_on", "given_by")
REQUIRED_FIELDS = ("mis_id", "legal_first", "legal_last")

# Every MIS's words for the four answers, compared case-insensitively. Blank is "not asked".
STATUS_WORDS: dict[str, Status] = {
    **dict.fromkeys(("yes", "y", "given", "granted", "consent given", "true", "1", "agreed"),
                    Status.GIVEN),
    **dict.fromkeys(("no", "n", "refused", "declined", "not given", "false", "0"),
                    Status.REFUSED),
    **dict.fromkeys(("", "not asked", "na", "n/a", "unknown", "not collected", "-",
                     "not recorded"), Status.NOT_ASKED),
    **dict.fromkeys(("withdrawn", "w", "consent withdrawn"), Status.WITHDRAWN),
}
FLAG_WORDS: dict[str, bool] = {
    **dict.fromkeys(("yes", "y", "true", "1", "x", "no photos", "restricted"), True),
    **dict.fromkeys(("", "no", "n", "false", "0", "none", "-"), False),
}


class MappingError(Exception):
    """A mapping file that cannot be used: said plainly, nothing imported."""

    def __init__(self, reason: str, **facts: Any) -> None:
        super().__init__(render("consent/import.txt.j2", reason=reason, **facts))


@dataclass(frozen=True)
class Mapping:
    name: str
    columns: dict[str, str]  # pupil field -> column header
    consents: dict[str, str]  # category key -> column header
    statuses: dict[str, Status] = field(default_factory=lambda: dict(STATUS_WORDS))

    def missing(self, headers: list[str]) -> list[str]:
        """Headers this mapping needs that the file lacks (required fields and consents)."""
        present = {fold(h) for h in headers}
        return [c for c in self.wanted() if fold(c) not in present]

    def wanted(self) -> list[str]:
        """Every column this mapping reads: the required ones first, then the consents."""
        wanted = [self.columns[f] for f in REQUIRED_FIELDS] + list(self.consents.values())
        return wanted + [c for f, c in self.columns.items() if f not in REQUIRED_FIELDS]



def _builtin(name: str, columns: list[str], consents: list[str]) -> Mapping:
    keys = ("displays", "print", "website", "social_media", "video", "press_unnamed",
            "press_named", "photographer", "apps")
    return Mapping(name, dict(zip(PUPIL_FIELDS, columns, strict=True)),
                   dict(zip(keys, consents, strict=True)))


BUILTIN: dict[str, Mapping] = {
    "sims": _builtin(
        "sims",
        ["Adno", "Legal Forename", "Legal Surname", "Preferred Forename", "Year", "Reg", "DOB",
         "No Photographs", "Consent Date", "Consent Given By"],
        [f"Consent - {c}" for c in ("Displays", "Printed Publications", "Website",
                                    "Social Media", "Video", "Press No Name",
                                    "Press With Name", "Photographer", "Apps")],
    ),
    "arbor": _builtin(
        "arbor",
        ["Arbor ID", "Legal first name", "Legal last name", "Preferred first name",
         "Year group", "Registration form", "Date of birth", "Photo restriction",
         "Consent date", "Consent given by"],
        [f"{c} consent" for c in ("Displays", "Print", "Website", "Social media", "Video",
                                  "Press (no name)", "Press (named)", "Photographer", "Apps")],
    ),
    "bromcom": _builtin(
        "bromcom",
        ["Student Id", "Legal Forename", "Legal Surname", "Preferred Name", "Year Group",
         "Tutor Group", "Date of Birth", "Do Not Photograph", "Consent Date",
         "Consent Recorded From"],
        [f"Photo - {c}" for c in ("Displays", "Print", "Website", "Social Media", "Video",
                                  "Press Unnamed", "Press Named", "Photographer", "Apps")],
    ),
}
FORMATS = (*BUILTIN, "generic")


def detect(headers: list[str]) -> Mapping | None:
    """The built-in mapping whose columns are all in the file, if exactly one is."""
    fits = [m for m in BUILTIN.values() if not m.missing(headers)]
    return fits[0] if len(fits) == 1 else None


def closest(headers: list[str]) -> Mapping | None:
    """The built-in mapping the file has most columns of (three at least, and more than any
    other): what an export with a column renamed or left out was most likely meant to be."""
    def shared(mapping: Mapping) -> int:
        return len(mapping.wanted()) - len(mapping.missing(headers))

    ranked = sorted(BUILTIN.values(), key=shared, reverse=True)
    best = shared(ranked[0])
    return ranked[0] if best >= 3 and best > shared(ranked[1]) else None


def load_mapping(path: Path) -> Mapping:
    """A generic mapping from a JSON or TOML file, checked before any row is read."""
    try:
        raw_text = path.read_text(encoding="utf-8-sig")
        raw = tomllib.loads(raw_text) if path.suffix.lower() == ".toml" else json.loads(raw_text)
    except (OSError, ValueError) as error:
        raise MappingError("mapping_unreadable", file=path.name, error=error) from None
    return mapping_from_dict(raw, path.name)


def mapping_from_dict(raw: dict[str, Any], name: str = "generic") -> Mapping:
    columns = raw.get("columns")
    consents = raw.get("consents")
    if not isinstance(columns, dict) or not isinstance(consents, dict) or not consents:
        raise MappingError("mapping_tables", file=name)
    unknown = [k for k in columns if k not in PUPIL_FIELDS]
    if unknown:
        raise MappingError("mapping_fields", file=name, unknown=unknown, fields=PUPIL_FIELDS)
    missing = [k for k in REQUIRED_FIELDS if not columns.get(k)]
    if missing:
        raise MappingError("mapping_required", file=name, missing=missing)
    statuses = dict(STATUS_WORDS)
    for word, status in (raw.get("statuses") or {}).items():
        try:
            statuses[fold(str(word))] = Status(status)
        except ValueError:
            raise MappingError("mapping_status", file=name, status=status,
                               statuses=[s.value for s in Status]) from None
    return Mapping("generic", {k: str(v) for k, v in columns.items()},
                   {k: str(v) for k, v in consents.items()}, statuses)
