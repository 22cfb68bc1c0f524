"""The plain records the partnership figures are computed from (bot/domain/figures.py).

They are pseudonymous on purpose: no name, no date of birth, no free text. Ages are whole
years at the date the referral was received; ``victim`` and ``perpetrator`` are opaque
identities that only say "the same person" (the storage layer derives them from the normalised
name and the date of birth). Retention (``marat purge``) must keep these fields, and only these,
for every purged case: ``FIGURE_FIELDS`` lists them per record.

A repository may load identical records once with their multiplicity (``count``): the figures
treat a record with ``count=3`` exactly as three records, so the database can group rows
instead of sending each one (see docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Final

from bot.domain.actions import ActionStatus
from bot.domain.clock import LONDON


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included (London dates)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        """Calendar days in the period."""
        return (self.end - self.start).days + 1

    def split(self, first_end: date) -> tuple[Period, Period]:
        """The period cut after ``first_end`` (which must leave a day on each side)."""
        return Period(self.start, first_end), Period(first_end + timedelta(days=1), self.end)


@dataclass(frozen=True)
class CaseFacts:
    """One case: its referral's categories, its working-day dates and its discussion."""

    case_id: int
    received: date
    day_zero: date
    discussion_day: date  # working day 3
    target: date  # working day 14: the conference target
    criteria: str  # a bot.domain.referral.Criteria value
    referring_agency: str  # agency key
    children: int
    repeat: bool  # detected repeat, or referred under the repeat criterion
    consent: bool
    victim_gender: str  # keys of bot.domain.referral.GENDERS, ETHNICITIES, YES_NO_UNKNOWN
    victim_ethnicity: str
    victim_disability: str
    victim_lgbt: str
    victim_age: int | None  # whole years at ``received``; None when the date of birth is unknown
    perpetrator_age: int | None
    victim: str | None  # opaque identity of the victim
    perpetrator: str | None  # opaque identity of the person causing harm (name and birth date)
    discussion_held_on: date | None  # London date a *held* discussion was recorded, else None
    withdrawn_on: date | None  # London date the referral was withdrawn
    perpetrator_focused_plan: bool  # the agreed plan has at least one perpetrator-focused action


@dataclass(frozen=True)
class HearingFacts:
    """A plan agreed for a case: at a conference (``meeting_on``) or outside one (None)."""

    case_id: int
    heard_on: date
    meeting_on: date | None


def hearing_day(meeting_day: date | None, agreed_at: datetime) -> date:
    """The day a plan counts as agreed: the conference's date (a plan recorded the day after
    its conference still belongs to it), or the London date it was agreed when that was
    earlier or outside any conference."""
    agreed_on = agreed_at.astimezone(LONDON).date()
    return agreed_on if meeting_day is None else min(meeting_day, agreed_on)


@dataclass(frozen=True)
class ReviewFacts:
    """Reviews started on one day (cases re-listed because risk was not reduced)."""

    on: date
    count: int = 1


@dataclass(frozen=True)
class HarmLink:
    """A person causing harm named in a referral about a victim, on the date received: the
    history that serial perpetrators are found in (any date up to the period's end)."""

    perpetrator: str
    victim: str
    received: date


@dataclass(frozen=True)
class ReturnFacts:
    """Information requests to one agency with the same dates (``count`` of them)."""

    agency: str
    day_zero: date
    due: date  # end of working day 2
    returned_on: date | None  # London date of the agency's answer
    count: int = 1


@dataclass(frozen=True)
class AgreedActions:
    """Actions agreed on one day for one agency."""

    agency: str
    agreed_on: date
    count: int = 1


@dataclass(frozen=True)
class DueActions:
    """Agreed actions of one agency due on one day, by where they stand."""

    agency: str
    due: date
    status: ActionStatus
    closed_on: date | None  # London date it was marked done or not possible
    count: int = 1


FIGURE_FIELDS: Final = {
    record.__name__: tuple(f.name for f in fields(record))
    for record in (
        CaseFacts,
        HearingFacts,
        ReviewFacts,
        HarmLink,
        ReturnFacts,
        AgreedActions,
        DueActions,
    )
}
"""Per record type, the fields the figures use: what retention must keep of a purged case."""
