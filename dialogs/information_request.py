"""An agency contact answers an information request (verb ``inforeq.submit``)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.errors import AlreadyDone
from bot.services import AnswerOutcome, InvalidAnswer
from cards.information_request import INPUT_IDS, answered_card, information_request_card
from dialogs.base import Dependencies, Reply, TurnInfo


def _answered(outcome: AnswerOutcome) -> Reply:
    form = outcome.form
    if outcome.answered_at is None:
        raise AssertionError("an answered request has a time")
    card = answered_card(
        form.case.reference,
        form.agency_name,
        outcome.answered_by,
        outcome.answered_at,
        outcome.late,
        outcome.mine,
    )
    return Reply(card=card, replace=True)


async def submit(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    token = str(data.get("token") or "")
    values = {k: data[k] for k in INPUT_IDS if k in data}
    try:
        outcome = await deps.service.answer_information_request(turn.aad_object_id, token, values)
    except InvalidAnswer as invalid:
        form = invalid.form
        card = information_request_card(
            token, form.case, form.agency_name, form.due, values, invalid.errors
        )
        return Reply(card=card, replace=True)
    except AlreadyDone:
        # A colleague's answer won the race: show theirs.
        outcome = await deps.service.answer_information_request(turn.aad_object_id, token, values)
    return _answered(outcome)
