"""Specification of the working-day calendar that every MARAT deadline is counted in.

A working day is a weekday that is not a bank holiday of the configured UK region (``holidays``
country GB with a subdivision), adjusted by an override list for one-off holidays.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.calendar import REGIONS, WorkingDayCalendar

# The government's published list (the bank-holidays.json feed, snapshot of August 2025,
# Open Government Licence), kept in the repository so the test needs nothing beside it.
GOV_UK_BANK_HOLIDAYS = Path(__file__).parent / "data" / "gov-uk-bank-holidays-2024-2027.json"
GOV_UK_DIVISION = {
    "ENG": "england-and-wales",
    "WLS": "england-and-wales",
    "SCT": "scotland",
    "NIR": "northern-ireland",
}
# A one-off Scottish bank holiday announced after the gov.uk snapshot was taken; the installed
# ``holidays`` package (0.109) already knows it (see tests/unit/data).
SCOTLAND_WORLD_CUP_HOLIDAY = date(2026, 6, 15)


@cache
def calendar(region: str) -> WorkingDayCalendar:
    """One calendar per region without overrides, shared because it is immutable."""
    return WorkingDayCalendar(region)


def days(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last`` inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def gov_uk_bank_holidays(region: str) -> set[date]:
    """The gov.uk published bank holidays of the region's division, read from the fixture."""
    if not GOV_UK_BANK_HOLIDAYS.is_file():
        pytest.fail(
            f"The gov.uk bank-holiday fixture is missing: expected {GOV_UK_BANK_HOLIDAYS} "
            "(it is part of the repository: tests/unit/data)."
        )
    feed = json.loads(GOV_UK_BANK_HOLIDAYS.read_text(encoding="utf-8"))
    events = feed[GOV_UK_DIVISION[region]]["events"]
    return {date.fromisoformat(event["date"]) for event in events}


# --- Table: which dates are working days -------------------------------------------------------

WORKING = True
NOT_WORKING = False

