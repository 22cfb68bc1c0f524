"""The test databases: the PostgreSQL server the suite creates throwaway databases on."""

from __future__ import annotations

import os

from sqlalchemy import text

from storage.db import create_engine

PG_ADMIN_URL = os.environ.get("MARAT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_ENABLED = os.environ.get("MARAT_TEST_PG", "1") != "0"


async def admin(statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the admin database, outside a transaction."""
    engine = create_engine(PG_ADMIN_URL)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(statement))
    await engine.dispose()
