"""`/review`, `/defer`, `/withdraw` and `/close`: `COMMAND REF [REASON…]`."""

from __future__ import annotations

from bot.domain.errors import FieldErrors, UsageError
from bot.domain.lifecycle import CaseState
from cards.common import day
from dialogs.base import Dependencies, Reply, TurnInfo
from dialogs.case import REFERENCE

USAGES = {
    CaseState.REVIEW: "Usage: review REF REASON (risk not reduced: re-list the case)",
    CaseState.DEFERRED: "Usage: defer REF REASON",
    CaseState.WITHDRAWN: "Usage: withdraw REF REASON (does not meet the threshold)",
    CaseState.CLOSED: "Usage: close REF [REASON] (a reason is needed while actions are open)",
}
DONE = {
    CaseState.REVIEW: "is under review",
    CaseState.DEFERRED: "is deferred",
    CaseState.WITHDRAWN: "is withdrawn",
    CaseState.CLOSED: "is closed",
}


async def _change(deps: Dependencies, turn: TurnInfo, args: str, target: CaseState) -> Reply:
    words = args.split(maxsplit=1)
    if not words or not REFERENCE.match(words[0]):
        raise UsageError(USAGES[target])
    reason = words[1].strip() if len(words) > 1 else None
    try:
        case = await deps.lifecycle.change_case(turn.aad_object_id, words[0], target, reason)
    except FieldErrors:
        raise UsageError(
            "Please give a reason; it is recorded with the decision. " + USAGES[target]
        ) from None
    text = f"{case.reference} {DONE[target]}."
    if target in (CaseState.REVIEW, CaseState.DEFERRED):
        text += (
            f" It is listed at the conference of {day(case.listing.meeting_date)}."
            if case.listing.meeting_date
            else " No later conference has a free place yet: add one with meeting add."
        )
    return Reply(text=text)


async def review(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`review REF REASON`."""
    return await _change(deps, turn, args, CaseState.REVIEW)


async def defer(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`defer REF REASON`."""
    return await _change(deps, turn, args, CaseState.DEFERRED)


async def withdraw(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`withdraw REF REASON`."""
    return await _change(deps, turn, args, CaseState.WITHDRAWN)


async def close(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`close REF [REASON]`."""
    return await _change(deps, turn, args, CaseState.CLOSED)
