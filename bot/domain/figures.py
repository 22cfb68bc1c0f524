"""The partnership figures (PRODUCT.md section 6), defined once: plain records in
(bot/domain/figure_records.py), plain numbers out.

Each figure has one period rule, so that every count of a period is the sum of the counts of
its parts (tests/unit/test_figures_properties.py): referrals by the date received; case
discussions by their working day 3; hearings by the date the plan was agreed; information
returns and actions by their due date; actions agreed by the date agreed; reviews by the date
started. Everything is judged as known at ``as_of`` (the day the report is made): what happened
after it has not happened yet. The definitions, in words, are in
bot/domain/figure_definitions.py and the README (a test keeps them the same).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Final

from bot.domain.actions import ActionStatus
from bot.domain.calendar import WorkingDayCalendar, WorkingDayCount
from bot.domain.figure_records import CaseFacts, FigureFacts, HearingFacts, Period
from bot.domain.figure_results import (
    AgencyActions,
    AgencyReturns,
    EqualityFigures,
    Figures,
    MeetingFigures,
    ReferralFigures,
    Share,
    TimelinessFigures,
    WeekFigures,
)
from bot.domain.referral import Criteria

SAFELIVES_EXPECTED_PER_10000: Final = 40  # cases a year per 10,000 adult women
MINORITISED: Final = frozenset({"mixed", "asian", "black", "arab", "other"})
POLICE: Final = "police"


def weighted_median(values: Iterable[tuple[int, int]]) -> float | None:
    """The median of (value, how many times) pairs: the middle value, or the mean of the two
    middle values when there is an even number of them."""
    ordered = sorted((v, n) for v, n in values if n > 0)
    total = sum(n for _, n in ordered)
    if total == 0:
        return None
    return (_at(ordered, (total - 1) // 2) + _at(ordered, total // 2)) / 2


def nearest_rank(values: Iterable[tuple[int, int]], fraction: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of all
    values at or below it (the 90th percentile is ``nearest_rank(values, 0.9)``)."""
    ordered = sorted((v, n) for v, n in values if n > 0)
    total = sum(n for _, n in ordered)
    if total == 0:
        return None
    return _at(ordered, max(1, math.ceil(fraction * total)) - 1)


def _at(ordered: list[tuple[int, int]], position: int) -> int:
    seen = 0
    for value, n in ordered:
        seen += n
        if position < seen:
            return value
    raise IndexError(position)


def compute_figures(
    facts: FigureFacts,
    period: Period,
    as_of: date,
    calendar: WorkingDayCalendar,
    adult_female_population: int | None = None,
) -> Figures:
    """Every figure of ``period`` from the records, as known on ``as_of``."""
    count = WorkingDayCount(calendar)
    names = dict(facts.agency_names)
    by_id = {c.case_id: c for c in facts.cases}
    referred = [c for c in facts.cases if c.received in period and c.received <= as_of]
    first = _first_hearings(facts.hearings, as_of)
    heard = [(by_id[h.case_id], h) for h in first.values() if h.heard_on in period]
    return Figures(
        period=period,
        as_of=as_of,
        agency_names=facts.agency_names,
        referrals=_referrals(referred, facts, period, as_of, names, adult_female_population),
        equality=_equality(referred),
        timeliness=_timeliness(facts.cases, heard, first, period, as_of, count),
        returns=_returns(facts, period, as_of, count, names),
        actions=_actions(facts, period, as_of, names),
        reviews=sum(r.count for r in facts.reviews if r.on in period and r.on <= as_of),
        meetings=_meetings(facts, by_id, period, as_of),
        weeks=_weeks(referred, heard, period),
    )


def _first_hearings(hearings: Iterable[HearingFacts], as_of: date) -> dict[int, HearingFacts]:
    """Each case's first plan (a review's later plans are not its first hearing)."""
    first: dict[int, HearingFacts] = {}
    for h in hearings:
        if h.heard_on <= as_of and (
            h.case_id not in first or h.heard_on < first[h.case_id].heard_on
        ):
            first[h.case_id] = h
    return first


