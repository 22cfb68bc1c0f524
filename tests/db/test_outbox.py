"""Storage contract of the outbox and the address book (storage/repositories/outbox.py and
addresses.py), on SQLite and on PostgreSQL (the ``engine`` fixture).

The outbox is the delivery queue: idempotent by key, claimed under a lease so a crashed sender's
rows come back, and scrubbed of their content once they are settled. The last tests run on
PostgreSQL only: replicas claiming at the same moment must never get the same row.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.ports import Address, OutboxItem, TeamAddress
from storage.models import OutboxRow
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.db_data import AT, CaseMaker

PAYLOAD = '{"text": "A MARAT information request needs your answer", "card": null}'
PAT = "aaaaaaaa-0000-4000-8000-0000000000a1"
SAM = "aaaaaaaa-0000-4000-8000-0000000000a2"
LEASE = timedelta(minutes=2)
MINUTE = timedelta(minutes=1)


async def enqueue(
    units: SqlUnitOfWorkFactory,
    key: str,
    at: datetime = AT,
    recipient: str = PAT,
    kind: str = "card",
    case_id: int | None = None,
    payload: str = PAYLOAD,
) -> bool:
    async with units() as uow:
        added = await uow.outbox.enqueue(key, recipient, kind, payload, at, case_id)
        await uow.commit()
    return added


async def claim(
    units: SqlUnitOfWorkFactory, now: datetime = AT, lease: timedelta = LEASE, limit: int = 50
) -> list[OutboxItem]:
    async with units() as uow:
        items = await uow.outbox.claim_due(now, now + lease, limit)
        await uow.commit()
    return items


async def row(units: SqlUnitOfWorkFactory, key: str) -> OutboxRow:
    """The stored row, detached (its values as read, not refreshed on access)."""
    async with units() as uow:
        found = await uow.session.scalar(select(OutboxRow).where(OutboxRow.key == key))
        assert found is not None, key
        uow.session.expunge(found)
    return found


async def item_id(units: SqlUnitOfWorkFactory, key: str) -> int:
    return (await row(units, key)).id


async def settle(
    units: SqlUnitOfWorkFactory, key: str, outcome: str, status: int | None = None
) -> None:
    """Record a final outcome for the row with ``key``, as the sender would."""
    ident = await item_id(units, key)
    async with units() as uow:
        if outcome == "sent":
            await uow.outbox.mark_sent(ident, "a:chat", "activity-1", status or 200, AT)
        else:
            await uow.outbox.mark_failed(ident, outcome, status, AT)
        await uow.commit()


def keys(items: list[OutboxItem]) -> list[str]:
    return [item.key for item in items]


# -- enqueue -----------------------------------------------------------------------------------


async def test_enqueue_is_idempotent_by_key(units: SqlUnitOfWorkFactory) -> None:
    assert await enqueue(units, "inforeq:1:pat") is True
    assert await enqueue(units, "inforeq:1:pat", payload='{"text": "changed"}') is False

    async with units() as uow:
        count = await uow.session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.key == "inforeq:1:pat")
        )
    assert count == 1
    stored = await row(units, "inforeq:1:pat")
    assert (stored.payload, stored.status, stored.attempts) == (PAYLOAD, "pending", 0)


async def test_enqueue_stores_the_recipient_as_the_address_book_looks_it_up(
    units: SqlUnitOfWorkFactory,
) -> None:
    await enqueue(units, "k", recipient=PAT.upper())
    assert (await row(units, "k")).recipient == PAT


# -- claiming ----------------------------------------------------------------------------------


async def test_claim_due_returns_only_due_pending_unleased_rows_and_leases_them(
    units: SqlUnitOfWorkFactory,
) -> None:
    await enqueue(units, "lease-ran-out", at=AT - 20 * MINUTE)
    await claim(units, now=AT - 20 * MINUTE, lease=19 * MINUTE)  # leased until AT - 1 min
    await enqueue(units, "still-leased", at=AT - 10 * MINUTE)
    await claim(units, now=AT - 10 * MINUTE, lease=15 * MINUTE)  # leased until AT + 5 min
    await enqueue(units, "due", at=AT - MINUTE)
    await enqueue(units, "due-now", at=AT)
    await enqueue(units, "not-yet", at=AT + MINUTE)
    for settled in ("sent", "failed"):
        await enqueue(units, settled, at=AT - 30 * MINUTE)
    await settle(units, "sent", "sent")
    await settle(units, "failed", "failed", 502)

    claimed = await claim(units, now=AT)

    assert keys(claimed) == ["lease-ran-out", "due", "due-now"]  # oldest due first
    for key in keys(claimed):
        assert (await row(units, key)).lease_until == AT + LEASE
    assert (await row(units, "still-leased")).lease_until == AT + 5 * MINUTE


async def test_claim_due_hands_over_the_message_as_queued(units: SqlUnitOfWorkFactory) -> None:
    await enqueue(units, "inforeq:7:pat", kind="card", payload=PAYLOAD)
    (item,) = await claim(units)
    assert (item.key, item.recipient, item.kind, item.payload, item.attempts) == (
        "inforeq:7:pat",
        PAT,
        "card",
        PAYLOAD,
        0,
    )


async def test_claim_due_takes_at_most_the_batch_size_oldest_first(
    units: SqlUnitOfWorkFactory,
) -> None:
    for minutes in (3, 1, 5, 2, 4):
        await enqueue(units, f"m{minutes}", at=AT - minutes * MINUTE)
    assert keys(await claim(units, limit=2)) == ["m5", "m4"]
    assert keys(await claim(units, limit=2)) == ["m3", "m2"]
    assert keys(await claim(units, limit=2)) == ["m1"]


async def test_a_leased_row_is_not_claimed_again_until_the_lease_ends(
    units: SqlUnitOfWorkFactory,
) -> None:
    await enqueue(units, "k")
    assert keys(await claim(units, now=AT)) == ["k"]

    assert await claim(units, now=AT + LEASE - timedelta(seconds=1)) == []
    assert keys(await claim(units, now=AT + LEASE)) == ["k"], "a dead sender's lease ran out"


# -- recording the outcome ---------------------------------------------------------------------


async def test_mark_sent_records_where_it_went_and_scrubs_the_payload(
    units: SqlUnitOfWorkFactory,
) -> None:
    await enqueue(units, "k")
    (item,) = await claim(units)
    async with units() as uow:
        await uow.outbox.mark_sent(item.id, "a:chat-pat", "activity-9", 201, AT + MINUTE)
        await uow.commit()

    stored = await row(units, "k")
    assert stored.payload == "{}", "a delivered card must not stay in the database"
    assert (stored.status, stored.last_status, stored.attempts) == ("sent", 201, 1)
    assert (stored.conversation_id, stored.activity_id) == ("a:chat-pat", "activity-9")
    assert (stored.sent_at, stored.lease_until) == (AT + MINUTE, None)
    async with units() as uow:
        assert await uow.outbox.sent("k") == ("a:chat-pat", "activity-9")
        assert await uow.outbox.status("k") == "sent"
    assert await claim(units, now=AT + timedelta(days=1)) == []


async def test_sent_is_none_until_a_message_is_delivered(units: SqlUnitOfWorkFactory) -> None:
    await enqueue(units, "pending")
    await enqueue(units, "no-activity-id")
    no_activity = await item_id(units, "no-activity-id")
    async with units() as uow:
        await uow.outbox.mark_sent(no_activity, "a:chat", None, 200, AT)
        await uow.commit()
    async with units() as uow:
        assert await uow.outbox.sent("pending") is None
        assert await uow.outbox.sent("no-activity-id") is None, "nothing to update in place"
        assert await uow.outbox.sent("unknown") is None
        assert await uow.outbox.status("unknown") is None


async def test_mark_retry_counting_an_attempt(units: SqlUnitOfWorkFactory) -> None:
    await enqueue(units, "k")
    (item,) = await claim(units)
    async with units() as uow:
        await uow.outbox.mark_retry(item.id, AT + 30 * timedelta(seconds=1), 429, True)
        await uow.commit()

    stored = await row(units, "k")
    assert (stored.status, stored.attempts, stored.last_status) == ("pending", 1, 429)
    assert (stored.next_attempt_at, stored.lease_until) == (AT + timedelta(seconds=30), None)
    assert stored.payload == PAYLOAD, "a message still to be delivered keeps its content"
    assert await claim(units, now=AT + timedelta(seconds=29)) == []
    (again,) = await claim(units, now=AT + timedelta(seconds=30))
    assert again.attempts == 1


async def test_mark_retry_without_counting_an_attempt(units: SqlUnitOfWorkFactory) -> None:
    """Pacing (holding a message back for Teams' rate limit) is not a failed attempt."""
    await enqueue(units, "k")
    (item,) = await claim(units)
    async with units() as uow:
        await uow.outbox.mark_retry(item.id, AT + timedelta(seconds=1), None, False)
        await uow.commit()

    stored = await row(units, "k")
    assert (stored.status, stored.attempts, stored.lease_until) == ("pending", 0, None)
    assert stored.next_attempt_at == AT + timedelta(seconds=1)


@pytest.mark.parametrize(("final", "status"), [("failed", 502), ("unreachable", 403)])
async def test_mark_failed_settles_the_row_and_scrubs_the_payload(
    units: SqlUnitOfWorkFactory, final: str, status: int
) -> None:
    await enqueue(units, "k")
    (item,) = await claim(units)
    async with units() as uow:
        await uow.outbox.mark_failed(item.id, final, status, AT)
        await uow.commit()

    stored = await row(units, "k")
    assert (stored.status, stored.last_status, stored.attempts) == (final, status, 1)
    assert (stored.payload, stored.lease_until, stored.sent_at) == ("{}", None, None)
    async with units() as uow:
        assert await uow.outbox.sent("k") is None
        assert await uow.outbox.status("k") == final
    assert await claim(units, now=AT + timedelta(days=1)) == []


async def test_replace_pending_payload_only_while_the_message_is_pending(
    units: SqlUnitOfWorkFactory,
) -> None:
    await enqueue(units, "waiting")
    await enqueue(units, "gone")
    await settle(units, "gone", "sent")

    async with units() as uow:
        assert await uow.outbox.replace_pending_payload("waiting", '{"text": "answered"}')
        assert not await uow.outbox.replace_pending_payload("gone", '{"text": "answered"}')
        assert not await uow.outbox.replace_pending_payload("unknown", '{"text": "answered"}')
        await uow.commit()
    assert (await row(units, "waiting")).payload == '{"text": "answered"}'
    assert (await row(units, "gone")).payload == "{}"


async def test_delivery_states_worst_state_wins_per_recipient(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    other_case = await create_case("MARAT-2027-0002")
    people = {
        "sent": ["sent"],
        "pending": ["sent", "pending"],
        "failed": ["sent", "failed", "pending"],
        "unreachable": ["failed", "unreachable", "sent"],
    }
    for person, outcomes in people.items():
        for index, outcome in enumerate(outcomes):
            key = f"card:{person}:{index}"
            await enqueue(units, key, recipient=person, case_id=case_id)
            if outcome != "pending":
                await settle(units, key, outcome)
    # Neither a text notice nor another case's card changes this case's states.
    await enqueue(units, "text", recipient="sent", kind="text", case_id=case_id)
    await enqueue(units, "other-case", recipient="sent", case_id=other_case)
    await settle(units, "text", "unreachable", 403)
    await settle(units, "other-case", "failed", 502)

    async with units() as uow:
        states = await uow.outbox.delivery_states(case_id)
    assert states == {person: person for person in people}


# -- the address book --------------------------------------------------------------------------


def address(conversation: str = "a:chat-1", aad: str = PAT) -> Address:
    return Address(aad, "tenant-1", "29:pat", conversation, "https://smba.example.test/", "28:bot")


async def test_save_personal_inserts_then_refreshes(units: SqlUnitOfWorkFactory) -> None:
    async with units() as uow:
        assert await uow.addresses.save_personal(address("a:chat-1"), AT) is True
        await uow.commit()
    async with units() as uow:
        assert await uow.addresses.save_personal(address("a:chat-2"), AT + MINUTE) is False
        await uow.commit()

    async with units() as uow:
        assert await uow.addresses.personal(PAT) == address("a:chat-2")
        assert await uow.addresses.personal(PAT.upper()) == address("a:chat-2")
        assert await uow.addresses.personal(SAM) is None


async def test_an_address_is_stored_under_the_lowercased_object_id(
    units: SqlUnitOfWorkFactory,
) -> None:
    async with units() as uow:
        await uow.addresses.save_personal(address(aad=SAM.upper()), AT)
        await uow.commit()
    async with units() as uow:
        found = await uow.addresses.personal(SAM)
    assert found is not None and found.aad_object_id == SAM


def team(
    team_id: str, tenant: str = "tenant-1", url: str = "https://smba.example.test/"
) -> TeamAddress:
    return TeamAddress(team_id, tenant, url, "28:bot")


async def test_teams_lists_installed_teams_by_tenant(units: SqlUnitOfWorkFactory) -> None:
    async with units() as uow:
        await uow.addresses.save_team(team("19:a", "tenant-1"), AT)
        await uow.addresses.save_team(team("19:b", "tenant-2"), AT)
        await uow.addresses.save_team(team("19:c", "tenant-1"), AT)
        await uow.commit()
    async with units() as uow:
        assert await uow.addresses.teams(None) == [
            team("19:a", "tenant-1"),
            team("19:b", "tenant-2"),
            team("19:c", "tenant-1"),
        ]
        assert await uow.addresses.teams("tenant-1") == [
            team("19:a", "tenant-1"),
            team("19:c", "tenant-1"),
        ]


async def test_a_removed_team_is_not_listed_until_the_app_is_installed_again(
    units: SqlUnitOfWorkFactory,
) -> None:
    async with units() as uow:
        await uow.addresses.save_team(team("19:a"), AT)
        await uow.addresses.save_team(team("19:b"), AT)
        await uow.commit()
    async with units() as uow:
        await uow.addresses.remove_team("19:a", AT + MINUTE)
        await uow.addresses.remove_team("19:unknown", AT + MINUTE)
        await uow.commit()
    async with units() as uow:
        assert await uow.addresses.teams(None) == [team("19:b")]

    moved = team("19:a", url="https://smba.example.test/emea/")
    async with units() as uow:
        await uow.addresses.save_team(moved, AT + 2 * MINUTE)
        await uow.commit()
    async with units() as uow:
        assert await uow.addresses.teams(None) == [moved, team("19:b")]


# -- PostgreSQL: replicas claiming at the same moment ------------------------------------------

TIMEOUT = 10  # a claimer blocked on another's row lock fails the test instead of hanging it


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_claimers_skip_each_others_rows(units: SqlUnitOfWorkFactory) -> None:
    for n in range(10):
        await enqueue(units, f"k{n}", at=AT - timedelta(seconds=n))

    async with units() as first, units() as second, units() as third:
        # Three open transactions on three connections; none has committed its claim.
        a = await first.outbox.claim_due(AT, AT + LEASE, 4)
        b = await asyncio.wait_for(second.outbox.claim_due(AT, AT + LEASE, 4), TIMEOUT)
        c = await asyncio.wait_for(third.outbox.claim_due(AT, AT + LEASE, 10), TIMEOUT)
        await first.commit()
        await second.commit()
        await third.commit()

    assert (len(a), len(b), len(c)) == (4, 4, 2)
    claimed = keys(a) + keys(b) + keys(c)
    assert sorted(claimed) == sorted(f"k{n}" for n in range(10)), "every row exactly once"
    assert await claim(units) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_many_replicas_claiming_at_once_never_share_a_row(
    units: SqlUnitOfWorkFactory,
) -> None:
    rows, claimers = 12, 5
    for n in range(rows):
        await enqueue(units, f"k{n}")
    all_open = asyncio.Barrier(claimers)
    all_claimed = asyncio.Barrier(claimers)

    async def replica() -> list[str]:
        async with units() as uow:
            await uow.outbox.status("k0")  # open this replica's transaction first
            await all_open.wait()
            items = await uow.outbox.claim_due(AT, AT + LEASE, 3)
            await all_claimed.wait()  # nobody commits until everyone has claimed
            await uow.commit()
        return keys(items)

    claims = await asyncio.wait_for(asyncio.gather(*(replica() for _ in range(claimers))), TIMEOUT)
    flat = [key for claimed in claims for key in claimed]
    assert len(flat) == len(set(flat)) == rows
