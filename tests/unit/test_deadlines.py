"""Specification of a case's working-day deadlines and of the choice of its MARAC conference.

From day 0 (the received date, or the next working day): information due by working day 2,
case discussion on working day 3, listed at the earliest conference with capacity on working
day 4 or later, target on or before working day 14 (PRODUCT.md section 2).
"""

from __future__ import annotations

from datetime import date
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.calendar import REGIONS, WorkingDayCalendar
from bot.domain.deadlines import (
    CaseDeadlines,
    ConferenceChoice,
    ConferenceSlot,
    DeadlinePolicy,
    case_deadlines,
    choose_conference,
)

DEFAULT_POLICY = DeadlinePolicy()


@cache
def calendar(region: str) -> WorkingDayCalendar:
    return WorkingDayCalendar(region)


def deadlines(received: date, region: str = "ENG") -> CaseDeadlines:
    return case_deadlines(received, calendar(region), DEFAULT_POLICY)


def expected(
    received: date,
    day_zero: date,
    information_due: date,
    discussion: date,
    earliest_conference: date,
    conference_target: date,
) -> CaseDeadlines:
    return CaseDeadlines(
        received=received,
        day_zero=day_zero,
        information_due=information_due,
        discussion=discussion,
        earliest_conference=earliest_conference,
        conference_target=conference_target,
    )


# --- The dates of a case ----------------------------------------------------------------------


def test_worked_example_referral_before_easter_2027() -> None:
    # Thursday 25 March 2027 is day 0. Good Friday (26 March) and Easter Monday (29 March) are
    # bank holidays, so working day 1 is Tuesday 30 March.
    assert deadlines(date(2027, 3, 25)) == expected(
        received=date(2027, 3, 25),
        day_zero=date(2027, 3, 25),
        information_due=date(2027, 3, 31),  # working day 2, Wednesday
        discussion=date(2027, 4, 1),  # working day 3, Thursday
        earliest_conference=date(2027, 4, 2),  # working day 4, Friday
        conference_target=date(2027, 4, 16),  # working day 14, Friday
    )


DEADLINE_TABLE = [
    pytest.param(
        "ENG",
        expected(
            received=date(2026, 12, 24),  # Christmas Eve, a Thursday
            day_zero=date(2026, 12, 24),
            information_due=date(2026, 12, 30),  # 25, 26-27 weekend, 28 substitute
            discussion=date(2026, 12, 31),
            earliest_conference=date(2027, 1, 4),  # 1 January is a bank holiday
            conference_target=date(2027, 1, 18),
        ),
        id="ENG-christmas-eve-2026",
    ),
    pytest.param(
        "SCT",
        expected(
            received=date(2026, 12, 24),
            day_zero=date(2026, 12, 24),
            information_due=date(2026, 12, 30),
            discussion=date(2026, 12, 31),
            earliest_conference=date(2027, 1, 5),  # 4 Jan substitutes for 2 January
            conference_target=date(2027, 1, 19),
        ),
        id="SCT-christmas-eve-2026",
    ),
    pytest.param(
        "ENG",
        expected(
            received=date(2026, 12, 26),  # Boxing Day, a Saturday
            day_zero=date(2026, 12, 29),  # after the weekend and the Monday substitute
            information_due=date(2026, 12, 31),
            discussion=date(2027, 1, 4),
            earliest_conference=date(2027, 1, 5),
            conference_target=date(2027, 1, 19),
        ),
        id="ENG-boxing-day-2026-saturday",
    ),
    pytest.param(
        "ENG",
        expected(
            received=date(2026, 3, 28),  # Saturday before Easter 2026
            day_zero=date(2026, 3, 30),
            information_due=date(2026, 4, 1),
            discussion=date(2026, 4, 2),
            earliest_conference=date(2026, 4, 7),  # over Good Friday and Easter Monday
            conference_target=date(2026, 4, 21),
        ),
        id="ENG-saturday-before-easter-2026",
    ),
    pytest.param(
        "SCT",
        expected(
            received=date(2026, 3, 28),
            day_zero=date(2026, 3, 30),
            information_due=date(2026, 4, 1),
            discussion=date(2026, 4, 2),
            earliest_conference=date(2026, 4, 6),  # Easter Monday is a Scottish working day
            conference_target=date(2026, 4, 20),
        ),
        id="SCT-saturday-before-easter-2026",
    ),
    pytest.param(
        "ENG",
        expected(
            received=date(2027, 3, 26),  # Good Friday 2027
            day_zero=date(2027, 3, 30),  # after the weekend and Easter Monday
            information_due=date(2027, 4, 1),
            discussion=date(2027, 4, 2),
            earliest_conference=date(2027, 4, 5),
            conference_target=date(2027, 4, 19),
        ),
        id="ENG-good-friday-2027",
    ),
    pytest.param(
        "SCT",
        expected(
            received=date(2027, 3, 26),
            day_zero=date(2027, 3, 29),  # Easter Monday is day 0 in Scotland
            information_due=date(2027, 3, 31),
            discussion=date(2027, 4, 1),
            earliest_conference=date(2027, 4, 2),
            conference_target=date(2027, 4, 16),
        ),
        id="SCT-good-friday-2027",
    ),
    pytest.param(
        "ENG",
        expected(
            received=date(2026, 11, 26),  # Thursday before St Andrew's Day
            day_zero=date(2026, 11, 26),
            information_due=date(2026, 11, 30),
            discussion=date(2026, 12, 1),
            earliest_conference=date(2026, 12, 2),
            conference_target=date(2026, 12, 16),
        ),
        id="ENG-before-st-andrews-day-2026",
    ),
    pytest.param(
        "SCT",
        expected(
            received=date(2026, 11, 26),
            day_zero=date(2026, 11, 26),
            information_due=date(2026, 12, 1),  # Monday 30 November is St Andrew's Day
            discussion=date(2026, 12, 2),
            earliest_conference=date(2026, 12, 3),
            conference_target=date(2026, 12, 17),
        ),
        id="SCT-before-st-andrews-day-2026",
    ),
    pytest.param(
        "ENG",
        expected(
            received=date(2026, 3, 13),  # Friday before St Patrick's Day
            day_zero=date(2026, 3, 13),
            information_due=date(2026, 3, 17),
            discussion=date(2026, 3, 18),
            earliest_conference=date(2026, 3, 19),
            conference_target=date(2026, 4, 2),
        ),
        id="ENG-before-st-patricks-day-2026",
    ),
    pytest.param(
        "NIR",
        expected(
            received=date(2026, 3, 13),
            day_zero=date(2026, 3, 13),
            information_due=date(2026, 3, 18),  # Tuesday 17 March is St Patrick's Day
            discussion=date(2026, 3, 19),
            earliest_conference=date(2026, 3, 20),
            conference_target=date(2026, 4, 7),  # day 14 would be Good Friday; then Easter
        ),
        id="NIR-before-st-patricks-day-2026",
    ),
    pytest.param(
        "NIR",
        expected(
            received=date(2026, 7, 10),  # Friday before the Boyne substitute day
            day_zero=date(2026, 7, 10),
            information_due=date(2026, 7, 15),  # Monday 13 July is not a working day
            discussion=date(2026, 7, 16),
            earliest_conference=date(2026, 7, 17),
            conference_target=date(2026, 7, 31),
        ),
        id="NIR-before-boyne-2026",
    ),
    pytest.param(
        "WLS",
        expected(
            received=date(2027, 3, 25),  # Wales counts like England
            day_zero=date(2027, 3, 25),
            information_due=date(2027, 3, 31),
            discussion=date(2027, 4, 1),
            earliest_conference=date(2027, 4, 2),
            conference_target=date(2027, 4, 16),
        ),
        id="WLS-worked-example",
    ),
]


