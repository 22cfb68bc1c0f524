"""``GET /metrics``: what an operator alerts on, in the Prometheus text format.

One registry per application (no globals: tests run several apps side by side). Counters and
histograms are updated as turns, deliveries and sweeps happen; the outbox backlog, the
reminders still to send and the connection pool are read when Prometheus scrapes. Every label
value comes from a fixed list (command names, verbs, activity types, outcomes, states): no
label ever carries case data or a person's identity.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from bot.ports import OperationsSnapshot, PoolUse

log = logging.getLogger(__name__)

# The classic text format, which every Prometheus version reads.
CONTENT_TYPE: Final = CONTENT_TYPE_PLAIN_0_0_4
DELIVERY_RESULTS: Final = ("sent", "retried", "gave_up")
REMINDER_RESULTS: Final = ("sent", "cancelled", "dropped")
TURN_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)
SWEEP_BUCKETS: Final = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)


class Metrics:
    """The bot's metrics; ``render`` refreshes the scraped gauges and returns the text."""

    def __init__(self, known_kinds: frozenset[str] = frozenset()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # Kinds outside the fixed tables (a new activity type) are folded into "other".
        self.known_kinds = known_kinds
        self.turns = Counter(
            "marat_turns", "Turns handled, by kind and outcome.", ["kind", "outcome"], registry=r
        )
        self.turn_seconds = Histogram(
            "marat_turn_duration_seconds",
            "Time to answer POST /api/messages, by kind of turn.",
            ["kind"],
            buckets=TURN_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "marat_deliveries",
            "Outbox delivery attempts by result (sent, retried, gave_up).",
            ["result"],
            registry=r,
        )
        self.reminders_done = Counter(
            "marat_reminders_processed",
            "Reminders this process finished, by result (sent, cancelled, dropped).",
            ["result"],
            registry=r,
        )
        self.sweep_seconds = Histogram(
            "marat_reminder_sweep_duration_seconds",
            "Duration of one reminder sweep.",
            buckets=SWEEP_BUCKETS,
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "marat_outbox_backlog", "Messages waiting to be delivered.", registry=r
        )
        self.outbox_oldest = Gauge(
            "marat_outbox_oldest_age_seconds",
            "Age of the oldest undelivered message (0 when none waits).",
            registry=r,
        )
        self.reminders_live = Gauge(
            "marat_reminders", "Reminders not yet finished, by state.", ["state"], registry=r
        )
        self.reminders_due = Gauge(
            "marat_reminders_due",
            "Reminders whose time has come and that are not finished yet.",
            registry=r,
        )
        self.reminder_oldest_due = Gauge(
            "marat_reminder_oldest_due_age_seconds",
            "How long the oldest due, unfinished reminder has been due (0 when none).",
            registry=r,
        )
        self.database_up = Gauge(
            "marat_database_up", "1 if the last scrape could read the database.", registry=r
        )
        self.pool_size = Gauge("marat_db_pool_size", "Connections the pool keeps open.", registry=r)
        self.pool_checked_out = Gauge(
            "marat_db_pool_checked_out", "Connections in use now.", registry=r
        )
        self.pool_overflow = Gauge(
            "marat_db_pool_overflow", "Connections opened beyond the pool size.", registry=r
        )
        for result in DELIVERY_RESULTS:
            self.deliveries.labels(result)
        for result in REMINDER_RESULTS:
            self.reminders_done.labels(result)

    # -- as things happen --------------------------------------------------------------------

    def turn(self, kind: str, outcome: str, seconds: float) -> None:
        label = kind if kind in self.known_kinds else "other"
        self.turns.labels(label, outcome).inc()
        self.turn_seconds.labels(label).observe(seconds)

    def delivery(self, result: str) -> None:
        self.deliveries.labels(result).inc()

    def timed_sweep(self, sweep: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        """The sweep, timed, with its results counted."""

        async def run() -> Any:
            started = time.perf_counter()
            try:
                result = await sweep()
            finally:
                self.sweep_seconds.observe(time.perf_counter() - started)
            for name in REMINDER_RESULTS:
                count = getattr(result, name, 0)
                if isinstance(count, int) and count:
                    self.reminders_done.labels(name).inc(count)
            return result

        return run

    # -- when scraped ------------------------------------------------------------------------

    async def render(
        self,
        snapshot: Callable[[], Awaitable[OperationsSnapshot]],
        pool: Callable[[], PoolUse],
        now: datetime,
    ) -> bytes:
        try:
            figures = await snapshot()
        except Exception:
            log.warning("metrics: the database could not be read")
            self.database_up.set(0)
        else:
            self.database_up.set(1)
            self.outbox_backlog.set(figures.outbox_pending)
            self.outbox_oldest.set(_age(figures.outbox_oldest, now))
            for state, count in figures.reminders_live.items():
                self.reminders_live.labels(state).set(count)
            self.reminders_due.set(figures.reminders_due)
            self.reminder_oldest_due.set(_age(figures.reminder_oldest_due, now))
        use = pool()
        self.pool_size.set(use.size)
        self.pool_checked_out.set(use.checked_out)
        self.pool_overflow.set(use.overflow)
        return generate_latest(self.registry)


def _age(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0