CALENDAR_TABLE = [
    # Christmas and New Year 2026-27: Boxing Day is a Saturday, so Monday 28 Dec is the substitute.
    pytest.param("ENG", date(2026, 12, 24), WORKING, id="ENG-christmas-eve-2026-thursday"),
    pytest.param("ENG", date(2026, 12, 25), NOT_WORKING, id="ENG-christmas-day-2026"),
    pytest.param("ENG", date(2026, 12, 26), NOT_WORKING, id="ENG-boxing-day-2026-saturday"),
    pytest.param("ENG", date(2026, 12, 28), NOT_WORKING, id="ENG-boxing-day-substitute-2026"),
    pytest.param("ENG", date(2026, 12, 29), WORKING, id="ENG-29-dec-2026"),
    pytest.param("ENG", date(2026, 12, 31), WORKING, id="ENG-new-years-eve-2026"),
    pytest.param("ENG", date(2027, 1, 1), NOT_WORKING, id="ENG-new-years-day-2027"),
    pytest.param("ENG", date(2027, 1, 4), WORKING, id="ENG-4-jan-2027"),
    # Christmas 2027 falls on a weekend: both substitutes, Monday 27 and Tuesday 28 Dec.
    pytest.param("ENG", date(2027, 12, 24), WORKING, id="ENG-christmas-eve-2027-friday"),
    pytest.param("ENG", date(2027, 12, 27), NOT_WORKING, id="ENG-christmas-substitute-2027"),
    pytest.param("ENG", date(2027, 12, 28), NOT_WORKING, id="ENG-boxing-day-substitute-2027"),
    pytest.param("ENG", date(2027, 12, 29), WORKING, id="ENG-29-dec-2027"),
    # Easter 2026 and 2027.
    pytest.param("ENG", date(2026, 4, 2), WORKING, id="ENG-maundy-thursday-2026"),
    pytest.param("ENG", date(2026, 4, 3), NOT_WORKING, id="ENG-good-friday-2026"),
    pytest.param("ENG", date(2026, 4, 6), NOT_WORKING, id="ENG-easter-monday-2026"),
    pytest.param("ENG", date(2026, 4, 7), WORKING, id="ENG-easter-tuesday-2026"),
    pytest.param("ENG", date(2027, 3, 26), NOT_WORKING, id="ENG-good-friday-2027"),
    pytest.param("ENG", date(2027, 3, 29), NOT_WORKING, id="ENG-easter-monday-2027"),
    pytest.param("ENG", date(2027, 3, 30), WORKING, id="ENG-easter-tuesday-2027"),
    # Weekends, and ordinary weekdays.
    pytest.param("ENG", date(2026, 3, 28), NOT_WORKING, id="ENG-saturday"),
    pytest.param("ENG", date(2026, 3, 29), NOT_WORKING, id="ENG-sunday"),
    pytest.param("ENG", date(2026, 3, 30), WORKING, id="ENG-monday"),
    pytest.param("ENG", date(2026, 3, 27), WORKING, id="ENG-friday"),
    pytest.param("ENG", date(2026, 8, 31), NOT_WORKING, id="ENG-late-summer-bank-holiday"),
    pytest.param("ENG", date(2026, 8, 3), WORKING, id="ENG-3-aug-2026-not-a-holiday"),
    pytest.param("ENG", date(2026, 11, 30), WORKING, id="ENG-st-andrews-day-not-a-holiday"),
    pytest.param("ENG", date(2026, 1, 2), WORKING, id="ENG-2-jan-not-a-holiday"),
    pytest.param("ENG", date(2026, 3, 17), WORKING, id="ENG-st-patricks-day-not-a-holiday"),
    pytest.param("ENG", date(2026, 7, 13), WORKING, id="ENG-13-jul-2026-not-a-holiday"),
    # Wales has the same bank holidays as England.
    pytest.param("WLS", date(2026, 12, 28), NOT_WORKING, id="WLS-boxing-day-substitute-2026"),
    pytest.param("WLS", date(2026, 4, 6), NOT_WORKING, id="WLS-easter-monday-2026"),
    pytest.param("WLS", date(2026, 8, 31), NOT_WORKING, id="WLS-late-summer-bank-holiday"),
    pytest.param("WLS", date(2026, 8, 3), WORKING, id="WLS-3-aug-2026-not-a-holiday"),
    pytest.param("WLS", date(2026, 11, 30), WORKING, id="WLS-st-andrews-day-not-a-holiday"),
    pytest.param("WLS", date(2026, 3, 17), WORKING, id="WLS-st-patricks-day-not-a-holiday"),
    # Scotland: 2 January, St Andrew's Day, first Monday of August; no Easter Monday.
    pytest.param("SCT", date(2026, 1, 2), NOT_WORKING, id="SCT-2-jan-2026"),
    pytest.param("SCT", date(2027, 1, 4), NOT_WORKING, id="SCT-2-jan-2027-substitute-monday"),
    pytest.param("SCT", date(2026, 11, 30), NOT_WORKING, id="SCT-st-andrews-day-2026"),
    pytest.param("SCT", date(2026, 8, 3), NOT_WORKING, id="SCT-summer-bank-holiday-2026"),
    pytest.param("SCT", date(2026, 8, 31), WORKING, id="SCT-31-aug-2026-not-a-holiday"),
    pytest.param("SCT", date(2026, 4, 3), NOT_WORKING, id="SCT-good-friday-2026"),
    pytest.param("SCT", date(2026, 4, 6), WORKING, id="SCT-easter-monday-2026-working"),
    pytest.param("SCT", date(2027, 3, 29), WORKING, id="SCT-easter-monday-2027-working"),
    pytest.param("SCT", date(2026, 12, 28), NOT_WORKING, id="SCT-boxing-day-substitute-2026"),
    pytest.param("SCT", date(2027, 12, 27), NOT_WORKING, id="SCT-christmas-substitute-2027"),
    pytest.param("SCT", date(2026, 3, 17), WORKING, id="SCT-st-patricks-day-not-a-holiday"),
    # Northern Ireland: St Patrick's Day and the Battle of the Boyne (12 July 2026 is a Sunday,
    # so Monday 13 July is the substitute).
    pytest.param("NIR", date(2026, 3, 17), NOT_WORKING, id="NIR-st-patricks-day-2026"),
    pytest.param("NIR", date(2027, 3, 17), NOT_WORKING, id="NIR-st-patricks-day-2027"),
    pytest.param("NIR", date(2026, 7, 13), NOT_WORKING, id="NIR-boyne-substitute-2026"),
    pytest.param("NIR", date(2026, 7, 14), WORKING, id="NIR-14-jul-2026"),
    pytest.param("NIR", date(2027, 7, 12), NOT_WORKING, id="NIR-boyne-2027-monday"),
    pytest.param("NIR", date(2026, 4, 6), NOT_WORKING, id="NIR-easter-monday-2026"),
    pytest.param("NIR", date(2026, 8, 31), NOT_WORKING, id="NIR-late-summer-bank-holiday"),
    pytest.param("NIR", date(2026, 1, 2), WORKING, id="NIR-2-jan-not-a-holiday"),
    pytest.param("NIR", date(2026, 11, 30), WORKING, id="NIR-st-andrews-day-not-a-holiday"),
]


