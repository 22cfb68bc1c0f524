"""`/help`, the answer to unknown text, and the greeting on installation."""

from __future__ import annotations

from cards.help import help_card, not_registered_text
from dialogs.base import Dependencies, Reply, TurnInfo


async def run(deps: Dependencies, turn: TurnInfo, args: str, intro: str | None = None) -> Reply:
    """What this person may do (or who to ask, if they are not registered)."""
    person = await deps.directory.person(turn.aad_object_id)
    if person is None:
        return Reply(text=not_registered_text(deps.help_contact))
    names = await deps.directory.agency_names()
    return Reply(card=help_card(person, names, intro))


async def unknown(deps: Dependencies, turn: TurnInfo, text: str) -> Reply:
    """Unknown text gets the help card."""
    return await run(deps, turn, "", intro="I did not recognise that. Here is what you can do.")


async def greet(deps: Dependencies, turn: TurnInfo) -> Reply:
    """The greeting when the app is installed for someone."""
    return await run(
        deps,
        turn,
        "",
        intro="Hello! I run the MARAT's referrals, agendas and conferences here in Teams.",
    )
