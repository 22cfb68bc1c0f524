"""Every partnership figure in words: its formula and its period rule.

The board paper (`marat report --format md`) prints these as footnotes and the README's
"Partnership figures" section quotes them word for word (tests/unit/test_figure_definitions.py
checks both), so the words and bot/domain/figures.py are the one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Definition:
    """A figure's name as reports show it, and what exactly it counts."""

    key: str
    label: str
    text: str


DEFINITIONS: Final = (
    Definition(
        "heard_within_target",
        "Heard within 14 working days",
        "Cases whose first safety plan was agreed in the period (by the conference date, or "
        "the date agreed when outside a conference), and of those the number agreed on or "
        "before working day 14 counted from day 0. Day 0 is the date the referral was "
        "received, or the next working day when it was received on a weekend or bank holiday.",
    ),
    Definition(
        "days_to_conference",
        "Working days from day 0 to the conference",
        "For the same cases: the working days after day 0 up to and including the day the "
        "first plan was agreed. The median is the middle value (the mean of the two middle "
        "values for an even number of cases); the 90th percentile is the nearest-rank value, "
        "the smallest number of days that at least 90% of cases were heard within.",
    ),
    Definition(
        "waiting_past_target",
        "Waiting past the target",
        "Cases referred in the period with no plan agreed yet although their working day 14 "
        "has passed (withdrawn cases excluded).",
    ),
    Definition(
        "referrals",
        "Referrals",
        "Referrals received in the period (by the date received), withdrawn ones included, "
        "by SafeLives criterion and by referring agency; non-police referrals are those from "
        "any agency other than the police.",
    ),
    Definition(
        "repeats",
        "Repeats",
        "Referrals received in the period that are repeats: the same victim (same normalised "
        "name and date of birth) was referred within the previous 12 months, or the referral "
        "was made under the repeat criterion; the earlier referral may be in an earlier "
        "period.",
    ),
    Definition(
        "children",
        "Children in households",
        "The sum of the children in the household given on each referral received in the period.",
    ),
    Definition(
        "equality",
        "Equality",
        "Of the referrals received in the period: male victims; Black, Asian or racially "
        "minoritised victims (Black, Asian, mixed or multiple, Arab, other ethnic group; not "
        "White British, White other or not known); disabled victims; LGBT+ victims; victims "
        "aged 16 or 17 on the date received; and referrals whose person causing harm was 17 "
        "or under on that date. Each share is of all referrals, not-known answers included.",
    ),
    Definition(
        "discussions_on_day_3",
        "Case discussions held on working day 3",
        "Cases whose working day 3 falls in the period and has passed (or whose discussion is "
        "recorded), withdrawn ones excluded, and of those the number recorded as held by the "
        "end of working day 3. A discussion not recorded by then, or recorded as not held, "
        "counts as missed.",
    ),
    Definition(
        "returns",
        "Information returns",
        "Information requests whose due date (the end of working day 2) falls in the period, "
        "per agency: returned on time (on or before the due date), late (after it), missing "
        "(not returned and the due date has passed) and not yet due. The return rate is "
        "returned (on time or late) of those due by the day of the report; the return time is "
        "the median of the working days from day 0 to the day returned.",
    ),
    Definition(
        "actions",
        "Actions",
        "Per agency: actions agreed in the period (by the date the plan was agreed), and "
        "agreed actions due in the period by outcome: done on time (marked done on or before "
        "the due date), done late, overdue (not done and the due date has passed), not "
        "possible, and not yet due. On time is done on time of done and overdue together.",
    ),
    Definition(
        "perpetrator_focused",
        "Plans with a perpetrator-focused action",
        "Of the first plans agreed in the period, those with at least one agreed action that "
        "addresses the person causing harm.",
    ),
    Definition(
        "reviews",
        "Cases reviewed",
        "Reviews started in the period (a case re-listed because risk was not reduced), "
        "counted each time.",
    ),
    Definition(
        "without_consent",
        "Shared without consent",
        "Referrals received in the period that were shared without the victim's consent (the "
        "reason is recorded with the referral).",
    ),
    Definition(
        "per_10000",
        "Cases per 10,000 adult women",
        "Referrals received in the period × 10,000 ÷ the area's adult female population × "
        "365 ÷ the days in the period (a yearly rate), beside the SafeLives expectation of "
        "about 40 cases a year per 10,000 adult women. Shown only when "
        "MARAT_ADULT_FEMALE_POPULATION is set.",
    ),
    Definition(
        "serial_perpetrators",
        "Serial perpetrators",
        "People causing harm (same normalised name and date of birth) named in a referral "
        "received in the period who have been named, in any referral up to the end of the "
        "period, for harm to two or more different victims. Shown to coordinators only.",
    ),
    Definition(
        "meetings",
        "Conferences (SafeLives return)",
        "One row per conference held in the period: the cases discussed there (plans agreed "
        "at it, a reviewed case counting at each conference that heard it), their repeats, "
        "children, referring agencies and equality counts as above.",
    ),
)

BY_KEY: Final = {d.key: d for d in DEFINITIONS}
