"""`/plan REF` and the plan card's verbs: ``plan.add_action``, ``plan.remove_action`` and
``plan.agree`` while it is drafted; ``plan.add_action``, ``plan.change_action`` and
``plan.withdraw_action`` to amend it once agreed."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.errors import UsageError
from bot.services.plan_view import PlanNeedsAttention, PlanView
from cards.plan import AGREE_IDS, AMEND_IDS, INPUT_IDS, plan_card
from cards.plan_agreed import plan_agreed_card
from dialogs.base import Dependencies, Reply, TurnInfo
from dialogs.case import REFERENCE

USAGE = "Usage: plan REF (for example: plan MARAT-2026-0042)"


def _card(
    view: PlanView,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    confirm: bool = False,
    focus: str | int | None = None,
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
        notice or view.notice,
        confirm,
        agreeable=view.agreeable,
        amend_tokens=view.amend_tokens,
        outside_needed=view.outside_needed,
        conference=view.conference,
        focus=focus,
        amendments=view.amendments,
        people=view.people,
        addable=view.case.state.is_open,
    )
    return Reply(card=card, replace=True)


def _attention(outcome: PlanNeedsAttention, values: Mapping[str, object]) -> Reply:
    notice = None if outcome.errors and outcome.focus is not None else outcome.message or None
    return _card(outcome.plan, values, outcome.errors, notice, outcome.confirm, outcome.focus)


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


def _inputs(data: Mapping[str, object], ids: tuple[str, ...] = INPUT_IDS) -> dict[str, object]:
    return {k: data[k] for k in ids if k in data}


def _token(data: Mapping[str, object]) -> str:
    return str(data.get("token") or "")


async def add_action(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Add an action; errors come back under their fields with the user's input kept."""
    values = _inputs(data)
    outcome = await deps.plans.add_action(turn.aad_object_id, _token(data), values)
    if isinstance(outcome, PlanNeedsAttention):
        return _attention(outcome, values)
    return _card(outcome)


async def remove_action(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Remove a draft action, keeping what the user had typed in the add form."""
    values = _inputs(data)
    outcome = await deps.plans.remove_action(turn.aad_object_id, _token(data))
    if isinstance(outcome, PlanNeedsAttention):
        return _card(outcome.plan, values, notice=outcome.message)
    return _card(outcome, values)


async def agree(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Agree the plan (after confirming, if no action addresses the person causing harm, and
    choosing "agreed outside a conference" with a reason, before the conference)."""
    values = {**_inputs(data), **_inputs(data, AGREE_IDS)}
    outcome = await deps.plans.agree_plan(
        turn.aad_object_id,
        _token(data),
        str(data.get("confirm") or "") == "no_perpetrator_action",
        _inputs(data, AGREE_IDS),
    )
    if isinstance(outcome, PlanNeedsAttention):
        notice = None if outcome.errors else outcome.message
        return _card(outcome.plan, values, outcome.errors, notice, outcome.confirm)
    card = plan_agreed_card(
        outcome.case.reference,
        outcome.actions,
        outcome.names,
        outcome.conference,
        agreed_on=outcome.agreed_on,
        outside_reason=outcome.outside_reason,
        released=outcome.released,
    )
    return Reply(card=card, replace=True)


async def open_amendment(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Open one agreed action's change/withdraw form (verb ``plan.open_amendment``)."""
    outcome = await deps.amendments.open_amendment(turn.aad_object_id, _token(data))
    return _attention(outcome, {})


async def change_action(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Change an agreed action's due date or agency (with a reason)."""
    values = _inputs(data, AMEND_IDS)
    outcome = await deps.amendments.change_action(turn.aad_object_id, _token(data), values)
    if isinstance(outcome, PlanNeedsAttention):
        return _attention(outcome, values)
    return _card(outcome)


async def withdraw_action(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Withdraw an agreed action (with a reason)."""
    values = _inputs(data, AMEND_IDS)
    outcome = await deps.amendments.withdraw_action(turn.aad_object_id, _token(data), values)
    if isinstance(outcome, PlanNeedsAttention):
        return _attention(outcome, values)
    return _card(outcome)
