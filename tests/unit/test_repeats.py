"""Repeat referrals (PRODUCT.md 2): the same victim referred again within 12 months.

The victim is matched on a normalised name and the date of birth. Case, accents, punctuation,
extra spaces and the order of the name's parts must not hide a repeat; two different people
must never be taken for one (the earlier case's agencies are told about the new one). Every
name below is made up.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.repeats import (
    EarlierReferral,
    RepeatRule,
    is_repeat,
    months_before,
    normalise_name,
    same_victim,
)

DOB = date(1990, 5, 17)


# -- normalising names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "Jane Testcase",
        "jane testcase",
        "JANE TESTCASE",
        "  Jane   Testcase  ",
        "Testcase Jane",
        "Testcase, Jane",
        "Jane\tTestcase\n",
        "Jàne Téstcase",
        "JÂNE TESTCÄSE",
    ],
)
def test_case_spaces_accents_punctuation_and_order_do_not_matter(variant: str) -> None:
    assert normalise_name(variant) == normalise_name("Jane Testcase") == "jane testcase"


def test_apostrophes_and_hyphens_as_in_the_module_s_example() -> None:
    assert normalise_name("Jane  O'Test-Case") == normalise_name("o'test case jane")


def test_a_typographic_apostrophe_matches_a_straight_one() -> None:
    """Phones type ’ for ' (smart punctuation): "O’Testname" must still be "O'Testname"."""
    assert normalise_name("Siobhan O’Testname") == normalise_name("Siobhan O'Testname")


def test_accented_letters_fold_to_their_base_letter() -> None:
    assert normalise_name("Zoë Ångström-Núñez") == normalise_name("Zoe Angstrom Nunez")


def test_different_names_stay_different() -> None:
    assert normalise_name("Jane Testcase") != normalise_name("Janet Testcase")
    assert normalise_name("Jane Testcase") != normalise_name("Jane Test Case Smith")


def test_letters_with_a_stroke_are_folded_not_dropped() -> None:
    """ø and ł have no Unicode decomposition; dropping them mangles the name ("Søren" would
    become "s ren") so that "Søren Łukasz" and "Soren Lukasz" no longer match."""
    assert normalise_name("Søren Łukasz") == normalise_name("Soren Lukasz")


def test_a_name_in_a_non_latin_script_is_not_reduced_to_nothing() -> None:
    """Otherwise every victim whose name is written in Cyrillic, Arabic, Chinese… has the same
    (empty) key: all of them "match" each other."""
    assert normalise_name("Мария Иванова") != ""
    assert normalise_name("Мария Иванова") != normalise_name("Анна Петрова")
    assert normalise_name("Мария Иванова") == normalise_name("иванова  мария")


# -- the matching rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dob_a", "dob_b", "name_and_dob", "name_or_dob_missing"),
    [
        (DOB, DOB, True, True),
        (DOB, date(1991, 5, 17), False, False),
        (DOB, None, False, True),
        (None, DOB, False, True),
        (None, None, False, True),
    ],
    ids=["same-dob", "different-dob", "new-dob-missing", "earlier-dob-missing", "both-missing"],
)
def test_same_name_with_each_rule(
    dob_a: date | None, dob_b: date | None, name_and_dob: bool, name_or_dob_missing: bool
) -> None:
    assert (
        same_victim(RepeatRule.NAME_AND_DOB, "Jane Testcase", dob_a, "testcase, JANE", dob_b)
        is name_and_dob
    )
    assert (
        same_victim(RepeatRule.NAME_OR_DOB_MISSING, "Jane Testcase", dob_a, "testcase, JANE", dob_b)
        is name_or_dob_missing
    )


@pytest.mark.parametrize("rule", list(RepeatRule))
@pytest.mark.parametrize("dob_b", [DOB, None])
def test_a_different_name_never_matches(rule: RepeatRule, dob_b: date | None) -> None:
    assert not same_victim(rule, "Jane Testcase", DOB, "Janet Testcase", dob_b)
    assert not same_victim(rule, "Jane Testcase", None, "Mia Otherperson", dob_b)


def test_two_different_victims_named_in_another_script_are_not_one_person() -> None:
    assert not same_victim(
        RepeatRule.NAME_OR_DOB_MISSING, "Мария Иванова", None, "Анна Петрова", None
    )
    assert not same_victim(RepeatRule.NAME_AND_DOB, "李雷", DOB, "Анна Петрова", DOB)


def test_the_rules_are_configured_by_their_names() -> None:
    assert RepeatRule("name_and_dob") is RepeatRule.NAME_AND_DOB
    assert RepeatRule("name_or_dob_missing") is RepeatRule.NAME_OR_DOB_MISSING


# -- months back ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 6, 15), 12, date(2026, 6, 15)),
        (date(2027, 1, 15), 1, date(2026, 12, 15)),
        (date(2027, 3, 10), 0, date(2027, 3, 10)),
        (date(2027, 3, 10), 24, date(2025, 3, 10)),
        (date(2027, 3, 10), 15, date(2025, 12, 10)),
        (date(2027, 5, 31), 3, date(2027, 2, 28)),  # 31 May - 3 = the end of February
        (date(2028, 5, 31), 3, date(2028, 2, 29)),  # ... in a leap year
        (date(2027, 5, 31), 1, date(2027, 4, 30)),
        (date(2027, 3, 31), 1, date(2027, 2, 28)),
        (date(2027, 12, 31), 1, date(2027, 11, 30)),
        (date(2028, 2, 29), 12, date(2027, 2, 28)),  # 29 Feb - 12 months: no 29th
        (date(2028, 2, 29), 48, date(2024, 2, 29)),
        (date(2027, 2, 28), 12, date(2026, 2, 28)),
        (date(2027, 1, 1), 12, date(2026, 1, 1)),
    ],
)
def test_months_before(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


# -- is it a repeat? ------------------------------------------------------------------------


def earlier(received: date) -> EarlierReferral:
    return EarlierReferral(7, "MARAT-2026-0007", received, ("police", "housing"), None)


@pytest.mark.parametrize(
    ("received", "earlier_received", "repeat"),
    [
        (date(2027, 3, 10), date(2027, 3, 10), True),  # the same day
        (date(2027, 3, 10), date(2026, 9, 1), True),
        (date(2027, 3, 10), date(2026, 3, 10), True),  # exactly 12 months: still a repeat
        (date(2027, 3, 10), date(2026, 3, 9), False),  # 12 months and a day: a new referral
        (date(2027, 3, 10), date(2025, 3, 10), False),
        (date(2028, 2, 29), date(2027, 2, 28), True),  # 12 months before 29 Feb
        (date(2028, 2, 29), date(2027, 2, 27), False),
        (date(2027, 5, 31), date(2026, 5, 31), True),
        (date(2027, 5, 31), date(2026, 5, 30), False),
    ],
)
def test_a_repeat_is_within_12_months_of_the_last_referral(
    received: date, earlier_received: date, repeat: bool
) -> None:
    assert is_repeat(received, earlier(earlier_received)) is repeat