@pytest.mark.parametrize(("region", "day", "working"), CALENDAR_TABLE)
def test_is_working_day(region: str, day: date, working: bool) -> None:
    assert calendar(region).is_working_day(day) is working


def test_default_region_is_england() -> None:
    default = WorkingDayCalendar()
    assert default.region == "ENG"
    assert not default.is_working_day(date(2026, 4, 6))  # Easter Monday, not a Scottish holiday
    assert default.is_working_day(date(2026, 11, 30))  # St Andrew's Day, a Scottish holiday


def test_holiday_name_explains_a_bank_holiday() -> None:
    assert calendar("ENG").holiday_name(date(2026, 12, 28)) == "Boxing Day (observed)"
    assert calendar("NIR").holiday_name(date(2026, 7, 13)) == "Battle of the Boyne (observed)"
    assert calendar("ENG").holiday_name(date(2026, 12, 29)) is None


# --- The gov.uk published list ----------------------------------------------------------------

FIXTURE_YEARS = days(date(2024, 1, 1), date(2027, 12, 31))
FIXTURE_WEEKDAYS = [day for day in FIXTURE_YEARS if day.weekday() < 5]


def non_working_weekdays(region: str) -> set[date]:
    cal = calendar(region)
    return {day for day in FIXTURE_WEEKDAYS if not cal.is_working_day(day)}


@pytest.mark.parametrize("region", ["ENG", "WLS", "NIR"])
def test_non_working_weekdays_are_exactly_the_gov_uk_bank_holidays(region: str) -> None:
    published = gov_uk_bank_holidays(region)
    assert all(day.weekday() < 5 for day in published), "gov.uk lists weekdays only"
    assert non_working_weekdays(region) == published


def test_scotland_is_the_gov_uk_list_plus_the_one_off_holiday_announced_since() -> None:
    published = gov_uk_bank_holidays("SCT")
    assert SCOTLAND_WORLD_CUP_HOLIDAY not in published
    assert non_working_weekdays("SCT") == published | {SCOTLAND_WORLD_CUP_HOLIDAY}


def test_override_can_restore_scotland_to_the_gov_uk_snapshot() -> None:
    as_published = WorkingDayCalendar("SCT", extra_working_days=[SCOTLAND_WORLD_CUP_HOLIDAY])
    non_working = {day for day in FIXTURE_WEEKDAYS if not as_published.is_working_day(day)}
    assert non_working == gov_uk_bank_holidays("SCT")


@pytest.mark.parametrize("region", REGIONS)
def test_weekends_are_never_working_days(region: str) -> None:
    cal = calendar(region)
    weekends = [day for day in FIXTURE_YEARS if day.weekday() >= 5]
    assert not any(cal.is_working_day(day) for day in weekends)


# --- Overrides --------------------------------------------------------------------------------


