"""What every use case needs: units of work, the clock, the working-day calendar, the
deadline policy and the area's options, passed in as one small object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.clock import Clock, london_today
from bot.domain.deadlines import DeadlinePolicy
from bot.domain.reminders import Schedule
from bot.domain.repeats import RepeatRule
from bot.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class ServiceOptions:
    """The area's settings that the use cases apply (PRODUCT.md: all defaults)."""

    case_prefix: str = "MARAT"
    conference_capacity: int = 18
    repeat_rule: RepeatRule = RepeatRule.NAME_AND_DOB
    send_time: time = time(9, 0)
    # A referral received longer ago than this needs its date confirmed in the card.
    received_max_age_days: int = 28
    capacity_warning_threshold: float = 0.5  # chance of a miss that makes the forecast warn
    adult_female_population: int | None = None  # for cases per 10,000 adult women


def _nothing() -> None:
    return None


def _no_fault(_point: str) -> None:
    return None


@dataclass
class UseCaseContext:
    """Shared by every use case of one bot process.

    ``on_outbox`` wakes the outbox sender after a commit that queued messages, so nothing
    waits for the sender's poll. ``fault`` marks the named points where the crash tests
    kill the process (bot/faults.py); it does nothing unless a test armed one. (Not frozen:
    a test may swap ``units`` for instrumented ones, and every use case built on this
    context sees the swap.)
    """

    units: UnitOfWorkFactory
    clock: Clock
    calendar: WorkingDayCalendar
    policy: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    options: ServiceOptions = field(default_factory=ServiceOptions)
    on_outbox: Callable[[], None] = _nothing
    fault: Callable[[str], None] = _no_fault

    @cached_property
    def schedule(self) -> Schedule:
        """When reminders go: the calendar at the area's send time."""
        return Schedule(self.calendar, self.options.send_time)

    def now(self) -> datetime:
        """The current instant (UTC), from the injected clock."""
        return self.clock.now()

    def today(self) -> date:
        """Today's date in London, where the MARAT's days are counted."""
        return london_today(self.clock)
