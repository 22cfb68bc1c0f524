"""PostgreSQL unreachable for 30 s under a running bot (issue 12, point 2).

The bot process reaches its database through a loopback TCP proxy in the test; cutting it
drops every open connection and refuses new ones. While it is cut, people keep typing and
clicking and reminders fall due. Then it comes back. Expected: ``/api/messages`` answers
quickly with a retryable error and the person reads a short "try again in a moment" with a
reference to quote; ``/readyz`` says not ready; the process keeps running and logs no error;
afterwards the ticker and the outbox resume by themselves, and every reminder that fell due
is delivered exactly once.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.reminders import ReminderPlan
from tests.support.reliability import record
from tests.support.replicas import (
    COORDINATOR,
    TODAY,
    CountingConnector,
    Replica,
    Replicas,
    Seeder,
    eventually,
)
from tests.support.tcp_proxy import TcpProxy
from tests.support.teams_users import TeamsUser

OUTAGE_SECONDS = 30
QUICK = 3.0  # seconds: what "answers quickly" means here
TRY_AGAIN = re.compile(
    r"^Sorry, I cannot reach the MARAT records just now\. Please try again in a moment "
    r"\(reference [0-9a-f]{8}\)\.$"
)


@pytest.fixture
async def proxy(replica_database: str) -> AsyncIterator[TcpProxy]:
    url = make_url(replica_database)
    running = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await running.start()
    yield running
    await running.close()


def through(proxy: TcpProxy, database_url: str) -> str:
    return make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)


async def ready(replica: Replica) -> tuple[int, dict[str, str]]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.get(f"{replica.url}/readyz") as response,
    ):
        return response.status, await response.json()


async def sent_reminders(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            await connection.scalar(text("SELECT count(*) FROM reminders WHERE state = 'sent'"))
            or 0
        )


async def test_thirty_seconds_without_the_database_nothing_crashes_and_nothing_is_lost(
    seeder: Seeder,
    replicas: Replicas,
    connector: CountingConnector,
    replica_engine: AsyncEngine,
    replica_database: str,
    proxy: TcpProxy,
) -> None:
    await seeder.directory(agencies=20)
    actions = await seeder.agreed_actions(60, TODAY)
    replicas.database_url = through(proxy, replica_database)
    [bot] = await replicas.start(1, replicas.clock_now())
    coordinator = TeamsUser(COORDINATOR, "29:synthetic-user-0", "a:synthetic-chat-0", connector.url)
    assert (await coordinator.say(bot, "help")) is not None
    await connector.wait_for(1)
    # 60 reminders fall due 5 to 25 s into the outage.
    cut_at = replicas.clock_now() + timedelta(seconds=2)
    plans = []
    for index, action in enumerate(actions):
        base = seeder.action_due(action)
        due = cut_at + timedelta(seconds=5 + index / 3)
        plans.append(
            ReminderPlan(base.kind, base.case_id, base.subject_id, base.slot, due, base.expires_at)
        )
    assert await seeder.schedule_plans(plans) == 60
    before = len(connector.sent)

    await proxy.cut()
    outage_started = time.monotonic()
    answers: list[tuple[float, int]] = []
    clicks: list[str] = []
    readiness: list[tuple[float, int, str]] = []
    while time.monotonic() - outage_started < OUTAGE_SECONDS:
        started = time.monotonic()
        typed = await coordinator.say(bot, "cases")
        assert typed is not None, "the bot process is still there"
        answers.append((time.monotonic() - started, typed.status))
        started = time.monotonic()
        clicked = await coordinator.click(bot, "inforeq.submit", {"token": "x", "known": "no"})
        assert clicked is not None
        clicks.append(clicked.card_text)
        assert clicked.status == 200 and time.monotonic() - started < QUICK
        assert clicked.body["type"] == "application/vnd.microsoft.activity.message", (
            "a message, the card stays as it is"
        )
        started = time.monotonic()
        status, body = await ready(bot)
        readiness.append((time.monotonic() - started, status, body["database"]))
        await asyncio.sleep(2)
    told = [a.get("text") for a in connector.sent[before:]]
    during = await sent_reminders(replica_engine)

    await proxy.restore()
    await eventually(
        lambda: _delivered(replica_engine, connector, 60, before + len(told)),
        60,
        "the reminders that fell due in the outage are sent and delivered",
    )
    after_status, after_body = await ready(bot)
    back = await coordinator.say(bot, "help")
    await replicas.stop_all()

    reminder_texts = [
        a for a in connector.sent[before:] if "is due today" in str(a.get("text", ""))
    ]
    per_action = connector.per_action()
    lost = sum(1 for a in actions if per_action[a.number] == 0)
    duplicates = sum(c - 1 for n, c in per_action.items() if n >= 0 and c > 1)
    record("database outage", 1 + len(answers) + len(clicks) + proxy.dropped, lost, duplicates)

    assert all(seconds < QUICK and status == 503 for seconds, status in answers), answers
    assert len(told) == len(answers) and all(TRY_AGAIN.match(t or "") for t in told), told[:3]
    assert all(TRY_AGAIN.match(c) for c in clicks), clicks[:3]
    assert all(s < QUICK and code == 503 and db == "unreachable" for s, code, db in readiness)
    assert during == 0, "nothing was marked sent while the database was away"
    assert (after_status, after_body["database"]) == (200, "ok")
    assert back is not None and back.status in (200, 201)
    assert lost == 0 and duplicates == 0
    assert len(reminder_texts) == 60
    errors = [e for e in bot.log_entries() if e.get("level") == "ERROR"]
    assert errors == [], f"logged as errors: {errors[:3]}"
    assert bot.process.exited() is not None  # stopped by us at the end, not before
    assert proxy.dropped > 0, "the outage really cut open connections"


async def _delivered(
    engine: AsyncEngine, connector: CountingConnector, reminders: int, at_least: int
) -> bool:
    async with engine.connect() as connection:
        pending = await connection.scalar(
            text("SELECT count(*) FROM outbox WHERE status = 'pending'")
        )
    return (
        await sent_reminders(engine) == reminders
        and pending == 0
        and len(connector.sent) >= at_least + reminders
    )
