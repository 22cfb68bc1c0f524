"""`/help`, the answer to unknown text, and the greeting on installation."""

from __future__ import annotations

import difflib

from cards.help import commands_for, help_card, not_registered_text
from dialogs.base import Dependencies, Reply, TurnInfo


async def run(deps: Dependencies, turn: TurnInfo, args: str, intro: str | None = None) -> Reply:
    """What this person may do (or who to ask, if they are not registered)."""
    person = await deps.directory.person(turn.aad_object_id)
    if person is None:
        return Reply(text=not_registered_text(deps.help_contact))
    names = await deps.directory.agency_names()
    return Reply(card=help_card(person, names, intro))


def suggestion(word: str, commands: list[str]) -> str | None:
    """The command a mistyped word most likely meant ("agneda" -> "agenda"), if any is close."""
    close = difflib.get_close_matches(word.lower().removeprefix("/"), commands, n=1, cutoff=0.7)
    return close[0] if close else None


async def unknown(deps: Dependencies, turn: TurnInfo, text: str) -> Reply:
    """Unknown text gets the help card, after "Did you mean …?" when it is close to a
    command this person may use."""
    reply = await run(deps, turn, "", intro="I did not recognise that. Here is what you can do.")
    person = await deps.directory.person(turn.aad_object_id)
    words = text.split()
    if person is None or not words:
        return reply
    commands = sorted({usage.split()[0] for usage, _ in commands_for(person)})
    meant = suggestion(words[0], commands)
    if meant is None:
        return reply
    return Reply(text=f"Did you mean {meant}?", card=reply.card)


async def greet(deps: Dependencies, turn: TurnInfo) -> Reply:
    """The greeting when the app is installed for someone."""
    return await run(
        deps,
        turn,
        "",
        intro="Hello! I run the MARAT's referrals, agendas and conferences here in Teams.",
    )
