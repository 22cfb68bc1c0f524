"""PostgreSQL counts the period's cases the way bot.domain.figure_tallies.tally does, where
the cases are: one scan with ``GROUPING SETS`` per kind of tally, so a national year comes back
as a few thousand rows instead of 120,000 cases (docs/performance.md). The storage contract
tests check these counts against ``tally`` of the same cases, one by one.
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only; values are bound.
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.domain.figure_records import Period
from bot.domain.figure_tallies import (
    ADULT,
    CONFERENCE_FIELDS,
    REFERRAL_FIELDS,
    CaseTimeline,
    ConferenceTally,
    DiscussionFacts,
    ReferralTally,
)

# Each case's categories, as the tallies name them (yes/no as text, ages capped at ADULT).
_CASE = f"""
    SELECT c.id, c.received_date, c.day_zero, c.discussion_date, c.conference_target,
           r.criteria, r.referring_agency_id::text AS agency,
           CASE WHEN c.repeat OR r.criteria = 'repeat' THEN 'yes' ELSE 'no' END AS repeat,
           CASE WHEN r.consent THEN 'yes' ELSE 'no' END AS consent,
           r.children_count::text AS children, r.victim_gender AS gender,
           r.victim_ethnicity AS ethnicity, r.victim_disability AS disability,
           r.victim_lgbt AS lgbt,
           coalesce(least(date_part('year', age(c.received_date::timestamp,
                                                r.victim_dob::timestamp))::int, {ADULT})::text,
                    '') AS victim_age,
           coalesce(least(date_part('year', age(c.received_date::timestamp,
                                                r.perpetrator_dob::timestamp))::int, {ADULT})::text,
                    '') AS perpetrator_age,
           w.withdrawn_on
    FROM cases c
    JOIN referrals r ON r.case_id = c.id
    LEFT JOIN (SELECT case_id, timezone('Europe/London', min(at))::date AS withdrawn_on
               FROM state_transitions WHERE to_state = 'withdrawn' GROUP BY case_id) w
           ON w.case_id = c.id
"""


def _grouped(key: str, fields: Sequence[str], source: str) -> str:
    """Count ``source`` by ``key`` and each field in turn (one grouping set per field)."""
    columns = ", ".join(fields)
    sets = ", ".join(f"({key}, {field})" for field in fields)
    return (
        f"SELECT {key}, GROUPING({columns}) AS unused, {columns}, count(*) "
        f"FROM ({source}) AS tallied GROUP BY GROUPING SETS ({sets})"
    )


def _split(row: Sequence[Any], fields: Sequence[str]) -> tuple[str, str]:
    """Which field a grouping-set row counts (its bit is 0 in the GROUPING mask), and value."""
    unused = row[1]
    for index, field in enumerate(fields):
        if not unused & (1 << (len(fields) - 1 - index)):
            return field, str(row[2 + index])
    raise ValueError("a grouping-set row with no field")


_REFERRALS = _grouped(
    "received_date",
    REFERRAL_FIELDS,
    "SELECT received_date, criteria, agency, repeat, consent, children, gender, ethnicity, "
    "disability, lgbt, victim_age, perpetrator_age, "
    f"coalesce(withdrawn_on::text, '') AS withdrawn_on FROM ({_CASE}) AS k "
    "WHERE received_date BETWEEN :start AND :end",
)
_CONFERENCES = _grouped(
    "meeting_on",
    CONFERENCE_FIELDS,
    f"SELECT m.date AS meeting_on, '' AS cases, k.* FROM hearings h "
    f"JOIN meetings m ON m.id = h.meeting_id JOIN ({_CASE}) AS k ON k.id = h.case_id "
    "WHERE m.date BETWEEN :start AND :end",
)
_TIMELINES = f"""
    SELECT k.received_date, k.day_zero, k.conference_target, f.heard_on,
           coalesce(f.at_conference, false), k.withdrawn_on,
           k.id IN (SELECT case_id FROM actions
                    WHERE agreed_at IS NOT NULL AND perpetrator_focused),
           count(*)
    FROM ({_CASE}) AS k
    LEFT JOIN (SELECT DISTINCT ON (case_id) case_id, heard_on,
                      meeting_id IS NOT NULL AS at_conference
               FROM hearings ORDER BY case_id, heard_on, id) f ON f.case_id = k.id
    WHERE k.received_date BETWEEN :start AND :end OR f.heard_on BETWEEN :start AND :end
    GROUP BY 1, 2, 3, 4, 5, 6, 7
"""
_DISCUSSIONS = f"""
    SELECT k.discussion_date,
           CASE WHEN d.held THEN d.recorded_on END,
           k.withdrawn_on, count(*)
    FROM ({_CASE}) AS k LEFT JOIN case_discussions d ON d.case_id = k.id
    WHERE k.discussion_date BETWEEN :start AND :end
    GROUP BY 1, 2, 3
"""


Executor = AsyncSession | AsyncConnection
Job = Callable[[Executor], Awaitable[Any]]


def tally_jobs(period: Period, keys: dict[int, str]) -> dict[str, Job]:
    """The four counts of the period's cases, as queries that can run side by side."""
    bounds = {"start": period.start, "end": period.end}

    async def referrals(db: Executor) -> tuple[ReferralTally, ...]:
        found = []
        for row in (await db.execute(text(_REFERRALS), bounds)).all():
            field, value = _split(row, REFERRAL_FIELDS)
            value = keys[int(value)] if field == "agency" else value
            found.append(ReferralTally(row[0], field, value, row[-1]))
        return tuple(found)

    async def conferences(db: Executor) -> tuple[ConferenceTally, ...]:
        found = []
        for row in (await db.execute(text(_CONFERENCES), bounds)).all():
            field, value = _split(row, CONFERENCE_FIELDS)
            value = keys[int(value)] if field == "agency" else value
            found.append(ConferenceTally(row[0], field, value, row[-1]))
        return tuple(found)

    async def timelines(db: Executor) -> tuple[CaseTimeline, ...]:
        return tuple(CaseTimeline(*r) for r in (await db.execute(text(_TIMELINES), bounds)).all())

    async def discussions(db: Executor) -> tuple[DiscussionFacts, ...]:
        rows = (await db.execute(text(_DISCUSSIONS), bounds)).all()
        return tuple(DiscussionFacts(*r) for r in rows)

    return {
        "referrals": referrals,
        "conferences": conferences,
        "timelines": timelines,
        "discussions": discussions,
    }
