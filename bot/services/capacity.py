"""How many conference places the area needs: `marat capacity` (the planner) and the
weekly forecast that warns coordinators before the next weeks' calendar misses the target
(bot/domain/capacity.py does the simulating)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from bot.domain.capacity import (
    Change,
    Conference,
    Pattern,
    Simulation,
    Simulator,
    rate_per_working_day,
    smallest_changes,
)
from bot.domain.capacity_forecast import Forecast, forecast, usual_weekday
from bot.domain.errors import UsageError
from bot.domain.wording import day
from bot.ports import AuditEvent, UnitOfWork
from bot.services.context import UseCaseContext

RECENT_WEEKS: Final = 12  # "the recent referral rate" of the forecast
TAIL_DAYS: Final = 45  # conferences after the period that cases referred late can still use


@dataclass(frozen=True)
class CapacityPlan:
    """The answer of `marat capacity`: the calendar, the rate, what it achieves, and the
    smallest changes that would hear every case within target."""

    start: date
    end: date
    calendar: str
    cases_per_year: float
    rate_source: str
    current: Simulation
    gap: date | None  # a day-0 date whose window holds no conference at all
    calendar_ends: date | None  # the last conference on the calendar
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class CapacityWarning:
    """What the weekly forecast tells the coordinators (no case detail: a calendar)."""

    forecast: Forecast
    text: str


class CapacityPlanner:
    """The conference calendar against the referral rate."""

    def __init__(self, ctx: UseCaseContext) -> None:
        self.ctx = ctx

    async def _history_rate(self, uow: UnitOfWork, before: date) -> tuple[float, str]:
        """Referrals a year, from the 365 days before ``before`` (or since the first
        referral, if the MARAT is younger than that)."""
        since = before - timedelta(days=365)
        first = await uow.figures.first_referral()
        if first is None or first >= before:
            raise UsageError(
                "No referrals are on record before the period: give --cases-per-year N."
            )
        since = max(since, first)
        count = await uow.figures.referrals_received(since, before - timedelta(days=1))
        days = (before - since).days
        plural = "referral" if count == 1 else "referrals"
        return count * 365 / days, f"{count} {plural} received in the {days} days before"

    async def _calendar(self, uow: UnitOfWork, start: date, end: date) -> list[Conference]:
        """The conferences on record from ``start``, with the places still free."""
        meetings = await uow.meetings.list_from(start, 1000)
        last = end + timedelta(days=TAIL_DAYS)
        return [Conference(m.date, m.free_places) for m in meetings if m.date <= last]

    async def plan(
        self,
        start: date,
        end: date,
        cases_per_year: float | None,
        pattern: Pattern | None,
        runs: int = 200,
        seed: int = 1,
    ) -> CapacityPlan:
        """Simulate ``runs`` times the referrals of the period (day 0 from ``start`` to
        ``end``) against the calendar on record, or against ``pattern``."""
        ctx = self.ctx
        if end < start:
            raise UsageError("--to is before --from.")
        async with ctx.units() as uow:
            if cases_per_year is None:
                cases_per_year, source = await self._history_rate(uow, start)
            else:
                source = "given"
            if pattern is not None:
                conferences = list(
                    pattern.conferences(start, end + timedelta(days=TAIL_DAYS), ctx.calendar)
                )
                described = pattern.describe()
            else:
                conferences = await self._calendar(uow, start, end)
                described = f"the {len(conferences)} conferences on record (their free places)"
            await uow.audit.record(AuditEvent(ctx.now(), "cli", "operator", "capacity.plan", "ok"))
            await uow.commit()
        rate = rate_per_working_day(cases_per_year, ctx.calendar, start)
        sim = Simulator(ctx.calendar, ctx.policy, start, end, rate, runs, seed)
        current = sim.run(conferences)
        weekday = pattern.weekday if pattern else usual_weekday(conferences)
        changes = (
            ()
            if current.all_within
            else tuple(smallest_changes(sim, conferences, ctx.options.conference_capacity, weekday))
        )
        return CapacityPlan(
            start,
            end,
            described,
            cases_per_year,
            source,
            current,
            sim.gap(conferences),
            max((c.day for c in conferences), default=None),
            changes,
        )

    async def warning(self, uow: UnitOfWork, today: date) -> CapacityWarning | None:
        """The weekly forecast: a warning when a miss is likely in the next 4 weeks at the
        recent referral rate."""
        ctx = self.ctx
        since = today - timedelta(weeks=RECENT_WEEKS)
        received = await uow.figures.referrals_received(since, today - timedelta(days=1))
        working = max(1, ctx.calendar.working_days_between(since, today - timedelta(days=1)))
        rate = received / working
        conferences = await self._calendar(uow, today, today + timedelta(weeks=4))
        outlook = forecast(
            today,
            ctx.calendar,
            ctx.policy,
            conferences,
            rate,
            ctx.options.capacity_warning_threshold,
            ctx.options.conference_capacity,
        )
        if not outlook.likely or outlook.first_breach is None:
            return None
        text = (
            f"Capacity forecast: at the recent rate of {rate * 5:.1f} referrals a week, the "
            f"conferences of the next 4 weeks are likely ({outlook.probability:.0%}) to miss "
            f"the day-14 target for a new case, first by {day(outlook.first_breach)}."
        )
        if outlook.suggestion is not None:
            text += (
                f" One more conference of {outlook.suggestion.places} places on "
                f"{day(outlook.suggestion.day)} would make that unlikely: meeting add "
                f"{outlook.suggestion.day.isoformat()}."
            )
        else:
            text += " Add conferences or places with meeting add YYYY-MM-DD [capacity]."
        return CapacityWarning(outlook, text)
