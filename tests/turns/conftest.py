"""TestAdapter turn tests: the real bot, use cases and SQLite, without HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.settings import Settings
from tests.support.builders import seed_directory
from tests.support.turns import TENANT, TurnHarness


@pytest.fixture
def settings() -> Settings:
    return Settings(allowed_tenants=[TENANT])  # type: ignore[call-arg]


@pytest.fixture
async def harness(
    sqlite_engine: AsyncEngine, clock: FixedClock, settings: Settings
) -> AsyncIterator[TurnHarness]:
    harness = TurnHarness(sqlite_engine, clock, settings)
    await seed_directory(harness.deps)
    yield harness
