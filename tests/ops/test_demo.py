"""The demo directory and calendar that `marat serve --demo` seeds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.domain.directory import DEFAULT_AGENCIES, agency_key
from bot.ops.demo import PLAYGROUND_USER, demo_conference_dates, seed_demo
from bot.services.conferences import AgendaWhich
from tests.support.builders import referral_inputs
from tests.support.services import make_services, refer


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (datetime(2026, 11, 26, 9, tzinfo=UTC), date(2026, 12, 3)),  # a Thursday itself
        (datetime(2026, 12, 21, 9, tzinfo=UTC), date(2026, 12, 31)),  # over Christmas
        (datetime(2027, 3, 22, 9, tzinfo=UTC), date(2027, 4, 1)),  # Easter 2027
    ],
)
async def test_demo_conferences_start_when_a_case_referred_today_can_be_heard(
    sqlite_engine: AsyncEngine, today: datetime, first: date
) -> None:
    deps = make_services(sqlite_engine, FixedClock(today))
    dates = demo_conference_dates(deps.context)
    assert dates[0] == first
    assert len(dates) == 8
    assert all(deps.calendar.is_working_day(d) for d in dates)


async def test_the_playground_user_is_a_coordinator_and_a_contact_of_every_agency(
    sqlite_engine: AsyncEngine,
) -> None:
    deps = make_services(sqlite_engine, FixedClock(datetime(2026, 11, 26, 9, tzinfo=UTC)))
    await seed_demo(deps)
    await seed_demo(deps)  # idempotent
    person = await deps.directory.person(PLAYGROUND_USER)
    assert person is not None and person.is_coordinator
    assert person.agency_keys == {agency_key(name) for name in DEFAULT_AGENCIES}
    assert len(await deps.conferences.meetings(PLAYGROUND_USER)) == 8


async def test_after_a_first_referral_agenda_shows_that_case(sqlite_engine: AsyncEngine) -> None:
    deps = make_services(sqlite_engine, FixedClock(datetime(2026, 11, 26, 9, tzinfo=UTC)))
    await seed_demo(deps)
    case = await refer(
        deps,
        PLAYGROUND_USER,
        referral_inputs(received_date="2026-11-26", incident_date="2026-11-25"),
    )
    agenda = await deps.conferences.agenda(PLAYGROUND_USER, AgendaWhich.NEXT)
    assert case.reference in [c.reference for c in agenda.with_children]
