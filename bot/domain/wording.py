"""How dates, moments and counts read to a coordinator: one style for cards, notices and the
CLI ("Tue 1 Dec 2026", "Tue 1 Dec 2026 08:01", "1 agency", "3 agencies").

Timestamps are stored in UTC; people read London dates and times.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.clock import LONDON


def day(value: date | None) -> str:
    """A date as coordinators read it: 'Thu 1 Apr 2027' ('not yet set' for None)."""
    return f"{value:%a} {value.day} {value:%b %Y}" if value else "not yet set"


def moment(value: datetime | None) -> str:
    """An instant in London time: 'Tue 1 Dec 2026 08:01' ('' for None)."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{day(local.date())} {local:%H:%M}"


def plural(count: int, one: str, many: str | None = None) -> str:
    """A count with its noun: '1 agency', '3 agencies', '0 cases' (``many`` defaults to
    ``one`` + 's')."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def verb(count: int, one: str, many: str) -> str:
    """The verb that agrees with a count: verb(1, 'is', 'are') == 'is'."""
    return one if count == 1 else many
