"""The coordinator records the day-3 case discussion (verb ``discussion.record``)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.errors import AlreadyDone
from bot.plans import InvalidDiscussion
from cards.discussion import INPUT_IDS, discussion_card, discussion_recorded_card
from dialogs.base import Dependencies, Reply, TurnInfo


async def record(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    token = str(data.get("token") or "")
    values = {k: data[k] for k in INPUT_IDS if k in data}
    try:
        done = await deps.service.record_discussion(turn.aad_object_id, token, values)
    except InvalidDiscussion as invalid:
        card = discussion_card(
            token, invalid.reference, invalid.when, invalid.agencies, values, invalid.errors
        )
        return Reply(card=card, replace=True)
    except AlreadyDone:
        done = await deps.service.record_discussion(turn.aad_object_id, token, values)
    return Reply(
        card=discussion_recorded_card(done.reference, done.held, done.attendees), replace=True
    )
