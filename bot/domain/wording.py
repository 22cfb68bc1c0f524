"""How dates and moments read to a coordinator: one style for cards, notices and the CLI.

Timestamps are stored in UTC; people read London dates and times.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.clock import LONDON

MOMENT_PATTERN = "%a %d %b %Y %H:%M"


def day(value: date | None) -> str:
    """A date as coordinators read it: 'Thu 1 Apr 2027' ('not yet set' for None)."""
    return f"{value:%a} {value.day} {value:%b %Y}" if value else "not yet set"


def moment(value: datetime | None) -> str:
    """An instant in London time: 'Tue 01 Dec 2026 08:01' ('' for None)."""
    return value.astimezone(LONDON).strftime(MOMENT_PATTERN) if value else ""
