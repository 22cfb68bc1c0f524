"""``Database``: everything the rest of the bot needs from a database (units of work, a
readiness ping, the schema check, the SQLite file), so that only storage/ touches SQLAlchemy."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory, sqlite_file
from storage.migrate import is_up_to_date
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

    async def dispose(self) -> None:
        await self.engine.dispose()
