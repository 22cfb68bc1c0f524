"""`/agenda [next|today|YYYY-MM-DD]`."""

from __future__ import annotations

from bot.domain.errors import UsageError
from bot.services.conferences import AgendaWhich
from cards.agenda import agenda_card, agenda_summary_text
from dialogs.base import Dependencies, Reply, TurnInfo, detail_reply, parse_iso_date

USAGE = "Usage: agenda [next|today|YYYY-MM-DD]"


async def run(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """A conference's agenda (in a channel: counts and references, the card privately)."""
    words = args.split()
    if len(words) > 1:
        raise UsageError(USAGE)
    which_text = words[0].lower() if words else "next"
    if which_text in ("next", "today"):
        agenda = await deps.conferences.agenda(turn.aad_object_id, AgendaWhich(which_text))
    else:
        day = parse_iso_date(which_text, USAGE)
        agenda = await deps.conferences.agenda(turn.aad_object_id, AgendaWhich.DATE, day)
    card = agenda_card(agenda, deps.calendar, deps.today())
    return detail_reply(turn, card, agenda_summary_text(agenda))
