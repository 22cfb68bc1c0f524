"""The capacity planner: the reference calendars of the issue, a listing worked out by hand,
bank holidays, the smallest change, and the forward warning."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.capacity import (
    Conference,
    Frequency,
    Pattern,
    Simulator,
    poisson,
    rate_per_working_day,
    smallest_changes,
)
from bot.domain.capacity_forecast import forecast
from bot.domain.deadlines import DeadlinePolicy

CALENDAR = WorkingDayCalendar("ENG")
POLICY = DeadlinePolicy()
YEAR = (date(2027, 1, 4), date(2027, 12, 31))


@pytest.fixture(scope="module")
def year_at_300() -> Simulator:
    rate = rate_per_working_day(300, CALENDAR, YEAR[0])
    return Simulator(CALENDAR, POLICY, *YEAR, rate, runs=60)


def calendar_of(every: Frequency, places: int) -> tuple[Conference, ...]:
    return Pattern(every, places).conferences(YEAR[0], date(2028, 3, 1), CALENDAR)


def test_the_yearly_rate_is_spread_over_the_working_days() -> None:
    # 2027 from 4 January: 365 days hold 253 working days in England (8 bank holidays).
    assert rate_per_working_day(253, CALENDAR, YEAR[0]) == pytest.approx(1.0)


def test_weekly_conferences_of_18_places_hear_everyone_within_target(
    year_at_300: Simulator,
) -> None:
    result = year_at_300.run(calendar_of(Frequency.WEEK, 18))
    assert result.all_within and result.share == 100.0
    assert result.longest_wait is not None and result.longest_wait <= 14


def test_fortnightly_conferences_of_16_places_hear_about_99_percent(
    year_at_300: Simulator,
) -> None:
    result = year_at_300.run(calendar_of(Frequency.FORTNIGHT, 16))
    assert 98.0 <= result.share < 100.0
    assert result.longest_wait is not None and result.longest_wait > 14


def test_monthly_conferences_cannot_meet_the_target_whatever_the_places(
    year_at_300: Simulator,
) -> None:
    monthly = calendar_of(Frequency.MONTH, 100)
    # Referred on Monday 4 January 2027: the window runs from Fri 8 to Fri 22 January, and
    # the month's conferences are Thursday 7 January and Thursday 4 February.
    assert year_at_300.gap(monthly) == date(2027, 1, 4)
    assert not year_at_300.run(monthly).all_within
    assert year_at_300.gap(calendar_of(Frequency.FORTNIGHT, 1)) is None


def test_a_listing_worked_out_by_hand() -> None:
    # One day of arrivals only: three cases on Monday 4 January 2027. Day 4 is Fri 8 January,
    # day 14 is Fri 22 January.
    sim = Simulator(CALENDAR, POLICY, date(2027, 1, 4), date(2027, 1, 4), 0.0, runs=1)
    sim.arrivals = [[3]]
    in_time = sim.run([Conference(date(2027, 1, 14), 2), Conference(date(2027, 1, 21), 5)])
    # Two places on the 14th (8 working days), the third case on the 21st (13).
    assert (in_time.cases, in_time.within_target, in_time.longest_wait) == (3, 3, 13)
    late = sim.run([Conference(date(2027, 1, 14), 2), Conference(date(2027, 1, 28), 5)])
    # The third case waits until the 28th: 18 working days, 6 days after its target.
    assert (late.within_target, late.longest_wait) == (2, 18)
    assert late.first_breaches == (date(2027, 1, 22),)
    full = sim.run([Conference(date(2027, 1, 14), 2)])
    assert (full.within_target, full.unlisted) == (2, 1)
    # A conference before day 4 cannot take the case.
    assert sim.run([Conference(date(2027, 1, 7), 9)]).unlisted == 3


def test_a_conference_on_a_bank_holiday_moves_to_the_next_working_day() -> None:
    mondays = Pattern(Frequency.WEEK, 18, weekday=0).conferences(
        date(2027, 3, 22), date(2027, 4, 9), CALENDAR
    )
    # Easter Monday 29 March 2027 is a bank holiday: that week's conference is on Tuesday.
    assert [c.day for c in mondays] == [date(2027, 3, 22), date(2027, 3, 30), date(2027, 4, 5)]
    first_thursdays = Pattern(Frequency.MONTH, 18).conferences(
        date(2027, 1, 1), date(2027, 3, 31), CALENDAR
    )
    assert [c.day for c in first_thursdays] == [
        date(2027, 1, 7),
        date(2027, 2, 4),
        date(2027, 3, 4),
    ]


def test_the_smallest_change_from_fortnightly_reaches_100_percent(
    year_at_300: Simulator,
) -> None:
    changes = smallest_changes(year_at_300, calendar_of(Frequency.FORTNIGHT, 16), 18, 3)
    assert changes and all(c.result.all_within for c in changes)
    assert [c.added_places for c in changes] == sorted(c.added_places for c in changes)
    texts = [c.text for c in changes]
    assert any("more places at every conference" in t for t in texts)
    assert any(t.startswith("weekly conferences (Thursdays) of") for t in texts)


def test_from_monthly_only_a_more_frequent_calendar_can_help(year_at_300: Simulator) -> None:
    changes = smallest_changes(year_at_300, calendar_of(Frequency.MONTH, 18), 18, 3)
    assert changes
    assert all("more place" not in c.text for c in changes)
    assert all(c.text.startswith(("weekly", "fortnightly")) for c in changes)


def test_one_more_conference_in_the_right_week_can_be_the_smallest_change() -> None:
    # Two cases a day referred 11-13 January; their windows (15 January to 2 February) hold
    # only the 21 January conference, which has 3 places.
    sim = Simulator(CALENDAR, POLICY, date(2027, 1, 11), date(2027, 1, 15), 0.0, runs=1)
    sim.arrivals = [[2, 2, 2, 0, 0]]
    calendar = [Conference(date(2027, 1, 21), 3), Conference(date(2027, 2, 4), 18)]
    assert not sim.run(calendar).all_within
    # Six cases, windows from 15 January to 4 February: 3 more places at both conferences
    # (6 in all), or one more conference of 3 places in the week of the small one (its
    # Thursday is taken, so on the Friday).
    changes = {c.text: c.added_places for c in smallest_changes(sim, calendar, 3, 3)}
    assert changes["3 more places at every conference"] == 6
    assert changes["one more conference of 3 places on Fri 22 Jan 2027"] == 3
    # A fortnightly calendar from Thursday 14 January needs only a conference on the 28th
    # with 6 places: fewer places than now (21 in the window), so it ranks first.
    assert smallest_changes(sim, calendar, 3, 3)[0].text.startswith("fortnightly")


def test_poisson_arrivals_have_the_asked_mean() -> None:
    rng = random.Random(7)
    for mean in (1.2, 475.0):  # a town, and the whole country in a working day
        draws = [poisson(rng, mean) for _ in range(4000)]
        assert sum(draws) / len(draws) == pytest.approx(mean, rel=0.03)


def test_the_forward_warning_when_the_next_weeks_are_too_small() -> None:
    today = date(2027, 2, 1)  # Monday
    small = [Conference(today + timedelta(days=d), 2) for d in (10, 17, 24)]
    warned = forecast(today, CALENDAR, POLICY, small, 1.2, 0.5, 18)
    assert warned.likely and warned.probability >= 0.5
    assert warned.first_breach is not None
    # Warned at least 4 working days before the first likely miss (here: weeks before).
    assert CALENDAR.working_days_between(today, warned.first_breach) >= 4
    assert warned.suggestion is not None and warned.suggestion.places == 18
    roomy = [Conference(today + timedelta(days=d), 18) for d in (3, 10, 17, 24)]
    calm = forecast(today, CALENDAR, POLICY, roomy, 1.2, 0.5, 18)
    assert not calm.likely and calm.first_breach is None and calm.suggestion is None
    # The same morning always gives the same answer (the runs are seeded by the date).
    assert forecast(today, CALENDAR, POLICY, small, 1.2, 0.5, 18) == warned


def test_the_threshold_decides(year_at_300: Simulator) -> None:
    today = date(2027, 2, 1)
    tight = [Conference(today + timedelta(days=d), 3) for d in (10, 17, 24)]
    chance = forecast(today, CALENDAR, POLICY, tight, 1.2, 1.0, 18).probability
    assert 0 < chance < 1
    assert forecast(today, CALENDAR, POLICY, tight, 1.2, chance, 18).likely
    assert not forecast(today, CALENDAR, POLICY, tight, 1.2, min(1.0, chance + 0.01), 18).likely
