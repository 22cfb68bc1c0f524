"""`/plan REF` and the plan card's verbs ``plan.add_action``, ``plan.remove_action`` and
``plan.agree``."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.errors import UsageError
from bot.plans import PlanProblem, PlanView
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
    words = args.split()
    if len(words) != 1 or not REFERENCE.match(words[0]):
        raise UsageError(USAGE)
    if not turn.is_personal:
        return Reply(
            text="Action plans are edited in a 1:1 chat with me: type plan "
            f"{words[0].upper()} there."
        )
    view = await deps.service.open_plan(turn.aad_object_id, words[0])
    return Reply(card=_card(view).card)


def _inputs(data: Mapping[str, object]) -> dict[str, object]:
    return {k: data[k] for k in INPUT_IDS if k in data}


async def add_action(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    values = _inputs(data)
    try:
        view = await deps.service.add_action(
            turn.aad_object_id, str(data.get("token") or ""), values
        )
    except PlanProblem as problem:
        return _card(problem.plan, values, problem.errors, None if problem.errors else str(problem))
    return _card(view, notice=None)


async def remove_action(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    values = _inputs(data)
    try:
        view = await deps.service.remove_action(turn.aad_object_id, str(data.get("token") or ""))
    except PlanProblem as problem:
        return _card(problem.plan, values, notice=str(problem))
    return _card(view, values)


async def agree(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    values = _inputs(data)
    try:
        agreed = await deps.service.agree_plan(
            turn.aad_object_id,
            str(data.get("token") or ""),
            str(data.get("confirm") or "") == "no_perpetrator_action",
        )
    except PlanProblem as problem:
        return _card(problem.plan, values, notice=str(problem), confirm=problem.confirm)
    card = plan_agreed_card(agreed.case.reference, agreed.actions, agreed.names, agreed.conference)
    return Reply(card=card, replace=True)
