"""The outbox sender when the database goes away between Teams accepting a message and the row
being marked sent (issue 12): it keeps what it knows and marks it first thing when the database
answers again, so the outage itself never makes a message go twice.

The real OutboxSender on SQLite with a FixedClock and the in-memory Teams of
tests/support/fakes.py; the database "goes away" through a unit-of-work factory that raises
``DatabaseUnavailable`` while a switch is on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.ports import Address, DatabaseUnavailable, OutgoingMessage
from bot.services.outbox import enqueue
from bot.teams.outbox_sender import OutboxSender, SenderSettings
from storage.db import session_factory
from storage.models import OutboxRow
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.fakes import FakeMessenger
from tests.support.reliability import record

PERSON = "77777777-7777-4777-8777-777777777777"
NOW = datetime(2027, 1, 6, 10, tzinfo=UTC)


class Flaky:
    """Units of work that fail with DatabaseUnavailable while ``down`` (as the real ones do
    when PostgreSQL is unreachable)."""

    def __init__(self, units: SqlUnitOfWorkFactory) -> None:
        self.units = units
        self.down = False

    def __call__(self) -> Any:
        if self.down:
            raise DatabaseUnavailable()
        return self.units()


async def test_a_message_delivered_as_the_database_went_away_is_marked_not_resent(
    sqlite_engine: AsyncEngine,
) -> None:
    units = SqlUnitOfWorkFactory(session_factory(sqlite_engine))
    flaky = Flaky(units)
    clock = FixedClock(NOW)
    messenger = FakeMessenger(clock)
    lease = timedelta(seconds=30)
    sender = OutboxSender(flaky, messenger, clock, settings=SenderSettings(lease=lease))
    async with units() as uow:
        await uow.addresses.save_personal(
            Address(PERSON, "t", "29:p", "a:chat-p", "https://smba.example.test/", "28:b"), NOW
        )
        for n in range(3):
            await enqueue(uow, f"note:{n}", PERSON, OutgoingMessage(text=f"Synthetic {n}"), NOW)
        await uow.commit()

    async def down_after_send(address: Address, message: OutgoingMessage) -> None:
        flaky.down = True  # Teams has it; the mark that follows cannot be written

    messenger.during_call = down_after_send
    with pytest.raises(DatabaseUnavailable):
        await sender.deliver_due()
    assert len(messenger.delivered()) == 1

    clock.advance(lease * 4)  # a long outage: the row's lease has long run out
    flaky.down = False
    messenger.during_call = None
    while await sender.deliver_due():
        pass

    texts = [c.message.text for c in messenger.delivered()]
    async with sqlite_engine.connect() as connection:
        states = (await connection.execute(select(OutboxRow.key, OutboxRow.status))).all()
    record("database outage", 1, lost=3 - len(set(texts)), duplicates=len(texts) - len(set(texts)))
    assert sorted(texts) == ["Synthetic 0", "Synthetic 1", "Synthetic 2"], "each once"
    assert {status for _, status in states} == {"sent"}
