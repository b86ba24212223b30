"""The neutral UI model drawn in a terminal with rich.

Every piece of user text goes through ``escape`` or a ``Text`` object, so a requester
called “[bold]Bobby[/bold]” is printed as typed, never as markup.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text as RichText

from workflows.core.bidi import neutral_reply
from workflows.core.ui import Card, Document, Question, Reply, Summary, Table, Text, file_named
from workflows.core.wording import render as wording
from workflows.core.wording import render as words


def said(event: str, **facts: object) -> str:
    """The terminal's own words (templates/messages/terminal.txt.j2)."""
    return words("messages/terminal.txt.j2", event=event, **facts)


TONES = {"info": "", "success": "green", "warning": "yellow", "error": "bold red"}


def render(console: Console, reply: Reply) -> None:
    reply = neutral_reply(reply)  # no bidirectional control reorders what the terminal shows
    if isinstance(reply, Text):
        console.print(RichText(reply.text, style=TONES[reply.tone]))
    elif isinstance(reply, Question):
        console.print(_question(reply))
    elif isinstance(reply, Summary):
        console.print(_summary(reply))
    elif isinstance(reply, Card):
        console.print(_card(reply))
    elif isinstance(reply, Table):
        console.print(_table(reply))
    elif isinstance(reply, Document):
        # No box: a letter is copied from here, and a border would come with every line. Soft
        # wrapping keeps each of its lines one line when copied.
        console.rule(escape(reply.title), style="blue", align="left")
        console.print(RichText(reply.body), soft_wrap=True)
        console.rule(escape(wording("messages/terminal_document.txt.j2", event="end",
                                    file=file_name(reply))), style="blue", align="left")
    else:  # pragma: no cover - a new reply type must be drawn before it is used
        raise TypeError(f"cannot draw {type(reply).__name__}")


def file_name(document: Document) -> str:
    """Where “save” writes a document by default: its title as a file name."""
    return file_named(document.title, ".txt")


def _question(q: Question) -> RichText:
    text = RichText()
    text.append(f"({q.step}/{q.total}) ", style="dim")
    text.append(q.prompt, style="bold")
    if q.optional:
        text.append("  " + said("optional"), style="dim")
    for number, option in enumerate(q.options, 1):
        text.append(f"\n   {number}. {option.label}")
    if q.current is not None:
        text.append("\n   " + said("currently", current=q.current), style="dim")
    return text


def _summary(s: Summary) -> Panel:
    table = RichTable.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, value in s.rows:
        table.add_row(RichText(label), RichText(value))
    parts = [table]
    parts += [RichText(note, style="cyan") for note in s.notes]
    parts.append(RichText(wording("messages/forms/summary_hint.txt.j2", rows=bool(s.rows)),
                          style="dim"))
    return Panel(Group(*parts), title=escape(s.title), border_style="yellow")


def _card(c: Card) -> Panel:
    table = RichTable.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row(said("status"), RichText(c.status))
    for label, value in c.rows:
        table.add_row(RichText(label), RichText(value))
    parts = [table]
    if c.deadline:
        parts.append(RichText("\n" + c.deadline, style="cyan"))
    if c.buttons:
        actions = RichText("\n" + said("you_can") + " ", style="dim")
        for i, button in enumerate(c.buttons):
            if i:
                actions.append(" · ", style="dim")
            actions.append(button.command, style="bold magenta")
        parts.append(actions)
    return Panel(Group(*parts), title=escape(f"{c.reference} — {c.title}"), border_style="green")


def _table(t: Table) -> RichTable | RichText:
    if not t.rows:
        return RichText(f"{t.title}: {t.empty}")
    table = RichTable(title=escape(t.title), title_justify="left")
    for i, column in enumerate(t.columns):
        # The first column is what a person types next (a reference): never cut or wrapped.
        table.add_column(escape(column), no_wrap=i == 0, min_width=max(
            (len(row[0]) for row in t.rows), default=0) if i == 0 else None)
    for row in t.rows:
        table.add_row(*(RichText(cell) for cell in row))
    return table
