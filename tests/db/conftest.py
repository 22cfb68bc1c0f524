"""Storage contract fixtures. ``engine`` (tests/conftest.py) runs each test on SQLite and on
PostgreSQL; these build the unit-of-work factory and a small directory on top of it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.cases import Meeting
from bot.domain.deadlines import CaseDeadlines, ConferenceChoice
from bot.domain.directory import Agency
from bot.domain.lifecycle import Transition
from bot.domain.referral import Referral
from storage.db import session_factory
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.db_data import (
    ACTOR,
    AGENCY_NAMES,
    AT,
    CaseMaker,
    MeetingMaker,
    deadlines,
    full_referral,
    opened,
    unlisted,
)


@pytest.fixture
def units(engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(session_factory(engine))


@pytest.fixture
async def agencies(units: SqlUnitOfWorkFactory) -> dict[str, Agency]:
    """The agencies of ``AGENCY_NAMES``, committed, by key."""
    async with units() as uow:
        created = [(await uow.directory.upsert_agency(name, AT))[0] for name in AGENCY_NAMES]
        await uow.commit()
    return {agency.key: agency for agency in created}


@pytest.fixture
def add_meeting(units: SqlUnitOfWorkFactory) -> MeetingMaker:
    """Add a conference in its own committed unit of work."""

    async def add(day: date, capacity: int) -> Meeting:
        async with units() as uow:
            meeting = await uow.meetings.add(day, capacity, ACTOR, AT)
            await uow.commit()
        return meeting

    return add


@pytest.fixture
def create_case(units: SqlUnitOfWorkFactory, agencies: dict[str, Agency]) -> CaseMaker:
    """Create a case in its own committed unit of work; returns its id."""

    async def create(
        reference: str,
        referral: Referral | None = None,
        case_deadlines: CaseDeadlines | None = None,
        choice: ConferenceChoice | None = None,
        transition: Transition | None = None,
    ) -> int:
        async with units() as uow:
            case_id = await uow.cases.create(
                reference,
                referral or full_referral(),
                case_deadlines or deadlines(),
                choice or unlisted(),
                transition or opened(),
            )
            await uow.commit()
        return case_id

    return create
