"""A case's working-day deadlines and the choice of its MARAC conference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.domain.calendar import WorkingDayCalendar


@dataclass(frozen=True)
class DeadlinePolicy:
    """The working-day numbers of the process (Southend defaults, configurable per area)."""

    information_due_day: int = 2
    discussion_day: int = 3
    earliest_conference_day: int = 4
    conference_target_day: int = 14

    def __post_init__(self) -> None:
        days = (
            self.information_due_day,
            self.discussion_day,
            self.earliest_conference_day,
            self.conference_target_day,
        )
        if min(days) < 0:
            raise ValueError("working-day numbers cannot be negative")
        if not self.discussion_day < self.earliest_conference_day <= self.conference_target_day:
            raise ValueError("the case discussion must come before the earliest conference day")


@dataclass(frozen=True)
class CaseDeadlines:
    """The dates that follow from when a referral was received."""

    received: date
    day_zero: date
    information_due: date
    discussion: date
    earliest_conference: date
    conference_target: date


def case_deadlines(
    received: date, calendar: WorkingDayCalendar, policy: DeadlinePolicy
) -> CaseDeadlines:
    """Apply the day-0 rule and count each deadline in working days from day 0."""
    day0 = calendar.day_zero(received)
    return CaseDeadlines(
        received=received,
        day_zero=day0,
        information_due=calendar.add_working_days(day0, policy.information_due_day),
        discussion=calendar.add_working_days(day0, policy.discussion_day),
        earliest_conference=calendar.add_working_days(day0, policy.earliest_conference_day),
        conference_target=calendar.add_working_days(day0, policy.conference_target_day),
    )


@dataclass(frozen=True)
class ConferenceSlot:
    """A conference date with how many more cases it can take."""

    meeting_id: int
    date: dt.date
    free_places: int


@dataclass(frozen=True)
class ConferenceChoice:
    """Where a case is listed, and whether that misses the working-day target.

    ``meeting_id`` is None when no conference with capacity exists at all yet; the case then
    waits, unlisted, for the next conference to be added.
    """

    meeting_id: int | None
    date: dt.date | None
    target: dt.date
    breach: bool

    @property
    def breach_date(self) -> dt.date | None:
        """The day the target is missed (the target itself), or None if it is met."""
        return self.target if self.breach else None


def choose_conference(
    deadlines: CaseDeadlines, slots: Iterable[ConferenceSlot]
) -> ConferenceChoice:
    """The earliest conference on or after the earliest day that still has a free place."""
    candidates = sorted(
        (s for s in slots if s.free_places > 0 and s.date >= deadlines.earliest_conference),
        key=lambda s: (s.date, s.meeting_id),
    )
    target = deadlines.conference_target
    if not candidates:
        return ConferenceChoice(meeting_id=None, date=None, target=target, breach=True)
    first = candidates[0]
    return ConferenceChoice(
        meeting_id=first.meeting_id, date=first.date, target=target, breach=first.date > target
    )
