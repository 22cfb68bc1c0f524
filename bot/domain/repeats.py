"""Repeat referrals: the same victim referred again within 12 months of the last referral.

Matching is on a normalised name and the date of birth. Names are normalised so that case,
accents, punctuation, extra spaces and the order of the parts do not hide a repeat
("Jane  O'Test-Case" = "o'test case jane"). The rule is configurable because areas differ:
``name_and_dob`` (default) needs both dates of birth to be known and equal; ``name_or_dob_missing``
also matches on the name alone when either date of birth is missing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

REPEAT_WINDOW_MONTHS: Final = 12


class RepeatRule(StrEnum):
    NAME_AND_DOB = "name_and_dob"
    NAME_OR_DOB_MISSING = "name_or_dob_missing"


# Letters that Unicode does not decompose into a base letter and a mark.
_FOLD = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ı": "i"}
)
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`\u00b4]")


def normalise_name(name: str) -> str:
    """Case, accents, apostrophes, punctuation, spacing and word order do not matter; letters
    of any script are kept (a name in another script must not normalise to nothing)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)
    parts = re.findall(r"[^\W_]+", _APOSTROPHES.sub("", letters))
    return " ".join(sorted(parts))


def same_victim(
    rule: RepeatRule, name_a: str, dob_a: date | None, name_b: str, dob_b: date | None
) -> bool:
    if normalise_name(name_a) != normalise_name(name_b):
        return False
    if dob_a is not None and dob_b is not None:
        return dob_a == dob_b
    return rule is RepeatRule.NAME_OR_DOB_MISSING


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (clamped to the month's end: 31 May - 3 = 28/29 Feb)."""
    year, month = divmod(day.month - 1 - months, 12)
    year += day.year
    month += 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate_day)
        except ValueError:
            continue
    raise ValueError("unreachable")


@dataclass(frozen=True)
class EarlierReferral:
    case_id: int
    reference: str
    received: date
    agencies: tuple[str, ...]
    last_heard: date | None


def is_repeat(received: date, earlier: EarlierReferral) -> bool:
    """Within 12 months of the last referral (after that it is a new referral)."""
    return earlier.received >= months_before(received, REPEAT_WINDOW_MONTHS)
