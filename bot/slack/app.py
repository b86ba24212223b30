"""The Bolt app: /dpo, shortcuts, modals, decision buttons, App Home and the bot's DM.

Every listener acks first (Slack allows 3 seconds) and then does the work; the only
exceptions are modal submissions, whose validation errors must travel in the ack itself.
The database work runs in worker processes or threads (``workflows.core.workers``: the core
is synchronous) and never decides anything here: permissions, states and deadlines are the
core's. Each request acts as the person's record at their school (``membership``): one app
can serve every school of a trust.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.slack import blocks, home, work
from bot.slack.settings import SlackSettings
from workflows.core import chat, conversation, faults
from workflows.core import engine as core
from workflows.core.declaration import Action, Workflow
from workflows.core.engine import NotFound
from workflows.core.ui import Reply, Text
from workflows.core.workers import Nobody, Workers
from workflows.database import session_scope
from workflows.registry import WORKFLOWS, by_prefix
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
        register(self)

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
        for _ in range(2):
            result = await self.workers.run(slack_user_id, self.served, school_id, work, *args)
            if not isinstance(result, Nobody):
                return result
            if school_id is not None:
                raise NotFound("I can't find that case among yours.")
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
        """Post to the person's DM with the bot; returns that DM's channel id."""
        response = await self.client.chat_postMessage(
            channel=slack_user_id,
            text=text or blocks.fallback_text(replies),
            blocks=blocks.message_blocks(replies),
            unfurl_links=False,
            unfurl_media=False,
        )
        return response["channel"]

    async def check_token(self) -> dict[str, Any]:
        return (await self.client.auth_test()).data


class Unreadable(Exception):
    """A signed request whose payload this app could not have made (a garbled value, a view
    from an older version): nothing is done, and the person is told so."""


# What a modal of ours carries in private_metadata, and of which type.
METADATA: dict[str, type | tuple[type, ...]] = {
    "school": (int, type(None)), "conversation": int, "workflow": str, "ref": str,
    "version": int, "action": str, "channel": (str, type(None)), "ts": (str, type(None)),
    "ephemeral": bool, "response_url": (str, type(None)), "view": bool}


def _metadata(view: dict[str, Any], *needed: str) -> dict[str, Any]:
    """The view's private_metadata, with ``needed`` keys present and every key of its type."""
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        raise Unreadable("private_metadata is not JSON") from None
    if not isinstance(found, dict) or any(key not in found for key in needed) or not all(
            _typed(key, value) for key, value in found.items()):
        raise Unreadable("private_metadata is not what this app writes")
    return found


def _typed(key: str, value: Any) -> bool:
    kind = METADATA.get(key, object)
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _workflow_named(name: Any) -> Workflow:
    if name not in WORKFLOWS:
        raise Unreadable("no such workflow")
    return WORKFLOWS[name]


def _declared(reference: str, name: str) -> tuple[Workflow, Action]:
    """The workflow of a case reference and one of its actions, as a button names them."""
    workflow = by_prefix(reference.split("-", 1)[0])
    action = next((a for a in workflow.actions if a.name == name), None) if workflow else None
    if action is None:
        raise Unreadable("no such case type or action")
    return workflow, action


