"""Fixtures shared by every level: databases (SQLite and real PostgreSQL), clock, calendar.

PostgreSQL: a throwaway database is created per test session on the server named by
MARAT_TEST_PG_URL (default: the local trust-auth server, database `test`) and dropped at the
end. Set MARAT_TEST_PG=0 to run without it (CI never does: storage tests run on both).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.clock import FixedClock
from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Base
from tests.support.databases import PG_ADMIN_URL, PG_ENABLED
from tests.support.databases import admin as _admin
from tests.support.summary import lines as summary_lines


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    if not PG_ENABLED:
        pytest.skip("MARAT_TEST_PG=0: PostgreSQL tests are off")
    name = f"marat_test_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test copies the file (much faster than migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "marat.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{path}"


async def _truncate(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":
        await _truncate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    """For tests above the storage layer, which need one real database but not both."""
    engine = create_engine(sqlite_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    """Monday 4 January 2027, 10:00 London (GMT): a plain working day."""
    return FixedClock(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))


@pytest.fixture
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar("ENG")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures suites reported (tests/support/summary.py), even under ``-q``."""
    reported = summary_lines()
    if reported:
        terminalreporter.section("figures")
        for line in reported:
            terminalreporter.write_line(line)
