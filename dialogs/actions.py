"""`/actions [mine|overdue]` and the agencies' action updates (verb ``action.update``)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.errors import UsageError
from bot.domain.wording import plural
from bot.services.actions import ActionsFilter, ActionUpdateInvalid, ActionView
from cards.action import INPUT_IDS, action_card, actions_card
from dialogs.base import Dependencies, Reply, TurnInfo, detail_reply

USAGE = "Usage: actions [mine|overdue]"
TITLES = {
    ActionsFilter.ALL: "Open actions",
    ActionsFilter.MINE: "My open actions",
    ActionsFilter.OVERDUE: "Overdue actions",
}


async def show(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """The open actions this person may see (a contact: their agencies')."""
    words = args.lower().split()
    if len(words) > 1 or (words and words[0] not in ("mine", "overdue")):
        raise UsageError(USAGE)
    which = ActionsFilter(words[0]) if words else ActionsFilter.ALL
    actions, names = await deps.actions.list_actions(turn.aad_object_id, which)
    today = deps.today()
    overdue = sum(a.is_overdue(today) for a in actions)
    card = actions_card(TITLES[which], actions, names, today)
    return detail_reply(turn, card, f"{plural(len(actions), 'open action')}, {overdue} overdue.")


def _card(
    view: ActionView,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Reply:
    card = action_card(view.action, view.agency_name, view.token, view.updated_by, values, errors)
    return Reply(card=card, replace=True)


async def update(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """An agency's progress on its action; the card is replaced by where it stands now."""
    token = str(data.get("token") or "")
    values = {k: data[k] for k in INPUT_IDS if k in data}
    outcome = await deps.actions.update_action(turn.aad_object_id, token, values)
    if isinstance(outcome, ActionUpdateInvalid):
        return _card(outcome.view, values, outcome.errors)
    return _card(outcome)