def test_extra_holiday_makes_a_weekday_non_working() -> None:
    local_holiday = date(2026, 6, 17)  # a Wednesday
    assert calendar("ENG").is_working_day(local_holiday)
    cal = WorkingDayCalendar("ENG", extra_holidays=[local_holiday])
    assert not cal.is_working_day(local_holiday)
    assert cal.holiday_name(local_holiday) == "Local holiday"
    assert cal.is_working_day(local_holiday + timedelta(days=1))


def test_extra_holiday_moves_the_counting() -> None:
    wednesday = date(2026, 6, 17)
    cal = WorkingDayCalendar("ENG", extra_holidays=[wednesday])
    assert cal.add_working_days(date(2026, 6, 16), 1) == date(2026, 6, 18)
    assert cal.day_zero(wednesday) == date(2026, 6, 18)


def test_extra_working_day_makes_a_bank_holiday_working() -> None:
    easter_monday = date(2026, 4, 6)
    cal = WorkingDayCalendar("ENG", extra_working_days=[easter_monday])
    assert cal.is_working_day(easter_monday)
    assert cal.add_working_days(date(2026, 4, 2), 1) == easter_monday


def test_extra_working_day_makes_a_weekend_day_working() -> None:
    saturday = date(2026, 3, 28)
    cal = WorkingDayCalendar("ENG", extra_working_days=[saturday])
    assert cal.is_working_day(saturday)
    assert not cal.is_working_day(saturday + timedelta(days=1))


def test_overrides_accept_any_iterable() -> None:
    wednesday = date(2026, 6, 17)
    cal = WorkingDayCalendar("ENG", extra_holidays=(d for d in [wednesday]))
    assert not cal.is_working_day(wednesday)


@pytest.mark.parametrize("region", ["eng", "GB", "England", "", "UK"])
def test_unknown_region_is_refused(region: str) -> None:
    with pytest.raises(ValueError, match="region must be one of ENG, WLS, SCT, NIR"):
        WorkingDayCalendar(region)


# --- Day 0 ------------------------------------------------------------------------------------

DAY_ZERO_TABLE = [
    pytest.param("ENG", date(2026, 3, 26), date(2026, 3, 26), id="thursday-stays"),
    pytest.param("ENG", date(2026, 3, 27), date(2026, 3, 27), id="friday-stays"),
    pytest.param("ENG", date(2026, 3, 28), date(2026, 3, 30), id="saturday-to-monday"),
    pytest.param("ENG", date(2026, 3, 29), date(2026, 3, 30), id="sunday-to-monday"),
    pytest.param("ENG", date(2026, 4, 3), date(2026, 4, 7), id="good-friday-to-tuesday"),
    pytest.param("SCT", date(2026, 4, 3), date(2026, 4, 6), id="SCT-good-friday-to-monday"),
    pytest.param("ENG", date(2026, 12, 25), date(2026, 12, 29), id="christmas-2026-to-29-dec"),
    pytest.param("ENG", date(2026, 12, 26), date(2026, 12, 29), id="boxing-day-2026-to-29-dec"),
    pytest.param("ENG", date(2027, 1, 1), date(2027, 1, 4), id="new-year-2027-to-4-jan"),
    pytest.param("SCT", date(2027, 1, 1), date(2027, 1, 5), id="SCT-new-year-2027-to-5-jan"),
    pytest.param("NIR", date(2026, 7, 11), date(2026, 7, 14), id="NIR-boyne-weekend-2026"),
    pytest.param("ENG", date(2026, 7, 11), date(2026, 7, 13), id="ENG-same-weekend-2026"),
]


@pytest.mark.parametrize(("region", "received", "expected"), DAY_ZERO_TABLE)
def test_day_zero(region: str, received: date, expected: date) -> None:
    assert calendar(region).day_zero(received) == expected


def test_previous_working_day_goes_back_over_holidays() -> None:
    cal = calendar("ENG")
    assert cal.previous_working_day(date(2026, 12, 29)) == date(2026, 12, 29)
    assert cal.previous_working_day(date(2026, 12, 28)) == date(2026, 12, 24)
    assert cal.previous_working_day(date(2026, 4, 6)) == date(2026, 4, 2)


# --- Counting working days --------------------------------------------------------------------