@pytest.mark.parametrize(("region", "want"), DEADLINE_TABLE)
def test_case_deadlines(region: str, want: CaseDeadlines) -> None:
    assert deadlines(want.received, region) == want


def test_policy_numbers_are_used() -> None:
    policy = DeadlinePolicy(
        information_due_day=1, discussion_day=2, earliest_conference_day=5, conference_target_day=10
    )
    got = case_deadlines(date(2027, 3, 25), calendar("ENG"), policy)
    assert got == expected(
        received=date(2027, 3, 25),
        day_zero=date(2027, 3, 25),
        information_due=date(2027, 3, 30),
        discussion=date(2027, 3, 31),
        earliest_conference=date(2027, 4, 5),
        conference_target=date(2027, 4, 12),
    )


def test_overrides_move_the_deadlines() -> None:
    local_holiday = date(2027, 3, 31)
    cal = WorkingDayCalendar("ENG", extra_holidays=[local_holiday])
    got = case_deadlines(date(2027, 3, 25), cal, DEFAULT_POLICY)
    assert got.information_due == date(2027, 4, 1)
    assert got.conference_target == date(2027, 4, 19)


@given(
    region=st.sampled_from(REGIONS),
    received=st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 12, 31)),
)
def test_deadlines_are_ordered_working_days(region: str, received: date) -> None:
    cal = calendar(region)
    got = case_deadlines(received, cal, DEFAULT_POLICY)
    assert got.received == received
    assert got.day_zero >= received
    assert (
        got.day_zero
        < got.information_due
        < got.discussion
        < got.earliest_conference
        <= got.conference_target
    )
    for day in (
        got.day_zero,
        got.information_due,
        got.discussion,
        got.earliest_conference,
        got.conference_target,
    ):
        assert cal.is_working_day(day)
    assert cal.working_days_between(got.day_zero, got.conference_target) == 14


# --- Choosing the conference ------------------------------------------------------------------

# The worked example: earliest conference Friday 2 April 2027, target Friday 16 April 2027.
WORKED = deadlines(date(2027, 3, 25))


def slot(meeting_id: int, day: date, free_places: int = 18) -> ConferenceSlot:
    return ConferenceSlot(meeting_id=meeting_id, date=day, free_places=free_places)


