"""`/agenda [next|today|YYYY-MM-DD] [pack]`, and the agenda card's "Conference pack" button
(verb ``agenda.pack``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from bot.domain.errors import UsageError
from bot.domain.pack import ConferencePack
from bot.services.conferences import AgendaWhich
from cards.agenda import agenda_card, agenda_summary_text
from cards.pack import pack_cards
from dialogs.base import Dependencies, Reply, TurnInfo, detail_reply, parse_iso_date

USAGE = "Usage: agenda [next|today|YYYY-MM-DD] [pack]"
PACK_IN_CHANNEL = (
    "Conference packs hold every agency's returns, so they are read in a 1:1 chat with me: "
    "type agenda {} pack there."
)


async def run(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """A conference's agenda (in a channel: counts and references, the card privately), or
    with ``pack`` its conference pack (coordinators, in a 1:1 chat)."""
    words = args.lower().split()
    pack = bool(words) and words[-1] == "pack"
    if pack:
        words = words[:-1]
    if len(words) > 1:
        raise UsageError(USAGE)
    which_text = words[0] if words else "next"
    day: date | None = None
    if which_text in ("next", "today"):
        which = AgendaWhich(which_text)
    else:
        which, day = AgendaWhich.DATE, parse_iso_date(which_text, USAGE)
    if pack:
        return await _pack(deps, turn, which, day, which_text)
    agenda = await deps.conferences.agenda(turn.aad_object_id, which, day)
    card = agenda_card(agenda, deps.calendar, deps.today())
    return detail_reply(turn, card, agenda_summary_text(agenda))


async def _pack(
    deps: Dependencies, turn: TurnInfo, which: AgendaWhich, day: date | None, said: str
) -> Reply:
    if not turn.is_personal:
        await deps.packs.check_reader(turn.aad_object_id)  # the role, even in a channel
        return Reply(text=PACK_IN_CHANNEL.format(said))
    if which is AgendaWhich.TODAY:
        day = deps.today()
    return _reply(deps, await deps.packs.pack(turn.aad_object_id, day))


def _reply(deps: Dependencies, pack: ConferencePack) -> Reply:
    first, *rest = pack_cards(pack, deps.calendar, deps.today())
    return Reply(card=first, more=tuple(rest))


async def pack_button(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """The agenda card's button: the pack follows as new messages (the agenda stays)."""
    pack = await deps.packs.pack_from_card(turn.aad_object_id, str(data.get("token") or ""))
    if not turn.is_personal:
        return Reply(text=PACK_IN_CHANNEL.format(pack.meeting.date.isoformat()))
    return _reply(deps, pack)
