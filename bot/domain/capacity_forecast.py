"""The forward warning: is the next weeks' conference calendar likely to miss the target for
the cases the recent referral rate will bring? The same simulation as the capacity planner
(bot/domain/capacity.py), over the coming days only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.capacity import Conference, Simulator, one_per_week
from bot.domain.deadlines import DeadlinePolicy


@dataclass(frozen=True)
class Forecast:
    """Whether the next weeks' conferences are likely to miss the target for a new case."""

    today: date
    horizon_end: date
    per_working_day: float
    probability: float  # of at least one new case missing its target
    first_breach: date | None  # by when a miss is that likely (None when not likely)
    likely: bool
    suggestion: Conference | None  # one more conference that makes it unlikely


def forecast(
    today: date,
    calendar: WorkingDayCalendar,
    policy: DeadlinePolicy,
    conferences: Sequence[Conference],
    per_working_day: float,
    threshold: float,
    places: int,
    weeks: int = 4,
    runs: int = 200,
) -> Forecast:
    """Simulate the referrals of the coming days whose whole window lies in the next
    ``weeks`` weeks, against the free places already there. Warned when the chance of a
    miss reaches ``threshold``; ``first_breach`` is the day by which a miss is that likely."""
    horizon = today + timedelta(weeks=weeks)
    last = today
    while (
        calendar.add_working_days(
            calendar.next_working_day(last + timedelta(days=1)), policy.conference_target_day
        )
        <= horizon
    ):
        last = calendar.next_working_day(last + timedelta(days=1))
    sim = Simulator(calendar, policy, today, last, per_working_day, runs, seed=today.toordinal())
    soon = [c for c in conferences if today <= c.day <= horizon]
    result = sim.run(soon)
    probability = result.breach_probability
    ordered = sorted(result.first_breaches, key=lambda d: d or date.max)
    position = max(1, math.ceil(threshold * runs)) - 1
    first = ordered[position] if probability >= threshold else None
    suggestion = None
    if first is not None and sim.days:
        best: tuple[float, Conference] | None = None
        for day in one_per_week(sim, soon, usual_weekday(soon), sim.earliest[0], horizon):
            extra = Conference(day, places)
            chance = sim.run([*soon, extra]).breach_probability
            if chance < threshold and (best is None or chance < best[0]):
                best = (chance, extra)
        suggestion = best[1] if best else None
    return Forecast(
        today, horizon, per_working_day, probability, first, first is not None, suggestion
    )


def usual_weekday(conferences: Sequence[Conference]) -> int:
    """The weekday most conferences fall on (Thursday when there are none)."""
    counts = [0] * 5
    for c in conferences:
        if c.day.weekday() < 5:
            counts[c.day.weekday()] += 1
    return counts.index(max(counts)) if any(counts) else 3
