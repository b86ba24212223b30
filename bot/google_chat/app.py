"""The Google Chat app: one bot serving a Workspace's schools, running the core as the
sender of each event.

The database work runs on the core's workers (``workflows.core.workers``: one transaction as
the sender); nothing here decides what anyone may do or who sees what: that is the core's
(``workflows.core.recipients``). Google signs every event and says in it who sent it, so
the enrolment rule is applied to every event, and ``membership.still_admitted`` once a day
an account (a colleague who left the domain loses access without ``people remove``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.google_chat.api import ChatApi
from bot.google_chat.identity import ChatUser, as_newcomer
from bot.google_chat.settings import GoogleChatSettings
from workflows.core import engine as core
from workflows.core.context import Context
from workflows.core.wording import render
from workflows.core.workers import Nobody, Workers
from workflows.database import saved_id, session_scope, utcnow
from workflows.notifications import addresses
from workflows.schools import membership
from workflows.schools import service as schools

log = logging.getLogger(__name__)
ADAPTER = "google_chat"
T = TypeVar("T")


class GoogleChatBot:
    """One app for the schools of one Google Workspace: the one named by ``school_slug``,
    or every school here (a trust's)."""

    def __init__(self, engine: Engine, settings: GoogleChatSettings, api: ChatApi,
                 school_slug: str | None = None) -> None:
        self.engine, self.settings, self.api = engine, settings, api
        self.home = settings.domains[0]
        with session_scope(engine) as session:
            self.served = schools.served(session, school_slug)
        self.workers = Workers(engine, ADAPTER)
        self._joining: dict[str, asyncio.Lock] = {}
        self.rechecks = membership.Rechecks()

    async def run(self, user: ChatUser, space: str | None, work: Callable[[Context], T],
                  school_id: int | None = None) -> T:
        """``work`` in one transaction, as the sender: at ``school_id`` if given (a button on
        that school's case, a form shown for it), else at the school they work with.
        ``space``: their DM with the app, remembered as where to reach them. Raises
        ``Refused`` for someone the school may not enrol, ``Unplaced`` for a newcomer who
        must say which school is theirs, ``NotFound`` with no record at ``school_id``."""
        newcomer = as_newcomer(user, self.settings.domains)
        reason = membership.barrier(newcomer, self.home)
        if reason:
            raise await asyncio.to_thread(self._refuse, user.user_id, reason)
        await asyncio.to_thread(self._still_admitted, user)
        for _ in range(2):
            result = await self.workers.run(user.user_id, self.served, school_id, _in_own_chat,
                                            user.user_id, self.served, space, work)
            if not isinstance(result, Nobody):
                return result
            if school_id is not None:
                raise core.NotFound(render("messages/not_among_yours.txt.j2"))
            await self.place(user)
        raise RuntimeError("a Google Chat user could not be placed at a school")

    def _refuse(self, account: str, reason: str) -> membership.Refused:
        with session_scope(self.engine) as session:
            return membership.refuse(session, ADAPTER, account, self.served, reason)

    def _still_admitted(self, user: ChatUser) -> None:
        account, now = user.user_id, utcnow()
        if self.rechecks.due(account, now):
            with session_scope(self.engine) as session:
                self.rechecks.note(account, now, membership.still_admitted(
                    session, ADAPTER, account, self.served,
                    as_newcomer(user, self.settings.domains), self.home))
        reason = self.rechecks.reason(account)
        if reason is not None:
            with session_scope(self.engine) as session:
                raise membership.withdraw(session, ADAPTER, account, self.served, reason)

    async def place(self, user: ChatUser, answer: str | None = None) -> None:
        """Make a record for a Chat user the bot has not seen (``membership.settle``);
        ``answer`` is a newcomer's reply to “which school?”."""
        # A first message and a click can arrive together: one at a time, or each would
        # make the same colleague a person of their own.
        async with self._joining.setdefault(user.user_id, asyncio.Lock()):
            newcomer = as_newcomer(user, self.settings.domains)

            def create() -> membership.Refused | None:
                with session_scope(self.engine) as session:
                    return membership.settle(session, ADAPTER, user.user_id, self.served,
                                             newcomer, self.home, answer)

            with contextlib.suppress(IntegrityError):  # another process linked them first
                refused = await asyncio.to_thread(create)
                if refused is not None:
                    raise refused


def _in_own_chat(ctx: Context, account: str, served: tuple[int, ...], space: str | None,
                 work: Callable[[Context], T]) -> T:
    """``work``, after remembering the sender's DM with the app (when the event is from it)."""
    if space is not None:
        _remember(ctx.session, account, served, space)
    return work(ctx)


def _remember(session: Session, account: str, served: tuple[int, ...], space: str) -> None:
    """The DM reaches every record of this account: a trust DPO's reminders for one school
    come while they work with another."""
    for school, record in membership.records(session, ADAPTER, account, served, active=False):
        addresses.remember(session, saved_id(school), saved_id(record), ADAPTER, {"space": space})
