"""Storage contract of the safety-plan actions and of the case-lifecycle writes, on SQLite and
PostgreSQL (the ``engine`` fixture).

Actions are drafted (not agreed), removed while still drafts, agreed together, and updated by
the agencies with a history of who said what and when. A plan's version is a compare-and-set
counter so that two coordinators editing one plan cannot lose each other's actions. Cases
change state with a transition row each, record the conference that heard them, stop taking a
conference place once heard, withdrawn or closed, and link an earlier referral of the victim.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.actions import ActionDraft, ActionStatus, ActionUpdate
from bot.domain.directory import Agency
from bot.domain.lifecycle import CaseState, Transition
from storage.db import session_factory
from storage.models import ActionUpdateRow, CaseRow, ListingRow
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
)

LATER = AT + timedelta(days=10)
LOCKS = "Housing to fit additional locks at the victim's address"
ORDER = "Police to serve the non-molestation order on the person causing harm"
IDVA = "IDVA to agree a safety plan with the victim by phone"


def draft(
    agency: str = "housing",
    description: str = LOCKS,
    due: date = date(2027, 1, 20),
    perpetrator_focused: bool = False,
) -> ActionDraft:
    return ActionDraft(agency, description, due, perpetrator_focused)


async def add(units: SqlUnitOfWorkFactory, case_id: int, *drafts: ActionDraft) -> list[int]:
    async with units() as uow:
        ids = [await uow.actions.add(case_id, d, ACTOR, AT) for d in drafts]
        await uow.commit()
    return ids


async def agree(units: SqlUnitOfWorkFactory, case_id: int, at: datetime = AT) -> None:
    async with units() as uow:
        await uow.actions.agree(case_id, at)
        await uow.commit()


async def update(
    units: SqlUnitOfWorkFactory,
    action_id: int,
    status: ActionStatus,
    note: str | None = None,
    by: str = ACTOR,
    at: datetime = LATER,
) -> None:
    async with units() as uow:
        await uow.actions.record_update(action_id, ActionUpdate(status, note), by, at)
        await uow.commit()


# -- drafting ---------------------------------------------------------------------------------


async def test_an_added_action_round_trips_as_an_open_draft(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    [action_id] = await add(units, case_id, draft("police", ORDER, date(2027, 1, 21), True))
    async with units() as uow:
        [action] = await uow.actions.for_case(case_id)
        same = await uow.actions.by_id(action_id)
    assert same == action
    assert action.id == action_id
    assert action.case_id == case_id
    assert action.reference == "MARAT-2027-0001"
    assert action.agency_key == "police"
    assert action.description == ORDER
    assert action.due == date(2027, 1, 21)
    assert action.perpetrator_focused is True
    assert action.status is ActionStatus.OPEN
    assert (action.note, action.updated_by, action.updated_at) == (None, None, None)
    assert action.agreed is False


async def test_for_case_lists_only_that_case_s_actions_soonest_due_first(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    first = await create_case("MARAT-2027-0001")
    other = await create_case("MARAT-2027-0002")
    late, soon, same_day = await add(
        units,
        first,
        draft(due=date(2027, 1, 27)),
        draft("police", ORDER, date(2027, 1, 19)),
        draft("idva-service", IDVA, date(2027, 1, 27)),
    )
    await add(units, other, draft())
    async with units() as uow:
        listed = [a.id for a in await uow.actions.for_case(first)]
        assert await uow.actions.for_case(other + 1000) == []
        assert await uow.actions.by_id(late + 1000) is None
    assert listed == [soon, late, same_day]


async def test_an_action_for_an_agency_not_in_the_directory_is_not_stored(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    async with units() as uow:
        with pytest.raises(LookupError):
            await uow.actions.add(case_id, draft("made-up-agency"), ACTOR, AT)
    async with units() as uow:
        assert await uow.actions.for_case(case_id) == []


async def test_a_draft_can_be_removed_but_an_agreed_action_cannot(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    kept, removed = await add(units, case_id, draft(), draft("police", ORDER))
    async with units() as uow:
        assert await uow.actions.remove_draft(removed) is True
        assert await uow.actions.remove_draft(removed) is False  # already gone
        assert await uow.actions.remove_draft(kept + 1000) is False
        await uow.commit()
    async with units() as uow:
        assert [a.id for a in await uow.actions.for_case(case_id)] == [kept]

    await agree(units, case_id)
    async with units() as uow:
        assert await uow.actions.remove_draft(kept) is False
        await uow.commit()
    async with units() as uow:
        [action] = await uow.actions.for_case(case_id)
    assert action.id == kept and action.agreed


async def test_a_removal_not_committed_leaves_the_action(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    [action_id] = await add(units, case_id, draft())
    async with units() as uow:
        assert await uow.actions.remove_draft(action_id)
    async with units() as uow:
        assert [a.id for a in await uow.actions.for_case(case_id)] == [action_id]


# -- agreeing ---------------------------------------------------------------------------------


async def test_agree_agrees_every_draft_of_that_case_only(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    other = await create_case("MARAT-2027-0002")
    await add(units, case_id, draft(), draft("police", ORDER))
    [elsewhere] = await add(units, other, draft())
    await agree(units, case_id)
    async with units() as uow:
        agreed = await uow.actions.for_case(case_id)
        not_yet = await uow.actions.by_id(elsewhere)
    assert len(agreed) == 2 and all(a.agreed for a in agreed)
    assert not_yet is not None and not not_yet.agreed


async def test_an_action_added_after_agreement_is_a_draft_until_the_next_agreement(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    [first] = await add(units, case_id, draft())
    await agree(units, case_id, AT)
    [second] = await add(units, case_id, draft("police", ORDER))
    async with units() as uow:
        states = {a.id: a.agreed for a in await uow.actions.for_case(case_id)}
    assert states == {first: True, second: False}

    await agree(units, case_id, LATER)
    async with units() as uow:
        assert all(a.agreed for a in await uow.actions.for_case(case_id))


# -- updates and their history ----------------------------------------------------------------


async def test_record_update_sets_the_action_and_keeps_every_update(
    engine: AsyncEngine, units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    [action_id] = await add(units, case_id, draft())
    await agree(units, case_id)
    await update(units, action_id, ActionStatus.IN_PROGRESS, None, ACTOR, AT + timedelta(days=1))
    await update(units, action_id, ActionStatus.DONE, "Locks fitted (synthetic).", OTHER_ACTOR)

    async with units() as uow:
        action = await uow.actions.by_id(action_id)
    assert action is not None
    assert action.status is ActionStatus.DONE
    assert action.note == "Locks fitted (synthetic)."
    assert action.updated_by == OTHER_ACTOR
    assert action.updated_at == LATER
    assert action.agreed

    async with session_factory(engine)() as session:
        history = (
            await session.execute(
                select(ActionUpdateRow.status, ActionUpdateRow.note, ActionUpdateRow.by)
                .add_columns(ActionUpdateRow.at)
                .where(ActionUpdateRow.action_id == action_id)
                .order_by(ActionUpdateRow.id)
            )
        ).all()
    assert [tuple(row) for row in history] == [
        ("in_progress", None, ACTOR, AT + timedelta(days=1)),
        ("done", "Locks fitted (synthetic).", OTHER_ACTOR, LATER),
    ]


# -- open agreed actions ------------------------------------------------------------------------


async def test_open_agreed_lists_agreed_actions_not_done_or_ruled_out(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    other = await create_case("MARAT-2027-0002")
    open_, progressing, done, impossible = await add(
        units,
        case_id,
        draft("housing", LOCKS, date(2027, 1, 20)),
        draft("police", ORDER, date(2027, 1, 19)),
        draft("idva-service", IDVA, date(2027, 1, 21)),
        draft("police", ORDER + " again", date(2027, 1, 22)),
    )
    await agree(units, case_id)
    [draft_only] = await add(units, other, draft(due=date(2027, 1, 18)))
    await update(units, progressing, ActionStatus.IN_PROGRESS)
    await update(units, done, ActionStatus.DONE, "Done (synthetic).")
    await update(units, impossible, ActionStatus.NOT_POSSIBLE, "Moved away (synthetic).")

    async with units() as uow:
        listed = [a.id for a in await uow.actions.open_agreed()]
    assert listed == [progressing, open_]  # soonest due first; no drafts, nothing closed
    assert draft_only not in listed


async def test_open_agreed_filters_by_agency_and_by_due_date(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    housing, police, idva = await add(
        units,
        case_id,
        draft("housing", LOCKS, date(2027, 1, 20)),
        draft("police", ORDER, date(2027, 1, 19)),
        draft("idva-service", IDVA, date(2027, 1, 21)),
    )
    await agree(units, case_id)
    async with units() as uow:
        actions = uow.actions
        assert [a.id for a in await actions.open_agreed(["police"])] == [police]
        assert [a.id for a in await actions.open_agreed({"housing", "idva-service"})] == [
            housing,
            idva,
        ]
        assert await actions.open_agreed([]) == []
        assert await actions.open_agreed(["made-up"]) == []
        # Due strictly before the day: an action due that day is not yet overdue.
        assert [a.id for a in await actions.open_agreed(None, date(2027, 1, 20))] == [police]
        assert [a.id for a in await actions.open_agreed(None, date(2027, 1, 21))] == [
            police,
            housing,
        ]
        assert await actions.open_agreed(None, date(2027, 1, 19)) == []
        assert [a.id for a in await actions.open_agreed(["housing"], date(2027, 1, 22))] == [
            housing
        ]


# -- the plan version: optimistic concurrency --------------------------------------------------


async def test_bump_plan_version_is_a_compare_and_set(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    other = await create_case("MARAT-2027-0002")
    async with units() as uow:
        assert await uow.actions.plan_version(case_id) == 0
        assert await uow.actions.bump_plan_version(case_id, 0) is True
        assert await uow.actions.plan_version(case_id) == 1
        # A card issued at version 0 is stale now: nothing changes.
        assert await uow.actions.bump_plan_version(case_id, 0) is False
        assert await uow.actions.plan_version(case_id) == 1
        assert await uow.actions.bump_plan_version(case_id, 2) is False
        assert await uow.actions.bump_plan_version(case_id, 1) is True
        await uow.commit()
    async with units() as uow:
        assert await uow.actions.plan_version(case_id) == 2
        assert await uow.actions.plan_version(other) == 0  # another case's plan is untouched
        assert await uow.actions.plan_version(other + 1000) == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_coordinators_bumping_the_same_version_at_once_only_one_wins(
    engine: AsyncEngine, units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    """Two replicas, each in its own transaction, both read version 0 and add an action. The
    second compare-and-set waits for the first transaction and then fails, so its caller can
    answer "updated by someone else" instead of silently overwriting."""
    case_id = await create_case("MARAT-2027-0001")
    first, second = units(), units()
    async with first as one, second as two:
        assert await one.actions.plan_version(case_id) == 0
        assert await two.actions.plan_version(case_id) == 0
        assert await one.actions.bump_plan_version(case_id, 0) is True
        contender = asyncio.create_task(two.actions.bump_plan_version(case_id, 0))
        await wait_for_a_lock_wait(engine, contender)
        await one.commit()
        assert await asyncio.wait_for(contender, 20) is False
        await two.commit()
    async with units() as uow:
        assert await uow.actions.plan_version(case_id) == 1


async def wait_for_a_lock_wait(engine: AsyncEngine, task: asyncio.Task[bool]) -> None:
    """Until another session of this database waits on a lock (or ``task`` has finished)."""
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with engine.connect() as connection:
        for _ in range(2000):
            if task.done():
                return
            waiting = (await connection.execute(text(query))).scalar_one()
            if waiting:
                return
            await connection.rollback()
    raise AssertionError("the second compare-and-set neither waited nor finished")


# -- the case lifecycle writes -------------------------------------------------------------------


async def test_change_state_records_the_transition_and_counts_the_version(
    engine: AsyncEngine, units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    moves = [
        Transition(CaseState.REFERRED, CaseState.DEFERRED, ACTOR, AT + timedelta(hours=1), "why"),
        Transition(CaseState.DEFERRED, CaseState.WITHDRAWN, OTHER_ACTOR, LATER, "threshold"),
    ]
    for move in moves:
        async with units() as uow:
            await uow.cases.change_state(case_id, move)
            await uow.commit()
    async with units() as uow:
        transitions = await uow.cases.transitions(case_id)
    assert [t.to_state for t in transitions] == [
        CaseState.REFERRED,
        CaseState.DEFERRED,
        CaseState.WITHDRAWN,
    ]
    assert transitions[1:] == moves
    async with session_factory(engine)() as session:
        row = await session.get(CaseRow, case_id)
        assert row is not None
        assert row.state == "withdrawn"
        assert row.version == 3
        assert row.closed_at is None


async def test_closing_records_when(
    engine: AsyncEngine, units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    async with units() as uow:
        for source, target in [
            (CaseState.REFERRED, CaseState.HEARD),
            (CaseState.HEARD, CaseState.MONITORING),
            (CaseState.MONITORING, CaseState.CLOSED),
        ]:
            await uow.cases.change_state(case_id, Transition(source, target, ACTOR, LATER))
        await uow.commit()
    async with session_factory(engine)() as session:
        row = await session.get(CaseRow, case_id)
        assert row is not None
        assert (row.state, row.closed_at) == ("closed", LATER)


async def test_set_heard_records_the_conference_and_when(
    engine: AsyncEngine,
    units: SqlUnitOfWorkFactory,
    create_case: CaseMaker,
    add_meeting: MeetingMaker,
) -> None:
    meeting = await add_meeting(date(2027, 1, 14), 5)
    case_id = await create_case(
        "MARAT-2027-0001", choice=listed_at(meeting.id, meeting.date, date(2027, 1, 22))
    )
    async with units() as uow:
        await uow.cases.set_heard(case_id, meeting.id, LATER)
        await uow.commit()
    async with session_factory(engine)() as session:
        row = await session.get(CaseRow, case_id)
        assert row is not None
        assert (row.heard_at, row.heard_meeting_id) == (LATER, meeting.id)


async def test_a_case_whose_listing_ended_no_longer_takes_a_place_but_is_still_a_case(
    engine: AsyncEngine,
    units: SqlUnitOfWorkFactory,
    create_case: CaseMaker,
    add_meeting: MeetingMaker,
) -> None:
    """After the plan is agreed (or the case is withdrawn or closed) the conference place is
    given back; the case must stay readable: `/case`, the plan, the lifecycle commands and the
    agreement itself all read it back by id or reference."""
    meeting = await add_meeting(date(2027, 1, 14), 5)
    case_id = await create_case(
        "MARAT-2027-0001", choice=listed_at(meeting.id, meeting.date, date(2027, 1, 22))
    )
    async with units() as uow:
        await uow.cases.change_state(
            case_id, Transition(CaseState.REFERRED, CaseState.HEARD, ACTOR, LATER)
        )
        await uow.cases.set_heard(case_id, meeting.id, LATER)
        await uow.cases.end_listing(case_id, LATER)
        await uow.commit()

    async with session_factory(engine)() as session:
        open_listings = await session.scalar(
            select(func.count())
            .select_from(ListingRow)
            .where(ListingRow.case_id == case_id, ListingRow.ended_at.is_(None))
        )
    assert open_listings == 0
    async with units() as uow:
        meeting_now = await uow.meetings.by_date(meeting.date)
        assert await uow.cases.on_meeting(meeting.id) == []
        by_id = await uow.cases.by_id(case_id)
        by_reference = await uow.cases.by_reference("MARAT-2027-0001")
        open_cases = [c.reference for c in await uow.cases.open_cases()]
    assert meeting_now is not None and meeting_now.listed == 0
    assert by_id is not None, "a heard case disappears once its listing has ended"
    assert by_reference == by_id
    assert by_id.state is CaseState.HEARD
    assert by_id.heard_at == LATER
    assert open_cases == ["MARAT-2027-0001"]


async def test_end_listing_ends_only_the_current_listing_of_that_case(
    engine: AsyncEngine,
    units: SqlUnitOfWorkFactory,
    create_case: CaseMaker,
    add_meeting: MeetingMaker,
) -> None:
    meeting = await add_meeting(date(2027, 1, 14), 5)
    ended = await create_case(
        "MARAT-2027-0001", choice=listed_at(meeting.id, meeting.date, date(2027, 1, 22))
    )
    kept = await create_case(
        "MARAT-2027-0002", choice=listed_at(meeting.id, meeting.date, date(2027, 1, 22))
    )
    async with units() as uow:
        await uow.cases.end_listing(ended, LATER)
        await uow.commit()
    async with units() as uow:
        assert [c.id for c in await uow.cases.on_meeting(meeting.id)] == [kept]
    async with session_factory(engine)() as session:
        rows = (
            await session.execute(
                select(ListingRow.case_id, ListingRow.ended_at).order_by(ListingRow.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [(ended, LATER), (kept, None)]


# -- earlier referrals of the same victim ---------------------------------------------------------


async def test_earlier_referrals_find_the_victim_by_normalised_name_newest_first(
    units: SqlUnitOfWorkFactory,
    create_case: CaseMaker,
    agencies: dict[str, Agency],
) -> None:
    oldest = await create_case(
        "MARAT-2027-0001",
        referral=full_referral(
            victim_name="Ada Fictional-Example",
            received_date=date(2026, 3, 2),
            agencies=("police", "housing"),
        ),
        case_deadlines=deadlines(date(2026, 3, 2), received=date(2026, 3, 2)),
    )
    newer = await create_case(
        "MARAT-2027-0002",
        referral=full_referral(
            victim_name="FICTIONAL EXAMPLE, ada",
            victim_dob=None,
            received_date=date(2026, 9, 7),
            agencies=("idva-service",),
        ),
        case_deadlines=deadlines(date(2026, 9, 7), received=date(2026, 9, 7)),
    )
    await create_case(
        "MARAT-2027-0003",
        referral=full_referral(victim_name="Ada Fictional", received_date=date(2026, 10, 5)),
    )
    current = await create_case(
        "MARAT-2027-0004",
        referral=full_referral(victim_name="ada  fictional example", received_date=AT.date()),
    )
    async with units() as uow:
        await uow.cases.change_state(
            oldest, Transition(CaseState.REFERRED, CaseState.HEARD, ACTOR, LATER)
        )
        await uow.cases.set_heard(oldest, None, datetime(2026, 3, 12, 11, 0, tzinfo=AT.tzinfo))
        await uow.commit()

    async with units() as uow:
        found = await uow.cases.earlier_referrals("Ada Fictional-Example", current)
        everyone = await uow.cases.earlier_referrals("Ada Fictional-Example")
        nobody = await uow.cases.earlier_referrals("Mia Otherperson")
    assert [(e.case_id, name, dob) for e, name, dob in found] == [
        (newer, "FICTIONAL EXAMPLE, ada", None),
        (oldest, "Ada Fictional-Example", date(1990, 5, 17)),
    ]
    newest, earliest = (e for e, _, _ in found)
    assert newest.reference == "MARAT-2027-0002"
    assert newest.received == date(2026, 9, 7)
    assert newest.agencies == ("idva-service",)
    assert newest.last_heard is None
    assert earliest.agencies == ("police", "housing")
    assert earliest.last_heard == date(2026, 3, 12)
    assert [e.case_id for e, _, _ in everyone] == [current, newer, oldest]
    assert nobody == []


async def test_earlier_referrals_match_apostrophe_styles_and_keep_other_scripts_apart(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    straight = await create_case(
        "MARAT-2027-0001", referral=full_referral(victim_name="Siobhan O'Testname")
    )
    cyrillic = await create_case(
        "MARAT-2027-0002", referral=full_referral(victim_name="Мария Иванова")
    )
    async with units() as uow:
        curly = await uow.cases.earlier_referrals("Siobhan O\u2019Testname")
        same_script = await uow.cases.earlier_referrals("иванова мария")
        other_person = await uow.cases.earlier_referrals("Анна Петрова")
        chinese = await uow.cases.earlier_referrals("李雷")
    assert [e.case_id for e, _, _ in curly] == [straight]
    assert [e.case_id for e, _, _ in same_script] == [cyrillic]
    assert other_person == [] and chinese == []


@pytest.mark.parametrize(
    ("repeat", "repeat_of", "previous_case"),
    [(True, "MARAT-2027-0001", None), (False, None, "MARAT-2027-0001")],
    ids=["within-12-months", "over-12-months"],
)
async def test_set_repeat_of_links_the_earlier_case(
    units: SqlUnitOfWorkFactory,
    create_case: CaseMaker,
    repeat: bool,
    repeat_of: str | None,
    previous_case: str | None,
) -> None:
    earlier = await create_case("MARAT-2027-0001")
    later = await create_case("MARAT-2027-0002")
    async with units() as uow:
        await uow.cases.set_repeat_of(later, earlier, repeat)
        await uow.commit()
    async with units() as uow:
        view = await uow.cases.by_id(later)
        untouched = await uow.cases.by_id(earlier)
    assert view is not None and untouched is not None
    assert (view.repeat_of, view.previous_case) == (repeat_of, previous_case)
    assert view.is_repeat is repeat
    assert (untouched.repeat_of, untouched.previous_case) == (None, None)
