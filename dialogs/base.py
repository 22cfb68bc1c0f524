"""What a dialog receives (the turn's context) and returns (the reply to deliver)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.errors import UsageError
from bot.services import MaratService
from cards.common import Card


@dataclass(frozen=True)
class Reply:
    """Text and/or a card. ``replace`` asks for the clicked card to be replaced in place."""

    text: str | None = None
    card: Card | None = None
    replace: bool = False


@dataclass(frozen=True)
class TurnInfo:
    """Who is asking, and where; built by the edge from an authenticated activity."""

    aad_object_id: str
    is_personal: bool
    correlation_id: str


@dataclass(frozen=True)
class Dependencies:
    service: MaratService
    calendar: WorkingDayCalendar
    help_contact: str


def parse_iso_date(value: str, usage: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise UsageError(usage)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{value} is not a real date. {usage}") from None
