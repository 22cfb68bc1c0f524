"""Working days: weekdays that are not bank holidays of the configured UK region.

The MARAT's deadlines are counted in working days (Southend: case discussion on working day 3,
plan by working day 14). Bank holidays come from the ``holidays`` package for GB with a
subdivision (without one, Easter Monday and the August holiday are missing), plus an override
list because one-off holidays only arrive with package updates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Final

import holidays

REGIONS: Final = ("ENG", "WLS", "SCT", "NIR")


class WorkingDayCalendar:
    """Answers "is this a working day?" and counts working days forwards and back."""

    def __init__(
        self,
        region: str = "ENG",
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        if region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}, not {region!r}")
        self.region = region
        self._bank_holidays = holidays.country_holidays("GB", subdiv=region)
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_working_days = frozenset(extra_working_days)

    def is_working_day(self, day: date) -> bool:
        if day in self._extra_working_days:
            return True
        if day.weekday() >= 5 or day in self._extra_holidays:
            return False
        return day not in self._bank_holidays

    def holiday_name(self, day: date) -> str | None:
        """The bank holiday's name, for explaining a date to a user."""
        if day in self._extra_holidays:
            return "Local holiday"
        name = self._bank_holidays.get(day)
        return str(name) if name else None

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, otherwise the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, otherwise the last working day before it."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def day_zero(self, received: date) -> date:
        """Day 0: the date a referral was received, or the next working day if it was not one."""
        return self.next_working_day(received)

    def add_working_days(self, start: date, count: int) -> date:
        """The working day ``count`` working days after (or before, if negative) ``start``.

        ``start`` must be a working day so that counting forwards and back agree.
        """
        if not self.is_working_day(start):
            raise ValueError("add_working_days counts from a working day")
        step = 1 if count >= 0 else -1
        day = start
        for _ in range(abs(count)):
            day += timedelta(days=step)
            while not self.is_working_day(day):
                day += timedelta(days=step)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if end < start).

        With ``start`` a working day, ``add_working_days(start, n) == end`` gives back ``n``.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


class WorkingDayCount:
    """``working_days_between`` in constant time, for callers that ask it very often (a
    national year of figures asks some 300,000 times): a running count of working days per
    date, extended as far as the questions reach."""

    def __init__(self, calendar: WorkingDayCalendar) -> None:
        self.calendar = calendar
        self._index: dict[date, int] = {}
        self._first: date | None = None
        self._last: date | None = None

    def _extend(self, day: date) -> None:
        if self._first is None or self._last is None:
            self._first = self._last = day
            self._index[day] = 0
            return
        while day < self._first:
            previous = self._first - timedelta(days=1)
            self._index[previous] = self._index[self._first] - (
                1 if self.calendar.is_working_day(self._first) else 0
            )
            self._first = previous
        while day > self._last:
            following = self._last + timedelta(days=1)
            self._index[following] = self._index[self._last] + (
                1 if self.calendar.is_working_day(following) else 0
            )
            self._last = following

    def between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        if start not in self._index:
            self._extend(start)
        if end not in self._index:
            self._extend(end)
        return self._index[end] - self._index[start]
