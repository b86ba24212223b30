"""Notifications (new cases, decisions, reminders) delivered proactively in Google Chat,
after commit, through the Chat API as the app.

The app may write first only into a space it is a member of: each person's DM with it,
stored when they first wrote to it or added it. Each notification is leased before it is
sent and marked delivered only after Chat accepted it. Throttling (429) is retried with
backoff (Retry-After when Chat gives one); a failure on Chat's side gives the lease back for
the next pass. A person Chat refuses to reach (403, 404: the app removed, the account gone)
is marked unreachable once and their school's DPO team is told once; their messages wait,
unsent, until that person writes to the app again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from requests import RequestException
from sqlmodel import col, func, select

from bot import sending
from bot.google_chat import cards
from bot.google_chat.api import ChatApiError
from bot.google_chat.app import ADAPTER, GoogleChatBot
from bot.sending import Claimed, Verdict
from workflows.core import recipients
from workflows.core.wording import render
from workflows.database import saved_id, session_scope
from workflows.notifications import addresses, outbox
from workflows.notifications import service as notifications
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.reminders.service import worker_name

log = logging.getLogger(__name__)
RETRIES = 3
BACKOFF = 1.0  # seconds before the first retry; doubled for each one after
LONGEST_WAIT = 60.0  # a Retry-After longer than this waits for the next pass instead
GONE = {403, 404}


@dataclass(frozen=True)
class Delivery:
    notification_id: int
    person_id: int
    address_id: int
    space: str
    message: dict[str, Any]


def _claim(bot: GoogleChatBot, token: str) -> list[Delivery]:
    """What to send, to whom, for everyone at every school the app serves."""
    now = datetime.now(UTC)
    with session_scope(bot.engine) as session:
        reachable = addresses.reachable(session, ADAPTER, bot.served)
        claimed_now = outbox.claim(session, reachable, token,
                                   adapter=ADAPTER, served=bot.served, now=now,
                                   limit=sending.PASS)
        reach = addresses.of_people(session, (saved_id(c.person) for c in claimed_now), ADAPTER)
        out: list[Delivery] = []
        for claimed in claimed_now:
            person_id = saved_id(claimed.person)
            address = reach.get(person_id)
            space = address.reference.get("space") if address is not None else None
            if address is None or not isinstance(space, str) or not space.startswith("spaces/"):
                continue  # gone since the claim, or never ours: its lease runs out
            out.append(Delivery(saved_id(claimed.note), person_id, saved_id(address), space,
                                cards.message_card(claimed.replies(),
                                                   summary=claimed.headline())))
        return out


def _wait(error: ChatApiError, attempt: int, backoff: float) -> float:
    try:
        return (min(float(error.retry_after), LONGEST_WAIT) if error.retry_after
                else backoff * 2 ** attempt)
    except ValueError:  # an HTTP date: our own backoff
        return backoff * 2 ** attempt


async def send_retrying(bot: GoogleChatBot, delivery: Delivery, retries: int,
                        backoff: float) -> None:
    for attempt in range(retries + 1):
        try:
            await asyncio.to_thread(bot.api.create, delivery.space, delivery.message)
            return
        except ChatApiError as error:
            if error.status != 429 or attempt == retries:
                raise
            wait = _wait(error, attempt, backoff)
            log.info("Google Chat is throttling (429); retrying in %.1f s", wait)
            await asyncio.sleep(wait)


def _release(bot: GoogleChatBot, notification_ids: list[int], token: str) -> None:
    with session_scope(bot.engine) as session:
        notifications.release(session, notification_ids, token)


def _delivered(bot: GoogleChatBot, deliveries: list[Delivery], token: str) -> None:
    with session_scope(bot.engine) as session:
        notifications.delivered_by(session, [d.notification_id for d in deliveries], token,
                                   ADAPTER)


def _unreachable(bot: GoogleChatBot, delivery: Delivery, notification_ids: list[int],
                 token: str) -> None:
    """Mark the person unreachable; the first time, tell the rest of their school's DPO team
    once."""
    now = datetime.now(UTC)
    with session_scope(bot.engine) as session:
        notifications.release(session, notification_ids, token)
        if not addresses.mark_unreachable(session, delivery.address_id, now):
            return  # another pass or process already reported it
        person = session.get_one(Person, delivery.person_id)
        waiting = session.exec(
            select(func.count()).select_from(Notification).where(
                Notification.person_id == person.id, col(Notification.delivered_at).is_(None))
        ).one()
        team = [p.id for p in recipients.told_unreachable(session, person) if p.id is not None]
        if not team:
            log.warning("a DPO team member cannot be reached in Google Chat and nobody else "
                        "can be told")
            return
        notifications.queue(
            session, school_id=person.school_id, people=team, kind="google_chat.unreachable",
            by=None, key=f"google-chat-unreachable:{person.id}:{now.isoformat()}",
            text=render("messages/google_chat_unreachable.txt.j2", person=person.name,
                        waiting=waiting),
        )


async def claim(bot: GoogleChatBot) -> Claimed[Delivery]:
    token = worker_name()
    return Claimed(token, await asyncio.to_thread(_claim, bot, token))


async def send_all(bot: GoogleChatBot, claimed: Claimed[Delivery], *, retries: int = RETRIES,
                   backoff: float = BACKOFF) -> int:
    """A pass's messages, several people's DMs at once; returns how many went."""
    token = claimed.token
    delivered = sending.Together[Delivery](lambda sent: _delivered(bot, sent, token))

    async def post(delivery: Delivery) -> Verdict:
        try:
            await send_retrying(bot, delivery, retries, backoff)
        except ChatApiError as error:
            if error.status in GONE:  # the rest of their DM is given back after the pass
                await asyncio.to_thread(_unreachable, bot, delivery,
                                        [delivery.notification_id], token)
                return Verdict.CHAT_ENDED
            if error.status == 429 or error.status >= 500:  # Chat's side: next pass
                log.warning("Google Chat refused a message (%s); will retry", error.status)
                await asyncio.to_thread(_release, bot, [delivery.notification_id], token)
            else:  # anything else waits for its lease to run out
                log.warning("Google Chat refused a message (%s); will retry later",
                            error.status)
            return Verdict.NOT_SENT
        except (RequestException, OSError) as error:
            log.warning("Google Chat unreachable (%s); will retry", error.__class__.__name__)
            await asyncio.to_thread(_release, bot, [delivery.notification_id], token)
            return Verdict.STOPPED
        await delivered(delivery)
        return Verdict.SENT

    return await sending.send_pass(
        claimed.items, lambda d: d.space, post,
        lambda untried: _release(bot, [d.notification_id for d in untried], token))


async def deliver_forever(bot: GoogleChatBot, stop: asyncio.Event | None = None,
                          interval: float = 3.0) -> None:
    """Delivery passes until ``stop`` (``sending.forever``)."""
    await sending.forever(lambda: claim(bot), lambda claimed: send_all(bot, claimed),
                          "Google Chat", stop, interval)


async def deliver_once(bot: GoogleChatBot, *, retries: int = RETRIES,
                       backoff: float = BACKOFF) -> int:
    """Send what is waiting; returns how many went."""
    return await send_all(bot, await claim(bot), retries=retries, backoff=backoff)
