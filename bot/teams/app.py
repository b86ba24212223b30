"""The Teams agent: one ``AgentApplication`` serving a tenant's schools, and what its
listeners (``bot.teams.listeners``, one concept a module) share.

Built on the Microsoft 365 Agents SDK. The database work (``bot.teams.work``) runs on the
core's workers (``workflows.core.workers``: one transaction as the sender, in worker
processes on PostgreSQL) and nothing here decides what anyone may do or who sees what: that
is the core's (``workflows.core.recipients``).

One agent serves every school of a trust's tenant (or the one named by ``--school``): each
request acts as the sender's record at the school they are working with, or at the school
a button or form carries (see ``workflows.schools.membership``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from microsoft_agents.hosting.core import (
    AgentApplication,
    ApplicationOptions,
    Connections,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.teams import identity, listeners, standing
from bot.teams.identity import TeamsUser
from bot.teams.turns import CARD as CARD  # where the test harness reads it
from bot.teams.turns import personal_reference, sender
from bot.teams.work import ADAPTER, in_own_chat
from workflows.core import engine as core
from workflows.core.wording import render
from workflows.core.workers import Nobody, Workers
from workflows.database import session_scope
from workflows.schools import membership
from workflows.schools import service as schools

log = logging.getLogger(__name__)
T = TypeVar("T")


class TeamsBot:
    """One agent for the schools of one Microsoft 365 tenant: the one named by ``school_slug``,
    or every school here (a trust's)."""

    def __init__(self, engine: Engine, connections: Connections, *, client_id: str,
                 tenant_id: str, school_slug: str | None = None, workers: int = 0):
        self.engine = engine
        self.client_id = client_id
        self.tenant_id = tenant_id
        with session_scope(engine) as session:
            self.served = schools.served(session, school_slug)
        self.app: AgentApplication[TurnState] = AgentApplication[TurnState](
            # Conversations live in the bot's own database; the SDK's turn state is unused.
            ApplicationOptions(storage=MemoryStorage(), start_typing_timer=False,
                               bot_app_id=client_id),
            connection_manager=connections,
        )
        # Worker processes keep the core's Python off this process's GIL, so answers stay
        # quick while others' work goes on.
        self.workers = Workers(engine, ADAPTER, processes=workers)
        self._joining: dict[str, asyncio.Lock] = {}
        self.rechecks = membership.Rechecks()  # what Teams last said of linked accounts
        listeners.register(self)

    # Running the core

    async def run(self, context: TurnContext, work: Callable[..., T], *args: Any,
                  school_id: int | None = None) -> T:
        """``work(ctx, *args)`` in one transaction, as the sender: at ``school_id`` if given
        (a button on that school's case, a form shown for it), else at the school they are
        working with. Their personal chat with the bot is remembered. Raises ``Refused`` for
        someone Teams cannot vouch for (on every turn, known or not), ``Unplaced`` for a
        newcomer who must say which school is theirs, and ``NotFound`` if they have no record
        at ``school_id``.

        ``work`` is a module-level function (``bot.teams.work``) and ``args`` plain values:
        in a worker process both arrive by pickle.
        """
        user = sender(context.activity)
        reason = membership.barrier(identity.as_newcomer(user), self.tenant_id)
        if reason:
            raise await asyncio.to_thread(self._refuse, user.user_id, reason)
        await standing.check(self, context, user)
        reference = personal_reference(context)
        for _ in range(2):
            result = await self.workers.run(user.user_id, self.served, school_id,
                                            in_own_chat, user.user_id, self.served, reference,
                                            work, *args)
            if not isinstance(result, Nobody):
                return result
            if school_id is not None:
                raise core.NotFound(render("messages/not_among_yours.txt.j2"))
            await self.place(context, user)
        raise RuntimeError(f"{user.user_id} could not be placed at a school")

    def close(self) -> None:
        """After the last turn: the worker processes, if any, finish and exit."""
        self.workers.close()

    def _refuse(self, account: str, reason: str) -> membership.Refused:
        with session_scope(self.engine) as session:
            return membership.refuse(session, ADAPTER, account, self.served, reason)

    async def place(self, context: TurnContext, user: TeamsUser,
                    answer: str | None = None) -> None:
        """Make a record for a Teams user the bot has not seen (see ``membership.place``);
        ``answer`` is a newcomer's reply to “which school?”. Raises ``Refused`` for someone
        who may not be enrolled."""
        # A newcomer's first message and a click can arrive together: one at a time, or each
        # would make the same colleague a person of their own.
        async with self._joining.setdefault(user.user_id, asyncio.Lock()):
            newcomer = await identity.look_up(context, user)

            def create() -> membership.Refused | None:
                with session_scope(self.engine) as session:
                    return membership.settle(session, ADAPTER, user.user_id, self.served,
                                             newcomer, self.tenant_id, answer)

            # Another bot process may link them first: theirs is used.
            with contextlib.suppress(IntegrityError):
                refused = await asyncio.to_thread(create)
                if refused is not None:
                    raise refused

