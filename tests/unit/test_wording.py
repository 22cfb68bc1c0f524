"""One style for dates, moments and counts everywhere (cards, notices, the CLI)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.wording import day, moment, plural, verb
from bot.settings import SettingsError, load_settings


def test_a_moment_reads_like_a_day_with_the_london_time() -> None:
    assert moment(datetime(2026, 12, 1, 8, 1, tzinfo=UTC)) == "Tue 1 Dec 2026 08:01"
    # Summer time: the London clock, not UTC.
    assert moment(datetime(2027, 6, 9, 22, 30, tzinfo=UTC)) == "Wed 9 Jun 2027 23:30"
    assert moment(None) == ""
    assert day(date(2027, 4, 1)) == "Thu 1 Apr 2027"


@pytest.mark.parametrize(
    ("count", "one", "many", "expected"),
    [
        (1, "agency", "agencies", "1 agency"),
        (3, "agency", "agencies", "3 agencies"),
        (0, "case", None, "0 cases"),
        (1, "open action", None, "1 open action"),
        (2, "child", "children", "2 children"),
    ],
)
def test_a_count_agrees_with_its_noun(
    count: int, one: str, many: str | None, expected: str
) -> None:
    assert plural(count, one, many) == expected


def test_a_verb_agrees_with_its_count() -> None:
    assert f"1 {verb(1, 'is', 'are')} still missing" == "1 is still missing"
    assert f"2 {verb(2, 'is', 'are')} still missing" == "2 are still missing"


@pytest.mark.parametrize("bad", [0, -1, 400])
def test_a_bad_received_date_age_limit_stops_start_up_naming_the_key(bad: int) -> None:
    with pytest.raises(SettingsError, match="MARAT_RECEIVED_MAX_AGE_DAYS"):
        load_settings(received_max_age_days=bad)
