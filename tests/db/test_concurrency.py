"""PostgreSQL ONLY: races between bot replicas, each on its own connection.

On SQLite the bot is single-instance and its engine has one pooled connection, so these races
cannot happen there; every test in this module runs only with ``[postgresql]``.

Where the race needs a window, the units of work pause right after reading the conference
slots, so both transactions are inside the critical section together unless the storage layer
serialises them (which is what is being tested).
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.domain.clock import FixedClock
from bot.domain.deadlines import ConferenceSlot
from bot.domain.errors import AlreadyDone
from bot.services import MaratService
from storage.db import session_factory
from storage.repositories import SqlMeetings
from storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.builders import COORDINATOR, referral_inputs, seed_directory
from tests.conftest import make_service

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

PAUSE = 0.3  # seconds a transaction holds on after reading the slots
TIMEOUT = 20  # a deadlock fails the test instead of hanging it


class _SlowMeetings(SqlMeetings):
    async def slots_from(self, day: date) -> list[ConferenceSlot]:
        slots = await super().slots_from(day)
        await asyncio.sleep(PAUSE)
        return slots


class _SlowUnitOfWork(SqlUnitOfWork):
    async def __aenter__(self) -> _SlowUnitOfWork:
        await super().__aenter__()
        self.meetings = _SlowMeetings(self.session)
        return self


def _slow_service(engine: AsyncEngine, clock: FixedClock) -> MaratService:
    service = make_service(engine, clock)
    sessions = session_factory(engine)
    service.units = lambda: _SlowUnitOfWork(sessions)
    return service


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
    service = make_service(engine, clock)
    await seed_directory(service)
    # Received Monday 4 January 2027: earliest conference Friday 8, target Friday 22.
    last_place = (await service.add_meeting(COORDINATOR, date(2027, 1, 12), 1)).meeting
    next_one = (await service.add_meeting(COORDINATOR, date(2027, 1, 19), 5)).meeting
    first = await service.open_referral(COORDINATOR)
    second = await service.open_referral(COORDINATOR)

    racing = _slow_service(engine, clock)
    cases = await asyncio.wait_for(
        asyncio.gather(
            racing.submit_referral(COORDINATOR, first.token, referral_inputs()),
            racing.submit_referral(
                COORDINATOR, second.token, referral_inputs(victim_name="Kim Madeup")
            ),
        ),
        TIMEOUT,
    )

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
    service = make_service(engine, clock)
    await seed_directory(service)
    await service.add_meeting(COORDINATOR, date(2027, 1, 12), 5)
    card = await service.open_referral(COORDINATOR)

    racing = _slow_service(engine, clock)
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            racing.submit_referral(COORDINATOR, card.token, referral_inputs()),
            racing.submit_referral(COORDINATOR, card.token, referral_inputs()),
            return_exceptions=True,
        ),
        TIMEOUT,
    )

    created = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(created) == 1, outcomes
    assert len(refused) == 1 and isinstance(refused[0], AlreadyDone), outcomes
    reference = created[0].reference
    assert refused[0].outcome in ("", reference)
    assert await service.already_done_reference(card.token) == reference
    async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
        assert [c.reference for c in await uow.cases.open_cases()] == [reference]
