"""Storage contract of the case repository, on SQLite and PostgreSQL (the ``engine`` fixture).

Two things have no repository method yet, so these tests write them through the unit of
work's session: answering an information request (``InformationRequestRow.answered_at``) and
recording a later state transition (``TransitionRow``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.domain.cases import Listing
from bot.domain.directory import Agency
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import Referral
from storage.models import InformationRequestRow, TransitionRow
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.db_data import (
    ACTOR,
    AT,
    OTHER_ACTOR,
    CaseMaker,
    MeetingMaker,
    deadlines,
    full_referral,
    listed_at,
    opened,
    sparse_referral,
    unlisted,
)

LONDON = ZoneInfo("Europe/London")


# -- references ------------------------------------------------------------------------------


async def test_next_reference_counts_per_year_and_restarts_each_year(
    units: SqlUnitOfWorkFactory,
) -> None:
    async with units() as uow:
        first = [await uow.cases.next_reference("MARAT", 2027) for _ in range(3)]
        other_year = await uow.cases.next_reference("MARAT", 2028)
        await uow.commit()
    assert first == ["MARAT-2027-0001", "MARAT-2027-0002", "MARAT-2027-0003"]
    assert other_year == "MARAT-2028-0001"

    async with units() as uow:
        assert await uow.cases.next_reference("MARAT", 2027) == "MARAT-2027-0004"
        assert await uow.cases.next_reference("MARAT", 2028) == "MARAT-2028-0002"
        assert await uow.cases.next_reference("MARAT", 2029) == "MARAT-2029-0001"
        await uow.commit()


# -- create and read back --------------------------------------------------------------------


@pytest.mark.parametrize(
    "referral",
    [full_referral(), sparse_referral()],
    ids=["every-field-filled", "optional-fields-empty"],
)
async def test_create_round_trips_every_field(
    units: SqlUnitOfWorkFactory,
    agencies: dict[str, Agency],
    add_meeting: MeetingMaker,
    referral: Referral,
) -> None:
    meeting = await add_meeting(date(2027, 1, 12), 5)
    case_deadlines = deadlines()
    choice = listed_at(meeting.id, meeting.date, target=case_deadlines.conference_target)
    async with units() as uow:
        case_id = await uow.cases.create(
            "MARAT-2027-0001", referral, case_deadlines, choice, opened()
        )
        await uow.commit()

    async with units() as uow:
        view = await uow.cases.by_reference("MARAT-2027-0001")
        same = await uow.cases.by_id(case_id)
        typed_lower = await uow.cases.by_reference("marat-2027-0001")
    assert view is not None
    assert same == view
    assert typed_lower == view
    assert view.id == case_id
    assert view.reference == "MARAT-2027-0001"
    assert view.state is CaseState.REFERRED
    assert view.referral == referral
    assert view.deadlines == case_deadlines
    assert view.listing == Listing(
        meeting.id, meeting.date, case_deadlines.conference_target, False
    )
    assert view.agencies == referral.agencies
    assert (view.returns_in, view.returns_due) == (0, len(referral.agencies))
    assert (view.created_at, view.created_by) == (AT, ACTOR)


async def test_involved_agencies_come_back_in_directory_order(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    """Involved agencies are a set: every view lists them in the directory's order, whatever
    order they were chosen in, so agendas and case cards read the same for every case."""
    chosen = ("housing", "police", "children-s-social-care")
    referral = full_referral(referring_agency="housing", agencies=chosen)
    case_id = await create_case("MARAT-2027-0001", referral=referral)
    async with units() as uow:
        view = await uow.cases.by_id(case_id)
        directory = [agency.key for agency in await uow.directory.agencies()]
    assert view is not None
    expected = tuple(key for key in directory if key in chosen)
    assert expected != chosen  # the test is only meaningful if the two orders differ
    assert view.referral.agencies == expected
    assert view.agencies == expected


async def test_a_case_waiting_for_a_conference_has_no_meeting_and_a_breach(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001", choice=unlisted(target=date(2027, 1, 22)))
    async with units() as uow:
        view = await uow.cases.by_id(case_id)
    assert view is not None
    assert view.listing == Listing(None, None, date(2027, 1, 22), True)


async def test_a_listing_past_its_target_keeps_its_breach(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker, add_meeting: MeetingMaker
) -> None:
    late = await add_meeting(date(2027, 1, 26), 5)
    case_id = await create_case(
        "MARAT-2027-0001", choice=listed_at(late.id, late.date, target=date(2027, 1, 22))
    )
    async with units() as uow:
        view = await uow.cases.by_id(case_id)
    assert view is not None
    assert view.listing == Listing(late.id, late.date, date(2027, 1, 22), True)


async def test_unknown_case_is_none(units: SqlUnitOfWorkFactory, create_case: CaseMaker) -> None:
    case_id = await create_case("MARAT-2027-0001")
    async with units() as uow:
        assert await uow.cases.by_reference("MARAT-2027-0002") is None
        assert await uow.cases.by_id(case_id + 1000) is None


async def test_timestamps_come_back_as_aware_utc(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    """An instant given in London summer time (UTC+1) is stored and returned as UTC."""
    summer = datetime(2027, 6, 1, 12, 30, 15, 123456, tzinfo=LONDON)
    case_id = await create_case("MARAT-2027-0001", transition=opened(at=summer))
    async with units() as uow:
        view = await uow.cases.by_id(case_id)
        transitions = await uow.cases.transitions(case_id)
    assert view is not None
    for instant in (view.created_at, transitions[0].at):
        assert instant.tzinfo is not None
        assert instant.utcoffset() == timedelta(0)
        assert instant == summer
        assert instant.replace(tzinfo=None) == datetime(2027, 6, 1, 11, 30, 15, 123456)


# -- finding cases ---------------------------------------------------------------------------


async def test_on_meeting_lists_the_cases_listed_there_now(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker, add_meeting: MeetingMaker
) -> None:
    first = await add_meeting(date(2027, 1, 12), 5)
    second = await add_meeting(date(2027, 1, 19), 5)
    await create_case("MARAT-2027-0001", choice=listed_at(first.id, first.date))
    await create_case("MARAT-2027-0002", choice=listed_at(second.id, second.date))
    await create_case("MARAT-2027-0003", choice=listed_at(first.id, first.date))
    await create_case("MARAT-2027-0004")
    async with units() as uow:
        at_first = await uow.cases.on_meeting(first.id)
        at_second = await uow.cases.on_meeting(second.id)
        nowhere = await uow.cases.on_meeting(second.id + 1000)
    assert sorted(c.reference for c in at_first) == ["MARAT-2027-0001", "MARAT-2027-0003"]
    assert [c.reference for c in at_second] == ["MARAT-2027-0002"]
    assert all(c.listing.meeting_id == first.id for c in at_first)
    assert nowhere == []


async def test_discussions_on_lists_only_referred_cases_of_that_day(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    day = date(2027, 1, 7)
    await create_case("MARAT-2027-0001", case_deadlines=deadlines(discussion=day))
    await create_case(
        "MARAT-2027-0002",
        case_deadlines=deadlines(discussion=day),
        transition=opened(CaseState.DISCUSSED),
    )
    await create_case(
        "MARAT-2027-0003",
        case_deadlines=deadlines(discussion=day),
        transition=opened(CaseState.WITHDRAWN),
    )
    await create_case("MARAT-2027-0004", case_deadlines=deadlines(discussion=day.replace(day=8)))
    async with units() as uow:
        found = await uow.cases.discussions_on(day)
        other = await uow.cases.discussions_on(date(2027, 1, 6))
    assert [c.reference for c in found] == ["MARAT-2027-0001"]
    assert found[0].deadlines.discussion == day
    assert other == []


async def test_open_cases_leave_out_closed_and_withdrawn(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    for number, state in enumerate(CaseState, start=1):
        await create_case(f"MARAT-2027-{number:04d}", transition=opened(state))
    async with units() as uow:
        found = await uow.cases.open_cases()
    assert {c.state for c in found} == {s for s in CaseState if s.is_open}
    assert len(found) == len([s for s in CaseState if s.is_open])


async def test_waiting_for_conference_lists_open_cases_with_no_meeting(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker, add_meeting: MeetingMaker
) -> None:
    meeting = await add_meeting(date(2027, 1, 12), 5)
    await create_case("MARAT-2027-0001")
    await create_case("MARAT-2027-0002", transition=opened(CaseState.CLOSED))
    await create_case("MARAT-2027-0003", choice=listed_at(meeting.id, meeting.date))
    await create_case("MARAT-2027-0004", transition=opened(CaseState.DEFERRED))
    async with units() as uow:
        waiting = await uow.cases.waiting_for_conference()
    assert sorted(c.reference for c in waiting) == ["MARAT-2027-0001", "MARAT-2027-0004"]
    assert all(c.listing.meeting_id is None for c in waiting)


# -- relisting -------------------------------------------------------------------------------


async def test_relist_ends_the_old_listing_and_the_new_one_is_current(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker, add_meeting: MeetingMaker
) -> None:
    first = await add_meeting(date(2027, 1, 12), 5)
    second = await add_meeting(date(2027, 1, 19), 5)
    case_id = await create_case("MARAT-2027-0001", choice=listed_at(first.id, first.date))

    async with units() as uow:
        await uow.cases.relist(
            case_id,
            listed_at(second.id, second.date, target=date(2027, 1, 15)),
            AT + timedelta(days=1),
            "deferred",
        )
        await uow.commit()
    async with units() as uow:
        view = await uow.cases.by_id(case_id)
        assert await uow.cases.on_meeting(first.id) == []
        assert [c.id for c in await uow.cases.on_meeting(second.id)] == [case_id]
        assert [c.id for c in await uow.cases.open_cases()] == [case_id]
    assert view is not None
    assert view.listing == Listing(second.id, second.date, date(2027, 1, 15), True)

    async with units() as uow:
        await uow.cases.relist(case_id, unlisted(), AT + timedelta(days=2), "meeting cancelled")
        await uow.commit()
    async with units() as uow:
        view = await uow.cases.by_id(case_id)
        waiting = await uow.cases.waiting_for_conference()
        assert await uow.cases.on_meeting(second.id) == []
        assert len(await uow.cases.open_cases()) == 1
    assert view is not None and view.listing.meeting_id is None
    assert [c.id for c in waiting] == [case_id]


async def test_an_uncommitted_relist_changes_nothing(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker, add_meeting: MeetingMaker
) -> None:
    first = await add_meeting(date(2027, 1, 12), 5)
    second = await add_meeting(date(2027, 1, 19), 5)
    case_id = await create_case("MARAT-2027-0001", choice=listed_at(first.id, first.date))
    async with units() as uow:
        await uow.cases.relist(case_id, listed_at(second.id, second.date), AT, "deferred")
    async with units() as uow:
        view = await uow.cases.by_id(case_id)
    assert view is not None and view.listing.meeting_id == first.id


# -- transitions -----------------------------------------------------------------------------


async def test_transitions_come_back_in_time_order_with_who_when_and_why(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    created = opened(at=AT, actor=ACTOR, reason="shared without consent")
    case_id = await create_case("MARAT-2027-0001", transition=created)
    other_case = await create_case("MARAT-2027-0002")
    deferred = Transition(
        CaseState.DISCUSSED, CaseState.DEFERRED, OTHER_ACTOR, AT + timedelta(days=9), "no room"
    )
    discussed = Transition(CaseState.REFERRED, CaseState.DISCUSSED, ACTOR, AT + timedelta(days=3))
    async with units() as uow:
        # No repository method records later moves yet: written in the order they are not.
        for move in (deferred, discussed):
            uow.session.add(
                TransitionRow(
                    case_id=case_id,
                    from_state=move.from_state.value if move.from_state else None,
                    to_state=move.to_state.value,
                    actor=move.actor_aad_id,
                    at=move.at,
                    reason=move.reason,
                )
            )
        await uow.commit()
    async with units() as uow:
        history = await uow.cases.transitions(case_id)
        other = await uow.cases.transitions(other_case)
    assert history == [created, discussed, deferred]
    assert all(t.at.tzinfo is not None and t.at.utcoffset() == timedelta(0) for t in history)
    assert other == [opened()]


# -- information returns ---------------------------------------------------------------------


async def test_returns_count_the_answered_information_requests(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker, agencies: dict[str, Agency]
) -> None:
    referral = full_referral(agencies=("police", "idva-service", "housing"))
    case_id = await create_case("MARAT-2027-0001", referral=referral)
    other_id = await create_case("MARAT-2027-0002", referral=referral)

    async with units() as uow:
        view = await uow.cases.by_id(case_id)
        assert await uow.cases.answered_agencies(case_id) == frozenset()
    assert view is not None and (view.returns_in, view.returns_due) == (0, 3)

    async with units() as uow:
        # No repository method answers a request yet: set answered_at through the session.
        await uow.session.execute(
            update(InformationRequestRow)
            .where(
                InformationRequestRow.case_id == case_id,
                InformationRequestRow.agency_id.in_(
                    [agencies["housing"].id, agencies["police"].id]
                ),
            )
            .values(answered_at=datetime(2027, 1, 5, 9, 0, tzinfo=UTC), answered_by=ACTOR)
        )
        await uow.commit()

    async with units() as uow:
        view = await uow.cases.by_id(case_id)
        other = await uow.cases.by_id(other_id)
        answered = await uow.cases.answered_agencies(case_id)
        assert await uow.cases.answered_agencies(other_id) == frozenset()
    assert view is not None and (view.returns_in, view.returns_due) == (2, 3)
    assert other is not None and (other.returns_in, other.returns_due) == (0, 3)
    assert answered == frozenset({"housing", "police"})