def register(bot: SlackBot) -> None:
    app = bot.app

    async def open_intake(trigger_id: str, user: str, name: str, respond=None) -> None:
        workflow = WORKFLOWS[name]
        refusal, which, school_id = await bot.run(user, work.may_start, name)
        if refusal:
            # Privately: an ephemeral answer to a slash command, else a line in the bot's DM
            # (a shortcut or a Home button has no channel to be ephemeral in).
            if respond is not None:
                await respond(text=blocks.escape(refusal), response_type="ephemeral")
            else:
                await bot.dm(user, [Text(refusal, "error")], text=blocks.escape(refusal))
            return
        form_blocks = blocks.form_blocks(workflow.intake)
        if which:  # someone who works with several schools sees which this is for
            form_blocks.insert(0, blocks.context(blocks.escape(which)))
        await bot.client.views_open(
            trigger_id=trigger_id,
            view=blocks.modal(title=workflow.title, callback_id=f"intake:{name}",
                              blocks=form_blocks, submit="Next",
                              metadata={"school": school_id}),
        )

    def workflow_for_text(text: str) -> str | None:
        word = text.strip().lower()
        for name, workflow in WORKFLOWS.items():
            if word == name or word in workflow.triggers:
                return name
        return None

    @app.error
    async def failed(error: Exception) -> None:
        """Whatever ``guarded`` could not catch (Bolt's own middleware failing)."""
        log.error("a Slack request failed: %s", faults.brief(error))
        log.debug("the request's failure", exc_info=error)

    guard = functools.partial(guarded, bot)

    @app.command("/dpo")
    @guard
    async def slash_dpo(ack, body, respond) -> None:
        await ack()
        text, user = (body.get("text") or "").strip(), body["user_id"]
        name = workflow_for_text(text)
        if name:
            await open_intake(body["trigger_id"], user, name, respond=respond)
            return
        replies = await bot.run(user, chat.lookup, text)
        # Case details go to the asker only, whatever channel the command was typed in.
        await respond(response_type="ephemeral", text=blocks.fallback_text(replies),
                      blocks=blocks.message_blocks(replies))

    @app.shortcut(re.compile(r"^start:"))
    @guard
    async def shortcut_start(ack, body) -> None:
        await ack()
        name = body["callback_id"].split(":", 1)[1]
        if name in WORKFLOWS:
            await open_intake(body["trigger_id"], body["user"]["id"], name)

    @app.shortcut("ask:consent")
    @guard
    async def shortcut_consent(ack, body) -> None:
        await ack()
        user = body["user"]["id"]
        form = await bot.run(user, work.consent_form)
        if isinstance(form, str):
            await bot.dm(user, [Text(form, "error")], text=blocks.escape(form))
            return
        await bot.client.views_open(trigger_id=body["trigger_id"], view=blocks.modal(
            title="Photo consent", callback_id="consent", blocks=form, submit="Ask"))

    @app.view("consent")
    @guard
    async def consent_asked(ack, body, view) -> None:
        user = body["user"]["id"]

        replies, form_blocks, errors = await bot.run(user, work.consent_answer,
                                                     view["state"]["values"])
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        # The answer stays in the modal, seen by the asker alone, above the question as they
        # typed it, so a "which Amelia?" is answered by editing it and asking again.
        await ack(response_action="update", view=blocks.modal(
            title="Photo consent", callback_id="consent",
            blocks=blocks.message_blocks(replies, with_buttons=False) + form_blocks,
            submit="Ask" if form_blocks else None))

    @app.action(re.compile(r"^start:"))
    @guard
    async def home_start(ack, body, action) -> None:
        await ack()
        name = action["action_id"].split(":", 1)[1]
        if name in WORKFLOWS:
            await open_intake(body["trigger_id"], body["user"]["id"], name)

    @app.view(re.compile(r"^intake:"))
    @guard
    async def intake_submitted(ack, body, view) -> None:
        user, name = body["user"]["id"], view["callback_id"].split(":", 1)[1]
        workflow, school_id = _workflow_named(name), _metadata(view).get("school")
        raw = blocks.submitted_text(workflow.intake, view["state"]["values"])
        prepared = await bot.run(user, work.prepare, f"slack-view:{view['id']}", name, raw,
                                 school_id=school_id)
        if prepared.errors:
            await ack(response_action="errors", errors=prepared.errors)
            return
        await ack(response_action="update", view=blocks.summary_view(
            prepared.summary, callback_id="confirm",
            metadata={"conversation": prepared.conversation_id, "workflow": name,
                      "school": school_id}))

    @app.view("confirm")
    @guard
    async def confirmed(ack, body, view) -> None:
        user, meta = body["user"]["id"], _metadata(view, "conversation", "workflow")
        _workflow_named(meta["workflow"])
        result = await bot.run(user, conversation.confirm, meta["conversation"],
                               school_id=meta.get("school"))
        if result.reopened is not None:
            # The core refused the whole set (e.g. an academy logging an educational record):
            # back to the form with everything typed still there.
            await ack(response_action="update", view=blocks.modal(
                title=WORKFLOWS[meta["workflow"]].title, callback_id=f"intake:{meta['workflow']}",
                blocks=[blocks.section(":no_entry: " + blocks.escape(result.message))]
                + blocks.form_blocks(WORKFLOWS[meta["workflow"]].intake, result.reopened),
                submit="Next", metadata={"school": meta.get("school")}))
            return
        await ack(response_action="update", view=blocks.notice_view("Saved", result.replies))
        if result.ok:
            channel = await bot.dm(user, result.replies)
            workflow = WORKFLOWS[meta["workflow"]]
            if workflow.follow_up and result.reference:
                # The case (and its clock) exists; the rest is asked in the DM, where the
                # answers come back as messages.
                more = await bot.run(user, work.follow_up, f"slack:{channel}", meta["workflow"],
                                     result.reference, school_id=meta.get("school"))
                await bot.dm(user, more)

    @app.action(re.compile(r"^act:"))
    @guard
    async def decision_clicked(ack, body, action, respond) -> None:
        await ack()
        user = body["user"]["id"]
        action_name = action["action_id"].split(":", 1)[1]
        target = core.Target.parse(str(action.get("value") or ""))
        reference, version = target.reference, target.version or 0
        workflow, declared = _declared(reference, action_name)
        where = _message_ref(body)
        if declared.form.fields:
            refusal = await bot.run(user, work.preflight, reference, action_name,
                                    school_id=target.school_id)
            if refusal:
                await _tell(bot, respond, body, refusal)
                return
            view_blocks = blocks.form_blocks(declared.form)
            if declared.confirm:
                view_blocks.insert(0, blocks.context(blocks.escape(declared.confirm)))
            await bot.client.views_open(trigger_id=body["trigger_id"], view=blocks.modal(
                title=declared.label, callback_id="decide", blocks=view_blocks,
                submit="Save", metadata={"ref": reference, "version": version,
                                         "school": target.school_id, "action": action_name,
                                         **where}))
            return
        decision = await bot.run(user, work.decide, reference, action_name, version, {},
                                 school_id=target.school_id)
        await _after_decision(bot, respond, body, where, decision)

    @app.view("decide")
    @guard
    async def decision_submitted(ack, body, view, respond) -> None:
        user, meta = body["user"]["id"], _metadata(view, "ref", "action", "version")
        workflow, declared = _declared(meta["ref"], meta["action"])
        raw = blocks.submitted_text(declared.form, view["state"]["values"])
        decision = await bot.run(user, work.decide, meta["ref"], meta["action"],
                                 meta["version"], raw, school_id=meta.get("school"))
        if decision.errors:
            await ack(response_action="errors", errors=decision.errors)
            return
        await ack()
        # A card shown ephemerally (/dpo REF) is replaced through the response_url it came with.
        origin = AsyncRespond(response_url=meta.get("response_url")) if meta.get(
            "response_url") else None
        await _after_decision(bot, origin, body, meta, decision)

    @app.event("app_home_opened")
    @guard
    async def home_opened(event) -> None:
        if event.get("tab") != "home":
            return
        user = event["user"]
        view = await bot.run(user, home.view)
        await bot.client.views_publish(user_id=user, view=view)

    @app.action("open")
    @guard
    async def open_case(ack, body, action) -> None:
        await ack()
        user, target = body["user"]["id"], core.Target.parse(action["value"])
        replies = await bot.run(user, chat.lookup, target.reference,
                                school_id=target.school_id)
        await bot.dm(user, replies)

    @app.event("message")
    @guard
    async def direct_message(event, body, say) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        user, channel = event.get("user"), event["channel"]
        key = body.get("event_id") or f"{channel}:{event.get('ts')}"
        text, where = event.get("text") or "", f"slack:{channel}"

        try:
            replies = await bot.run(user, work.answer_dm, key, where, text)
        except membership.Unplaced as unplaced:
            replies = await _newcomer(bot, user, where, text, key, unplaced)
        except membership.Refused as refused:
            replies = refused.replies()  # in the DM they wrote in: a stranger may have no other
        except Exception as error:
            replies = await _fault(bot, user, where, error)
        if replies is None:
            return  # a retried delivery of an event already answered
        await say(text=blocks.fallback_text(replies), blocks=blocks.message_blocks(replies))


