"""Storage contract of the figures repository, on SQLite and PostgreSQL: the records the
figures read come back from the rows the bot writes, with London dates (June 2027 is on
British Summer Time: 23:30 UTC is already the next day in London), grouped where equal.

Agencies are Police, IDVA service, Housing and Children's Social Care (tests/db/conftest.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from bot.domain.actions import ActionDraft, ActionStatus, ActionUpdate
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.deadlines import ConferenceChoice, DeadlinePolicy, case_deadlines
from bot.domain.directory import Agency
from bot.domain.figure_records import (
    AgreedActions,
    DueActions,
    HarmLink,
    HearingFacts,
    Period,
    ReturnFacts,
    ReviewFacts,
)
from bot.domain.figure_tallies import tally
from bot.domain.identities import SerialPerpetrator
from bot.domain.information import Answer
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import Criteria
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.db_data import ACTOR, CaseMaker, MeetingMaker, full_referral, opened

CALENDAR = WorkingDayCalendar("ENG")
JUNE = Period(date(2027, 6, 1), date(2027, 6, 30))
MONDAY = date(2027, 6, 7)  # day 0; due Wednesday 9 June; day 3 Thursday 10 June


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def a_case(
    create_case: CaseMaker,
    reference: str,
    received: date,
    meeting: tuple[int, date] | None,
    **referral: object,
) -> int:
    deadlines = case_deadlines(received, CALENDAR, DeadlinePolicy())
    choice = (
        ConferenceChoice(meeting[0], meeting[1], deadlines.conference_target, False)
        if meeting
        else ConferenceChoice(None, None, deadlines.conference_target, True)
    )
    values: dict[str, object] = {"received_date": received}
    values.update(referral)
    return await create_case(
        reference,
        full_referral(**values),  # type: ignore[arg-type]
        deadlines,
        choice,
        opened(at=utc(received.year, received.month, received.day, 9)),
    )


async def test_the_records_of_june_come_back_with_london_dates(
    units: SqlUnitOfWorkFactory,
    agencies: dict[str, Agency],
    create_case: CaseMaker,
    add_meeting: MeetingMaker,
) -> None:
    meeting = await add_meeting(date(2027, 6, 17), 18)
    spot = (meeting.id, meeting.date)
    one = await a_case(create_case, "MARAT-2027-0001", MONDAY, spot)
    # Same person causing harm (name written differently), another victim, same dates.
    two = await a_case(
        create_case,
        "MARAT-2027-0002",
        MONDAY,
        spot,
        victim_name="Zia Other",
        perpetrator_name="MADEUP,  bram",
        criteria=Criteria.REPEAT,
        consent=False,
        consent_reason="Synthetic reason.",
        children_count=0,
        victim_dob=date(2010, 6, 8),
        perpetrator_dob=date(1988, 2, 1),
    )
    # Received in May, heard at the June conference: loaded for June's hearings.
    may = await a_case(
        create_case, "MARAT-2027-0003", date(2027, 5, 24), spot, perpetrator_name=None
    )
    async with units() as uow:
        requests = {
            (r.case_id, r.agency_key): r
            for c in (one, two)
            for r in await uow.cases.information_requests(c)
        }
        yes = Answer(True, "Synthetic.", None)
        # Both Police requests answered at 23:30 UTC on the due date: 00:30 on 10 June in
        # London, so late, and grouped as one record of two.
        for case_id in (one, two):
            request = requests[(case_id, "police")]
            await uow.cases.answer_request(request.id, ACTOR, utc(2027, 6, 9, 23, 30), yes, True)
        await uow.cases.answer_request(
            requests[(one, "housing")].id, ACTOR, utc(2027, 6, 8, 12), yes, False
        )
        await uow.cases.record_discussion(one, True, ["police"], None, ACTOR, utc(2027, 6, 10, 11))
        await uow.cases.record_discussion(two, False, [], None, ACTOR, utc(2027, 6, 10, 11))
        # Heard: case one at the conference; case two outside one, on 15 June.
        await uow.cases.set_heard(one, meeting.id, utc(2027, 6, 17, 10))
        await uow.cases.set_heard(two, None, utc(2027, 6, 15, 10))
        await uow.cases.set_heard(may, meeting.id, utc(2027, 6, 18, 8))  # recorded the day after
        focused = await uow.actions.add(
            one,
            ActionDraft("police", "Police to warn the person", date(2027, 6, 24), True),
            ACTOR,
            utc(2027, 6, 17, 10),
        )
        plain = await uow.actions.add(
            two,
            ActionDraft("housing", "Housing to fit locks", date(2027, 6, 24), False),
            ACTOR,
            utc(2027, 6, 15, 10),
        )
        await uow.actions.agree(one, utc(2027, 6, 17, 23, 30))  # 18 June in London
        await uow.commit()
    async with units() as uow:
        await uow.actions.agree(two, utc(2027, 6, 15, 10))
        await uow.actions.add(  # a perpetrator-focused draft that was never agreed
            two,
            ActionDraft("police", "Police to visit", date(2027, 6, 25), True),
            ACTOR,
            utc(2027, 6, 15, 10),
        )
        await uow.actions.record_update(
            focused, ActionUpdate(ActionStatus.DONE, "Done."), ACTOR, utc(2027, 6, 24, 23, 30)
        )
        await uow.actions.record_update(
            plain, ActionUpdate(ActionStatus.IN_PROGRESS, None), ACTOR, utc(2027, 6, 20, 9)
        )
        await uow.cases.change_state(
            may,
            Transition(CaseState.MONITORING, CaseState.REVIEW, ACTOR, utc(2027, 6, 21, 23), "x"),
        )
        await uow.commit()

    async with units() as uow:
        facts = await uow.figures.facts(JUNE)
        case_facts, hearings = await uow.figures.case_facts(JUNE)
        serial = await uow.figures.serial_perpetrator(one)
        not_serial = await uow.figures.serial_perpetrator(may)

    # PostgreSQL counts the cases in SQL, SQLite in Python: both as bot.domain's tally does.
    expected = tally(case_facts, hearings).within(JUNE)
    assert Counter(facts.referrals) == Counter(expected.referrals)
    assert Counter(facts.conferences) == Counter(expected.conferences)
    assert Counter(facts.timelines) == Counter(expected.timelines)
    assert Counter(facts.discussions) == Counter(expected.discussions)
    referred = {(t.field, t.value): t.count for t in facts.referrals if t.received == MONDAY}
    assert referred[("victim_age", "16")] == 1 and referred[("victim_age", "18")] == 1
    assert referred[("agency", "idva-service")] == 2 and referred[("consent", "no")] == 1
    cases = {c.case_id: c for c in case_facts}
    assert set(cases) == {one, two, may}
    first, second = cases[one], cases[two]
    assert (first.received, first.day_zero, first.discussion_day) == (
        MONDAY,
        MONDAY,
        date(2027, 6, 10),
    )
    assert first.target == date(2027, 6, 25)
    assert first.discussion_held_on == date(2027, 6, 10) and second.discussion_held_on is None
    assert first.referring_agency == "idva-service" and first.children == 2
    assert first.victim_age == 37 and first.perpetrator_age == 39
    assert second.victim_age == 16  # born 8 June 2010: 16 on 7 June 2027, a day short of 17
    assert second.repeat and not second.consent  # the repeat criterion, no consent
    assert first.perpetrator == second.perpetrator == "bram madeup|1988-02-01"
    assert first.victim != second.victim
    assert cases[may].perpetrator is None
    assert first.perpetrator_focused_plan and not second.perpetrator_focused_plan
    assert sorted(hearings, key=lambda h: h.case_id) == [
        HearingFacts(one, date(2027, 6, 17), date(2027, 6, 17)),
        HearingFacts(two, date(2027, 6, 15), None),
        HearingFacts(may, date(2027, 6, 17), date(2027, 6, 17)),  # the conference's day
    ]
    assert ReturnFacts("police", MONDAY, date(2027, 6, 9), date(2027, 6, 10), 2) in facts.returns
    assert ReturnFacts("housing", MONDAY, date(2027, 6, 9), date(2027, 6, 8), 1) in facts.returns
    assert ReturnFacts("housing", MONDAY, date(2027, 6, 9), None, 1) in facts.returns
    assert sum(r.count for r in facts.returns) == 6  # Police, IDVA and Housing for two cases
    assert sorted(facts.actions_agreed, key=lambda a: a.agency) == [
        AgreedActions("housing", date(2027, 6, 15), 1),
        AgreedActions("police", date(2027, 6, 18), 1),
    ]
    assert sorted(facts.actions_due, key=lambda a: a.agency) == [
        DueActions("housing", date(2027, 6, 24), ActionStatus.IN_PROGRESS, None, 1),
        DueActions("police", date(2027, 6, 24), ActionStatus.DONE, date(2027, 6, 25), 1),
    ]
    assert facts.reviews == (ReviewFacts(date(2027, 6, 22), 1),)  # 23:00 UTC is midnight BST
    assert facts.meetings == (date(2027, 6, 17),)
    assert sorted(facts.harm_links, key=lambda h: h.victim) == sorted(
        [
            HarmLink("bram madeup|1988-02-01", first.victim or "", MONDAY),
            HarmLink("bram madeup|1988-02-01", second.victim or "", MONDAY),
        ],
        key=lambda h: h.victim,
    )
    assert [k for k, _ in facts.agency_names] == list(agencies)
    assert serial == SerialPerpetrator(1, ("MARAT-2027-0002",))
    assert not_serial is None


async def test_a_period_with_nothing_in_it_loads_nothing(
    units: SqlUnitOfWorkFactory, agencies: dict[str, Agency], create_case: CaseMaker
) -> None:
    await a_case(create_case, "MARAT-2027-0001", MONDAY, None)
    async with units() as uow:
        facts = await uow.figures.facts(Period(date(2027, 8, 1), date(2027, 8, 31)))
        assert await uow.figures.referrals_received(date(2027, 6, 1), date(2027, 6, 7)) == 1
        assert await uow.figures.referrals_received(date(2027, 6, 8), date(2027, 6, 30)) == 0
        assert await uow.figures.first_referral() == MONDAY
    assert (facts.referrals, facts.timelines, facts.returns, facts.actions_due) == ((), (), (), ())
