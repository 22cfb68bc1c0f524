"""Storage contract for directory administration: removing agencies and memberships, finding
people by e-mail, taking people out of the directory, and locking the coordinator list.

Every test runs on SQLite and on PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.db_data import AT

ADA = "aaaaaaaa-1111-4111-8111-0000000000aa"
BEN = "bbbbbbbb-2222-4222-8222-0000000000bb"
CAL = "cccccccc-3333-4333-8333-0000000000cc"


async def _people(units: SqlUnitOfWorkFactory) -> None:
    """Ada: Police and Housing contact. Ben: coordinator. Cal: coordinator and Police contact."""
    async with units() as uow:
        for name in ("Police", "Housing"):
            await uow.directory.upsert_agency(name, AT)
        await uow.directory.upsert_person(ADA, "Ada Example", "Ada@Example.org", AT)
        await uow.directory.upsert_person(BEN, "Ben Example", "ben@example.org", AT)
        await uow.directory.upsert_person(CAL, "Cal Example", None, AT)
        await uow.directory.add_membership(ADA, "police")
        await uow.directory.add_membership(ADA, "housing")
        await uow.directory.add_membership(CAL, "police")
        await uow.directory.set_coordinator(BEN, True)
        await uow.directory.set_coordinator(CAL, True)
        await uow.commit()


async def test_agency_by_key_tells_unknown_from_removed(units: SqlUnitOfWorkFactory) -> None:
    await _people(units)
    async with units() as uow:
        assert await uow.directory.remove_agency("housing") is True
        assert await uow.directory.remove_agency("housing") is False
        assert await uow.directory.remove_agency("fire") is False
        await uow.commit()
    async with units() as uow:
        housing = await uow.directory.agency_by_key("housing")
        police = await uow.directory.agency_by_key("police")
        assert await uow.directory.agency_by_key("fire") is None
        assert [a.key for a in await uow.directory.agencies()] == ["police"]
    assert housing is not None and housing[0].name == "Housing" and housing[1] is False
    assert police is not None and police[1] is True


async def test_a_removed_agency_drops_out_of_its_contacts_roles_until_restored(
    units: SqlUnitOfWorkFactory,
) -> None:
    await _people(units)
    async with units() as uow:
        await uow.directory.remove_agency("housing")
        await uow.commit()
    async with units() as uow:
        ada = await uow.directory.person(ADA)
        assert ada is not None and ada.agency_keys == {"police"}
        _agency, created = await uow.directory.upsert_agency("Housing", AT)
        await uow.commit()
    assert created is False
    async with units() as uow:
        ada = await uow.directory.person(ADA)
        assert ada is not None and ada.agency_keys == {"police", "housing"}
        assert [p.aad_object_id for p in await uow.directory.contacts_of("housing")] == [ADA]


async def test_remove_membership_removes_only_that_agency(units: SqlUnitOfWorkFactory) -> None:
    await _people(units)
    async with units() as uow:
        assert await uow.directory.remove_membership(ADA.upper(), "police") is True
        assert await uow.directory.remove_membership(ADA, "police") is False
        assert await uow.directory.remove_membership(ADA, "fire") is False
        assert await uow.directory.remove_membership(BEN, "police") is False
        await uow.commit()
    async with units() as uow:
        ada = await uow.directory.person(ADA)
        assert ada is not None and ada.agency_keys == {"housing"}
        assert [p.aad_object_id for p in await uow.directory.contacts_of("police")] == [CAL]


async def test_people_by_email_ignores_case_and_people_out_of_the_directory(
    units: SqlUnitOfWorkFactory,
) -> None:
    await _people(units)
    async with units() as uow:
        found = await uow.directory.people_by_email("  ada@EXAMPLE.org ")
        assert [p.aad_object_id for p in found] == [ADA]
        assert await uow.directory.people_by_email("nobody@example.org") == []
        await uow.directory.upsert_person(CAL, "Cal Example", "ADA@example.org", AT)
        both = await uow.directory.people_by_email("ada@example.org")
        assert [p.aad_object_id for p in both] == [ADA, CAL]
        await uow.directory.deactivate_person(ADA, AT)
        only_cal = await uow.directory.people_by_email("ada@example.org")
        assert [p.aad_object_id for p in only_cal] == [CAL]


async def test_a_deactivated_person_is_unregistered_until_upserted_again(
    units: SqlUnitOfWorkFactory,
) -> None:
    await _people(units)
    async with units() as uow:
        assert await uow.directory.deactivate_person(ADA.upper(), AT) is True
        assert await uow.directory.deactivate_person(ADA, AT) is False
        await uow.commit()
    async with units() as uow:
        assert await uow.directory.person(ADA) is None
        assert [p.aad_object_id for p in await uow.directory.contacts_of("housing")] == []
        assert await uow.directory.upsert_person(ADA, "Ada Example", None, AT) is False
        await uow.commit()
    async with units() as uow:
        assert await uow.directory.person(ADA) is not None


async def test_lock_coordinators_lists_active_coordinators(units: SqlUnitOfWorkFactory) -> None:
    await _people(units)
    async with units() as uow:
        assert await uow.directory.lock_coordinators() == [BEN, CAL]
        await uow.directory.deactivate_person(CAL, AT)
        assert await uow.directory.lock_coordinators() == [BEN]


async def someone_waits_for_a_lock(engine: AsyncEngine) -> None:
    """Return once another PostgreSQL session is blocked on a row lock (asked, not slept on).

    On SQLite there is nothing to wait for: the bot's single connection serialises the two
    transactions before the second one can even ask.
    """
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as watcher:
        while not await watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
            await watcher.rollback()  # a fresh snapshot of pg_locks each time


async def test_a_second_coordinator_removal_waits_and_sees_the_first(
    engine: AsyncEngine, units: SqlUnitOfWorkFactory
) -> None:
    """Ben and Cal remove each other at once: the second must see only one coordinator left,
    or both would pass the last-coordinator check and leave the MARAT with none."""
    await _people(units)
    async with units() as first:
        assert await first.directory.lock_coordinators() == [BEN, CAL]
        await first.directory.set_coordinator(CAL, False)

        async def second() -> list[str]:
            async with units() as uow:
                return await uow.directory.lock_coordinators()

        waiting = asyncio.create_task(second())
        await asyncio.wait_for(someone_waits_for_a_lock(engine), 10)
        assert not waiting.done()  # blocked by the first transaction's lock
        await first.commit()
    assert await asyncio.wait_for(waiting, 10) == [BEN]
