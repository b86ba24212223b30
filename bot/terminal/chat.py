"""`dpo-bot chat`: the real workflows in a terminal, one person at a time.

Each line typed is handled in its own transaction, so the conversation is saved after
every answer and a restart (or Ctrl-C) resumes at the same question. Notifications for
this person (reminders, new cases for the DPO) are shown as they arrive.
"""

from __future__ import annotations

import getpass
import logging
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.text import Text as RichText
from sqlalchemy import Engine

from bot.terminal.render import file_name, render, said
from workflows.core import faults
from workflows.core.bidi import neutral
from workflows.core.chat import fault, greet, respond
from workflows.core.context import Context
from workflows.core.text import fold
from workflows.core.ui import Document
from workflows.core.wording import render as render_text
from workflows.database import session_scope
from workflows.documents.word import LetterheadError, letter_docx
from workflows.notifications import service as notifications
from workflows.people import service as people
from workflows.people.models import Person, Role
from workflows.schools import membership
from workflows.schools import service as schools
from workflows.schools.models import School

log = logging.getLogger(__name__)
ADAPTER = "terminal"
LEAVE = {"exit", "quit", "bye", "logout"}
PROMPT = "[bold blue]you>[/] "
POLL_SECONDS = 5.0
SAVE = re.compile(r"save(?: it| letter| this)?(?: (?:as|to|in) (?P<file>\S.*))?", re.IGNORECASE)


def default_user() -> str:
    try:
        return getpass.getuser().replace(".", " ").title()
    except Exception:  # no login name in some containers
        return "Staff Member"


class TerminalChat:
    def __init__(
        self,
        engine: Engine,
        console: Console,
        user: str,
        role: Role | None,
        school_slug: str | None = None,
        run_reminders: bool = True,
    ) -> None:
        self.engine = engine
        self.console = console
        self.user = user
        self.run_reminders = run_reminders
        self.channel_key = f"terminal:{user.lower()}"
        self._printing = threading.Lock()
        self._stop = threading.Event()
        self.document: Document | None = None  # the letter just shown, for “save”
        with session_scope(engine) as session:
            try:
                self.served = schools.served(session, school_slug)
            except ValueError:
                raise SystemExit(said("no_school", slug=school_slug)) from None
            # Someone known at several schools starts where they last chose to work.
            known = membership.speaking(session, ADAPTER, user, self.served)
            # Raises PeopleRefused for a role the person does not have.
            person = people.arriving(
                session, session.get(School, known.school_id if known else self.served[0]),
                user, role, ADAPTER, datetime.now(UTC))
            self.person_id = person.id
            school = session.get(School, person.school_id)
            self.banner = (school.name, person.name, Role(person.role).value, school.configured)

    def context(self, session) -> Context:
        """As the person at the school they work with now (“school NAME” changes it)."""
        person = session.get(Person, self.person_id)
        if len(self.served) > 1:
            person = membership.speaking(session, ADAPTER, person.name, self.served) or person
        return Context.of(session, person, ADAPTER, served=self.served)

    def opening(self) -> None:
        school, name, role, configured = self.banner
        self.console.print(RichText(said("banner", school=school, name=name, role=role),
                                    style="bold"))
        if not configured:
            self.console.print(RichText(said("not_set_up"), style="dim"))
        self.console.print(RichText(said("how_to"), style="dim"))
        self.say(greet)

    def say(self, handler, *args) -> None:
        try:
            with session_scope(self.engine) as session:
                replies = handler(self.context(session), self.channel_key, *args)
        except Exception as error:
            # The transaction rolled back: nothing half-done was kept. Say so, and ask
            # the same question again from what was saved (if the database answers).
            replies = self._fault(error)
        for reply in replies:
            render(self.console, reply)
        # Only straight after a letter (or digest) does “save” mean it, so a form's own
        # answer is never taken for a file name.
        self.document = replies[-1] if replies and isinstance(replies[-1], Document) else None

    def save(self, line: str) -> bool:
        """“save” or “save as FILE” just after a document: write it, plain, to a file that
        does not exist yet. False when the line is not that (it goes to the bot)."""
        found = SAVE.fullmatch(line.strip())
        if self.document is None or found is None:
            return False
        path = Path(found["file"] or file_name(self.document)).expanduser()
        try:
            if path.suffix.lower() == ".docx":
                with session_scope(self.engine) as session:
                    word = letter_docx(self.document, self.context(session).school)
                with path.open("xb") as binary:
                    binary.write(word)
            else:
                with path.open("x", encoding="utf-8") as out:
                    out.write(self.document.body.rstrip("\n") + "\n")
            event, why = "saved", ""
        except LetterheadError as error:
            event, why = "failed", str(error)
        except FileExistsError:
            event, why = "exists", ""
        except OSError as error:
            event, why = "failed", error.strerror or type(error).__name__
        self.console.print(RichText(render_text(
            "messages/terminal_document.txt.j2", event=event, path=str(path), why=why,
            lines=self.document.body.count("\n") + 1), style="green" if event == "saved"
            else "yellow"))
        return True

    def _fault(self, error: Exception) -> list:
        if not faults.unreachable(error):
            # A fault of ours: one line without the message, which may quote what was typed.
            log.error("message failed: %s", faults.brief(error))
            log.debug("message failed", exc_info=error)
            try:
                with session_scope(self.engine) as session:
                    return fault(self.context(session), self.channel_key)
            except Exception as again:
                error = again
        log.debug("database unreachable", exc_info=error)
        return faults.unsaved()

    def deliver_notifications(self, at_prompt: bool = False) -> int:
        """Show this person's new notifications; True-ish if any were shown."""
        if self.run_reminders:
            from workflows.reminders.service import sweep

            sweep(self.engine)
        shown = 0
        with self._printing, session_scope(self.engine) as session:
            mine = [p.id for _, p in membership.records(
                session, ADAPTER, session.get(Person, self.person_id).name, self.served,
                active=False)] or [self.person_id]
            for note in (n for pid in mine for n in notifications.pending(session, pid)):
                if notifications.mark_delivered(session, note.id, ADAPTER):
                    prefix = "\n" if at_prompt and not shown else ""
                    self.console.print(RichText(f"{prefix}🔔 {neutral(note.text)}",
                                                style="bold yellow"))
                    shown += 1
            if at_prompt and shown:
                self.console.print(PROMPT, end="")  # the person was mid-prompt: redraw it
        return shown

    def _poll(self) -> None:
        """While the person sits at the prompt, reminders still arrive."""
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.deliver_notifications(at_prompt=True)
            except Exception:  # a locked or briefly unreachable database: try next time
                continue

    def run(self) -> None:
        self.opening()
        poller = threading.Thread(target=self._poll, name="notifications", daemon=True)
        poller.start()
        try:
            self._loop()
        finally:
            self._stop.set()

    def _loop(self) -> None:
        while True:
            try:
                self.deliver_notifications()
            except Exception:  # the database briefly unreachable: the next prompt tries again
                log.debug("notifications not checked", exc_info=True)
            try:
                line = self.console.input(PROMPT)
            except (EOFError, KeyboardInterrupt):
                self.console.print("\n" + said("bye"))
                return
            if fold(line, strip=".! ") in LEAVE:
                # In the terminal, leaving never cancels: the form waits for next time.
                self.console.print(said("bye"))
                return
            if not self.save(line):
                self.say(respond, line)
