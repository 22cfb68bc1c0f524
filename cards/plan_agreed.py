"""The card that replaces the plan card once the plan is agreed (at its conference, or outside
one), and answers a second click of the same Agree button."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from bot.domain.actions import Action
from cards.common import Card, Element, day, envelope, facts, heading, text


def plan_agreed_card(
    reference: str,
    actions: Sequence[Action],
    names: Mapping[str, str],
    conference: date | None,
    *,
    agreed_on: date | None = None,
    outside_reason: str | None = None,
    released: date | None = None,
) -> Card:
    """What replaces the plan card once the plan is agreed (and answers a second click)."""
    if outside_reason is not None:
        place = f" Its place at the conference of {day(released)} is released." if released else ""
        said = (
            f"The plan was agreed outside a conference on {day(agreed_on)}: "
            f"{outside_reason.rstrip('.')}.{place}"
        )
    else:
        at = f" at the conference of {day(conference)}" if conference else ""
        said = f"The plan was agreed{at}."
    body: list[Element] = [
        heading(f"Plan agreed · {reference}"),
        text(
            f"{said} Each agency's contacts have been sent their actions; the case is now "
            f"monitored. Type plan {reference} to amend it between conferences."
        ),
        facts(
            [
                (names.get(a.agency_key, a.agency_key), f"{a.description} (by {day(a.due)})")
                for a in actions
            ]
        ),
    ]
    return envelope(body, fallback_text="A MARAT action plan was agreed.")
