"""The neutral UI model: what the core says, before any platform renders it.

Every string here is plain, unescaped text. Each adapter escapes it for its own target
(Slack mrkdwn, Adaptive Card TextRun, terminal markup), so user text can never become markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

Tone = Literal["info", "success", "warning", "error"]


@dataclass(frozen=True)
class Text:
    text: str
    tone: Tone = "info"


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """One question of a form, asked on its own in a chat."""

    field: str
    prompt: str
    help: str
    kind: str
    step: int
    total: int
    optional: bool
    options: tuple[Option, ...] = ()
    current: str | None = None  # the answer already given, shown when going back or editing


@dataclass(frozen=True)
class Button:
    """An action a person may take; text adapters show ``command`` instead of a button."""

    action: str
    label: str
    command: str
    value: str  # what the platform sends back: reference and the version the person saw
    style: Literal["default", "primary", "danger"] = "default"
    confirm: str | None = None


@dataclass(frozen=True)
class Summary:
    """The answers read back before anything is saved."""

    title: str
    rows: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Card:
    """A case as one person may see it, with the actions their role allows."""

    title: str
    reference: str
    status: str
    rows: tuple[tuple[str, str], ...]
    deadline: str | None = None
    buttons: tuple[Button, ...] = ()
    footer: str | None = None
    # What the case is, in one line with no personal data (``core.headline``): a
    # notification's preview, Slack's fallback text, a Teams activity's summary.
    headline: str | None = None

    def for_channel(self) -> Card:
        """What a shared channel may show: reference, status, deadline and the actions.

        Never the rows: they hold names and what happened. Whoever opens the case gets
        those privately, so a channel that turns out not to be private leaks nothing.
        """
        return replace(self, rows=(), footer="Details go privately to whoever opens it: type "
                       f"{self.reference} in my DM.")


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = "Nothing here."


@dataclass(frozen=True)
class File:
    """A file for the person alone, declared and never carried: ``maker`` names what makes
    it (``workflows.documents.files``) and ``asked`` what from (a case's reference and a
    letter's kind; a term), so an adapter makes it only as it sends it, through the same check
    and audit as the first time; Teams only once the person allows it.

    On its own it is a reply: ``said`` goes with it where the platform can send files (Slack,
    Teams), ``elsewhere`` instead where it cannot (Google Chat)."""

    maker: Literal["letter", "report"]
    asked: tuple[str, ...]
    title: str
    name: str
    said: str = ""
    elsewhere: str = ""


def file_named(title: str, suffix: str) -> str:
    """A file's name from its title: “Acknowledgement — SAR-2026-0001” and ``.docx`` give
    acknowledgement-sar-2026-0001.docx."""
    return "-".join(re.findall(r"[a-z0-9]+", title.lower()))[:80] + suffix


@dataclass(frozen=True)
class Document:
    """A drafted letter: shown for the DPO to copy, check and send."""

    title: str
    body: str
    # A case's letter also goes as a Word document where the platform can send files.
    file: File | None = None


Reply = Text | Question | Summary | Card | Table | Document | File


def files(replies: Iterable[Reply]) -> list[File]:
    """The files among ``replies``: each on its own, and each a letter shown comes with."""
    found = [r.file if isinstance(r, Document) else r for r in replies
             if isinstance(r, File | Document)]
    return [file for file in found if file is not None]


@dataclass
class Replies:
    items: list[Reply] = field(default_factory=list)

    def add(self, *items: Reply) -> Replies:
        self.items.extend(items)
        return self
