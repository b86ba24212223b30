"""Decision buttons on a case: asked on the card (reasons, "are you sure?"), decided by the
engine's compare-and-set, and refreshed for each person Teams shows the case to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from microsoft_agents.hosting.core import TurnContext

from bot.teams import cards
from bot.teams.listeners.invokes import Answer, on_card
from bot.teams.turns import notice_card, refresh_for
from workflows.core import engine as core
from workflows.core.context import Context
from workflows.core.declaration import Workflow
from workflows.core.ui import Text
from workflows.registry import by_prefix

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot


def register(bot: TeamsBot) -> None:
    for verb, work in ((cards.ACT, act), (cards.DECIDE, decide), (cards.REFRESH, refresh)):
        on_card(bot, verb, work)


def act(context: TurnContext, ctx: Context, data: Mapping[str, Any]) -> Answer:
    target = core.Target.parse(str(data["value"]))
    reference, version = target.reference, target.version or 0
    workflow = _workflow(reference)
    declared = workflow.action(str(data["action"]))
    if declared.form.fields or declared.confirm:
        # Reasons and "are you sure?" are asked on the card, after the same refusal a Slack
        # modal gets: a staff click on a DPO button opens nothing.
        refusal = core.preflight(ctx, workflow, declared, reference)
        if refusal:
            return Answer(notice_card(refusal))
        case = core.load(ctx, workflow, reference)
        return Answer(cards.decision_form(
            core.view(ctx, workflow, case), declared.label, declared.name,
            str(data["value"]), declared.form, declared.confirm, school_id=ctx.school.id))
    return _after(ctx, core.decide(ctx, workflow, declared, reference, version, {}))


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
    return _after(ctx, decision)


def _after(ctx: Context, decision: core.Decision) -> Answer:
    if not decision.ok:
        # Only the person who clicked is told (who got there first, how it stands); the
        # shared message is left alone, as the winner has already replaced it.
        if decision.card is None:
            return Answer(notice_card(decision.message))
        return Answer(cards.case_card(
            decision.card, with_buttons=False, school_id=ctx.school.id,
            refresh_for=refresh_for(ctx, [decision.card]),
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
                                  refresh_for=refresh_for(ctx, [shown])))


def _workflow(reference: str) -> Workflow:
    workflow = by_prefix(reference.split("-", 1)[0])
    if workflow is None:
        raise KeyError(reference)
    return workflow
