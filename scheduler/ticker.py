"""A per-replica ticker: an AsyncIOScheduler with an in-memory job store running the sweep.

No job per deadline: deadlines live in the database. A job store must never be shared between
processes (APScheduler documents duplicate or missed runs), so every replica ticks on its own
and the database's claims decide who sends what.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


class Ticker:
    """Runs ``sweep`` every ``seconds``; one run at a time, missed runs coalesced into one."""

    def __init__(
        self, sweep: Callable[[], Awaitable[Any]], seconds: float, stop_timeout: float = 30.0
    ) -> None:
        self.sweep = sweep
        self.seconds = seconds
        self._busy = asyncio.Lock()
        self._stopped = False
        self.stop_timeout = stop_timeout
        self._current: asyncio.Task[Any] | None = None
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": AsyncIOExecutor()},
            # Two instances allowed so that APScheduler does not warn every tick during a long
            # sweep; the ticker's own lock makes the second one return at once.
            job_defaults={"coalesce": True, "max_instances": 2, "misfire_grace_time": None},
            timezone="UTC",
        )

    async def _tick(self) -> None:
        if self._busy.locked():
            return  # the previous sweep (e.g. a long catch-up) is still running: skip this tick
        async with self._busy:
            self._current = asyncio.current_task()
            try:
                await self.sweep()
            except Exception:
                # One failed sweep must not stop the ticker; the next tick tries again.
                log.exception("reminder sweep failed")

    def start(self) -> None:
        """Start inside the running event loop (aiohttp's cleanup context)."""
        self.scheduler.add_job(self._tick, "interval", seconds=self.seconds, id="sweep")
        self.scheduler.start()
        # First sweep at once: catch up after downtime without waiting a whole interval.
        self._first: asyncio.Task[None] | None = asyncio.get_running_loop().create_task(
            self._tick()
        )

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler finishes shutting down on the next turn
        # A sweep still running must finish before the app closes the database under it (a
        # sweep cut off mid-query can leave the event loop unable to close). Bounded: a stuck
        # sweep is cancelled instead; its claims run out with their lease.
        try:
            async with asyncio.timeout(self.stop_timeout):
                async with self._busy:
                    pass
        except TimeoutError:
            log.warning("a reminder sweep did not finish in time and was cancelled")
        for task in (getattr(self, "_first", None), self._current):
            if task is not None and not task.done() and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    @property
    def running(self) -> bool:
        """Whether the scheduler itself runs (not a flag of ours that could disagree)."""
        return bool(self.scheduler.running)
