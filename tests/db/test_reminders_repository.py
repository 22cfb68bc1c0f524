"""The reminders table's contract (storage/repositories/reminders.py), on SQLite and PostgreSQL.

A reminder is created once per key (kind, subject, slot); the sweep claims due live rows under
a lease; a row whose lease ran out can be claimed again; only the lease owner finishes a row;
answering, agreeing or closing cancels only rows nobody has claimed. On PostgreSQL, replicas
claiming at the same time get disjoint rows (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.reminders import ReminderKind, ReminderPlan, ReminderState
from storage.models import ReminderRow
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.db_data import CaseMaker

NOW = datetime(2027, 1, 6, 9, 0, tzinfo=UTC)  # Wed 6 Jan 2027, 09:00 London (GMT)
LEASE = timedelta(minutes=5)
TIMEOUT = 20  # a lock wait fails the test instead of hanging it


def plan(
    kind: ReminderKind = ReminderKind.INFO_DUE,
    subject: int = 1,
    slot: date = date(2027, 1, 6),
    due: datetime = NOW,
    expires: datetime = NOW + timedelta(days=1),
    case_id: int | None = None,
) -> ReminderPlan:
    return ReminderPlan(kind, case_id, subject, slot, due, expires)


async def schedule(units: SqlUnitOfWorkFactory, *plans: ReminderPlan) -> int:
    async with units() as uow:
        created = await uow.reminders.schedule(list(plans), NOW - timedelta(days=2))
        await uow.commit()
    return created


async def rows(units: SqlUnitOfWorkFactory) -> dict[str, ReminderRow]:
    async with units() as uow:
        found = {r.key: r for r in await uow.session.scalars(select(ReminderRow))}
        uow.session.expunge_all()
    return found


async def claim(
    units: SqlUnitOfWorkFactory,
    owner: str,
    now: datetime = NOW,
    limit: int = 50,
    lease: timedelta = LEASE,
) -> list[str]:
    async with units() as uow:
        items = await uow.reminders.claim_due(now, now + lease, owner, limit)
        await uow.commit()
    return [i.key for i in items]


async def finish(
    units: SqlUnitOfWorkFactory,
    key: str,
    owner: str,
    state: ReminderState = ReminderState.SENT,
    at: datetime = NOW,
) -> bool:
    row_id = (await rows(units))[key].id
    async with units() as uow:
        done = await uow.reminders.finish(row_id, owner, state, "2 messages", at)
        await uow.commit()
    return done


async def test_schedule_creates_each_key_once(units: SqlUnitOfWorkFactory) -> None:
    first, second = plan(subject=1), plan(subject=2)
    assert await schedule(units, first, second) == 2
    moved = plan(subject=1, due=NOW + timedelta(hours=3))  # same key, other times
    assert await schedule(units, moved, second, plan(subject=3)) == 1
    assert await schedule(units) == 0

    stored = await rows(units)
    assert sorted(stored) == sorted([first.key, second.key, plan(subject=3).key])
    kept = stored[first.key]
    assert kept.due_at == NOW, "the first plan of a key stands"
    assert (kept.kind, kept.subject_id, kept.slot) == ("inforeq.reminder", 1, date(2027, 1, 6))
    assert kept.expires_at == NOW + timedelta(days=1)
    assert kept.state == "pending" and kept.lease_owner is None and kept.lease_until is None


async def test_one_row_per_kind_subject_and_slot(units: SqlUnitOfWorkFactory) -> None:
    plans = [
        plan(ReminderKind.ACTION_OVERDUE, 9, date(2027, 1, 21)),
        plan(ReminderKind.ACTION_OVERDUE, 9, date(2027, 1, 25)),
        plan(ReminderKind.ACTION_ESCALATION, 9, date(2027, 1, 25)),
        plan(ReminderKind.ACTION_OVERDUE, 10, date(2027, 1, 25)),
    ]
    assert await schedule(units, *plans) == 4
    assert await schedule(units, *plans) == 0


async def test_claim_takes_only_due_live_rows_and_leases_them(
    units: SqlUnitOfWorkFactory,
) -> None:
    await schedule(
        units,
        plan(subject=1, due=NOW - timedelta(days=1)),
        plan(subject=2, due=NOW),
        plan(subject=3, due=NOW + timedelta(seconds=1)),  # not yet due
        plan(subject=4, due=NOW - timedelta(hours=1)),
        plan(subject=5, due=NOW - timedelta(hours=2)),
    )
    async with units() as uow:  # two rows are already finished with
        await uow.reminders.cancel([ReminderKind.INFO_DUE], 4, "answered", NOW)
        await uow.commit()
    assert await claim(units, "sweeper", limit=1) == [plan(subject=1).key], "oldest first"
    assert await finish(units, plan(subject=1).key, "sweeper")

    claimed = await claim(units, "replica-a")

    assert claimed == [plan(subject=5).key, plan(subject=2).key]
    stored = await rows(units)
    for key in claimed:
        assert stored[key].state == "claimed"
        assert stored[key].lease_owner == "replica-a"
        assert stored[key].lease_until == NOW + LEASE
    assert stored[plan(subject=3).key].state == "pending"
    assert stored[plan(subject=4).key].state == "cancelled"
    assert stored[plan(subject=1).key].state == "sent"
    assert await claim(units, "replica-b") == [], "leased rows are not claimed again"


async def test_a_row_whose_lease_ran_out_can_be_claimed_again(
    units: SqlUnitOfWorkFactory,
) -> None:
    await schedule(units, plan(subject=1))
    assert await claim(units, "crashed") == [plan(subject=1).key]

    assert await claim(units, "replica-b", NOW + LEASE - timedelta(seconds=1)) == []
    later = NOW + LEASE
    assert await claim(units, "replica-b", later) == [plan(subject=1).key]

    row = (await rows(units))[plan(subject=1).key]
    assert (row.state, row.lease_owner, row.lease_until) == ("claimed", "replica-b", later + LEASE)


async def test_only_the_lease_owner_finishes_a_row(units: SqlUnitOfWorkFactory) -> None:
    await schedule(units, plan(subject=1), plan(subject=2))
    key = plan(subject=1).key
    assert not await finish(units, key, "replica-a"), "a pending row cannot be finished"
    await claim(units, "replica-a")

    assert not await finish(units, key, "replica-b")
    assert (await rows(units))[key].state == "claimed"
    done_at = NOW + timedelta(seconds=3)
    assert await finish(units, key, "replica-a", ReminderState.SENT, done_at)
    row = (await rows(units))[key]
    assert (row.state, row.outcome, row.done_at, row.lease_until) == (
        "sent",
        "2 messages",
        done_at,
        None,
    )
    assert not await finish(units, key, "replica-a", ReminderState.DROPPED), "only once"
    assert (await rows(units))[key].state == "sent"


async def test_the_old_owner_cannot_finish_after_another_took_over(
    units: SqlUnitOfWorkFactory,
) -> None:
    await schedule(units, plan(subject=1))
    key = plan(subject=1).key
    await claim(units, "slow-replica")
    await claim(units, "replica-b", NOW + LEASE)

    assert not await finish(units, key, "slow-replica", at=NOW + LEASE)
    assert await finish(units, key, "replica-b", ReminderState.DROPPED, NOW + LEASE)
    assert (await rows(units))[key].state == "dropped"


async def test_cancel_touches_only_pending_rows_of_that_subject_and_kind(
    units: SqlUnitOfWorkFactory,
) -> None:
    kinds = [ReminderKind.ACTION_BEFORE, ReminderKind.ACTION_DUE, ReminderKind.ACTION_OVERDUE]
    await schedule(
        units,
        plan(ReminderKind.ACTION_BEFORE, 9, date(2027, 1, 5), due=NOW - timedelta(days=1)),
        plan(ReminderKind.ACTION_DUE, 9, date(2027, 1, 6), due=NOW),
        plan(ReminderKind.ACTION_OVERDUE, 9, date(2027, 1, 7), due=NOW + timedelta(days=1)),
        plan(ReminderKind.ACTION_ESCALATION, 9, date(2027, 1, 11), due=NOW + timedelta(days=3)),
        plan(ReminderKind.ACTION_OVERDUE, 10, date(2027, 1, 7), due=NOW + timedelta(days=1)),
    )
    before_key = plan(ReminderKind.ACTION_BEFORE, 9, date(2027, 1, 5)).key
    due_key = plan(ReminderKind.ACTION_DUE, 9, date(2027, 1, 6)).key
    await claim(units, "sweeper", limit=1)
    assert await finish(units, before_key, "sweeper")  # already sent
    await claim(units, "sweeper")  # the due-day one is on the wire

    async with units() as uow:
        cancelled = await uow.reminders.cancel(kinds, 9, "done", NOW)
        await uow.commit()

    assert cancelled == 1
    stored = await rows(units)
    assert stored[before_key].state == "sent"
    assert stored[due_key].state == "claimed"
    overdue = stored[plan(ReminderKind.ACTION_OVERDUE, 9, date(2027, 1, 7)).key]
    assert (overdue.state, overdue.outcome, overdue.done_at) == ("cancelled", "done", NOW)
    assert stored[plan(ReminderKind.ACTION_ESCALATION, 9, date(2027, 1, 11)).key].state == (
        "pending"
    ), "not one of the kinds"
    assert stored[plan(ReminderKind.ACTION_OVERDUE, 10, date(2027, 1, 7)).key].state == (
        "pending"
    ), "another action"
    later = await claim(units, "sweeper", NOW + timedelta(days=1, minutes=10))
    assert later == [due_key, plan(ReminderKind.ACTION_OVERDUE, 10, date(2027, 1, 7)).key]
    assert overdue.key not in later, "a cancelled row is never claimed"


async def test_for_case_and_due_at_read_in_due_order(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    other = await create_case("MARAT-2027-0002")
    await schedule(
        units,
        plan(
            ReminderKind.DISCUSSION,
            case_id,
            date(2027, 1, 7),
            NOW + timedelta(days=1),
            case_id=case_id,
        ),
        plan(ReminderKind.INFO_DUE, 1, date(2027, 1, 6), NOW, case_id=case_id),
        plan(ReminderKind.INFO_DUE, 2, date(2027, 1, 6), NOW, case_id=other),
        plan(ReminderKind.CONFERENCE_DAY, 3, date(2027, 1, 14), NOW + timedelta(days=8)),
    )
    async with units() as uow:
        mine = await uow.reminders.for_case(case_id)
        due = await uow.reminders.due_at(NOW, 10)
    assert [(i.kind, i.subject_id) for i in mine] == [
        (ReminderKind.INFO_DUE, 1),
        (ReminderKind.DISCUSSION, case_id),
    ]
    assert all(i.state is ReminderState.PENDING for i in mine)
    assert mine[0].due_at == NOW and mine[0].slot == date(2027, 1, 6)
    assert [(i.case_id, i.subject_id) for i in due] == [(case_id, 1), (other, 2)]


async def test_due_at_shows_pending_rows_only(units: SqlUnitOfWorkFactory) -> None:
    await schedule(units, plan(subject=1), plan(subject=2))
    await claim(units, "sweeper", limit=1)
    async with units() as uow:
        due = await uow.reminders.due_at(NOW, 10)
    assert [i.subject_id for i in due] == [2]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_replicas_claiming_at_once_get_disjoint_rows(
    engine: AsyncEngine, units: SqlUnitOfWorkFactory
) -> None:
    """PostgreSQL only: both transactions are open at the same time; the second one skips the
    rows the first has locked instead of waiting for them or taking them too."""
    await schedule(units, *(plan(subject=n, due=NOW - timedelta(minutes=n)) for n in range(1, 8)))

    async def race() -> tuple[list[str], list[str]]:
        async with units() as first, units() as second:
            a = await first.reminders.claim_due(NOW, NOW + LEASE, "replica-a", 3)
            b = await second.reminders.claim_due(NOW, NOW + LEASE, "replica-b", 3)
            await second.commit()
            await first.commit()
        return [i.key for i in a], [i.key for i in b]

    a, b = await asyncio.wait_for(race(), TIMEOUT)

    assert len(a) == len(b) == 3
    assert not set(a) & set(b)
    stored = await rows(units)
    assert {stored[k].lease_owner for k in a} == {"replica-a"}
    assert {stored[k].lease_owner for k in b} == {"replica-b"}
    assert await claim(units, "replica-c") == [plan(subject=1).key], "one left for a third"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_sweep_claims_never_overlap(
    engine: AsyncEngine, units: SqlUnitOfWorkFactory
) -> None:
    """Eight replicas claim batches of 5 from 30 due rows at once: every row goes to exactly
    one of them."""
    await schedule(units, *(plan(subject=n, due=NOW - timedelta(seconds=n)) for n in range(30)))
    start = asyncio.Barrier(8)

    async def replica(name: str) -> list[str]:
        async with units() as uow:
            await uow.reminders.due_at(NOW, 1)  # open the transaction on its own connection
            await start.wait()
            items = await uow.reminders.claim_due(NOW, NOW + LEASE, name, 5)
            await uow.commit()
        return [i.key for i in items]

    batches = await asyncio.wait_for(
        asyncio.gather(*(replica(f"replica-{n}") for n in range(8))), TIMEOUT
    )
    claimed = [key for batch in batches for key in batch]
    assert len(claimed) == len(set(claimed))
    assert len(claimed) == 30