async def _fault(bot: SlackBot, user: str, where: str, error: Exception) -> list:
    """A DM that failed, rolled back: sorry, and the question still waiting if the database
    can say which; if it cannot, that nothing was saved (which needs no database)."""
    if faults.unreachable(error):
        log.warning("could not answer a DM (nothing saved): %s", faults.brief(error))
        return faults.unsaved()
    log.error("could not answer a DM (nothing saved): %s", faults.brief(error))
    log.debug("the DM's failure", exc_info=error)
    try:
        return await bot.run(user, chat.fault, where)
    except Exception as again:
        log.warning("could not say so either: %s", faults.brief(again))
        return faults.unsaved() if faults.unreachable(again) else faults.failed()


# What a listener may ask Bolt for; ``guarded`` asks for all of them and passes each its own.
GIVEN = ("ack", "body", "respond", "say", "view", "action", "event")


def guarded(bot: SlackBot, listener: Callable[..., Awaitable[None]]
            ) -> Callable[..., Awaitable[None]]:
    """``listener``, answering for it when it fails: acked if it had not acked (a modal gets
    a notice on top, keeping what was typed beneath), the person told privately, one line
    logged. Bolt's own error path loses an ack given just before the failure (it then answers
    Slack 404 “unhandled request” after 3 s), so no failure is left to reach it."""
    wanted = list(inspect.signature(listener).parameters)

    async def run(ack, body, respond, say, view, action, event) -> None:
        acked = False

        async def ack_once(*args: Any, **kwargs: Any) -> None:
            nonlocal acked
            acked = True
            await ack(*args, **kwargs)

        given = {"ack": ack_once, "body": body, "respond": respond, "say": say, "view": view,
                 "action": action, "event": event}
        try:
            await listener(**{name: given[name] for name in wanted})
        except Exception as error:
            replies = _failure(error)
            if not acked and body.get("type") == "view_submission":
                await ack(response_action="push", view=blocks.notice_view("Not saved", replies))
                return
            if not acked:
                await ack()
            if isinstance(error, membership.Unplaced | membership.Refused | NotFound):
                respond = None  # in the DM, where the answer (a school, a reference) is typed
            try:
                await _tell_privately(bot, body, respond, replies)
            except Exception as again:
                log.error("could not tell the person either: %s", faults.brief(again))

    run.__name__ = listener.__name__
    return run


