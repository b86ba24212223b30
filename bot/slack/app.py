"""The Bolt app for a workspace, and how its listeners (``bot.slack.listeners``: /dpo,
shortcuts, modals, buttons, App Home and the bot's DM) run the core.

The database work runs in worker processes or threads (``workflows.core.workers``: the core
is synchronous) and never decides anything here: permissions, states and deadlines are the
core's. Each request acts as the person's record at their school (``membership``): one app
can serve every school of a trust.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.slack import blocks, listeners, standing
from bot.slack.settings import SlackSettings
from workflows.core.engine import NotFound
from workflows.core.wording import render
from workflows.core.workers import Nobody, Workers
from workflows.database import session_scope
from workflows.schools import membership
from workflows.schools import service as schools

log = logging.getLogger(__name__)
ADAPTER = "slack"
T = TypeVar("T")


class SlackBot:
    """One Bolt app (one workspace, no OAuth) for the school named by ``school_slug``, or
    for every school here, each person acting at their own."""

    def __init__(self, engine: Engine, settings: SlackSettings, school_slug: str | None = None,
                 workers: int = 0):
        self.engine = engine
        self.settings = settings
        self.client = AsyncWebClient(
            token=settings.bot_token,
            # One connection pool for every call: without a session slack_sdk opens one (a
            # new connection, TLS and all) per call, which this process pays on every click.
            session=aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)),
            **({"base_url": settings.api_url} if settings.api_url else {}),
        )
        # Throttling (429) and dropped connections are retried with backoff by slack_sdk.
        self.client.retry_handlers.extend(
            [AsyncRateLimitErrorRetryHandler(max_retry_count=3),
             AsyncConnectionErrorRetryHandler(max_retry_count=2)]
        )
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.signing_secret or "",
            # HTTP mode always has a secret (settings refuse to start without one) and so
            # verifies every request; Socket Mode requests arrive over our own connection.
            request_verification_enabled=settings.signing_secret is not None,
        )
        with session_scope(engine) as session:
            self.served = schools.served(session, school_slug)
        if (settings.dpo_channel or settings.alert_channel) and len(self.served) > 1:
            log.warning("serving %d schools: channel alerts are off, everyone is told in "
                        "their DM (serve one school with --school to use a channel)",
                        len(self.served))
        # Worker processes keep the core's Python off this process's GIL, so acks stay quick.
        self.workers = Workers(engine, ADAPTER, processes=workers)
        self._joining: dict[str, asyncio.Lock] = {}
        self._home: str | None = None  # the workspace's team id, once asked
        self.email_misses: dict[str, datetime] = {}  # emails Slack did not know, and when
        self.rechecks = membership.Rechecks()  # what Slack last said of linked accounts
        listeners.register(self)
        standing.listen(self)

    # One workspace for several schools (a trust's): a shared channel would mix them.

    @property
    def team_channel(self) -> str | None:
        return self.settings.dpo_channel if len(self.served) == 1 else None

    @property
    def alert_channel(self) -> str | None:
        return self.settings.alert_channel if len(self.served) == 1 else None

    # Running the core

    async def run(self, slack_user_id: str, work: Callable[..., T], *args: Any,
                  school_id: int | None = None) -> T:
        """``work(ctx, *args)`` in one transaction, as the person behind ``slack_user_id``: at
        ``school_id`` if given (a button on that school's case), else at the school they are
        working with. Raises ``Unplaced`` for a newcomer who must say which is theirs, and
        ``NotFound`` if they have no record at ``school_id``.

        ``work`` is a module-level function (``bot.slack.work``) and ``args`` plain values:
        in a worker process both arrive by pickle.
        """
        await standing.check(self, slack_user_id)
        for _ in range(2):
            result = await self.workers.run(slack_user_id, self.served, school_id, work, *args)
            if not isinstance(result, Nobody):
                return result
            if school_id is not None:
                raise NotFound(render("messages/not_among_yours.txt.j2"))
            await self.place(slack_user_id)
        raise RuntimeError(f"{slack_user_id} could not be placed at a school")

    async def close(self) -> None:
        await self.client.session.close()
        self.workers.close()

    async def place(self, slack_user_id: str, answer: str | None = None) -> None:
        """Make a record for a Slack user the bot has not seen (see ``membership.place``);
        ``answer`` is a newcomer's reply to “which school?”. Raises ``Refused`` for someone
        who may not be enrolled (a guest, another organisation's, a deleted account)."""
        # A newcomer's first DM, Slack's retry of it and a click can arrive together: one
        # at a time, or each would make the same colleague a person of their own.
        async with self._joining.setdefault(slack_user_id, asyncio.Lock()):
            newcomer = await self.newcomer(slack_user_id)
            home = await self.home()

            def create() -> membership.Refused | None:
                with session_scope(self.engine) as session:
                    return membership.settle(session, ADAPTER, slack_user_id, self.served,
                                             newcomer, home, answer)

            # Another bot process may link them first: theirs is used.
            with contextlib.suppress(IntegrityError):
                refused = await asyncio.to_thread(create)
                if refused is not None:
                    raise refused

    async def link_picked(self, slack_user_ids: Iterable[str]) -> None:
        """Link colleagues picked in a ``users_select`` who have not written to the bot yet
        to the records the DPO set up with their Slack email, as their first message would.
        Nobody new is enrolled: a pick no record answers to is refused by the form."""
        for picked in set(slack_user_ids):
            if await asyncio.to_thread(self._known, picked):
                continue
            newcomer = await self.newcomer(picked)
            if newcomer.email is None or membership.barrier(newcomer, await self.home()):
                continue
            with contextlib.suppress(IntegrityError):  # linked meanwhile by their own message
                await asyncio.to_thread(self._link_set_up, picked, newcomer.email)

    def _known(self, slack_user_id: str) -> bool:
        with session_scope(self.engine) as session:
            return bool(membership.records(session, ADAPTER, slack_user_id, self.served,
                                           active=False))

    def _link_set_up(self, slack_user_id: str, email: str) -> None:
        with session_scope(self.engine) as session:
            membership.link_set_up(session, ADAPTER, slack_user_id, self.served, {email})

    async def newcomer(self, slack_user_id: str) -> membership.Newcomer:
        """What Slack says of a user: someone it will not describe (another organisation's,
        through Slack Connect) is a stranger of no workspace."""
        try:
            info = (await self.client.users_info(user=slack_user_id))["user"]
        except SlackApiError as error:
            if error.response.get("error") not in ("user_not_found", "user_not_visible"):
                raise
            return membership.Newcomer(name=slack_user_id, email=None, home=None)
        profile = info.get("profile", {})
        return membership.Newcomer(
            name=info.get("real_name") or profile.get("real_name") or info.get("name")
            or slack_user_id,
            email=profile.get("email"),
            home=info.get("team_id"),
            # Multi- and single-channel guests; a bot is no member of staff either.
            guest=bool(info.get("is_restricted") or info.get("is_ultra_restricted")
                       or info.get("is_bot")),
            deleted=bool(info.get("deleted")))

    async def home(self) -> str | None:
        """The workspace this app is installed in (``auth.test``), asked once."""
        if self._home is None:
            self._home = (await self.client.auth_test()).get("team_id")
        return self._home

    async def dm(self, slack_user_id: str, replies, text: str | None = None) -> str:
        """Post to the person's DM with the bot; returns that DM's channel id. ``text`` is
        what the notification says, if not what the message is about (``fallback_text``)."""
        response = await self.client.chat_postMessage(
            channel=slack_user_id,
            text=blocks.escape(text) if text else blocks.fallback_text(replies),
            blocks=blocks.message_blocks(replies),
            unfurl_links=False,
            unfurl_media=False,
        )
        return response["channel"]

    async def check_token(self) -> dict[str, Any]:
        return (await self.client.auth_test()).data
