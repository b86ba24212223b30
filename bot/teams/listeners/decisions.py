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
            str(data["value"]), cards.bound(declared.form, ctx), declared.confirm,
            declared.form.initial(ctx), school_id=ctx.school.id))
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
            str(data["value"]), cards.bound(declared.form, ctx), declared.confirm, raw,
            decision.errors,
            note=decision.message, school_id=ctx.school.id))
    return _after(ctx, decision)


def _after(ctx: Context, decision: core.Decision) -> Answer:
    """The case as it now stands, with the buttons the core now offers the clicker (pause
    after take, resume after pause...), so the next step is on the same card; a final
    decision leaves only what may still be added. Everyone else who sees the message gets
    it without buttons, and each person in ``refresh.userIds`` their own on the next look."""
    if decision.card is None:
        return Answer(notice_card(decision.message, "success" if decision.ok else "error"))
    holders = refresh_for(ctx, [decision.card])
    if not decision.ok:
        # Only the person who clicked is told (who got there first, how it stands), with the
        # case as it is now; the shared message is the winner's to replace.
        return Answer(cards.case_card(decision.card, with_buttons=True, school_id=ctx.school.id,
                                      refresh_for=holders,
                                      notice=Text(decision.message, "warning")))
    done = Text(decision.message, "success")
    mine = cards.case_card(decision.card, with_buttons=True, notice=done,
                           footer=decision.footer, refresh_for=holders, school_id=ctx.school.id)
    shared = cards.case_card(decision.card, with_buttons=False, notice=done,
                             footer=decision.footer, refresh_for=holders,
                             school_id=ctx.school.id)
    return Answer(mine, for_everyone=shared)


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
