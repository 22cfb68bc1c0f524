"""``Database``: everything the rest of the bot needs from a database (units of work, a
readiness ping, the schema check, the SQLite file), so that only storage/ touches SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from bot.ports import OperationsSnapshot, PoolUse
from storage.db import create_engine, session_factory, sqlite_file
from storage.migrate import is_up_to_date
from storage.models import OutboxRow, ReminderRow
from storage.repositories.reminders import LIVE, LIVE_SQL
from storage.unit_of_work import SqlUnitOfWorkFactory


class Database:
    """One database as the application sees it: units of work, a readiness ping, the schema
    check, and (for SQLite) the file whose single-instance lock the bot takes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.units = SqlUnitOfWorkFactory(session_factory(engine))

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(create_engine(url))

    @property
    def sqlite_file(self) -> Path | None:
        return sqlite_file(self.engine.url.render_as_string(hide_password=False))

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def schema_is_current(self) -> bool:
        """Whether every migration has been applied."""
        return await is_up_to_date(self.engine)

    async def snapshot(self, now: datetime) -> OperationsSnapshot:
        """The outbox backlog and the reminders still to send (indexed counts only: cheap
        enough to read on every scrape)."""
        async with self.engine.connect() as connection:
            pending, oldest = (
                await connection.execute(
                    select(func.count(), func.min(OutboxRow.created_at)).where(
                        OutboxRow.status == "pending"
                    )
                )
            ).one()
            live = dict(
                (
                    await connection.execute(
                        select(ReminderRow.state, func.count())
                        .where(text(LIVE_SQL))
                        .group_by(ReminderRow.state)
                    )
                ).all()
            )
            due, oldest_due = (
                await connection.execute(
                    select(func.count(), func.min(ReminderRow.due_at)).where(
                        text(LIVE_SQL), ReminderRow.due_at <= now
                    )
                )
            ).one()
        return OperationsSnapshot(
            int(pending),
            _aware(oldest),
            {state: int(live.get(state, 0)) for state in LIVE},
            int(due),
            _aware(oldest_due),
        )

    def pool_use(self) -> PoolUse:
        pool = self.engine.pool
        if isinstance(pool, QueuePool):
            return PoolUse(pool.size(), pool.checkedout(), max(0, pool.overflow()))
        return PoolUse(0, pool.checkedout() if hasattr(pool, "checkedout") else 0, 0)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type: SQLite hands back text, sometimes naive."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
