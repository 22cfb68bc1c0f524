"""An agency contact answers an information request (verb ``inforeq.submit``)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.services.information_requests import AnswerInvalid
from cards.information_request import INPUT_IDS, answered_card, information_request_card
from dialogs.base import Dependencies, Reply, TurnInfo


async def submit(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Record the agency's answer; the form comes back with errors, or is replaced by who
    answered (the first answer counts, even if a colleague's won by a moment)."""
    token = str(data.get("token") or "")
    values = {k: data[k] for k in INPUT_IDS if k in data}
    outcome = await deps.information_requests.answer(turn.aad_object_id, token, values)
    form = outcome.form
    if isinstance(outcome, AnswerInvalid):
        card = information_request_card(
            token, form.case, form.agency_name, form.due, values, outcome.errors
        )
        return Reply(card=card, replace=True)
    card = answered_card(
        form.case.reference,
        form.agency_name,
        outcome.answered_by,
        outcome.answered_at,
        outcome.late,
        outcome.mine,
    )
    return Reply(card=card, replace=True)
