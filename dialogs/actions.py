"""`/actions [mine|overdue]` and the agencies' action updates (verb ``action.update``)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.errors import AlreadyDone, UsageError
from bot.plans import ActionsFilter, ActionView, InvalidUpdate
from cards.action import INPUT_IDS, action_card, actions_card
from dialogs.base import Dependencies, Reply, TurnInfo, detail_reply

USAGE = "Usage: actions [mine|overdue]"
TITLES = {
    ActionsFilter.ALL: "Open actions",
    ActionsFilter.MINE: "My open actions",
    ActionsFilter.OVERDUE: "Overdue actions",
}


async def show(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    words = args.lower().split()
    if len(words) > 1 or (words and words[0] not in ("mine", "overdue")):
        raise UsageError(USAGE)
    which = ActionsFilter(words[0]) if words else ActionsFilter.ALL
    actions, names = await deps.service.list_actions(turn.aad_object_id, which)
    overdue = sum(a.is_overdue(deps.service.today()) for a in actions)
    card = actions_card(TITLES[which], actions, names, deps.service.today())
    return detail_reply(turn, card, f"{len(actions)} open actions, {overdue} overdue.")


def _card(
    view: ActionView,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Reply:
    card = action_card(view.action, view.agency_name, view.token, view.updated_by, values, errors)
    return Reply(card=card, replace=True)


async def update(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    token = str(data.get("token") or "")
    values = {k: data[k] for k in INPUT_IDS if k in data}
    try:
        view = await deps.service.update_action(turn.aad_object_id, token, values)
    except InvalidUpdate as invalid:
        return _card(invalid.view, values, invalid.errors)
    except AlreadyDone:
        view = await deps.service.update_action(turn.aad_object_id, token, values)
    return _card(view)
