"""The capacity planner: will the conference calendar hear every case within 14 working days?

Referrals arrive on working days as a Poisson process at the area's rate (the region's bank
holidays are not working days); each case goes, in the order referred, to the earliest
conference on or after its working day 4 that has a free place, as the bot lists cases. A case
is within target when that conference is on or before its working day 14. Every question is
answered over the same seeded arrivals (common random numbers), so comparing two calendars
compares the calendars, not luck.

Why monthly conferences never reach 100%: a case may be heard from working day 4 to working day
14, a window of 11 working days (about two weeks). A calendar with a longer gap between two
conferences leaves referrals whose window holds no conference at all, whatever the places.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from bot.domain.calendar import WorkingDayCalendar, WorkingDayCount
from bot.domain.deadlines import DeadlinePolicy

MAX_PLACES: Final = 100
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri")


class Frequency(StrEnum):
    """How often a conference pattern repeats."""

    WEEK = "week"
    FORTNIGHT = "fortnight"
    MONTH = "month"


@dataclass(frozen=True)
class Conference:
    """A conference date and the places it has free for new cases."""

    day: date
    places: int


@dataclass(frozen=True)
class Pattern:
    """A regular calendar: every week, fortnight or month (its first such weekday), on a
    weekday; a date that is not a working day moves to the next working day."""

    every: Frequency
    places: int
    weekday: int = 3  # Thursday

    def conferences(
        self, start: date, end: date, calendar: WorkingDayCalendar
    ) -> tuple[Conference, ...]:
        """The pattern's conferences from ``start`` to ``end``."""
        days: set[date] = set()
        if self.every is Frequency.MONTH:
            month = date(start.year, start.month, 1)
            while month <= end:
                first = month + timedelta(days=(self.weekday - month.weekday()) % 7)
                days.add(calendar.next_working_day(first))
                month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        else:
            step = 7 if self.every is Frequency.WEEK else 14
            day = start + timedelta(days=(self.weekday - start.weekday()) % 7)
            while day <= end:
                days.add(calendar.next_working_day(day))
                day += timedelta(days=step)
        return tuple(Conference(d, self.places) for d in sorted(days) if start <= d <= end)

    def describe(self) -> str:
        """'weekly conferences (Thursdays) of 18 places'."""
        how = {"week": "weekly", "fortnight": "fortnightly", "month": "monthly"}[self.every]
        weekday = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays")[self.weekday]
        return f"{how} conferences ({weekday}) of {self.places} places"


def rate_per_working_day(cases_per_year: float, calendar: WorkingDayCalendar, start: date) -> float:
    """A yearly rate spread over the working days of the year from ``start``."""
    count = WorkingDayCount(calendar)
    working = count.between(start - timedelta(days=1), start + timedelta(days=364))
    return cases_per_year / max(1, working)


