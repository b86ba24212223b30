"""Notifications (new cases, decisions, reminders) delivered proactively in Teams, after commit.

Teams lets a bot write first only into a conversation it was given: each person's personal
chat reference, stored when they installed the app or first wrote to it. Each notification is
leased before it is sent and marked delivered only after Teams accepted it. Throttling (429)
is retried with backoff (Retry-After when Teams gives one); a send that still fails on
Teams' side gives its lease back for the next pass. A person Teams refuses to reach (403,
404) is marked unreachable once and their school's DPO team is told once; their messages
wait, unsent and never marked sent, until that person writes to the bot again. One bot
delivers for every school it serves, each message as from the person's own school.

A message is measured as it is sent (``turns.wire_bytes``): one over Teams' limit goes as
its short form (``cards.too_large_card``: the reference, the countdown, "Open the case").
Teams' own 413 is final for a card: its short form is tried once, and a short form refused
too is given up (``notifications.given_up``), never retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import ChannelAdapter, TurnContext
from microsoft_agents.hosting.core.app.proactive import Conversation as SdkConversation
from sqlmodel import col, func, select

from bot import sending
from bot.sending import Claimed, Verdict
from bot.teams import cards
from bot.teams.app import TeamsBot
from bot.teams.turns import accounts, card_activity, wire_bytes
from workflows.core import recipients
from workflows.core.wording import render
from workflows.database import saved_id, session_scope
from workflows.notifications import addresses, outbox
from workflows.notifications import service as notifications
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.reminders.service import worker_name

log = logging.getLogger(__name__)
VIA = "teams"
RETRIES = 3
BACKOFF = 1.0  # seconds before the first retry; doubled for each one after
LONGEST_WAIT = 60.0  # a Retry-After longer than this waits for the next pass instead
GONE = {403, 404}  # the bot was removed or blocked, or the conversation no longer exists
TOO_LARGE = 413
# Teams refuses a message over about 28 KB, as sent (escaped JSON, the activity around it).
MESSAGE_BYTES = 28_000


@dataclass(frozen=True)
class Delivery:
    notification_id: int
    person_id: int
    address_id: int
    reference: dict[str, Any]
    card: dict[str, Any]
    short: dict[str, Any]  # what goes instead when Teams will not take ``card``


def _claim(bot: TeamsBot, token: str) -> list[Delivery]:
    """What to send, to whom, as cards (a decision-maker also gets the case itself), for
    everyone at every school the bot serves."""
    now = datetime.now(UTC)
    with session_scope(bot.engine) as session:
        reachable = addresses.reachable(session, VIA, bot.served)
        claimed_now = outbox.claim(session, reachable, token,
                                   adapter=VIA, served=bot.served, now=now,
                                   limit=sending.PASS)
        reach = addresses.of_people(session, (saved_id(c.person) for c in claimed_now), VIA)
        # A case's buttons are its school's deciders'.
        buttons = {school_id: accounts(deciders) for school_id, deciders in
                   recipients.deciders_at(session, {c.person.school_id for c in claimed_now})
                   .items()}
        out: list[Delivery] = []
        for claimed in claimed_now:
            person = claimed.person
            address = reach.get(saved_id(person))
            if address is None:
                continue  # gone since the claim: its lease runs out
            line = claimed.headline()
            out.append(Delivery(claimed.note.id, person.id, address.id, address.reference,
                                cards.message_card(claimed.replies(), school_id=person.school_id,
                                                   refresh_for=buttons[person.school_id],
                                                   summary=line),
                                cards.too_large_card(line, claimed.note.subject_ref,
                                                     person.school_id)))
        return out


class TooLarge(Exception):
    """The message, as it would be sent, is over Teams' limit: it was not sent."""


async def send(adapter: ChannelAdapter, reference: dict[str, Any], card: dict[str, Any]) -> None:
    """One card into a stored conversation, through the SDK's continue_conversation; measured
    once the SDK has filled in the conversation, as it is about to post it."""
    stored = SdkConversation.from_json_to_store_item(reference)
    failure: BaseException | None = None

    async def measured(context: TurnContext, activities: list[Activity],
                       post: Callable[[], Awaitable[Any]]) -> Any:
        if any(wire_bytes(a) > MESSAGE_BYTES for a in activities):
            raise TooLarge
        return await post()

    async def callback(context: TurnContext) -> None:
        nonlocal failure
        context.on_send_activities(measured)
        try:
            await context.send_activity(card_activity(card, with_text=True))
        except Exception as error:  # raised again below, outside the adapter's own handling
            failure = error

    await adapter.continue_conversation_with_claims(
        SdkConversation.identity_from_claims(stored.claims),
        stored.conversation_reference.get_continuation_activity(),
        callback,
    )
    if failure is not None:
        raise failure


def _wait(error: aiohttp.ClientResponseError, attempt: int, backoff: float) -> float:
    header = (error.headers or {}).get("Retry-After")
    try:
        return min(float(header), LONGEST_WAIT) if header else backoff * 2 ** attempt
    except ValueError:  # an HTTP date: fall back to our own backoff
        return backoff * 2 ** attempt


async def send_retrying(adapter: ChannelAdapter, reference: dict[str, Any],
                        card: dict[str, Any], retries: int, backoff: float) -> None:
    for attempt in range(retries + 1):
        try:
            await send(adapter, reference, card)
            return
        except aiohttp.ClientResponseError as error:
            if error.status != 429 or attempt == retries:
                raise
            wait = _wait(error, attempt, backoff)
            log.info("Teams is throttling (429); retrying in %.1f s", wait)
            await asyncio.sleep(wait)


