"""PostgreSQL ONLY: races between bot replicas, each on its own connection.

On SQLite the bot is single-instance and its engine has one pooled connection, so these races
cannot happen there; every test in this module runs only with ``[postgresql]``.

Where the race needs a window, the units of work meet at a rendezvous right after reading the
conference slots, so both transactions are inside the critical section together unless the
storage layer serialises them (which is what is being tested).
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.domain.clock import FixedClock
from bot.domain.deadlines import ConferenceSlot
from bot.services.referrals import ReferralAlreadyRecorded, ReferralRecorded
from dialogs.base import Dependencies
from storage.db import session_factory
from storage.repositories import SqlMeetings
from storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.support.builders import COORDINATOR, referral_inputs, seed_directory
from tests.support.races import Rendezvous
from tests.support.services import make_services

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

TIMEOUT = 20  # a deadlock fails the test instead of hanging it


def _racing(engine: AsyncEngine, clock: FixedClock, parties: int = 2) -> Dependencies:
    """Use cases whose transactions meet once each has read the conference slots."""
    rendezvous = Rendezvous(parties)

    class Meetings(SqlMeetings):
        async def slots_from(self, day: date) -> list[ConferenceSlot]:
            slots = await super().slots_from(day)
            await rendezvous.meet()
            return slots

    class Units(SqlUnitOfWork):
        async def __aenter__(self) -> Units:
            await super().__aenter__()
            self.meetings = Meetings(self.session)
            return self

    deps = make_services(engine, clock)
    sessions = session_factory(engine)
    deps.context.units = lambda: Units(sessions)
    return deps


async def test_concurrent_next_reference_calls_get_distinct_numbers(engine: AsyncEngine) -> None:
    callers = 20
    wide = create_async_engine(engine.url, pool_size=callers, max_overflow=0)
    units = SqlUnitOfWorkFactory(session_factory(wide))
    everyone_in = asyncio.Barrier(callers)

    async def take() -> str:
        async with units() as uow:
            # Open the transaction on this caller's own connection, then all draw at once.
            await uow.meetings.by_date(date(2027, 1, 1))
            await everyone_in.wait()
            reference = await uow.cases.next_reference("MARAT", 2027)
            await uow.commit()
        return reference

    try:
        references = await asyncio.wait_for(
            asyncio.gather(*(take() for _ in range(callers))), TIMEOUT
        )
    finally:
        await wide.dispose()
    assert sorted(references) == [f"MARAT-2027-{n:04d}" for n in range(1, callers + 1)]

    async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
        assert await uow.cases.next_reference("MARAT", 2027) == f"MARAT-2027-{callers + 1:04d}"


async def test_two_referrals_racing_for_the_last_place_do_not_overfill_the_conference(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    deps = make_services(engine, clock)
    await seed_directory(deps)
    # Received Monday 4 January 2027: earliest conference Friday 8, target Friday 22.
    last_place = (await deps.conferences.add_meeting(COORDINATOR, date(2027, 1, 12), 1)).meeting
    next_one = (await deps.conferences.add_meeting(COORDINATOR, date(2027, 1, 19), 5)).meeting
    first = await deps.referrals.open_referral(COORDINATOR)
    second = await deps.referrals.open_referral(COORDINATOR)

    racing = _racing(engine, clock)
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            racing.referrals.submit_referral(COORDINATOR, first.token, referral_inputs()),
            racing.referrals.submit_referral(
                COORDINATOR, second.token, referral_inputs(victim_name="Kim Madeup")
            ),
        ),
        TIMEOUT,
    )
    assert all(isinstance(o, ReferralRecorded) for o in outcomes), outcomes
    cases = [o.case for o in outcomes if isinstance(o, ReferralRecorded)]

    assert len({c.reference for c in cases}) == 2
    assert sorted(c.listing.meeting_id for c in cases) == sorted([last_place.id, next_one.id])
    async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
        full = await uow.meetings.by_date(last_place.date)
        assert [c.id for c in await uow.cases.on_meeting(last_place.id)] in (
            [cases[0].id],
            [cases[1].id],
        )
        assert len(await uow.cases.on_meeting(next_one.id)) == 1
    assert full is not None and (full.listed, full.free_places) == (1, 0)


async def test_the_same_card_submitted_twice_at_once_creates_one_case(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    deps = make_services(engine, clock)
    await seed_directory(deps)
    await deps.conferences.add_meeting(COORDINATOR, date(2027, 1, 12), 5)
    card = await deps.referrals.open_referral(COORDINATOR)

    racing = _racing(engine, clock)
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            racing.referrals.submit_referral(COORDINATOR, card.token, referral_inputs()),
            racing.referrals.submit_referral(COORDINATOR, card.token, referral_inputs()),
        ),
        TIMEOUT,
    )

    created = [o for o in outcomes if isinstance(o, ReferralRecorded)]
    refused = [o for o in outcomes if isinstance(o, ReferralAlreadyRecorded)]
    assert len(created) == 1, outcomes
    assert len(refused) == 1, outcomes
    reference = created[0].case.reference
    assert refused[0].reference in (None, "", reference)
    assert await deps.referrals.already_done_reference(card.token) == reference
    async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
        assert [c.reference for c in await uow.cases.open_cases()] == [reference]
