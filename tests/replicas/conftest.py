"""Several real bot processes on one PostgreSQL database, and a fake Bot Connector in the test.

Each test gets a fresh database (created here, migrated with ``marat db upgrade``, dropped at
the end), seeded through the project's repositories with a synthetic directory whose 1:1
conversation references point at :class:`CountingConnector`, an aiohttp server running in the
test's own event loop. :class:`Replicas` starts ``python -m bot.ops.cli serve`` processes on free
loopback ports, each in its own process group with its output in a log file, and always
kills them at teardown; on a failure the tail of every log is attached to the report.

Everything is made up: agencies, people, cases and actions are numbered placeholders.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.databases import PG_ADMIN_URL, PG_ENABLED
from tests.support.databases import admin as _admin
from tests.support.replicas import (
    START,
    CountingConnector,
    Replicas,
    Seeder,
)


@pytest.fixture
def replica_database(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database, migrated by the real ``marat db upgrade``; dropped after."""
    if not PG_ENABLED:
        pytest.skip("MARAT_TEST_PG=0: PostgreSQL tests are off")
    name = f"marat_replicas_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        env = Replicas(url, tmp_path).environment(START)
        done = subprocess.run(
            [sys.executable, "-m", "bot.ops.cli", "db", "upgrade"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"marat db upgrade failed:\n{done.stdout}\n{done.stderr}"
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def replica_engine(replica_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(replica_database)
    yield engine
    await engine.dispose()


@pytest.fixture
def replica_units(replica_engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(session_factory(replica_engine))


@pytest.fixture
async def connector() -> AsyncIterator[CountingConnector]:
    running = CountingConnector()
    async with running:
        yield running


@pytest.fixture
def seeder(replica_units: SqlUnitOfWorkFactory, connector: CountingConnector) -> Seeder:
    return Seeder(replica_units, connector.url)


REPLICAS = pytest.StashKey[Replicas]()


@pytest.fixture
async def replicas(
    request: pytest.FixtureRequest,
    replica_database: str,
    connector: CountingConnector,
    tmp_path: Path,
) -> AsyncIterator[Replicas]:
    """Bot processes on the test's database; every one is stopped (or killed) at teardown,
    before the connector and the database go away."""
    running = Replicas(replica_database, tmp_path / "replicas")
    running.workdir.mkdir()
    request.node.stash[REPLICAS] = running
    try:
        yield running
    finally:
        await running.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, attach the tail of every replica's log to the report."""
    report = yield
    running = item.stash.get(REPLICAS, None)
    if report.failed and running is not None:
        report.sections.append(("bot replica logs (tail)", running.logs()))
    return report