def _agency_order(names: dict[str, str], keys: Iterable[str]) -> list[str]:
    """Directory order, then agencies no longer in the directory by key."""
    present = set(keys)
    return [k for k in names if k in present] + sorted(present - set(names))


def _referrals(
    referred: list[CaseFacts],
    facts: FigureFacts,
    period: Period,
    as_of: date,
    names: dict[str, str],
    population: int | None,
) -> ReferralFigures:
    total = len(referred)
    agencies = Counter(c.referring_agency for c in referred)
    criteria = Counter(c.criteria for c in referred)
    return ReferralFigures(
        total=total,
        withdrawn=sum(c.withdrawn_on is not None and c.withdrawn_on <= as_of for c in referred),
        by_criteria=tuple((c.value, criteria[c.value]) for c in Criteria),
        by_agency=tuple((k, agencies[k]) for k in _agency_order(names, agencies)),
        not_police=Share(sum(c.referring_agency != POLICE for c in referred), total),
        repeats=Share(sum(c.repeat for c in referred), total),
        children=sum(c.children for c in referred),
        without_consent=Share(sum(not c.consent for c in referred), total),
        per_10000=(total * 10_000 / population * 365 / period.days if population else None),
        serial_perpetrators=_serial(referred, facts, period, as_of),
    )


def _serial(referred: list[CaseFacts], facts: FigureFacts, period: Period, as_of: date) -> int:
    """People causing harm referred in the period who have been named for harm to two or
    more different victims, in any referral up to the end of the period."""
    victims: dict[str, set[str]] = defaultdict(set)
    until = min(period.end, as_of)
    for link in facts.harm_links:
        if link.received <= until:
            victims[link.perpetrator].add(link.victim)
    for c in referred:
        if c.perpetrator is not None and c.victim is not None:
            victims[c.perpetrator].add(c.victim)
    people = {c.perpetrator for c in referred if c.perpetrator is not None}
    return sum(len(victims[p]) >= 2 for p in people)


def _equality_counts(cases: list[CaseFacts]) -> tuple[int, int, int, int, int, int]:
    return (
        sum(c.victim_gender == "male" for c in cases),
        sum(c.victim_ethnicity in MINORITISED for c in cases),
        sum(c.victim_disability == "yes" for c in cases),
        sum(c.victim_lgbt == "yes" for c in cases),
        sum(c.victim_age is not None and 16 <= c.victim_age <= 17 for c in cases),
        sum(c.perpetrator_age is not None and c.perpetrator_age <= 17 for c in cases),
    )


def _equality(referred: list[CaseFacts]) -> EqualityFigures:
    total = len(referred)
    shares = [Share(n, total) for n in _equality_counts(referred)]
    return EqualityFigures(*shares)


def _timeliness(
    cases: tuple[CaseFacts, ...],
    heard: list[tuple[CaseFacts, HearingFacts]],
    first: dict[int, HearingFacts],
    period: Period,
    as_of: date,
    count: WorkingDayCount,
) -> TimelinessFigures:
    days = Counter(max(0, count.between(c.day_zero, h.heard_on)) for c, h in heard)
    waiting = [
        c
        for c in cases
        if c.received in period
        and c.case_id not in first
        and c.target < as_of
        and not (c.withdrawn_on is not None and c.withdrawn_on <= c.target)
    ]
    due = [
        c
        for c in cases
        if c.discussion_day in period
        and not (c.withdrawn_on is not None and c.withdrawn_on <= c.discussion_day)
        and (
            c.discussion_day < as_of
            or (c.discussion_held_on is not None and c.discussion_held_on <= as_of)
        )
    ]
    held = sum(
        c.discussion_held_on is not None and c.discussion_held_on <= c.discussion_day for c in due
    )
    return TimelinessFigures(
        heard=len(heard),
        within_target=Share(sum(h.heard_on <= c.target for c, h in heard), len(heard)),
        median_days=weighted_median(days.items()),
        p90_days=nearest_rank(days.items(), 0.9),
        days=tuple(sorted(days.items())),
        perpetrator_focused_plans=Share(
            sum(c.perpetrator_focused_plan for c, _ in heard), len(heard)
        ),
        heard_outside_conference=sum(h.meeting_on is None for _, h in heard),
        waiting_past_target=len(waiting),
        discussions_on_day_3=Share(held, len(due)),
    )