ADD_TABLE = [
    pytest.param("ENG", date(2026, 12, 24), 1, date(2026, 12, 29), id="over-christmas-2026"),
    pytest.param("ENG", date(2026, 12, 31), 1, date(2027, 1, 4), id="over-new-year-2027"),
    pytest.param("SCT", date(2026, 12, 31), 1, date(2027, 1, 5), id="SCT-over-new-year-2027"),
    pytest.param("ENG", date(2027, 12, 24), 1, date(2027, 12, 29), id="over-christmas-2027"),
    pytest.param("ENG", date(2026, 4, 2), 1, date(2026, 4, 7), id="over-easter-2026"),
    pytest.param("ENG", date(2026, 4, 7), -1, date(2026, 4, 2), id="back-over-easter-2026"),
    pytest.param("ENG", date(2026, 3, 27), 0, date(2026, 3, 27), id="zero"),
    pytest.param("ENG", date(2026, 3, 23), 5, date(2026, 3, 30), id="a-week"),
    pytest.param("NIR", date(2026, 7, 10), 1, date(2026, 7, 14), id="NIR-over-boyne-2026"),
]


@pytest.mark.parametrize(("region", "start", "count", "expected"), ADD_TABLE)
def test_add_working_days(region: str, start: date, count: int, expected: date) -> None:
    cal = calendar(region)
    assert cal.add_working_days(start, count) == expected
    assert cal.working_days_between(start, expected) == count


def test_add_working_days_refuses_to_count_from_a_non_working_day() -> None:
    with pytest.raises(ValueError, match="working day"):
        calendar("ENG").add_working_days(date(2026, 3, 28), 1)


def test_working_days_between_counts_after_start_up_to_and_including_end() -> None:
    cal = calendar("ENG")
    assert cal.working_days_between(date(2026, 3, 27), date(2026, 3, 27)) == 0
    assert cal.working_days_between(date(2026, 3, 27), date(2026, 3, 29)) == 0  # weekend
    assert cal.working_days_between(date(2026, 3, 27), date(2026, 3, 30)) == 1
    assert cal.working_days_between(date(2026, 3, 30), date(2026, 3, 27)) == -1
    assert cal.working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 4


# --- Properties -------------------------------------------------------------------------------

regions = st.sampled_from(REGIONS)
any_day = st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 12, 31))
counts = st.integers(min_value=0, max_value=40)


@given(region=regions, day=any_day, count=counts)
def test_adding_working_days_always_lands_on_a_working_day(
    region: str, day: date, count: int
) -> None:
    cal = calendar(region)
    start = cal.next_working_day(day)
    assert cal.is_working_day(cal.add_working_days(start, count))
    assert cal.is_working_day(cal.add_working_days(start, -count))


@given(region=regions, day=any_day, count=counts)
def test_forwards_then_back_returns_to_the_start(region: str, day: date, count: int) -> None:
    cal = calendar(region)
    start = cal.next_working_day(day)
    assert cal.add_working_days(cal.add_working_days(start, count), -count) == start


@given(region=regions, day=any_day, count=counts)
def test_working_days_between_inverts_add_working_days(region: str, day: date, count: int) -> None:
    cal = calendar(region)
    start = cal.next_working_day(day)
    assert cal.working_days_between(start, cal.add_working_days(start, count)) == count
    assert cal.working_days_between(start, cal.add_working_days(start, -count)) == -count


@given(region=regions, day=any_day, count=counts)
def test_adding_more_working_days_lands_strictly_later(region: str, day: date, count: int) -> None:
    cal = calendar(region)
    start = cal.next_working_day(day)
    assert cal.add_working_days(start, count) < cal.add_working_days(start, count + 1)


@given(region=regions, day=any_day)
def test_day_zero_is_the_first_working_day_on_or_after_receipt(region: str, day: date) -> None:
    cal = calendar(region)
    day0 = cal.day_zero(day)
    assert day0 >= day
    assert cal.is_working_day(day0)
    assert all(not cal.is_working_day(d) for d in days(day, day0 - timedelta(days=1)))
    assert (day0 == day) is cal.is_working_day(day)
