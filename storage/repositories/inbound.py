"""Inbound activities already received, so that a redelivered activity has no second effect.

The first delivery inserts the row ("in flight", under a short lease); a concurrent or later
copy finds it. A copy arriving after the lease ran out (the process handling the first died)
takes the row over and is handled: nothing is lost to a crash.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ports import InboundState
from storage.models import InboundActivityRow
from storage.repositories._common import is_postgres

IN_FLIGHT = "in_flight"
DONE = "done"


class SqlInboundActivities:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def begin(self, key: str, now: datetime, lease_until: datetime) -> InboundState:
        dialect_insert = pg_insert if is_postgres(self.session) else sqlite_insert
        inserted = await self.session.execute(
            dialect_insert(InboundActivityRow)
            .values(key=key, state=IN_FLIGHT, lease_until=lease_until, received_at=now)
            .on_conflict_do_nothing(index_elements=[InboundActivityRow.key])
            .returning(InboundActivityRow.key)
        )
        if inserted.scalar_one_or_none() is not None:
            return "first"
        taken_over = await self.session.execute(
            update(InboundActivityRow)
            .where(
                InboundActivityRow.key == key,
                InboundActivityRow.state == IN_FLIGHT,
                InboundActivityRow.lease_until <= now,
            )
            .values(lease_until=lease_until)
        )
        if getattr(taken_over, "rowcount", 0) == 1:
            return "first"
        state = await self.session.scalar(
            select(InboundActivityRow.state).where(InboundActivityRow.key == key)
        )
        return "done" if state == DONE else "in_flight"

    async def finish(self, key: str, now: datetime) -> None:
        await self.session.execute(
            update(InboundActivityRow)
            .where(InboundActivityRow.key == key)
            .values(state=DONE, lease_until=None)
        )

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(InboundActivityRow).where(InboundActivityRow.received_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