def _failure(error: Exception) -> list[Reply]:
    """What the person is told about ``error``, after one line in the log."""
    if isinstance(error, membership.Unplaced):
        return error.question()
    if isinstance(error, membership.Refused):
        return error.replies()
    if isinstance(error, NotFound):
        return [Text(error.message, "error")]
    if isinstance(error, Unreadable):
        log.warning("refused a Slack request: %s", error)
        return faults.unreadable()
    if faults.unreachable(error):
        log.warning("could not answer a Slack request (nothing saved): %s",
                    faults.brief(error))
        return faults.unsaved()
    log.error("a Slack request failed: %s", faults.brief(error))
    log.debug("the request's failure", exc_info=error)
    return faults.failed()


async def _tell_privately(bot: SlackBot, body: dict[str, Any], respond,
                          replies: list[Reply]) -> None:
    """Ephemerally where the request came with a response_url, else in the person's DM."""
    user = ((body.get("user") or {}).get("id") or body.get("user_id")
            or (body.get("event") or {}).get("user"))
    if respond is not None:
        await respond(response_type="ephemeral", replace_original=False,
                      text=blocks.fallback_text(replies), blocks=blocks.message_blocks(replies))
    elif user:
        await bot.dm(user, replies)


async def _newcomer(bot: SlackBot, user: str, where: str, text: str, key: str,
                    unplaced: membership.Unplaced) -> list:
    """A newcomer to a workspace shared by several schools: this DM is the answer to
    “which school?”, or their first words, which get the question."""
    if membership.pick(unplaced.schools, text) is None:
        return unplaced.question()
    await bot.place(user, answer=text)

    return await bot.run(user, work.welcome, key, where)


def _message_ref(body: dict[str, Any]) -> dict[str, Any]:
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return {
        "channel": channel,
        "ts": container.get("message_ts") or (body.get("message") or {}).get("ts"),
        "ephemeral": bool(container.get("is_ephemeral")),
        "response_url": body.get("response_url"),
        "view": container.get("type") == "view",
    }


async def _tell(bot: SlackBot, respond, body: dict[str, Any], text: str) -> None:
    """A private answer to the person who clicked, and to nobody else."""
    user = body["user"]["id"]
    where = _message_ref(body)
    if respond is not None and where["response_url"]:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    elif where["channel"] and not where["view"]:
        await bot.client.chat_postEphemeral(channel=where["channel"], user=user, text=text)
    else:
        await bot.dm(user, [Text(text, "error")], text=text)


async def _after_decision(bot: SlackBot, respond, body, where: dict[str, Any], decision) -> None:
    """Replace the message the button was on: who decided what and when, and no buttons."""
    user = body["user"]["id"]
    if not decision.ok:
        # Only the person who clicked is told (who got there first, and how it stands). The
        # message itself is left alone: after a double click the winner has already replaced
        # it with who decided what and when, and redrawing it here would wipe that out.
        await _tell(bot, respond, body, decision.message)
        return
    # The card as it now stands, without buttons; what the decision means for the person
    # (e.g. which letter to draft next), and the footer: who decided what and when.
    shown = decision.card
    if shown is not None and where.get("channel") == bot.team_channel:
        shown = shown.for_channel()  # a channel never gets the details, even after a decision
    new_blocks = blocks.card_blocks(shown, with_buttons=False) if shown else []
    new_blocks = new_blocks[: blocks.MESSAGE_BLOCKS - 2]  # a card with very many notes
    new_blocks.append(blocks.section(":white_check_mark: " + blocks.escape(decision.message)))
    if decision.footer:
        new_blocks.append(blocks.context(blocks.escape(decision.footer)))
    text = blocks.escape(decision.message)
    if where.get("ephemeral") and where.get("response_url") and respond is not None:
        await respond(replace_original=True, text=text, blocks=new_blocks)
    elif where.get("channel") and where.get("ts") and not where.get("view"):
        await bot.client.chat_update(channel=where["channel"], ts=where["ts"], text=text,
                                     blocks=new_blocks)
    else:  # a button in a view (no message to update): say it in the DM
        await bot.dm(user, [Text(decision.message, "success")])
