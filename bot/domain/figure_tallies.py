"""Cases counted by what the figures ask of them: the form the figures read cases in.

No figure needs two of a case's categories together (the equality counts are each a share of
the referrals; a conference's row counts each category of its cases), so a case is read as one
tally per category: on the day it was received, so many referrals had this criterion, so many
this gender... and likewise per conference for the cases it discussed. Its dates (day 0, the
target, the first plan, the discussion) are kept together, because the figures compare them.
A national year is then a few tens of thousands of tallies instead of 120,000 cases, and
PostgreSQL can count them (``GROUP BY GROUPING SETS``) where the cases are.

``tally`` turns per-case records (bot/domain/figure_records.py) into tallies; the repository
does the same in SQL, and its contract tests check that both agree. Ages above 17 are tallied
as 18: no figure tells older ages apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Final, TypeVar

from bot.domain.figure_records import (
    AgreedActions,
    CaseFacts,
    DueActions,
    HarmLink,
    HearingFacts,
    Period,
    ReturnFacts,
    ReviewFacts,
)

ADULT: Final = 18  # ages from 18 up are tallied as 18
REFERRAL_FIELDS: Final = (
    "criteria",
    "agency",
    "repeat",
    "consent",
    "children",
    "gender",
    "ethnicity",
    "disability",
    "lgbt",
    "victim_age",
    "perpetrator_age",
    "withdrawn_on",
)
CONFERENCE_FIELDS: Final = (
    "cases",
    "agency",
    "repeat",
    "children",
    "gender",
    "ethnicity",
    "disability",
    "lgbt",
    "victim_age",
    "perpetrator_age",
)


@dataclass(frozen=True)
class ReferralTally:
    """``count`` referrals received on ``received`` had ``value`` for ``field`` (one of
    REFERRAL_FIELDS; yes/no fields read "yes" or "no", unknown ages and dates "")."""

    received: date
    field: str
    value: str
    count: int = 1


@dataclass(frozen=True)
class ConferenceTally:
    """Of the cases the conference of ``meeting_on`` discussed, ``count`` had ``value`` for
    ``field`` (one of CONFERENCE_FIELDS; ``cases`` counts them all)."""

    meeting_on: date
    field: str
    value: str
    count: int = 1


@dataclass(frozen=True)
class CaseTimeline:
    """``count`` cases with these dates: received, day 0, target, first plan."""

    received: date
    day_zero: date
    target: date
    first_heard: date | None  # the day the first plan counts as agreed
    at_conference: bool  # that first plan was agreed at a conference
    withdrawn_on: date | None
    perpetrator_focused_plan: bool
    count: int = 1


@dataclass(frozen=True)
class DiscussionFacts:
    """``count`` cases with this working day 3 and this recorded (held) discussion."""

    discussion_day: date
    held_on: date | None
    withdrawn_on: date | None
    count: int = 1


def _age(age: int | None) -> str:
    return "" if age is None else str(min(age, ADULT))


def categories(case: CaseFacts) -> dict[str, str]:
    """A case's value for each category that both referrals and conferences are counted by."""
    return {
        "agency": case.referring_agency,
        "repeat": "yes" if case.repeat else "no",
        "children": str(case.children),
        "gender": case.victim_gender,
        "ethnicity": case.victim_ethnicity,
        "disability": case.victim_disability,
        "lgbt": case.victim_lgbt,
        "victim_age": _age(case.victim_age),
        "perpetrator_age": _age(case.perpetrator_age),
    }


@dataclass(frozen=True)
class Tallies:
    """What ``tally`` makes of a set of cases and their plans."""

    referrals: tuple[ReferralTally, ...]
    conferences: tuple[ConferenceTally, ...]
    timelines: tuple[CaseTimeline, ...]
    discussions: tuple[DiscussionFacts, ...]

    def within(self, period: Period) -> Tallies:
        """Only what the figures of ``period`` can count (as the repository loads them)."""
        return Tallies(
            tuple(t for t in self.referrals if t.received in period),
            tuple(t for t in self.conferences if t.meeting_on in period),
            tuple(
                t
                for t in self.timelines
                if t.received in period or (t.first_heard is not None and t.first_heard in period)
            ),
            tuple(t for t in self.discussions if t.discussion_day in period),
        )


def tally(cases: Iterable[CaseFacts], hearings: Iterable[HearingFacts]) -> Tallies:
    """Count cases as the figures read them (equal tallies are merged)."""
    cases = list(cases)
    by_id = {c.case_id: c for c in cases}
    first: dict[int, HearingFacts] = {}
    conference: Counter[ConferenceTally] = Counter()
    for h in hearings:
        if h.case_id not in first or h.heard_on < first[h.case_id].heard_on:
            first[h.case_id] = h
        if h.meeting_on is not None and h.case_id in by_id:
            values = {"cases": "", **categories(by_id[h.case_id])}
            for field, value in values.items():
                conference[ConferenceTally(h.meeting_on, field, value)] += 1
    referrals: Counter[ReferralTally] = Counter()
    timelines: Counter[CaseTimeline] = Counter()
    discussions: Counter[DiscussionFacts] = Counter()
    for c in cases:
        values = {
            "criteria": c.criteria,
            "consent": "yes" if c.consent else "no",
            "withdrawn_on": c.withdrawn_on.isoformat() if c.withdrawn_on else "",
            **categories(c),
        }
        for field, value in values.items():
            referrals[ReferralTally(c.received, field, value)] += 1
        heard = first.get(c.case_id)
        timelines[
            CaseTimeline(
                c.received,
                c.day_zero,
                c.target,
                heard.heard_on if heard else None,
                heard is not None and heard.meeting_on is not None,
                c.withdrawn_on,
                c.perpetrator_focused_plan,
            )
        ] += 1
        discussions[DiscussionFacts(c.discussion_day, c.discussion_held_on, c.withdrawn_on)] += 1

    return Tallies(
        _counted(referrals), _counted(conference), _counted(timelines), _counted(discussions)
    )


T = TypeVar("T", ReferralTally, ConferenceTally, CaseTimeline, DiscussionFacts)


def _counted(counter: Counter[T]) -> tuple[T, ...]:
    return tuple(replace(key, count=n) for key, n in counter.items())


@dataclass(frozen=True)
class FigureFacts:
    """Everything the figures of a period read, as the repository loaded it."""

    referrals: tuple[ReferralTally, ...] = ()
    conferences: tuple[ConferenceTally, ...] = ()
    timelines: tuple[CaseTimeline, ...] = ()
    discussions: tuple[DiscussionFacts, ...] = ()
    reviews: tuple[ReviewFacts, ...] = ()
    harm_links: tuple[HarmLink, ...] = ()
    returns: tuple[ReturnFacts, ...] = ()
    actions_agreed: tuple[AgreedActions, ...] = ()
    actions_due: tuple[DueActions, ...] = ()
    meetings: tuple[date, ...] = ()  # conference dates
    agency_names: tuple[tuple[str, str], ...] = ()  # (key, name) in directory order


def facts_of(
    cases: Iterable[CaseFacts], hearings: Iterable[HearingFacts], **rest: Any
) -> FigureFacts:
    """The figures' input for per-case records (the other records as they are)."""
    counted = tally(cases, hearings)
    return FigureFacts(
        referrals=counted.referrals,
        conferences=counted.conferences,
        timelines=counted.timelines,
        discussions=counted.discussions,
        **rest,
    )
