"""`/case REF` and `/cases`."""

from __future__ import annotations

import re

from bot.domain.errors import UsageError
from bot.domain.wording import plural
from cards.case import case_card, cases_card
from dialogs.base import Dependencies, Reply, TurnInfo, detail_reply

CASE_USAGE = "Usage: case REF (for example: case MARAT-2026-0042)"
REFERENCE = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,11}-\d{4}-\d{4,}$")


async def show(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`/case REF`: the case as this person may see it."""
    words = args.split()
    if len(words) != 1 or not REFERENCE.match(words[0]):
        raise UsageError(CASE_USAGE)
    detail = await deps.cases.case_detail(turn.aad_object_id, words[0])
    full = detail.viewer_agencies is None  # the coordinator's view
    card = case_card(detail, deps.calendar, deps.today(), full)
    return detail_reply(turn, card, f"{detail.case.reference} is {detail.case.state.value}.")


async def list_open(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`/cases`: open cases, missed targets first (coordinators)."""
    if args.strip():
        raise UsageError("Usage: cases")
    cases = await deps.cases.open_cases(turn.aad_object_id)
    breached = sum(c.listing.breach for c in cases)
    return detail_reply(
        turn,
        cases_card(cases, deps.today()),
        f"{plural(len(cases), 'open case')}, {breached} past target.",
    )
