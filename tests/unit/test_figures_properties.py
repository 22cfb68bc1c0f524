"""Properties of the figures on any records (Hypothesis): the order the database sends
records in changes nothing, grouping equal records changes nothing, and the counts of a period
are the counts of its two halves added up."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.actions import ActionStatus
from bot.domain.figure_records import (
    AgreedActions,
    DueActions,
    HarmLink,
    HearingFacts,
    Period,
    ReturnFacts,
    ReviewFacts,
)
from bot.domain.figure_tallies import FigureFacts, facts_of
from bot.domain.figures import compute_figures
from tests.support.figure_world import AGENCIES, CALENDAR, case

START = date(2026, 11, 2)
DAYS = 240
AGENCY_KEYS = [k for k, _ in AGENCIES] + ["probation"]  # one no longer in the directory
PEOPLE = ["p1", "p2", "p3"]

day = st.integers(0, DAYS).map(lambda n: START + timedelta(days=n))
maybe_day = st.none() | day


@st.composite
def facts(draw: st.DrawFn) -> FigureFacts:
    cases = []
    hearings = []
    for case_id in range(1, draw(st.integers(0, 12)) + 1):
        cases.append(
            case(
                case_id,
                draw(day),
                criteria=draw(
                    st.sampled_from(["visible_high_risk", "repeat", "professional_judgement"])
                ),
                referring_agency=draw(st.sampled_from(AGENCY_KEYS)),
                children=draw(st.integers(0, 4)),
                repeat=draw(st.booleans()),
                consent=draw(st.booleans()),
                victim_gender=draw(st.sampled_from(["female", "male", "not_known"])),
                victim_ethnicity=draw(st.sampled_from(["black", "white_other", "asian"])),
                victim_disability=draw(st.sampled_from(["yes", "no"])),
                victim_lgbt=draw(st.sampled_from(["yes", "not_known"])),
                victim_age=draw(st.none() | st.integers(16, 70)),
                perpetrator_age=draw(st.none() | st.integers(14, 70)),
                victim=draw(st.sampled_from(["v1", "v2", "v3"])),
                perpetrator=draw(st.none() | st.sampled_from(PEOPLE)),
                discussion_held_on=draw(maybe_day),
                withdrawn_on=draw(maybe_day),
                perpetrator_focused_plan=draw(st.booleans()),
            )
        )
        for _ in range(draw(st.integers(0, 2))):
            hearings.append(HearingFacts(case_id, draw(day), draw(maybe_day)))
    statuses = st.sampled_from(list(ActionStatus))
    return facts_of(
        cases,
        hearings,
        reviews=tuple(draw(st.lists(st.builds(ReviewFacts, day, st.integers(1, 3)), max_size=5))),
        harm_links=tuple(
            draw(
                st.lists(
                    st.builds(
                        HarmLink, st.sampled_from(PEOPLE), st.sampled_from(["v1", "v4"]), day
                    ),
                    max_size=4,
                )
            )
        ),
        returns=tuple(
            draw(
                st.lists(
                    st.builds(
                        ReturnFacts,
                        st.sampled_from(AGENCY_KEYS),
                        day,
                        day,
                        maybe_day,
                        st.integers(1, 3),
                    ),
                    max_size=10,
                )
            )
        ),
        actions_agreed=tuple(
            draw(st.lists(st.builds(AgreedActions, st.sampled_from(AGENCY_KEYS), day), max_size=6))
        ),
        actions_due=tuple(
            draw(
                st.lists(
                    st.builds(
                        DueActions,
                        st.sampled_from(AGENCY_KEYS),
                        day,
                        statuses,
                        maybe_day,
                        st.integers(1, 3),
                    ),
                    max_size=10,
                )
            )
        ),
        meetings=tuple(draw(st.lists(day, max_size=6, unique=True))),
        agency_names=AGENCIES,
    )


def shuffled(records: FigureFacts, seed: int) -> FigureFacts:
    rng = random.Random(seed)

    def mix(items: tuple[object, ...]) -> tuple[object, ...]:
        items = list(items)
        rng.shuffle(items)
        return tuple(items)

    return replace(
        records,
        referrals=mix(records.referrals),
        conferences=mix(records.conferences),
        timelines=mix(records.timelines),
        discussions=mix(records.discussions),
        reviews=mix(records.reviews),
        harm_links=mix(records.harm_links),
        returns=mix(records.returns),
        actions_agreed=mix(records.actions_agreed),
        actions_due=mix(records.actions_due),
        meetings=mix(records.meetings),
    )  # type: ignore[arg-type]


def ungrouped(records: FigureFacts) -> FigureFacts:
    """Every grouped record as that many single records."""

    def single(items: tuple[T, ...]) -> tuple[T, ...]:
        return tuple(replace(r, count=1) for r in items for _ in range(r.count))  # type: ignore[attr-defined]

    return replace(
        records,
        referrals=single(records.referrals),
        conferences=single(records.conferences),
        timelines=single(records.timelines),
        discussions=single(records.discussions),
        returns=tuple(replace(r, count=1) for r in records.returns for _ in range(r.count)),
        actions_due=tuple(replace(d, count=1) for d in records.actions_due for _ in range(d.count)),
        reviews=tuple(replace(r, count=1) for r in records.reviews for _ in range(r.count)),
    )


T = TypeVar("T")
PERIOD = Period(START + timedelta(days=30), START + timedelta(days=200))
AS_OF = START + timedelta(days=180)


@settings(max_examples=150, deadline=None)
@given(facts(), st.integers(0, 10_000))
def test_the_order_records_arrive_in_changes_no_figure(records: FigureFacts, seed: int) -> None:
    expected = compute_figures(records, PERIOD, AS_OF, CALENDAR, 50_000)
    assert compute_figures(shuffled(records, seed), PERIOD, AS_OF, CALENDAR, 50_000) == expected


@settings(max_examples=100, deadline=None)
@given(facts())
def test_grouping_equal_records_changes_no_figure(records: FigureFacts) -> None:
    assert compute_figures(ungrouped(records), PERIOD, AS_OF, CALENDAR) == compute_figures(
        records, PERIOD, AS_OF, CALENDAR
    )


@settings(max_examples=200, deadline=None)
@given(facts(), st.integers(0, PERIOD.days - 2), st.integers(-40, 60))
def test_the_counts_of_two_halves_add_up_to_the_whole(
    records: FigureFacts, cut: int, report_day: int
) -> None:
    as_of = PERIOD.end + timedelta(days=report_day)
    first, second = PERIOD.split(PERIOD.start + timedelta(days=cut))

    def counts(period: Period) -> Counter[str]:
        return Counter(compute_figures(records, period, as_of, CALENDAR).additive_counts())

    assert counts(first) + counts(second) == counts(PERIOD)