def test_worked_example_dates_used_below() -> None:
    assert WORKED.earliest_conference == date(2027, 4, 2)
    assert WORKED.conference_target == date(2027, 4, 16)


def test_earliest_slot_with_free_places_is_chosen() -> None:
    choice = choose_conference(
        WORKED, [slot(3, date(2027, 4, 15)), slot(7, date(2027, 4, 8)), slot(5, date(2027, 4, 9))]
    )
    assert choice == ConferenceChoice(
        meeting_id=7, date=date(2027, 4, 8), target=date(2027, 4, 16), breach=False
    )
    assert choice.breach_date is None


def test_slot_on_the_earliest_conference_day_is_allowed() -> None:
    choice = choose_conference(WORKED, [slot(2, date(2027, 4, 9)), slot(1, date(2027, 4, 2))])
    assert (choice.meeting_id, choice.date) == (1, date(2027, 4, 2))


def test_slots_before_working_day_4_are_skipped() -> None:
    too_early = [
        slot(1, date(2027, 3, 25)),  # day 0
        slot(2, date(2027, 3, 31)),  # day 2
        slot(3, date(2027, 4, 1)),  # day 3, the case discussion
    ]
    choice = choose_conference(WORKED, [*too_early, slot(4, date(2027, 4, 6))])
    assert (choice.meeting_id, choice.date, choice.breach) == (4, date(2027, 4, 6), False)


def test_full_slots_are_skipped() -> None:
    choice = choose_conference(
        WORKED,
        [
            slot(1, date(2027, 4, 2), free_places=0),
            slot(2, date(2027, 4, 6), free_places=0),
            slot(3, date(2027, 4, 13), free_places=1),
        ],
    )
    assert (choice.meeting_id, choice.date, choice.breach) == (3, date(2027, 4, 13), False)


def test_slot_on_the_target_day_meets_the_target() -> None:
    choice = choose_conference(WORKED, [slot(9, date(2027, 4, 16))])
    assert (choice.meeting_id, choice.breach, choice.breach_date) == (9, False, None)


def test_slot_after_the_target_is_used_but_breaches_on_the_target_date() -> None:
    choice = choose_conference(
        WORKED, [slot(1, date(2027, 4, 14), free_places=0), slot(2, date(2027, 4, 19))]
    )
    assert choice == ConferenceChoice(
        meeting_id=2, date=date(2027, 4, 19), target=date(2027, 4, 16), breach=True
    )
    assert choice.breach_date == date(2027, 4, 16)


def test_no_slots_at_all_means_unlisted_and_a_breach() -> None:
    choice = choose_conference(WORKED, [])
    assert choice == ConferenceChoice(
        meeting_id=None, date=None, target=date(2027, 4, 16), breach=True
    )
    assert choice.breach_date == date(2027, 4, 16)


def test_only_full_or_early_slots_is_the_same_as_none() -> None:
    choice = choose_conference(
        WORKED, [slot(1, date(2027, 4, 1)), slot(2, date(2027, 4, 8), free_places=0)]
    )
    assert (choice.meeting_id, choice.date, choice.breach) == (None, None, True)
    assert choice.breach_date == WORKED.conference_target


def test_ties_on_the_same_date_go_to_the_lowest_meeting_id() -> None:
    same_day = date(2027, 4, 8)
    choice = choose_conference(WORKED, [slot(9, same_day), slot(4, same_day), slot(6, same_day)])
    assert choice.meeting_id == 4


def test_slots_may_come_from_any_iterable_in_any_order() -> None:
    slots = (s for s in [slot(5, date(2027, 4, 12)), slot(8, date(2027, 4, 7))])
    assert choose_conference(WORKED, slots).meeting_id == 8


# --- The policy itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["information_due_day", "discussion_day", "earliest_conference_day", "conference_target_day"],
)
def test_policy_refuses_negative_numbers(field: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        DeadlinePolicy(**{field: -1})


@pytest.mark.parametrize(
    ("discussion_day", "earliest_conference_day", "conference_target_day"),
    [
        pytest.param(4, 4, 14, id="discussion-on-conference-day"),
        pytest.param(5, 4, 14, id="discussion-after-conference-day"),
        pytest.param(3, 15, 14, id="earliest-conference-after-target"),
    ],
)
def test_policy_refuses_days_out_of_order(
    discussion_day: int, earliest_conference_day: int, conference_target_day: int
) -> None:
    with pytest.raises(ValueError, match="before the earliest conference"):
        DeadlinePolicy(
            discussion_day=discussion_day,
            earliest_conference_day=earliest_conference_day,
            conference_target_day=conference_target_day,
        )


def test_policy_accepts_a_conference_target_equal_to_the_earliest_day() -> None:
    policy = DeadlinePolicy(discussion_day=3, earliest_conference_day=4, conference_target_day=4)
    got = case_deadlines(date(2027, 3, 25), calendar("ENG"), policy)
    assert got.earliest_conference == got.conference_target == date(2027, 4, 2)
