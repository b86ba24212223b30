"""Notifications (new cases, decisions, reminders) delivered as Slack DMs, after commit.

Each is leased before it is sent and marked delivered only after Slack accepted it: a send
that failed on Slack's side (down, throttled past the retries) gives its lease back and is
tried on the next pass; any other refusal waits for its lease to end. Nothing is marked sent
that was not.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlmodel import col, select, update

from bot import sending
from bot.sending import Claimed, Verdict
from bot.slack.blocks import escape, message_blocks
from workflows.core import recipients
from workflows.core.engine import channel_alert, load
from workflows.core.inbound import first_time, forget
from workflows.core.ui import Reply, Text
from workflows.database import session_scope, utcnow
from workflows.notifications import outbox
from workflows.notifications import service as notifications
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.reminders.service import worker_name
from workflows.schools.service import among

log = logging.getLogger(__name__)
VIA = "slack"
ALERTS = "slack-alert-channel"  # shared alerts posted, one per case
# Errors that say "Slack's side, try again soon" (a 429 is first retried by slack_sdk itself).
TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable",
             "request_timeout"}


@dataclass
class Delivery:
    """One Slack message: to a person's DM, or once to the DPO team's private channel."""

    notification_ids: list[int]
    channel: str
    replies: list[Reply]
    headline: str  # what Slack shows before it is opened: no personal data
    team_key: str | None = None  # set for a team alert: every copy of it is delivered at once
    alert_key: str | None = None  # set for the shared alert channel: posted once per case


def _claim(bot, token: str) -> list[Delivery]:
    """What to send, where, as replies: what each notification carries is the core's answer
    (``recipients``), where it goes is Slack's (a DM, the team's or the alert channel)."""
    now = datetime.now(UTC)
    team_channel = bot.team_channel
    with session_scope(bot.engine) as session:
        reachable = select(Person.id).where(among(session, Person.school_id, bot.served),
                                            col(Person.slack_user_id).is_not(None))
        out: list[Delivery] = []
        teams: dict[str, Delivery] = {}
        for claimed in outbox.claim(session, reachable, token, adapter=VIA, served=bot.served,
                                    now=now, limit=sending.PASS):
            note, person, ctx, workflow = (claimed.note, claimed.person, claimed.ctx,
                                           claimed.workflow)
            # A new case for the DPO team goes once to their private channel, if they use
            # one; reminders stay personal, in each person's DM.
            team_key = note.dedupe_key.rsplit(":", 1)[0] if (
                team_channel and recipients.shared_with_team(person, note)) else None
            if team_key in teams:
                teams[team_key].notification_ids.append(note.id)
                continue
            # By school and reference: every school has its own BRE-2026-0001, each alerted.
            alert_key = f"{person.school_id}:{note.subject_ref}"
            if (bot.alert_channel and recipients.alerts_channel(note, workflow)
                    and first_time(session, ALERTS, alert_key)):
                text = channel_alert(ctx, workflow, load(ctx, workflow, note.subject_ref))
                out.append(Delivery([], bot.alert_channel, [Text(text)], text,
                                    alert_key=alert_key))
            delivery = Delivery([note.id], team_channel if team_key else person.slack_user_id,
                                claimed.replies(shared=team_key is not None),
                                claimed.headline(), team_key)
            if team_key:
                teams[team_key] = delivery
            out.append(delivery)
        return out


def _give_back(bot, deliveries: list[Delivery], token: str) -> None:
    """Messages that did not go: their leases back for the next pass, and a channel alert
    posted again with the next new copy of its case's news."""
    with session_scope(bot.engine) as session:
        notifications.release(session, [n for d in deliveries for n in d.notification_ids],
                              token)
        for delivery in deliveries:
            if delivery.alert_key:
                forget(session, ALERTS, delivery.alert_key)


