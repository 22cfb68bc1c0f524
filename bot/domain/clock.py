"""Time as a dependency: production reads the system clock, tests pass a fixed or movable one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    """Source of the current instant (always timezone-aware UTC)."""

    def now(self) -> datetime: ...


def london_today(clock: Clock) -> date:
    """The calendar date in Europe/London at this instant (MARAT days are London days)."""
    return clock.now().astimezone(LONDON).date()


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """Real time, shifted to start at a chosen instant: lets a whole process (in a test or a
    demo) live on a working day at 10:00 whatever the real date."""

    def __init__(self, start: datetime, real: Clock | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self.real = real or SystemClock()
        self.offset = start - self.real.now()

    def now(self) -> datetime:
        return (self.real.now() + self.offset).astimezone(UTC)


@dataclass
class FixedClock:
    """A clock that stands still until moved; used by tests and by `reminders preview`."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")

    def now(self) -> datetime:
        return self.current.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.current = self.current + delta

    def set(self, instant: datetime) -> None:
        self.current = instant