@dataclass(frozen=True)
class Simulation:
    """What the calendar did over every simulated run."""

    runs: int
    cases: int
    within_target: int
    unlisted: int  # no conference on the calendar could take them
    longest_wait: int | None  # working days from day 0 to the conference, longest seen
    first_breaches: tuple[date | None, ...]  # per run, the target day of its first miss

    @property
    def share(self) -> float:
        """Percentage of simulated cases heard within target (100 when there were none)."""
        return 100.0 if self.cases == 0 else 100 * self.within_target / self.cases

    @property
    def all_within(self) -> bool:
        return self.within_target == self.cases

    @property
    def breach_probability(self) -> float:
        """The share of runs in which at least one case misses its target."""
        return sum(b is not None for b in self.first_breaches) / max(1, self.runs)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method, in slices so that large means do not underflow)."""
    total = 0
    slices = max(1, math.ceil(mean / 20))
    limit = math.exp(-mean / slices)
    for _ in range(slices):
        k, p = 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        total += k
    return total


class Simulator:
    """Seeded arrivals for day-0 dates from ``start`` to ``end``, replayed against any
    calendar."""

    def __init__(
        self,
        calendar: WorkingDayCalendar,
        policy: DeadlinePolicy,
        start: date,
        end: date,
        per_working_day: float,
        runs: int = 200,
        seed: int = 1,
    ) -> None:
        self.calendar, self.policy, self.runs = calendar, policy, runs
        self.count = WorkingDayCount(calendar)
        self.days: list[date] = []
        day = calendar.next_working_day(start)
        while day <= end:
            self.days.append(day)
            day = calendar.add_working_days(day, 1)
        self.earliest = [
            calendar.add_working_days(d, policy.earliest_conference_day) for d in self.days
        ]
        self.target = [
            calendar.add_working_days(d, policy.conference_target_day) for d in self.days
        ]
        rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
        self.arrivals = [[poisson(rng, per_working_day) for _ in self.days] for _ in range(runs)]

    def gap(self, conferences: Sequence[Conference]) -> date | None:
        """The first day-0 date whose whole window (working day 4 to 14) holds no conference:
        no number of places can hear its cases in time."""
        days = sorted(c.day for c in conferences if c.places > 0)
        for d, low, high in zip(self.days, self.earliest, self.target, strict=True):
            i = bisect.bisect_left(days, low)
            if i == len(days) or days[i] > high:
                return d
        return None

    def run(self, conferences: Sequence[Conference]) -> Simulation:
        """List every simulated case as the bot would, run after run."""
        calendar = sorted(conferences, key=lambda c: c.day)
        days = [c.day for c in calendar]
        cases = within = unlisted = 0
        longest: int | None = None
        firsts: list[date | None] = []
        for arrivals in self.arrivals:
            free = [c.places for c in calendar]
            first: date | None = None
            for i, wanted in enumerate(arrivals):
                if not wanted:
                    continue
                cases += wanted
                j = bisect.bisect_left(days, self.earliest[i])
                while wanted and j < len(free):
                    taken = min(wanted, free[j])
                    if taken:
                        free[j] -= taken
                        wanted -= taken
                        wait = self.count.between(self.days[i], days[j])
                        longest = wait if longest is None else max(longest, wait)
                        if days[j] <= self.target[i]:
                            within += taken
                        elif first is None or self.target[i] < first:
                            first = self.target[i]
                    j += 1
                if wanted:
                    unlisted += wanted
                    if first is None or self.target[i] < first:
                        first = self.target[i]
            firsts.append(first)
        return Simulation(self.runs, cases, within, unlisted, longest, tuple(firsts))


@dataclass(frozen=True)
class Change:
    """A change to the calendar that hears every simulated case within target."""

    text: str
    added_places: int  # over the simulated window (negative when it needs fewer)
    result: Simulation


def _relevant(sim: Simulator, conferences: Sequence[Conference]) -> list[Conference]:
    """The conferences the simulated cases could use."""
    if not sim.days:
        return []
    low, high = sim.earliest[0], sim.target[-1] + timedelta(days=60)
    return [c for c in conferences if low <= c.day <= high]


def _least_places(sim: Simulator, build: Callable[[int], Sequence[Conference]]) -> int | None:
    """The fewest places (1 to 100) for which ``build(places)`` hears everyone in time."""
    if not sim.run(build(MAX_PLACES)).all_within:
        return None
    low, high = 1, MAX_PLACES
    while low < high:  # more places never make a case wait longer: bisect
        middle = (low + high) // 2
        if sim.run(build(middle)).all_within:
            high = middle
        else:
            low = middle + 1
    return low


def one_per_week(
    sim: Simulator, current: Sequence[Conference], weekday: int, first: date, last: date
) -> list[date]:
    """A day for one more conference in each week from ``first`` to ``last``: the usual
    weekday, or the next free working day of that week when the usual one is taken."""
    taken = {c.day for c in current}
    days = []
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        for offset in range(weekday, 5):
            day = monday + timedelta(days=offset)
            if first <= day <= last and sim.calendar.is_working_day(day) and day not in taken:
                days.append(day)
                break
        monday += timedelta(days=7)
    return days


def _places(sim: Simulator, conferences: Sequence[Conference]) -> int:
    """Places at the conferences a simulated case can be heard at in time."""
    if not sim.days:
        return 0
    return sum(c.places for c in conferences if sim.earliest[0] <= c.day <= sim.target[-1])


def smallest_changes(
    sim: Simulator, conferences: Sequence[Conference], places: int, weekday: int
) -> list[Change]:
    """Changes that reach 100%, fewest added places first: more places at every conference,
    one more conference in a given week, or a weekly (or fortnightly) calendar."""
    current = _relevant(sim, conferences)
    total = _places(sim, current)
    found: list[Change] = []
    if current and sim.gap(current) is None:
        extra = _least_places(sim, lambda p: [replace(c, places=c.places + p) for c in current])
        if extra is not None:
            text = f"{extra} more place{'s' if extra != 1 else ''} at every conference"
            more = [replace(c, places=c.places + extra) for c in current]
            found.append(Change(text, _places(sim, more) - total, sim.run(more)))
    if sim.days:
        for day in one_per_week(sim, current, weekday, sim.earliest[0], sim.target[-1]):
            result = sim.run([*current, Conference(day, places)])
            if result.all_within:
                text = f"one more conference of {places} places on {day:%a %d %b %Y}"
                found.append(Change(text, places, result))
                break
        start, end = sim.days[0], sim.target[-1] + timedelta(days=30)
        for every in (Frequency.WEEK, Frequency.FORTNIGHT):

            def pattern(p: int, every: Frequency = every) -> tuple[Conference, ...]:
                return Pattern(every, p, weekday).conferences(start, end, sim.calendar)

            least = _least_places(sim, pattern)
            if least is not None:
                new = _relevant(sim, pattern(least))
                text = Pattern(every, least, weekday).describe()
                found.append(Change(text, _places(sim, new) - total, sim.run(new)))
    return sorted(found, key=lambda c: c.added_places)
