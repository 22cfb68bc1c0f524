"""`/plan REF` and the plan card's verbs ``plan.add_action``, ``plan.remove_action`` and
``plan.agree``."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.errors import UsageError
from bot.services.plans import PlanNeedsAttention, PlanView
from cards.plan import INPUT_IDS, plan_agreed_card, plan_card
from dialogs.base import Dependencies, Reply, TurnInfo
from dialogs.case import REFERENCE

USAGE = "Usage: plan REF (for example: plan MARAT-2026-0042)"


def _card(
    view: PlanView,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    confirm: bool = False,
) -> Reply:
    card = plan_card(
        view.case.reference,
        view.case.state.value,
        view.actions,
        view.agencies,
        view.names,
        view.token,
        view.remove_tokens,
        values,
        errors,
        notice,
        confirm,
    )
    return Reply(card=card, replace=True)


async def show(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """The plan card of a case (only in a 1:1 chat: it holds case detail)."""
    words = args.split()
    if len(words) != 1 or not REFERENCE.match(words[0]):
        raise UsageError(USAGE)
    if not turn.is_personal:
        return Reply(
            text="Action plans are edited in a 1:1 chat with me: type plan "
            f"{words[0].upper()} there."
        )
    view = await deps.plans.open_plan(turn.aad_object_id, words[0])
    return Reply(card=_card(view).card)


def _inputs(data: Mapping[str, object]) -> dict[str, object]:
    return {k: data[k] for k in INPUT_IDS if k in data}


async def add_action(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Add an action; errors come back under their fields with the user's input kept."""
    values = _inputs(data)
    outcome = await deps.plans.add_action(turn.aad_object_id, str(data.get("token") or ""), values)
    if isinstance(outcome, PlanNeedsAttention):
        notice = None if outcome.errors else outcome.message
        return _card(outcome.plan, values, outcome.errors, notice)
    return _card(outcome, notice=None)


async def remove_action(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Remove a draft action, keeping what the user had typed in the add form."""
    values = _inputs(data)
    outcome = await deps.plans.remove_action(turn.aad_object_id, str(data.get("token") or ""))
    if isinstance(outcome, PlanNeedsAttention):
        return _card(outcome.plan, values, notice=outcome.message)
    return _card(outcome, values)


async def agree(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Agree the plan (after confirming, if no action addresses the person causing harm)."""
    values = _inputs(data)
    outcome = await deps.plans.agree_plan(
        turn.aad_object_id,
        str(data.get("token") or ""),
        str(data.get("confirm") or "") == "no_perpetrator_action",
    )
    if isinstance(outcome, PlanNeedsAttention):
        return _card(outcome.plan, values, notice=outcome.message, confirm=outcome.confirm)
    card = plan_agreed_card(
        outcome.case.reference, outcome.actions, outcome.names, outcome.conference
    )
    return Reply(card=card, replace=True)
