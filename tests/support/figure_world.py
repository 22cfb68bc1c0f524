"""A synthetic quarter of MARAT records whose every figure is worked out by hand in
tests/unit/test_figures.py: the first quarter of 2027 (Friday 1 January and Good Friday 26 and
Easter Monday 29 March are bank holidays in England), reported on Monday 12 April 2027.

Eight cases (ids 1-8), conferences on Thursdays 7, 14 and 21 January, 4 March, 25 March (the
week of Good Friday) and 8 April. Every date is synthetic, every person fictional.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from bot.domain.actions import ActionStatus
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.deadlines import DeadlinePolicy, case_deadlines
from bot.domain.figure_records import (
    AgreedActions,
    CaseFacts,
    DueActions,
    HarmLink,
    HearingFacts,
    Period,
    ReturnFacts,
    ReviewFacts,
)
from bot.domain.figure_tallies import facts_of

CALENDAR = WorkingDayCalendar("ENG")
Q1 = Period(date(2027, 1, 1), date(2027, 3, 31))
AS_OF = date(2027, 4, 12)
AGENCIES = (
    ("police", "Police"),
    ("idva-service", "IDVA service"),
    ("housing", "Housing"),
    ("children-s-social-care", "Children's Social Care"),
)
V1, V2, V3 = "ada example|1990-05-17", "bo example|2009-07-01", "cy example|1986-03-03"
P1, P2 = "dan madeup|1988-02-01", "eli madeup|2009-11-11"


def case(case_id: int, received: date, **values: Any) -> CaseFacts:
    """A case received on ``received``, its working-day dates from the real deadline rules."""
    d = case_deadlines(received, CALENDAR, DeadlinePolicy())
    facts = CaseFacts(
        case_id=case_id,
        received=received,
        day_zero=d.day_zero,
        discussion_day=d.discussion,
        target=d.conference_target,
        criteria="visible_high_risk",
        referring_agency="police",
        children=0,
        repeat=False,
        consent=True,
        victim_gender="female",
        victim_ethnicity="white_british",
        victim_disability="no",
        victim_lgbt="no",
        victim_age=35,
        perpetrator_age=30,
        victim=None,
        perpetrator=None,
        discussion_held_on=None,
        withdrawn_on=None,
        perpetrator_focused_plan=False,
    )
    return replace(facts, **values)


CASES = (
    # Received on Christmas Day (a bank holiday): day 0 is Tuesday 29 December.
    case(
        1,
        date(2026, 12, 25),
        children=2,
        victim=V1,
        perpetrator=P1,
        discussion_held_on=date(2027, 1, 4),
        perpetrator_focused_plan=True,
    ),
    case(
        2,
        date(2027, 1, 4),
        criteria="professional_judgement",
        referring_agency="idva-service",
        consent=False,
        victim_gender="male",
        victim_ethnicity="black",
        victim_disability="yes",
        victim_lgbt="yes",
        victim_age=17,
        perpetrator_age=17,
        victim=V2,
        perpetrator=P2,
        discussion_held_on=date(2027, 1, 8),
    ),
    # The same victim as case 1 within 12 months: a repeat, the earlier case in 2026.
    case(
        3,
        date(2027, 3, 1),
        criteria="potential_escalation",
        children=1,
        repeat=True,
        victim=V1,
        perpetrator=P1,
    ),
    # The person causing harm of cases 1 and 3, with another victim: a serial perpetrator.
    case(
        4,
        date(2027, 2, 10),
        referring_agency="housing",
        children=3,
        victim_ethnicity="asian",
        victim_age=40,
        victim=V3,
        perpetrator=P1,
        discussion_held_on=date(2027, 2, 15),
        perpetrator_focused_plan=True,
    ),
    case(
        5,
        date(2027, 3, 15),
        criteria="professional_judgement",
        victim_gender="not_known",
        victim_ethnicity="not_known",
        withdrawn_on=date(2027, 3, 16),
    ),
    # Still open at the end of the quarter, its target in April.
    case(
        6,
        date(2027, 3, 25),
        referring_agency="children-s-social-care",
        children=4,
        victim_ethnicity="white_other",
        victim_age=16,
        perpetrator_age=None,
    ),
    # Past its target on 30 March with no plan.
    case(7, date(2027, 3, 8), victim_ethnicity="mixed", discussion_held_on=date(2027, 3, 11)),
    # Heard in December, reviewed in February, heard again on 4 March.
    case(8, date(2026, 12, 14), children=1, discussion_held_on=date(2026, 12, 17)),
)
HEARINGS = (
    HearingFacts(1, date(2027, 1, 14), date(2027, 1, 14)),
    HearingFacts(2, date(2027, 1, 21), date(2027, 1, 21)),
    HearingFacts(3, date(2027, 3, 25), date(2027, 3, 25)),
    HearingFacts(4, date(2027, 2, 17), None),  # agreed outside a conference
    HearingFacts(8, date(2026, 12, 23), date(2026, 12, 23)),
    HearingFacts(8, date(2027, 3, 4), date(2027, 3, 4)),
)
RETURNS = (
    ReturnFacts("police", date(2026, 12, 29), date(2026, 12, 31), date(2026, 12, 31)),
    ReturnFacts("police", date(2027, 1, 4), date(2027, 1, 6), date(2027, 1, 6)),
    ReturnFacts("police", date(2027, 3, 1), date(2027, 3, 3), date(2027, 3, 5)),
    ReturnFacts("police", date(2027, 3, 8), date(2027, 3, 10), None),
    ReturnFacts("police", date(2027, 3, 25), date(2027, 3, 31), None),
    ReturnFacts("housing", date(2027, 2, 10), date(2027, 2, 12), date(2027, 2, 11)),
    ReturnFacts("housing", date(2027, 1, 4), date(2027, 1, 6), date(2027, 1, 7)),
    ReturnFacts("idva-service", date(2027, 1, 4), date(2027, 1, 6), date(2027, 1, 5)),
    ReturnFacts("idva-service", date(2027, 3, 1), date(2027, 3, 3), date(2027, 3, 3), count=3),
)
AGREED = (
    AgreedActions("police", date(2027, 1, 14), 2),
    AgreedActions("housing", date(2027, 1, 14)),
    AgreedActions("police", date(2027, 2, 17)),
    AgreedActions("idva-service", date(2026, 12, 23)),
    AgreedActions("housing", date(2027, 3, 25)),
)
DONE, NOT_POSSIBLE = ActionStatus.DONE, ActionStatus.NOT_POSSIBLE
DUE = (
    DueActions("police", date(2027, 1, 28), DONE, date(2027, 1, 27)),
    DueActions("police", date(2027, 1, 28), DONE, date(2027, 2, 2)),
    DueActions("police", date(2027, 2, 24), ActionStatus.IN_PROGRESS, None),
    DueActions("housing", date(2027, 2, 3), NOT_POSSIBLE, date(2027, 2, 1)),
    DueActions("housing", date(2027, 3, 31), ActionStatus.OPEN, None),
    DueActions("idva-service", date(2027, 3, 10), DONE, date(2027, 3, 10), count=2),
    DueActions("police", date(2027, 4, 14), ActionStatus.OPEN, None),
)
MEETINGS = tuple(date(2027, m, d) for m, d in ((1, 7), (1, 14), (1, 21), (3, 4), (3, 25), (4, 8)))
FACTS = facts_of(
    CASES,
    HEARINGS,
    reviews=(ReviewFacts(date(2026, 12, 20)), ReviewFacts(date(2027, 2, 22))),
    harm_links=(
        HarmLink(P1, V1, date(2026, 12, 25)),
        HarmLink(P1, V1, date(2027, 3, 1)),
        HarmLink(P1, V3, date(2027, 2, 10)),
        HarmLink(P2, V2, date(2027, 1, 4)),
    ),
    returns=RETURNS,
    actions_agreed=AGREED,
    actions_due=DUE,
    meetings=MEETINGS,
    agency_names=AGENCIES,
)
