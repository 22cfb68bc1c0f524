"""`/help`, the answer to unknown text, and the greeting on installation."""

from __future__ import annotations

from cards.help import help_card, not_registered_text
from dialogs.base import Dependencies, Reply, TurnInfo


async def run(deps: Dependencies, turn: TurnInfo, args: str, intro: str | None = None) -> Reply:
    person = await deps.service.person(turn.aad_object_id)
    if person is None:
        return Reply(text=not_registered_text(deps.help_contact))
    names = await deps.service.agency_names()
    return Reply(card=help_card(person, names, intro))


async def unknown(deps: Dependencies, turn: TurnInfo, text: str) -> Reply:
    return await run(deps, turn, "", intro="I did not recognise that. Here is what you can do.")


async def greet(deps: Dependencies, turn: TurnInfo) -> Reply:
    return await run(
        deps,
        turn,
        "",
        intro="Hello! I run the MARAT's referrals, agendas and conferences here in Teams.",
    )
