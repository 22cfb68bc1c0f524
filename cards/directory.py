"""The agency list (`agency list`): agencies, their keys and contacts, and who can be reached.

A contact the bot cannot reach (no 1:1 chat yet) would silently miss information requests and
reminders, so the card says so per person rather than leaving the coordinator to find out.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.directory import ContactListing, DirectoryListing
from cards.common import Card, Element, envelope, facts, heading, text

FALLBACK = "A MARAT agency list is ready."
REACHABLE = "reachable"
NOT_REACHABLE = "not reachable yet"


def _people(people: Sequence[ContactListing]) -> Element:
    return facts([(p.name, REACHABLE if p.reachable else NOT_REACHABLE) for p in people])


def agencies_card(listing: DirectoryListing) -> Card:
    """`agency list`: each agency with its key and contacts, and who the bot can reach."""
    body: list[Element] = [
        heading("MARAT agencies and contacts"),
        text(
            "The key is what the other commands take, for example: contact add police "
            "someone@example.org",
            subtle=True,
        ),
    ]
    if not listing.agencies:
        body.append(text("There are no agencies. Add one with: agency add NAME"))
    for entry in listing.agencies:
        body.append(text(f"**{entry.agency.name}** · key: {entry.agency.key}", spacing="Medium"))
        if entry.contacts:
            body.append(_people(entry.contacts))
        else:
            body.append(text("No contacts yet.", attention=True))
    body.append(text("**Coordinators**", spacing="Medium"))
    body.append(_people(listing.coordinators))
    people = [*(p for a in listing.agencies for p in a.contacts), *listing.coordinators]
    if any(not p.reachable for p in people):
        body.append(
            text(
                f"I have no 1:1 chat with anyone marked {NOT_REACHABLE}, so I cannot send them "
                "requests or reminders. Ask them to open the MARAT app in Teams.",
                subtle=True,
                spacing="Medium",
            )
        )
    return envelope(body, fallback_text=FALLBACK)