def _delivered(bot, deliveries: list[Delivery], token: str) -> None:
    with session_scope(bot.engine) as session:
        notifications.delivered_by(session, [n for d in deliveries for n in d.notification_ids],
                                   token, VIA)
        for delivery in deliveries:
            if delivery.team_key:  # the copies for the rest of the team went with it
                session.execute(
                    update(Notification)
                    .where(col(Notification.dedupe_key).startswith(delivery.team_key + ":"),
                           col(Notification.delivered_at).is_(None))
                    .values(delivered_at=utcnow(), delivered_via=VIA)
                    .execution_options(synchronize_session=False)
                )


def _unlinked(bot) -> list[tuple[int, str]]:
    """People configured by email who have messages waiting but no Slack id yet."""
    waiting = select(Notification.id).where(Notification.person_id == Person.id,
                                            col(Notification.delivered_at).is_(None))
    with session_scope(bot.engine) as session:
        return [(pid, email) for pid, email in session.exec(
            select(Person.id, Person.email)
            .where(among(session, Person.school_id, bot.served),
                   col(Person.slack_user_id).is_(None),
                   col(Person.email).is_not(None), col(Person.active).is_(True),
                   waiting.exists())
        ) if pid is not None and email is not None]


def _link(bot, person_id: int, slack_user_id: str) -> None:
    with session_scope(bot.engine) as session:
        person = session.get(Person, person_id)
        if session.exec(select(Person.id).where(Person.school_id == person.school_id,
                                                Person.slack_user_id == slack_user_id)).first():
            return  # already someone's: never merge two people
        person.slack_user_id = slack_user_id


async def link_by_email(bot) -> None:
    """The DPO set up by email is found in Slack before their first alert is due."""
    for person_id, email in await asyncio.to_thread(_unlinked, bot):
        missed = bot.email_misses.get(email)
        if missed and (datetime.now(UTC) - missed).total_seconds() < 3600:
            continue
        try:
            found = await bot.client.users_lookupByEmail(email=email)
        except SlackApiError:
            bot.email_misses[email] = datetime.now(UTC)
            continue
        await asyncio.to_thread(_link, bot, person_id, found["user"]["id"])


async def claim(bot) -> Claimed[Delivery]:
    """A pass's messages, leased (people set up by email found in Slack first)."""
    await link_by_email(bot)
    token = worker_name()
    return Claimed(token, await asyncio.to_thread(_claim, bot, token))


async def send_all(bot, claimed: Claimed[Delivery]) -> int:
    """A pass's messages, several DMs and channels at once; returns how many went."""
    token = claimed.token
    delivered = sending.Together[Delivery](lambda sent: _delivered(bot, sent, token))

    async def post(delivery: Delivery) -> Verdict:
        try:
            await bot.client.chat_postMessage(
                channel=delivery.channel, text=escape(delivery.headline),
                blocks=message_blocks(delivery.replies), unfurl_links=False, unfurl_media=False)
        except SlackApiError as error:
            code = error.response.get("error")
            log.warning("could not post to %s: %s; will retry", delivery.channel, code)
            if code in TRANSIENT:  # Slack's own trouble: the next pass tries again
                await asyncio.to_thread(_give_back, bot, [delivery], token)
            elif delivery.alert_key:  # the rest wait for their leases to run out
                await asyncio.to_thread(_give_back, bot,
                                        [replace(delivery, notification_ids=[])], token)
            return Verdict.NOT_SENT
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("Slack unreachable (%s); will retry", error.__class__.__name__)
            await asyncio.to_thread(_give_back, bot, [delivery], token)
            return Verdict.STOPPED
        await delivered(delivery)
        return Verdict.SENT

    return await sending.send_pass(claimed.items, lambda d: d.channel, post,
                                   lambda untried: _give_back(bot, untried, token))


async def deliver_once(bot) -> int:
    """Send what is waiting; returns how many went."""
    return await send_all(bot, await claim(bot))


async def deliver_forever(bot, stop: asyncio.Event | None = None, interval: float = 3.0
                          ) -> None:
    """Delivery passes until ``stop`` (``sending.forever``)."""
    await sending.forever(lambda: claim(bot), lambda claimed: send_all(bot, claimed), "Slack",
                          stop, interval)