def _release(bot: TeamsBot, notification_ids: list[int], token: str) -> None:
    with session_scope(bot.engine) as session:
        notifications.release(session, notification_ids, token)


def _delivered(bot: TeamsBot, deliveries: list[Delivery], token: str) -> None:
    with session_scope(bot.engine) as session:
        notifications.delivered_by(session, [d.notification_id for d in deliveries], token,
                                   VIA)


def _given_up(bot: TeamsBot, delivery: Delivery, token: str) -> None:
    with session_scope(bot.engine) as session:
        notifications.given_up(session, delivery.notification_id, token, VIA)


async def send_whole_or_short(adapter: ChannelAdapter, delivery: Delivery, retries: int,
                              backoff: float) -> None:
    """The card if Teams can take it, else its short form: over the limit as measured, or
    refused with a 413 (Teams counts what we cannot see), once, never the card again."""
    try:
        await send_retrying(adapter, delivery.reference, delivery.card, retries, backoff)
        return
    except TooLarge:
        log.warning("a message is over Teams' limit as sent; sending its short form")
    except aiohttp.ClientResponseError as error:
        if error.status != TOO_LARGE:
            raise
        log.warning("Teams refused a message as too large (413); sending its short form")
    await send_retrying(adapter, delivery.reference, delivery.short, retries, backoff)


def _unreachable(bot: TeamsBot, delivery: Delivery, notification_ids: list[int],
                 token: str) -> None:
    """Mark the person unreachable; the first time, tell the rest of their school's DPO team
    once."""
    now = datetime.now(UTC)
    with session_scope(bot.engine) as session:
        notifications.release(session, notification_ids, token)
        if not addresses.mark_unreachable(session, delivery.address_id, now):
            return  # another pass or process already reported it
        person = session.get(Person, delivery.person_id)
        waiting = session.exec(
            select(func.count()).select_from(Notification).where(
                Notification.person_id == person.id, col(Notification.delivered_at).is_(None))
        ).one()
        team = [p.id for p in recipients.told_unreachable(session, person)]
        if not team:
            log.warning("a DPO team member cannot be reached in Teams and nobody else can be "
                        "told")
            return
        notifications.queue(
            session, school_id=person.school_id, people=team, kind="teams.unreachable", by=None,
            key=f"teams-unreachable:{person.id}:{now.isoformat()}",
            text=render("messages/teams_unreachable.txt.j2", person=person.name,
                        waiting=waiting),
        )


async def claim(bot: TeamsBot) -> Claimed[Delivery]:
    token = worker_name()
    return Claimed(token, await asyncio.to_thread(_claim, bot, token))


async def send_all(bot: TeamsBot, adapter: ChannelAdapter, claimed: Claimed[Delivery], *,
                   retries: int = RETRIES, backoff: float = BACKOFF) -> int:
    """A pass's messages, several people's chats at once; returns how many went."""
    token = claimed.token
    delivered = sending.Together[Delivery](lambda sent: _delivered(bot, sent, token))

    async def post(delivery: Delivery) -> Verdict:
        try:
            await send_whole_or_short(adapter, delivery, retries, backoff)
        except TooLarge:  # even the short form: retrying cannot help
            log.warning("even the short form of a message is over Teams' limit; given up")
            await asyncio.to_thread(_given_up, bot, delivery, token)
            return Verdict.NOT_SENT
        except aiohttp.ClientResponseError as error:
            if error.status == TOO_LARGE:  # even the short form: retrying cannot help
                log.warning("Teams refused even the short form of a message (413); given up")
                await asyncio.to_thread(_given_up, bot, delivery, token)
            elif error.status in GONE:  # the rest of their chat is given back after the pass
                await asyncio.to_thread(_unreachable, bot, delivery,
                                        [delivery.notification_id], token)
                return Verdict.CHAT_ENDED
            elif error.status == 429 or error.status >= 500:  # Teams' side: next pass
                log.warning("Teams refused a message (%s); will retry", error.status)
                await asyncio.to_thread(_release, bot, [delivery.notification_id], token)
            else:  # anything else waits for its lease to run out (a couple of minutes)
                log.warning("Teams refused a message (%s); will retry later", error.status)
            return Verdict.NOT_SENT
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("Teams unreachable (%s); will retry", error.__class__.__name__)
            await asyncio.to_thread(_release, bot, [delivery.notification_id], token)
            return Verdict.STOPPED
        await delivered(delivery)
        return Verdict.SENT

    return await sending.send_pass(
        claimed.items, lambda d: d.address_id, post,
        lambda untried: _release(bot, [d.notification_id for d in untried], token))


async def deliver_forever(bot: TeamsBot, adapter: ChannelAdapter,
                          stop: asyncio.Event | None = None, interval: float = 3.0) -> None:
    """Delivery passes until ``stop`` (``sending.forever``)."""
    await sending.forever(lambda: claim(bot), lambda claimed: send_all(bot, adapter, claimed),
                          "Teams", stop, interval)


async def deliver_once(bot: TeamsBot, adapter: ChannelAdapter, *, retries: int = RETRIES,
                       backoff: float = BACKOFF) -> int:
    """Send what is waiting; returns how many went."""
    return await send_all(bot, adapter, await claim(bot), retries=retries, backoff=backoff)
