"""The per-replica ticker (scheduler/ticker.py): an AsyncIOScheduler with an in-memory job store
that runs the reminder sweep at once on start and then on its interval.

No test asserts timing: each waits on an asyncio.Event set by a fake sweep (with a generous
timeout that only turns a hang into a failure).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, JobEvent

from bot.domain.clock import FixedClock
from bot.settings import Settings
from bot.teams.app import RUNTIME, Runtime, create_app
from scheduler.ticker import Ticker

TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
INTERVAL = 0.05  # seconds
PATIENCE = 5.0  # seconds before a wait that should succeed is called a hang


class FakeSweep:
    """Counts runs; sets ``reached`` once it has been run ``wanted`` times."""

    def __init__(self, wanted: int, fail_first: int = 0) -> None:
        self.runs = 0
        self.wanted = wanted
        self.fail_first = fail_first
        self.reached = asyncio.Event()

    async def __call__(self) -> None:
        self.runs += 1
        if self.runs >= self.wanted:
            self.reached.set()
        if self.runs <= self.fail_first:
            raise RuntimeError("the database went away (synthetic)")


@pytest.fixture
async def tickers() -> AsyncIterator[list[Ticker]]:
    """Tickers a test starts; each is stopped at the end whatever happened."""
    started: list[Ticker] = []
    yield started
    for ticker in started:
        await ticker.stop()


async def test_the_first_sweep_runs_at_once_on_start(tickers: list[Ticker]) -> None:
    sweep = FakeSweep(wanted=1)
    ticker = Ticker(sweep, 3600)  # the interval alone would not run it for an hour
    ticker.start()
    tickers.append(ticker)
    assert ticker.running

    await asyncio.wait_for(sweep.reached.wait(), PATIENCE)
    assert sweep.runs == 1


async def test_the_sweep_runs_again_on_its_interval(tickers: list[Ticker]) -> None:
    sweep = FakeSweep(wanted=4)
    ticker = Ticker(sweep, INTERVAL)
    ticker.start()
    tickers.append(ticker)

    await asyncio.wait_for(sweep.reached.wait(), PATIENCE)
    assert sweep.runs >= 4


async def test_a_sweep_that_raises_does_not_stop_later_ticks(
    tickers: list[Ticker], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="scheduler.ticker")
    sweep = FakeSweep(wanted=4, fail_first=2)
    ticker = Ticker(sweep, INTERVAL)
    ticker.start()
    tickers.append(ticker)

    await asyncio.wait_for(sweep.reached.wait(), PATIENCE)
    assert ticker.running
    failures = [r for r in caplog.records if r.getMessage() == "reminder sweep failed"]
    assert len(failures) == 2
    assert all(r.exc_info is not None for r in failures)


async def test_stop_shuts_the_ticker_down(tickers: list[Ticker]) -> None:
    sweep = FakeSweep(wanted=2)
    ticker = Ticker(sweep, INTERVAL)
    ticker.start()
    tickers.append(ticker)
    await asyncio.wait_for(sweep.reached.wait(), PATIENCE)

    await ticker.stop()

    assert not ticker.running, "stop() has returned, so the scheduler must be shut down"


async def test_the_scheduler_is_shut_down_soon_after_stop(tickers: list[Ticker]) -> None:
    sweep = FakeSweep(wanted=2)
    ticker = Ticker(sweep, INTERVAL)
    ticker.start()
    tickers.append(ticker)
    await asyncio.wait_for(sweep.reached.wait(), PATIENCE)

    await ticker.stop()
    await asyncio.sleep(0)  # one turn of the event loop, no time passes

    assert not ticker.running
    runs = sweep.runs
    for _ in range(3):
        await asyncio.sleep(0)
    assert sweep.runs == runs


async def test_running_is_read_from_the_scheduler_not_from_a_flag(
    tickers: list[Ticker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What keeps the two tests above honest: if stop() forgot to shut the scheduler down,
    ``running`` would still say so (and those tests would fail)."""
    ticker = Ticker(FakeSweep(wanted=1), 3600)
    ticker.start()
    tickers.append(ticker)
    monkeypatch.setattr(ticker.scheduler, "shutdown", lambda wait=True: None)

    await ticker.stop()

    assert ticker.running
    monkeypatch.undo()
    ticker.scheduler.shutdown(wait=False)


