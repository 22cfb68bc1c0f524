"""End-to-end fixtures: the real bot and the Microsoft 365 Agents Playground, started once.

Needs Node.js and the pinned Playground: ``npm ci --prefix tests/e2e``. Without them the
fixtures fail (they never skip): CI installs them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator

import pytest

from tests.support.playground import E2ESetupError, PlaygroundClient, Stack, start_stack

STACK = pytest.StashKey[Stack]()


@pytest.fixture(scope="session")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """``marat serve --demo`` (fresh SQLite) and the Playground, on free loopback ports."""
    workdir = tmp_path_factory.mktemp("e2e")
    try:
        running = start_stack(workdir)
    except E2ESetupError as error:
        problem = str(error)
    else:
        problem = ""
    if problem:  # outside the except block: a clean message, no chained traceback
        pytest.fail(f"end-to-end environment: {problem}", pytrace=False)
    request.config.stash[STACK] = running
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def pg(stack: Stack) -> AsyncIterator[PlaygroundClient]:
    """A Playground client (the user Alex Wilber in the personal chat) for one test."""
    async with PlaygroundClient(stack.playground.url) as client:
        yield client


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, attach the tail of the bot's and the Playground's logs to the report."""
    report = yield
    running = item.config.stash.get(STACK, None)
    if report.failed and running is not None:
        report.sections.append(("bot and Playground logs (tail)", running.logs()))
    return report
