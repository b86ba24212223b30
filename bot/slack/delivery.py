"""Notifications (new cases, decisions, reminders) delivered as Slack DMs, after commit.

Each is leased before it is sent and marked delivered only after Slack accepted it: a send
that failed on Slack's side (down, throttled past the retries) gives its lease back and is
tried on the next pass; any other refusal waits for its lease to end. Nothing is marked sent
that was not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlmodel import col, select, update

from bot.slack.blocks import escape, message_blocks
from workflows.core import faults, recipients
from workflows.core.engine import channel_alert, load
from workflows.core.inbound import first_time, forget
from workflows.core.ui import Reply, Text
from workflows.database import session_scope, utcnow
from workflows.notifications import outbox
from workflows.notifications import service as notifications
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.reminders.service import worker_name

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
        people = session.exec(
            select(Person.id).where(col(Person.school_id).in_(bot.served),
                                    col(Person.slack_user_id).is_not(None))
        ).all()
        out: list[Delivery] = []
        teams: dict[str, Delivery] = {}
        for claimed in outbox.claim(session, people, token, adapter=VIA, served=bot.served,
                                    now=now):
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


def _release(bot, notification_ids: list[int], token: str) -> None:
    with session_scope(bot.engine) as session:
        notifications.release(session, notification_ids, token)


def _forget_alert(bot, alert_key: str) -> None:
    with session_scope(bot.engine) as session:
        forget(session, ALERTS, alert_key)


def _delivered(bot, delivery: Delivery, token: str) -> None:
    with session_scope(bot.engine) as session:
        for notification_id in delivery.notification_ids:
            notifications.delivered_by(session, notification_id, token, VIA)
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
    with session_scope(bot.engine) as session:
        rows = session.exec(
            select(Person.id, Person.email)
            .where(col(Person.school_id).in_(bot.served), col(Person.slack_user_id).is_(None),
                   col(Person.email).is_not(None), col(Person.active).is_(True))
        ).all()
        waiting = {n.person_id for n in session.exec(
            select(Notification).where(col(Notification.delivered_at).is_(None),
                                       col(Notification.person_id).in_([r[0] for r in rows]))
        )}
        return [(pid, email) for pid, email in rows if pid in waiting]


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


async def deliver_once(bot) -> int:
    """Send what is waiting; returns how many went."""
    await link_by_email(bot)
    token = worker_name()
    sent = 0
    claimed = await asyncio.to_thread(_claim, bot, token)
    for index, delivery in enumerate(claimed):
        try:
            await bot.client.chat_postMessage(
                channel=delivery.channel, text=escape(delivery.headline),
                blocks=message_blocks(delivery.replies), unfurl_links=False, unfurl_media=False)
        except SlackApiError as error:
            code = error.response.get("error")
            log.warning("could not post to %s: %s; will retry", delivery.channel, code)
            if code in TRANSIENT:  # Slack's own trouble: the next pass tries again
                await asyncio.to_thread(_release, bot, delivery.notification_ids, token)
            if delivery.alert_key:  # the channel alert is tried again on the next new copy
                await asyncio.to_thread(_forget_alert, bot, delivery.alert_key)
            continue  # anything else waits for the lease to run out (a couple of minutes)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("Slack unreachable (%s); will retry", error.__class__.__name__)
            await asyncio.to_thread(
                _release, bot, [n for d in claimed[index:] for n in d.notification_ids], token)
            break
        await asyncio.to_thread(_delivered, bot, delivery, token)
        sent += 1
    return sent


async def deliver_forever(bot, stop: asyncio.Event | None = None, interval: float = 3.0
                          ) -> None:
    """Pass after pass until ``stop``, the next at once after a pass that sent something,
    else after ``interval``; a pass is never cut short (what Slack took is marked)."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            if await deliver_once(bot):
                continue  # a backlog (the Monday digests): its next batch now, not after `interval`
        except Exception as error:  # the database or Slack briefly unreachable: try again
            log.warning("notification delivery failed (%s); retrying", faults.brief(error))
        # Not wait_for: that would run the wait as a task of its own, every pass.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await stop.wait()
