"""The coordinator records the day-3 case discussion (verb ``discussion.record``)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.services.discussion import DiscussionInvalid
from cards.discussion import INPUT_IDS, discussion_card, discussion_recorded_card
from dialogs.base import Dependencies, Reply, TurnInfo


async def record(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Record the discussion; the form comes back with errors, or is replaced by the record."""
    token = str(data.get("token") or "")
    values = {k: data[k] for k in INPUT_IDS if k in data}
    done = await deps.discussions.record_discussion(turn.aad_object_id, token, values)
    if isinstance(done, DiscussionInvalid):
        card = discussion_card(token, done.reference, done.when, done.agencies, values, done.errors)
        return Reply(card=card, replace=True)
    return Reply(
        card=discussion_recorded_card(done.reference, done.held, done.attendees), replace=True
    )
