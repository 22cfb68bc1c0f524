"""The partnership figures on a quarter worked out by hand (tests/support/figure_world.py).

Every expected number below is counted from the records by hand, with the working days spelt
out where a bank holiday is in the way.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.calendar import WorkingDayCalendar, WorkingDayCount
from bot.domain.figure_records import Period
from bot.domain.figure_results import Figures, Share
from bot.domain.figure_tallies import FigureFacts
from bot.domain.figures import compute_figures, nearest_rank, weighted_median
from tests.support.figure_world import AS_OF, CALENDAR, CASES, FACTS, Q1


@pytest.fixture(scope="module")
def q1() -> Figures:
    return compute_figures(FACTS, Q1, AS_OF, CALENDAR, adult_female_population=75_000)


def test_day_zero_moves_past_christmas_and_the_dates_of_the_world_are_as_described() -> None:
    christmas = CASES[0]
    # 25 Dec 2026 is a Friday and a bank holiday; Monday 28 Dec is the Boxing Day substitute.
    assert christmas.day_zero == date(2026, 12, 29)
    # Day 3: 30 Dec (1), 31 Dec (2), Mon 4 Jan (3), New Year's Day skipped.
    assert christmas.discussion_day == date(2027, 1, 4)
    # Day 14: 30, 31 Dec, 4-8 Jan (7), 11-15 Jan (12), 18 (13), 19 Jan (14).
    assert christmas.target == date(2027, 1, 19)
    # Case 6, received Thursday 25 March: Good Friday and Easter Monday are skipped.
    assert CASES[5].discussion_day == date(2027, 4, 1)
    assert CASES[5].target == date(2027, 4, 16)
    # Case 7, received 8 March: day 14 is Tuesday 30 March, after the Easter weekend.
    assert CASES[6].target == date(2027, 3, 30)


def test_heard_within_fourteen_working_days_counts_first_plans_of_the_quarter(q1: Figures) -> None:
    t = q1.timeliness
    # First plans agreed in Q1: cases 1, 2, 3 and 4 (case 8's first plan was in December).
    assert t.heard == 4
    # Working days from day 0: case 1 from Tue 29 Dec to Thu 14 Jan = 30, 31 Dec, 4-8 Jan,
    # 11-14 Jan = 11 (counted from the day received it would be 12); case 2 from 4 Jan to
    # 21 Jan = 13; case 3 from 1 Mar to 25 Mar = 18; case 4 from 10 Feb to 17 Feb = 5.
    assert t.days == ((5, 1), (11, 1), (13, 1), (18, 1))
    assert t.within_target == Share(3, 4)  # case 3 was heard after its target of 19 March
    assert t.median_days == 12.0  # (11 + 13) / 2
    assert t.p90_days == 18  # nearest rank: the ceil(0.9 × 4) = 4th smallest
    assert t.heard_outside_conference == 1  # case 4
    assert t.perpetrator_focused_plans == Share(2, 4)  # cases 1 and 4
    # Referred in Q1 with no plan and the target passed by 12 April: case 7 only (case 6's
    # target is 16 April, case 5 was withdrawn, case 3 was heard late).
    assert t.waiting_past_target == 1


def test_case_discussions_on_day_three(q1: Figures) -> None:
    # Day 3 in Q1: cases 1 (4 Jan), 2 (7 Jan), 3 (4 Mar), 4 (15 Feb), 7 (11 Mar); case 5 was
    # withdrawn before its day 3 and case 6's day 3 is 1 April. Held on day 3: 1, 4 and 7;
    # case 2's was recorded a day late and case 3's as not held.
    assert q1.timeliness.discussions_on_day_3 == Share(3, 5)


def test_referrals_of_the_quarter(q1: Figures) -> None:
    r = q1.referrals
    assert r.total == 6  # cases 2-7 (cases 1 and 8 were received in December)
    assert r.withdrawn == 1
    assert dict(r.by_criteria) == {
        "visible_high_risk": 3,
        "professional_judgement": 2,
        "potential_escalation": 1,
        "repeat": 0,
    }
    assert r.by_agency == (
        ("police", 3),
        ("idva-service", 1),
        ("housing", 1),
        ("children-s-social-care", 1),
    )
    assert r.not_police == Share(3, 6)
    assert r.repeats == Share(1, 6)  # case 3, whose earlier referral was in 2026
    assert r.children == 8  # 0 + 1 + 3 + 0 + 4 + 0
    assert r.without_consent == Share(1, 6)
    # 6 × 10,000 / 75,000 × 365 / 90 days = 0.8 × 4.0556 = 3.24 a year.
    assert r.per_10000 == pytest.approx(3.2444, abs=1e-4)
    # The person causing harm in cases 1, 3 and 4 harmed two different victims.
    assert r.serial_perpetrators == 1


def test_equality_counts(q1: Figures) -> None:
    e = q1.equality
    assert e.male == Share(1, 6)  # case 2
    assert e.minoritised == Share(3, 6)  # black (2), asian (4), mixed (7); not White other (6)
    assert e.disabled == Share(1, 6)
    assert e.lgbt == Share(1, 6)
    assert e.aged_16_17 == Share(2, 6)  # 17 (case 2) and 16 (case 6)
    assert e.harm_by_17_or_under == Share(1, 6)  # case 2's person causing harm is 17


def test_information_returns_per_agency(q1: Figures) -> None:
    police, idva, housing = q1.returns
    assert police.agency == "police" and idva.agency == "idva-service"
    # Police: due in Q1 are 6 Jan (on time), 3 Mar (returned 5 Mar, late), 10 and 31 Mar
    # (missing by 12 April); 31 December belongs to Q4.
    assert (police.requested, police.on_time, police.late, police.missing) == (4, 1, 1, 2)
    assert police.returned == Share(2, 4) and police.in_time == Share(1, 4)
    assert police.median_days == 3.0  # 2 and 4 working days from day 0
    # IDVA: one answered on working day 1 and three (one grouped record) on day 2.
    assert (idva.requested, idva.on_time, idva.late) == (4, 4, 0)
    assert idva.median_days == 2.0  # 1, 2, 2, 2
    assert (housing.on_time, housing.late, housing.median_days) == (1, 1, 2.0)  # 1 and 3 days
    total = q1.returns_total
    assert (total.requested, total.on_time, total.late, total.missing) == (10, 6, 2, 2)


def test_actions_per_agency(q1: Figures) -> None:
    police, idva, housing = q1.actions
    assert (police.agreed, police.due, police.on_time, police.late, police.overdue) == (
        3,
        3,
        1,
        1,
        1,
    )
    assert police.in_time == Share(1, 3)
    assert (idva.agreed, idva.due, idva.on_time) == (0, 2, 2)  # agreed in December
    assert (housing.agreed, housing.not_possible, housing.overdue) == (2, 1, 1)
    assert housing.in_time == Share(0, 1)  # not possible is left out
    assert q1.actions_total.due == 7


def test_reviews_and_the_safelives_rows_per_conference(q1: Figures) -> None:
    assert q1.reviews == 1  # 22 February (20 December is Q4)
    rows = {m.date: m for m in q1.meetings}
    assert sorted(rows) == [
        date(2027, 1, 7),
        date(2027, 1, 14),
        date(2027, 1, 21),
        date(2027, 3, 4),
        date(2027, 3, 25),
    ]
    assert rows[date(2027, 1, 7)].cases == 0
    jan21 = rows[date(2027, 1, 21)]
    assert (jan21.cases, jan21.male, jan21.minoritised, jan21.aged_16_17) == (1, 1, 1, 1)
    assert jan21.by_agency == (("idva-service", 1),)
    # Case 8, reviewed, is discussed again on 4 March: it counts there.
    assert (rows[date(2027, 3, 4)].cases, rows[date(2027, 3, 4)].children) == (1, 1)
    # The conference in the week of Good Friday heard the repeat (case 3).
    assert (rows[date(2027, 3, 25)].cases, rows[date(2027, 3, 25)].repeats) == (1, 1)


def test_weeks_for_the_chart(q1: Figures) -> None:
    weeks = {w.week: w for w in q1.weeks}
    assert min(weeks) == date(2026, 12, 28) and max(weeks) == date(2027, 3, 29)
    assert len(weeks) == 14
    assert (weeks[date(2027, 1, 18)].heard, weeks[date(2027, 1, 18)].heard_within_target) == (1, 1)
    assert (weeks[date(2027, 3, 22)].heard, weeks[date(2027, 3, 22)].heard_within_target) == (1, 0)
    assert weeks[date(2027, 3, 22)].referrals == 1  # case 6
    assert sum(w.referrals for w in q1.weeks) == 6


def test_an_empty_period_reports_zeros_and_no_percentages() -> None:
    empty = compute_figures(FACTS, Period(date(2027, 7, 1), date(2027, 7, 31)), AS_OF, CALENDAR)
    assert empty.referrals.total == 0 and empty.referrals.repeats == Share(0, 0)
    assert empty.referrals.repeats.percent is None and empty.referrals.per_10000 is None
    assert empty.timeliness.median_days is None and empty.timeliness.p90_days is None
    assert empty.returns == () and empty.actions == () and empty.meetings == ()
    assert empty.additive_counts() == {}
    nothing = compute_figures(FigureFacts(), Q1, AS_OF, CALENDAR)
    assert nothing.timeliness.within_target.text() == "0 of 0"


def test_what_happens_after_the_report_day_has_not_happened_yet() -> None:
    # On 10 March: case 3 is not heard yet, police's 10 March return is not missing yet.
    early = compute_figures(FACTS, Q1, date(2027, 3, 10), CALENDAR)
    assert early.timeliness.heard == 3
    police = early.returns[0]
    assert (police.missing, police.pending) == (0, 2)
    # Received by 10 March: cases 2, 3, 4 and 7 (5 and 6 come later in March).
    assert early.referrals.total == 4


def test_percentiles() -> None:
    assert weighted_median([(3, 1)]) == 3
    assert weighted_median([(1, 1), (2, 1), (9, 1)]) == 2
    assert weighted_median([(1, 2), (5, 2)]) == 3
    assert nearest_rank([(v, 1) for v in range(1, 11)], 0.9) == 9
    assert nearest_rank([(v, 1) for v in range(1, 12)], 0.9) == 10  # ceil(9.9) = 10th
    assert weighted_median([]) is None and nearest_rank([], 0.9) is None


def test_the_working_day_count_agrees_with_the_calendar() -> None:
    calendar = WorkingDayCalendar("ENG")
    count = WorkingDayCount(calendar)
    days = [date(2026, 12, 20), date(2027, 4, 2), date(2027, 1, 1), date(2026, 12, 25)]
    for start in days:
        for end in days:
            assert count.between(start, end) == calendar.working_days_between(start, end)