def _returns(
    facts: FigureFacts, period: Period, as_of: date, count: WorkingDayCount, names: dict[str, str]
) -> tuple[AgencyReturns, ...]:
    tallies: dict[str, Counter[str]] = defaultdict(Counter)
    times: dict[str, Counter[int]] = defaultdict(Counter)
    for r in facts.returns:
        if r.due not in period:
            continue
        tally = tallies[r.agency]
        tally["requested"] += r.count
        if r.returned_on is not None and r.returned_on <= as_of:
            tally["on_time" if r.returned_on <= r.due else "late"] += r.count
            times[r.agency][max(0, count.between(r.day_zero, r.returned_on))] += r.count
        else:
            tally["missing" if r.due < as_of else "pending"] += r.count
    return tuple(
        AgencyReturns(
            agency=k,
            requested=tallies[k]["requested"],
            on_time=tallies[k]["on_time"],
            late=tallies[k]["late"],
            missing=tallies[k]["missing"],
            pending=tallies[k]["pending"],
            median_days=weighted_median(times[k].items()),
        )
        for k in _agency_order(names, tallies)
    )


def _actions(
    facts: FigureFacts, period: Period, as_of: date, names: dict[str, str]
) -> tuple[AgencyActions, ...]:
    tallies: dict[str, Counter[str]] = defaultdict(Counter)
    for a in facts.actions_agreed:
        if a.agreed_on in period and a.agreed_on <= as_of:
            tallies[a.agency]["agreed"] += a.count
    for d in facts.actions_due:
        if d.due not in period:
            continue
        tally = tallies[d.agency]
        tally["due"] += d.count
        closed = d.status.is_closed and d.closed_on is not None and d.closed_on <= as_of
        if closed and d.status is ActionStatus.NOT_POSSIBLE:
            tally["not_possible"] += d.count
        elif closed:
            assert d.closed_on is not None
            tally["on_time" if d.closed_on <= d.due else "late"] += d.count
        else:
            tally["overdue" if d.due < as_of else "pending"] += d.count
    return tuple(
        AgencyActions(
            agency=k,
            agreed=t["agreed"],
            due=t["due"],
            on_time=t["on_time"],
            late=t["late"],
            overdue=t["overdue"],
            not_possible=t["not_possible"],
            pending=t["pending"],
        )
        for k in _agency_order(names, tallies)
        for t in (tallies[k],)
    )


def _meetings(
    facts: FigureFacts, by_id: dict[int, CaseFacts], period: Period, as_of: date
) -> tuple[MeetingFigures, ...]:
    """One row per conference held in the period: the cases discussed there (a case heard
    again after a review counts at each conference that discussed it)."""
    at: dict[date, list[CaseFacts]] = defaultdict(list)
    for h in facts.hearings:
        if h.meeting_on is not None and h.heard_on <= as_of and h.case_id in by_id:
            at[h.meeting_on].append(by_id[h.case_id])
    held = sorted({d for d in facts.meetings if d in period and d <= as_of})
    rows = []
    for day in held:
        cases = at.get(day, [])
        agencies = Counter(c.referring_agency for c in cases)
        rows.append(
            MeetingFigures(
                day,
                len(cases),
                sum(c.repeat for c in cases),
                sum(c.children for c in cases),
                tuple(sorted(agencies.items())),
                *_equality_counts(cases),
            )
        )
    return tuple(rows)


def _weeks(
    referred: list[CaseFacts], heard: list[tuple[CaseFacts, HearingFacts]], period: Period
) -> tuple[WeekFigures, ...]:
    """Weeks from Monday, for the chart: referrals received, and first hearings."""

    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    referrals = Counter(monday(c.received) for c in referred)
    hearings = Counter(monday(h.heard_on) for _, h in heard)
    in_time = Counter(monday(h.heard_on) for c, h in heard if h.heard_on <= c.target)
    weeks = []
    week = monday(period.start)
    while week <= period.end:
        weeks.append(WeekFigures(week, referrals[week], hearings[week], in_time[week]))
        week += timedelta(days=7)
    return tuple(weeks)
