"""`/report [YYYY-MM-DD YYYY-MM-DD]`: the partnership figures of a period (coordinators)."""

from __future__ import annotations

from bot.domain.errors import UsageError
from bot.services.reports import checked_period
from cards.report import period_text, report_card
from dialogs.base import Dependencies, Reply, TurnInfo, detail_reply, parse_iso_date

USAGE = (
    "Usage: report [YYYY-MM-DD YYYY-MM-DD] (the first and last day of the period; "
    "without dates: the last complete quarter)"
)


async def run(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """The figures card (in a channel it goes to the asker's 1:1 chat: it is for
    coordinators, and small counts can point at people)."""
    words = args.split()
    if len(words) not in (0, 2):
        raise UsageError(USAGE)
    period = None
    if words:
        period = checked_period(parse_iso_date(words[0], USAGE), parse_iso_date(words[1], USAGE))
    figures = await deps.reports.report(turn.aad_object_id, period)
    summary = f"The partnership figures for {period_text(figures)} are ready."
    return detail_reply(turn, report_card(figures), summary)
