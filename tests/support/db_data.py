"""Synthetic storage-test data: fictional people and referrals, built from domain types.

Every value is made up. Dates sit around Monday 4 January 2027 (the ``clock`` fixture's day).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.domain.cases import Meeting
from bot.domain.deadlines import CaseDeadlines, ConferenceChoice
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import Criteria, Referral

AT = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
ACTOR = "aaaaaaaa-0000-4000-8000-00000000000a"
OTHER_ACTOR = "bbbbbbbb-0000-4000-8000-00000000000b"

# Created in this order by the ``agencies`` fixture, so their ids ascend in this order.
AGENCY_NAMES = ("Police", "IDVA service", "Housing", "Children's Social Care")
AGENCY_KEYS = ("police", "idva-service", "housing", "children-s-social-care")


def full_referral(**overrides: Any) -> Referral:
    """A referral with every optional field filled in."""
    referral = Referral(
        victim_name="Ada Fictional-Example",
        victim_dob=date(1990, 5, 17),
        victim_gender="female",
        victim_ethnicity="white_british",
        victim_disability="no",
        victim_lgbt="not_known",
        perpetrator_name="Bram Madeup",
        perpetrator_dob=date(1988, 2, 1),
        relationship="ex_partner",
        children_count=2,
        referring_agency="idva-service",
        criteria=Criteria.VISIBLE_HIGH_RISK,
        dash_score=16,
        incident_date=date(2026, 12, 30),
        received_date=date(2027, 1, 2),
        agencies=("police", "idva-service", "housing"),
        summary="Synthetic summary: nothing here is about a real person.",
        consent=True,
        consent_reason=None,
    )
    return replace(referral, **overrides)


def sparse_referral(**overrides: Any) -> Referral:
    """A referral with every optional field empty (None), no consent and no children."""
    referral = Referral(
        victim_name="Cleo Invented",
        victim_dob=None,
        victim_gender="not_known",
        victim_ethnicity="not_known",
        victim_disability="not_known",
        victim_lgbt="not_known",
        perpetrator_name=None,
        perpetrator_dob=None,
        relationship="other",
        children_count=0,
        referring_agency="police",
        criteria=Criteria.POTENTIAL_ESCALATION,
        dash_score=None,
        incident_date=None,
        received_date=date(2027, 1, 4),
        agencies=("police",),
        summary=None,
        consent=False,
        consent_reason="Sharing is needed to prevent serious harm (synthetic).",
    )
    return replace(referral, **overrides)


def deadlines(day_zero: date = date(2027, 1, 4), **overrides: Any) -> CaseDeadlines:
    """Deadlines whose six dates are all different, so a swapped column shows up."""
    values = CaseDeadlines(
        received=day_zero - timedelta(days=2),
        day_zero=day_zero,
        information_due=day_zero + timedelta(days=2),
        discussion=day_zero + timedelta(days=3),
        earliest_conference=day_zero + timedelta(days=4),
        conference_target=day_zero + timedelta(days=18),
    )
    return replace(values, **overrides)


def listed_at(meeting_id: int, day: date, target: date = date(2027, 1, 22)) -> ConferenceChoice:
    return ConferenceChoice(meeting_id=meeting_id, date=day, target=target, breach=day > target)


def unlisted(target: date = date(2027, 1, 22)) -> ConferenceChoice:
    """No conference with room: the case waits (and misses its target)."""
    return ConferenceChoice(meeting_id=None, date=None, target=target, breach=True)


def opened(
    state: CaseState = CaseState.REFERRED,
    at: datetime = AT,
    actor: str = ACTOR,
    reason: str | None = None,
) -> Transition:
    """The transition that creates a case (in ``state``)."""
    return Transition(None, state, actor, at, reason)


MeetingMaker = Callable[[date, int], Awaitable[Meeting]]
"""Adds a conference in its own committed unit of work (the ``add_meeting`` fixture)."""
CaseMaker = Callable[..., Awaitable[int]]
"""Creates a case in its own committed unit of work (the ``create_case`` fixture)."""
