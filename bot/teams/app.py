"""The Teams agent: the bot's personal chat, card forms, decision cards and installs.

Built on the Microsoft 365 Agents SDK's ``AgentApplication``. Messages go to the same chat
core as the terminal and Slack's DM (``workflows.core.chat.respond``); a form on a card is
checked by the same declarations as Slack's modals; a decision button is an
``Action.Execute`` answered by the engine's compare-and-set. The database work runs in a
thread (the core is synchronous) and nothing here decides what anyone may do.

One agent serves every school of a trust's tenant (or the one named by ``--school``): each
request acts as the sender's record at the school they are working with, or at the school
a button or form carries (see ``workflows.schools.membership``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TypeVar

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    Attachment,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    ApplicationOptions,
    Connections,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.app.proactive import Conversation as SdkConversation
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.teams import cards, identity
from bot.teams.identity import TeamsUser
from workflows.core import chat, conversation, faults
from workflows.core import engine as core
from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.inbound import first_time
from workflows.core.models import Conversation, ConversationStatus
from workflows.core.ui import Card, Reply, Text
from workflows.core.wording import render
from workflows.database import session_scope
from workflows.notifications import addresses
from workflows.people.models import Person, Role
from workflows.registry import WORKFLOWS, by_prefix
from workflows.schools import membership
from workflows.schools import service as schools
from workflows.schools.models import School

log = logging.getLogger(__name__)
ADAPTER = "teams"
CARD = "application/vnd.microsoft.card.adaptive"
T = TypeVar("T")
_NOBODY = object()  # no record for the Teams user at the schools served
PERSONAL_ONLY = render("messages/personal_chat_only.txt.j2")
FORM_REQUEST = re.compile(r"^(?:(?P<before>[\w ]+?) )?forms?(?: (?P<after>[\w ]+))?[.!?]?$",
                          re.IGNORECASE)


@dataclass(frozen=True)
class Answer:
    """What a card button gets back: the card for the clicker, and what else to send."""

    card: dict[str, Any]
    for_everyone: dict[str, Any] | None = None  # replaces the clicked message for all
    follow_up: dict[str, Any] | None = None  # a new message in the chat


class TeamsBot:
    """One agent for the schools of one Microsoft 365 tenant: the one named by ``school_slug``,
    or every school here (a trust's)."""

    def __init__(self, engine: Engine, connections: Connections, *, client_id: str,
                 tenant_id: str, school_slug: str | None = None):
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
        self._joining: dict[str, asyncio.Lock] = {}
        self._working = asyncio.Semaphore(2)
        register(self)

    # Running the core

    async def run(self, context: TurnContext, work: Callable[[Context], T],
                  school_id: int | None = None) -> T:
        """``work`` in one transaction, as the sender: at ``school_id`` if given (a button on
        that school's case, a form shown for it), else at the school they are working with.
        Their personal chat with the bot is remembered. Raises ``Refused`` for someone
        Teams cannot vouch for (on every turn, known or not), ``Unplaced`` for a newcomer
        who must say which school is theirs, and ``NotFound`` if they have no record at
        ``school_id``."""
        user = sender(context.activity)
        reason = membership.barrier(identity.as_newcomer(user), self.tenant_id)
        if reason:
            raise await asyncio.to_thread(self._refuse, user.user_id, reason)
        reference = personal_reference(context)

        def in_thread() -> T | object:
            with session_scope(self.engine) as session:
                person = membership.speaking(session, ADAPTER, user.user_id, self.served,
                                             school_id)
                if person is None:
                    return _NOBODY
                if reference is not None:  # their own chat: worth a look at who they are
                    self._link_set_up(session, user.user_id)
                    self._remember(session, user.user_id, reference)
                ctx = Context(session=session, school=session.get(School, person.school_id),
                              person=person, adapter=ADAPTER, now=datetime.now(UTC),
                              served=self.served if len(self.served) > 1 else ())
                return work(ctx)

        for _ in range(2):
            # A few at a time, as in Slack: with many threads busy in Python the event loop
            # waits behind all of them for the GIL, and so does every other request.
            async with self._working:
                result = await asyncio.to_thread(in_thread)
            if result is not _NOBODY:
                return result  # type: ignore[return-value]
            if school_id is not None:
                raise core.NotFound("I can't find that case among yours.")
            await self.place(context, user)
        raise RuntimeError(f"{user.user_id} could not be placed at a school")

    def _link_set_up(self, session: Session, account: str) -> None:
        """Link the records a DPO set up by email at another of the schools served after
        this account first met the bot (a trust DPO added to a second school): Teams has no
        lookup by email, unlike Slack, so the emails of the account's own records serve."""
        mine = membership.records(session, ADAPTER, account, self.served, active=False)
        emails = {person.email for _, person in mine if person.email}
        linked_at = {school.id for school, _ in mine}
        if not emails or linked_at >= set(self.served):
            return  # the usual case, every message: no savepoint for nothing to do
        try:
            with session.begin_nested():  # another process may link them at the same time
                membership.link_set_up(session, ADAPTER, account, self.served, emails,
                                       linked_at)
        except IntegrityError:
            log.info("a set-up record was linked by another process; kept theirs")

    def _remember(self, session: Session, account: str, reference: dict[str, Any]) -> None:
        """The personal chat reaches every record of this account: a trust DPO's reminders
        for one school come while they are working with another."""
        for school, record in membership.records(session, ADAPTER, account, self.served,
                                                 active=False):
            addresses.remember(session, school.id, record.id, ADAPTER, reference)

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

    def deciders(self, session: Session, school_id: int) -> list[str]:
        """Teams ids of the school's DPO and deputies: the only people a case's buttons
        refresh for."""
        return list(session.exec(
            select(Person.teams_user_id).where(
                Person.school_id == school_id, col(Person.active).is_(True),
                col(Person.role).in_([Role.DPO.value, Role.DEPUTY.value]),
                col(Person.teams_user_id).is_not(None))
            .order_by(col(Person.id))
        ))


def sender(activity: Activity) -> TeamsUser:
    who = activity.from_property
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (activity.conversation.tenant_id if activity.conversation else None) or (
        (channel_data.get("tenant") or {}).get("id"))
    return TeamsUser(user_id=who.id, aad_object_id=who.aad_object_id,
                     name=(who.name or "").strip() or who.id, tenant_id=tenant)


def personal(context: TurnContext) -> bool:
    """Whether the activity comes from the sender's personal chat with the bot, the only
    place case details may go."""
    conversation_account = context.activity.conversation
    return conversation_account is not None and not conversation_account.is_group and (
        conversation_account.conversation_type in (None, "personal"))


def personal_reference(context: TurnContext) -> dict[str, Any] | None:
    """How to reach the sender later, only from their personal chat with the bot.

    A group chat or channel is never stored as someone's address: their reminders and case
    details would go to everyone there.
    """
    if not personal(context):
        return None
    stored = SdkConversation.from_turn_context(context).store_item_to_json()
    stored.pop("_span_context", None)
    return stored


def chat_key(context: TurnContext, kind: str = ADAPTER) -> str:
    """The conversation's key in the core: Teams ids can outgrow the column, so long ones are
    replaced by their digest."""
    conversation_id = context.activity.conversation.id
    if len(conversation_id) > 100:
        conversation_id = hashlib.sha256(conversation_id.encode()).hexdigest()[:40]
    return f"{kind}:{conversation_id}"


def card_activity(card: dict[str, Any]) -> Activity:
    return Activity(type=ActivityTypes.message,
                    attachments=[Attachment(content_type=CARD, content=card)])


def card_response(card: dict[str, Any]) -> AdaptiveCardInvokeResponse:
    """The card that replaces the clicked one, for the person who clicked."""
    return AdaptiveCardInvokeResponse(status_code=HTTPStatus.OK, type=CARD, value=card)


def notice_card(text: str, tone: str = "error") -> dict[str, Any]:
    return cards.message_card([Text(text, tone)])  # type: ignore[arg-type]


def _workflow_for_form(text: str) -> tuple[bool, str | None]:
    """``breach form``, ``form sar``, ``forms``: (asked for a form, which workflow)."""
    match = FORM_REQUEST.match(" ".join(text.strip().split()))
    if not match:
        return False, None
    word = (match.group("before") or match.group("after") or "").strip().lower()
    if not word:
        return True, None
    for name, workflow in WORKFLOWS.items():
        if word in (name, workflow.prefix.lower(), workflow.title.lower(), *workflow.triggers):
            return True, name
    return False, None


def register(bot: TeamsBot) -> None:
    app = bot.app

    async def turned_away(context: TurnContext, refused: membership.Refused) -> None:
        await context.send_activity(card_activity(cards.message_card(refused.replies())))

    def starts(ctx: Context) -> list[tuple[str, str]]:
        return [(w.name, w.title) for w in WORKFLOWS.values() if core.may_start(ctx, w) is None]

    async def welcome(context: TurnContext) -> None:
        """Installed, or first met: remember the chat and say what I can do."""
        try:
            help_replies, allowed = await bot.run(
                context, lambda ctx: (chat.greet(ctx, chat_key(context)),
                                      starts(ctx)))
        except membership.Refused as error:
            await turned_away(context, error)
            return
        except membership.Unplaced as unplaced:
            await context.send_activity(card_activity(cards.message_card(unplaced.question())))
            return
        await context.send_activity(card_activity(cards.start_card(help_replies, allowed)))

    @app.installation_update()
    async def installed(context: TurnContext, state: TurnState) -> None:
        # Teams follows an install with membersAdded, which says hello; here the chat is
        # only remembered, so reminders can reach someone who has not written yet.
        if (context.activity.action or "add").startswith("add"):
            try:
                await bot.run(context, lambda ctx: None)
            except membership.Refused as error:
                await turned_away(context, error)
            except membership.Unplaced:
                pass  # membersAdded asks which school; the chat is remembered once they say

    @app.conversation_update("membersAdded")
    async def members_added(context: TurnContext, state: TurnState) -> None:
        bot_id = context.activity.recipient.id if context.activity.recipient else None
        if any(m.id == bot_id for m in context.activity.members_added or []):
            await welcome(context)

    @app.activity(ActivityTypes.message)
    async def message(context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        if not personal(context):
            await context.send_activity(card_activity(notice_card(PERSONAL_ONLY, "warning")))
            return
        try:
            card = await answer_message(context)
        except membership.Refused as error:
            await turned_away(context, error)
            return
        except membership.Unplaced as unplaced:
            card = await newcomer(context, activity.text or "", unplaced)
        except Exception as error:
            card = cards.message_card(await fault(context, chat_key(context), error))
        if card is not None:  # None: a redelivery of a message already answered
            await context.send_activity(card_activity(card))

    async def answer_message(context: TurnContext) -> dict[str, Any] | None:
        activity = context.activity
        where, text = chat_key(context), activity.text or ""
        wants_form, name = _workflow_for_form(text)
        if wants_form:
            return await bot.run(context, lambda ctx: form_or_list(ctx, name))
        event = f"{where}:{activity.id}"

        def answer(ctx: Context) -> dict[str, Any] | None:
            # Seen-before and the answer in one transaction: a redelivered activity waits
            # for the first and then does nothing.
            if not first_time(ctx.session, ADAPTER, event):
                return None
            replies = chat.respond(ctx, where, text)
            return cards.message_card(replies, school_id=ctx.school.id,
                                      refresh_for=refresh_for(ctx, bot, replies))

        return await bot.run(context, answer)

    async def fault(context: TurnContext, where: str, error: Exception) -> list[Reply]:
        """A message that failed, rolled back: sorry, and the question still waiting if the
        database can say which; if it cannot, that nothing was saved (needs no database)."""
        if faults.unreachable(error):
            log.warning("could not answer a Teams message (nothing saved): %s",
                        faults.brief(error))
            return faults.unsaved()
        log.error("could not answer a Teams message (nothing saved): %s", faults.brief(error))
        log.debug("the message's failure", exc_info=error)
        try:
            return await bot.run(context, lambda ctx: chat.fault(ctx, where))
        except Exception as again:
            log.warning("could not say so either: %s", faults.brief(again))
            return faults.unsaved() if faults.unreachable(again) else faults.failed()

    async def newcomer(context: TurnContext, text: str, unplaced: membership.Unplaced
                       ) -> dict[str, Any]:
        """A newcomer to a tenant shared by several schools: this message is the answer to
        “which school?”, or their first words, which get the question."""
        if membership.pick(unplaced.schools, text) is None:
            return cards.message_card(unplaced.question())
        await bot.place(context, sender(context.activity), answer=text)

        def welcome(ctx: Context) -> dict[str, Any]:
            # The answer counts as seen: a redelivery of it, now that they are placed, is
            # not taken for a message to answer again.
            first_time(ctx.session, ADAPTER, f"{chat_key(context)}:{context.activity.id}")
            return cards.start_card(
                [membership.welcomed(ctx), *chat.greet(ctx, chat_key(context))], starts(ctx))

        return await bot.run(context, welcome)

    def form_or_list(ctx: Context, name: str | None) -> dict[str, Any]:
        if name is None:
            return cards.start_card([Text("Which form? Choose one:")], starts(ctx))
        workflow = WORKFLOWS[name]
        refusal = core.may_start(ctx, workflow)
        if refusal:
            return notice_card(refusal)
        return cards.intake_form(name, workflow.title, workflow.intake,
                                 about=membership.working_with(ctx), school_id=_chosen(ctx))

    # Card buttons: Action.Execute, answered with the card that replaces the clicked one.

    def on_card(verb: str,
                work: Callable[[TurnContext, Context, Mapping[str, Any]], Answer]) -> None:
        async def handler(context: TurnContext, state: TurnState, data: object
                          ) -> AdaptiveCardInvokeResponse:
            values = data if isinstance(data, dict) else {}
            if not personal(context):
                # A card forwarded or pasted into a group chat or channel: whatever it asks,
                # everyone there would see the answer.
                return card_response(notice_card(PERSONAL_ONLY, "warning"))
            try:
                answer = await bot.run(context, lambda ctx: work(context, ctx, values),
                                       _school_of(values))
            except membership.Refused as refused:
                return card_response(cards.message_card(refused.replies()))
            except membership.Unplaced as unplaced:
                return card_response(cards.message_card(unplaced.question()))
            except core.NotFound as error:  # told only to the clicker, as every card answer
                return card_response(notice_card(error.message))
            except (KeyError, StopIteration, ValueError, TypeError):
                # A card from an older version, or data no card of ours sends (`school: []`).
                log.warning("refused a Teams card action whose data could not be read")
                return card_response(notice_card(faults.unreadable()[0].text))
            except Exception as error:
                # Answered all the same: without an invoke response Teams shows only an error.
                if faults.unreachable(error):
                    log.warning("could not answer a Teams card action (nothing saved): %s",
                                faults.brief(error))
                    return card_response(notice_card(faults.unsaved()[0].text))
                log.error("a Teams card action failed: %s", faults.brief(error))
                log.debug("the card action's failure", exc_info=error)
                return card_response(notice_card(faults.failed()[0].text))
            if answer.for_everyone is not None and context.activity.reply_to_id:
                # Everyone who sees the message gets the decided card; refreshes stop.
                shared = card_activity(answer.for_everyone)
                shared.id = context.activity.reply_to_id
                await context.update_activity(shared)
            if answer.follow_up is not None:
                await context.send_activity(card_activity(answer.follow_up))
            return card_response(answer.card)

        app.adaptive_card.action_execute(verb)(handler)

    def open_form(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
        name = data.get("workflow")
        return Answer(form_or_list(ctx, name if name in WORKFLOWS else None))

    def intake(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
        workflow = WORKFLOWS[data["workflow"]]
        raw = cards.submitted_text(workflow.intake, data)
        prepared = conversation.prepare(
            ctx, chat_key(context, "teams-form"), workflow, raw)
        if prepared.errors:
            return Answer(cards.intake_form(workflow.name, workflow.title, workflow.intake, raw,
                                            prepared.errors, school_id=_chosen(ctx)))
        return Answer(cards.summary_card(prepared.summary, workflow.name,
                                         prepared.conversation_id, school_id=_chosen(ctx)))

    def edit(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
        workflow = WORKFLOWS[data["workflow"]]
        held = ctx.session.get(Conversation, int(data["conversation"]))
        answers = (held.answers if held is not None and held.person_id == ctx.person.id
                   and held.status == ConversationStatus.CONFIRMING else {})
        return Answer(cards.intake_form(workflow.name, workflow.title, workflow.intake,
                                        cards.initial_text(workflow.intake, answers),
                                        school_id=_chosen(ctx)))

    def confirm(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
        workflow = WORKFLOWS[data["workflow"]]
        result = conversation.confirm(ctx, int(data["conversation"]))
        if result.reopened is not None:
            # Refused as a whole: back to the form with everything typed still there.
            return Answer(cards.intake_form(
                workflow.name, workflow.title, workflow.intake,
                cards.initial_text(workflow.intake, result.reopened), note=result.message,
                school_id=_chosen(ctx)))
        card = cards.message_card(result.replies, school_id=ctx.school.id,
                                  refresh_for=refresh_for(ctx, bot, result.replies))
        if not (result.ok and workflow.follow_up and result.reference):
            return Answer(card)
        # The case (and its clock) exists; the rest is asked in the chat, answer by answer.
        more = conversation.follow_up(ctx, chat_key(context),
                                      workflow, result.reference)
        return Answer(card, follow_up=cards.message_card(more))

    def act(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
        target = core.Target.parse(str(data["value"]))
        reference, version = target.reference, target.version or 0
        workflow = _workflow(reference)
        declared = workflow.action(str(data["action"]))
        if declared.form.fields or declared.confirm:
            # Reasons and "are you sure?" are asked on the card, after the same refusal a
            # Slack modal gets: a staff click on a DPO button opens nothing.
            refusal = core.preflight(ctx, workflow, declared, reference)
            if refusal:
                return Answer(notice_card(refusal))
            case = core.load(ctx, workflow, reference)
            return Answer(cards.decision_form(
                core.view(ctx, workflow, case), declared.label, declared.name,
                str(data["value"]), declared.form, declared.confirm, school_id=ctx.school.id))
        return after_decision(
            ctx, core.decide(ctx, workflow, declared, reference, version, {}))

    def decide(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
        target = core.Target.parse(str(data["value"]))
        reference = target.reference
        workflow = _workflow(reference)
        declared = workflow.action(str(data["action"]))
        raw = cards.submitted_text(declared.form, data)
        decision = core.decide(ctx, workflow, declared, reference, target.version or 0, raw)
        if decision.errors:
            case = core.load(ctx, workflow, reference)
            return Answer(cards.decision_form(
                core.card(ctx, workflow, case), declared.label, declared.name,
                str(data["value"]), declared.form, declared.confirm, raw, decision.errors,
                note=decision.message, school_id=ctx.school.id))
        return after_decision(ctx, decision)

    def after_decision(ctx: Context, decision: core.Decision) -> Answer:
        if not decision.ok:
            # Only the person who clicked is told (who got there first, how it stands); the
            # shared message is left alone, as the winner has already replaced it.
            if decision.card is None:
                return Answer(notice_card(decision.message))
            return Answer(cards.case_card(
                decision.card, with_buttons=False, school_id=ctx.school.id,
                refresh_for=refresh_for(ctx, bot, [decision.card]),
                notice=Text(decision.message, "warning")))
        if decision.card is None:
            return Answer(notice_card(decision.message, "success"))
        decided = cards.case_card(decision.card, with_buttons=False,
                                  notice=Text(decision.message, "success"),
                                  footer=decision.footer)
        return Answer(decided, for_everyone=decided)

    def refresh(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
        reference = str(data["ref"])
        workflow = _workflow(reference)
        try:
            case = core.load(ctx, workflow, reference)
        except core.NotFound as error:
            return Answer(notice_card(error.message))
        # Teams refreshes a card each time a decider opens it: each is a read of the case's
        # personal data, audited as any other.
        shown = core.view(ctx, workflow, case)
        return Answer(cards.case_card(shown, with_buttons=True, school_id=ctx.school.id,
                                      refresh_for=refresh_for(ctx, bot, [shown])))

    for verb, work in ((cards.FORM, open_form), (cards.INTAKE, intake), (cards.EDIT, edit),
                       (cards.CONFIRM, confirm), (cards.ACT, act), (cards.DECIDE, decide),
                       (cards.REFRESH, refresh)):
        on_card(verb, work)

    @app.error
    async def on_error(context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", faults.brief(error))
        log.debug("the turn's failure", exc_info=error)


def refresh_for(ctx: Context, bot: TeamsBot, shown: Sequence[Reply]) -> list[str]:
    """Who gets a case's buttons: the DPO team of its school, and this person if their role
    allows any."""
    ids = bot.deciders(ctx.session, ctx.school.id)
    if ctx.person.teams_user_id and any(isinstance(r, Card) and r.buttons for r in shown):
        ids.append(ctx.person.teams_user_id)
    return ids


def _school_of(data: Mapping[str, Any]) -> int | None:
    """The school a card's button acts at: its case's, or the one its form was shown for.
    None (a card from before schools were shared) acts where the person is working now."""
    if "value" in data:
        if not isinstance(data["value"], str):
            raise ValueError("a button value is text")
        return core.Target.parse(data["value"]).school_id
    school = data.get("school")
    if school is None:
        return None
    if isinstance(school, bool) or not isinstance(school, int | str):
        raise ValueError("a school is a number")
    return int(school)


def _chosen(ctx: Context) -> int | None:
    """The school a form is for, carried on it when the app serves several: a trust DPO who
    says “school NAME” meanwhile still saves it where it was begun."""
    return ctx.school.id if ctx.served else None


def _workflow(reference: str) -> Workflow:
    workflow = by_prefix(reference.split("-", 1)[0])
    if workflow is None:
        raise KeyError(reference)
    return workflow
