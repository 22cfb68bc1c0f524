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
from bot.domain.figure_records import Period
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
from bot.domain.figure_tallies import CaseTimeline, FigureFacts
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
    referred: dict[str, Counter[str]] = defaultdict(Counter)
    for t in facts.referrals:
        if t.received in period and t.received <= as_of:
            referred[t.field][t.value] += t.count
    heard = [
        t
        for t in facts.timelines
        if t.first_heard is not None and t.first_heard in period and t.first_heard <= as_of
    ]
    return Figures(
        period=period,
        as_of=as_of,
        agency_names=facts.agency_names,
        referrals=_referrals(referred, facts, period, as_of, names, adult_female_population),
        equality=EqualityFigures(
            *(Share(n, sum(referred["criteria"].values())) for n in _equality_counts(referred))
        ),
        timeliness=_timeliness(facts, heard, period, as_of, count),
        returns=_returns(facts, period, as_of, count, names),
        actions=_actions(facts, period, as_of, names),
        reviews=sum(r.count for r in facts.reviews if r.on in period and r.on <= as_of),
        meetings=_meetings(facts, period, as_of),
        weeks=_weeks(facts, heard, period, as_of),
    )


def _agency_order(names: dict[str, str], keys: Iterable[str]) -> list[str]:
    """Directory order, then agencies no longer in the directory by key."""
    present = set(keys)
    return [k for k in names if k in present] + sorted(present - set(names))


def _referrals(
    referred: dict[str, Counter[str]],
    facts: FigureFacts,
    period: Period,
    as_of: date,
    names: dict[str, str],
    population: int | None,
) -> ReferralFigures:
    total = sum(referred["criteria"].values())  # every referral has one criterion
    agencies = referred["agency"]
    withdrawn = sum(
        n for on, n in referred["withdrawn_on"].items() if on and date.fromisoformat(on) <= as_of
    )
    return ReferralFigures(
        total=total,
        withdrawn=withdrawn,
        by_criteria=tuple((c.value, referred["criteria"][c.value]) for c in Criteria),
        by_agency=tuple((k, agencies[k]) for k in _agency_order(names, agencies) if agencies[k]),
        not_police=Share(total - agencies[POLICE], total),
        repeats=Share(referred["repeat"]["yes"], total),
        children=sum(int(v) * n for v, n in referred["children"].items()),
        without_consent=Share(referred["consent"]["no"], total),
        per_10000=(total * 10_000 / population * 365 / period.days if population else None),
        serial_perpetrators=_serial(facts, period, as_of),
    )


def _serial(facts: FigureFacts, period: Period, as_of: date) -> int:
    """People causing harm named in a referral received in the period who have been named
    for harm to two or more different victims, in any referral up to the end of the period."""
    victims: dict[str, set[str]] = defaultdict(set)
    until = min(period.end, as_of)
    named = set()
    for link in facts.harm_links:
        if link.received <= until:
            victims[link.perpetrator].add(link.victim)
            if link.received in period:
                named.add(link.perpetrator)
    return sum(len(victims[p]) >= 2 for p in named)


def _is_young(value: str, low: int, high: int) -> bool:
    return bool(value) and low <= int(value) <= high


def _equality_counts(of: dict[str, Counter[str]]) -> tuple[int, int, int, int, int, int]:
    """Male, minoritised, disabled, LGBT+, aged 16-17, causing harm at 17 or under."""
    return (
        of["gender"]["male"],
        sum(n for v, n in of["ethnicity"].items() if v in MINORITISED),
        of["disability"]["yes"],
        of["lgbt"]["yes"],
        sum(n for v, n in of["victim_age"].items() if _is_young(v, 16, 17)),
        sum(n for v, n in of["perpetrator_age"].items() if _is_young(v, 0, 17)),
    )


def _timeliness(
    facts: FigureFacts,
    heard: list[CaseTimeline],
    period: Period,
    as_of: date,
    count: WorkingDayCount,
) -> TimelinessFigures:
    days: Counter[int] = Counter()
    for t in heard:
        assert t.first_heard is not None
        days[max(0, count.between(t.day_zero, t.first_heard))] += t.count
    waiting = sum(
        t.count
        for t in facts.timelines
        if t.received in period
        and (t.first_heard is None or t.first_heard > as_of)
        and t.target < as_of
        and not (t.withdrawn_on is not None and t.withdrawn_on <= t.target)
    )
    due = [
        d
        for d in facts.discussions
        if d.discussion_day in period
        and not (d.withdrawn_on is not None and d.withdrawn_on <= d.discussion_day)
        and (d.discussion_day < as_of or (d.held_on is not None and d.held_on <= as_of))
    ]
    held = sum(d.count for d in due if d.held_on is not None and d.held_on <= d.discussion_day)
    total = sum(t.count for t in heard)
    return TimelinessFigures(
        heard=total,
        within_target=Share(
            sum(t.count for t in heard if t.first_heard is not None and t.first_heard <= t.target),
            total,
        ),
        median_days=weighted_median(days.items()),
        p90_days=nearest_rank(days.items(), 0.9),
        days=tuple(sorted(days.items())),
        perpetrator_focused_plans=Share(
            sum(t.count for t in heard if t.perpetrator_focused_plan), total
        ),
        heard_outside_conference=sum(t.count for t in heard if not t.at_conference),
        waiting_past_target=waiting,
        discussions_on_day_3=Share(held, sum(d.count for d in due)),
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


def _meetings(facts: FigureFacts, period: Period, as_of: date) -> tuple[MeetingFigures, ...]:
    """One row per conference held in the period: the cases discussed there (a case heard
    again after a review counts at each conference that discussed it)."""
    at: dict[date, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for t in facts.conferences:
        at[t.meeting_on][t.field][t.value] += t.count
    rows = []
    for day in sorted({d for d in facts.meetings if d in period and d <= as_of}):
        of = at[day]
        rows.append(
            MeetingFigures(
                day,
                of["cases"][""],
                of["repeat"]["yes"],
                sum(int(v) * n for v, n in of["children"].items()),
                tuple(sorted((k, n) for k, n in of["agency"].items() if n)),
                *_equality_counts(of),
            )
        )
    return tuple(rows)


def _weeks(
    facts: FigureFacts, heard: list[CaseTimeline], period: Period, as_of: date
) -> tuple[WeekFigures, ...]:
    """Weeks from Monday, for the chart: referrals received, and first plans."""

    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    referrals: Counter[date] = Counter()
    for t in facts.referrals:
        if t.field == "criteria" and t.received in period and t.received <= as_of:
            referrals[monday(t.received)] += t.count
    hearings: Counter[date] = Counter()
    in_time: Counter[date] = Counter()
    for h in heard:
        assert h.first_heard is not None
        hearings[monday(h.first_heard)] += h.count
        if h.first_heard <= h.target:
            in_time[monday(h.first_heard)] += h.count
    weeks = []
    week = monday(period.start)
    while week <= period.end:
        weeks.append(WeekFigures(week, referrals[week], hearings[week], in_time[week]))
        week += timedelta(days=7)
    return tuple(weeks)