async def test_stop_lets_a_sweep_in_progress_finish_before_the_database_closes(
    tickers: list[Ticker],
) -> None:
    """The app disposes the database right after stopping the ticker: a sweep still running
    must finish first, or it is cut off mid-query."""
    started, release = asyncio.Event(), asyncio.Event()
    finished = False

    async def slow_sweep() -> None:
        nonlocal finished
        started.set()
        await release.wait()
        finished = True

    ticker = Ticker(slow_sweep, 3600)
    ticker.start()
    await asyncio.wait_for(started.wait(), PATIENCE)
    stopping = asyncio.create_task(ticker.stop())
    for _ in range(3):
        await asyncio.sleep(0)
    assert not stopping.done(), "stop() waits for the sweep in progress"
    release.set()
    await asyncio.wait_for(stopping, PATIENCE)
    assert finished
    assert not ticker.running


async def test_a_sweep_that_outlasts_the_stop_timeout_is_cancelled(
    tickers: list[Ticker],
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished = False

    async def stuck_sweep() -> None:
        nonlocal finished
        started.set()
        await release.wait()
        finished = True

    ticker = Ticker(stuck_sweep, 3600, stop_timeout=0.01)
    ticker.start()
    await asyncio.wait_for(started.wait(), PATIENCE)

    await asyncio.wait_for(ticker.stop(), PATIENCE)
    release.set()
    for _ in range(3):
        await asyncio.sleep(0)  # let the cancelled task unwind

    assert not ticker.running
    assert not finished, "a stuck sweep does not outlive the ticker"


async def test_one_sweep_at_a_time_even_when_the_first_one_is_slow(
    tickers: list[Ticker],
) -> None:
    """The catch-up sweep on start can be long (after downtime). The class promises one run
    at a time: ticks that come while it runs must not start a second sweep beside it."""
    running = 0
    most = 0
    release = asyncio.Event()

    async def slow_sweep() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await release.wait()
        finally:
            running -= 1

    ticker = Ticker(slow_sweep, INTERVAL)
    fired = 0
    two_ticks = asyncio.Event()

    def on_tick(_event: JobEvent) -> None:
        nonlocal fired
        fired += 1
        if fired >= 2:
            two_ticks.set()

    ticker.scheduler.add_listener(on_tick, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES)
    ticker.start()
    tickers.append(ticker)

    await asyncio.wait_for(two_ticks.wait(), PATIENCE)  # two interval ticks while it runs
    release.set()
    assert most == 1, f"{most} sweeps ran at the same time"


# -- /readyz reports the scheduler -------------------------------------------------------------


@dataclass
class Served:
    client: TestClient[Any, Any]
    runtime: Runtime


@pytest.fixture
async def served(sqlite_url: str, clock: FixedClock) -> AsyncIterator[Served]:
    """The whole app, started as `marat serve` starts it (ticker and sender included)."""
    settings = Settings(database_url=sqlite_url, allowed_tenants=[TENANT])  # type: ignore[call-arg]
    app = create_app(settings, clock)
    async with TestClient(TestServer(app)) as test_client:
        yield Served(test_client, app[RUNTIME])


async def test_readyz_reports_the_scheduler_ok_while_it_runs(served: Served) -> None:
    assert served.runtime.ticker.running

    ready = await served.client.get("/readyz")

    assert ready.status == 200
    body = await ready.json()
    assert body["scheduler"] == "ok"
    assert body["status"] == "ready"


async def test_readyz_says_not_ready_once_the_scheduler_stopped(served: Served) -> None:
    await served.runtime.ticker.stop()

    ready = await served.client.get("/readyz")

    assert ready.status == 503
    body = await ready.json()
    assert body["scheduler"] == "stopped"
    assert body["status"] == "not ready"
