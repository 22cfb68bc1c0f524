"""`/meeting add YYYY-MM-DD [capacity]` and `/meeting list`."""

from __future__ import annotations

from bot.domain.errors import FieldErrors, UsageError
from bot.domain.wording import plural, verb
from cards.case import meetings_card
from cards.common import day
from dialogs.base import Dependencies, Reply, TurnInfo, parse_iso_date

USAGE = "Usage: meeting add YYYY-MM-DD [capacity] | meeting list"


async def run(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`meeting add YYYY-MM-DD [capacity]` or `meeting list` (coordinators)."""
    words = args.split()
    if not words:
        raise UsageError(USAGE)
    sub, rest = words[0].lower(), words[1:]
    if sub == "list" and not rest:
        return Reply(card=meetings_card(await deps.conferences.meetings(turn.aad_object_id)))
    if sub != "add" or not 1 <= len(rest) <= 2:
        raise UsageError(USAGE)
    when = parse_iso_date(rest[0], USAGE)
    capacity = None
    if len(rest) == 2:
        if not rest[1].isdigit():
            raise UsageError(USAGE)
        capacity = int(rest[1])
    try:
        added = await deps.conferences.add_meeting(turn.aad_object_id, when, capacity)
    except FieldErrors as error:
        raise UsageError(" ".join(error.errors.values()) + f" {USAGE}") from None
    meeting = added.meeting
    text = (
        f"Conference {day(meeting.date)} saved with {plural(meeting.capacity, 'place')} "
        f"({meeting.listed} taken)."
    )
    if added.newly_listed:
        text += (
            f" {plural(len(added.newly_listed), 'waiting case')} "
            f"{verb(len(added.newly_listed), 'is', 'are')} now listed on it: "
            f"{', '.join(added.newly_listed)}."
        )
    return Reply(text=text)
