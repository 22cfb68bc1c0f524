"""Storms of connector faults (issue 12, point 3): 429 with Retry-After, 5xx, timeouts and
slow answers, against the real sender and the real Bot Framework gateway over loopback HTTP.

``StormConnector`` answers each attempt for a conversation from a script drawn with a fixed
seed. The FixedClock stands still while the sender works and is moved to the next due attempt
between sweeps (nothing sleeps for Retry-After or backoff; only a "timeout" costs real time:
the gateway's timeout is 0.3 s). Expected: each message delivered exactly once, retries
bounded, backoff exponential with jitter, Retry-After honoured, and the coordinator told
once per person who can never be reached. The one duplicate that is possible by design is
a timeout after Teams had in fact taken the message (decision 0009): provoked, and counted
separately.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.domain.clock import FixedClock
from bot.domain.delivery import RetryPolicy
from bot.ports import Address
from bot.services.outbox import enqueue, notice
from bot.settings import Settings
from bot.teams.app import RUNTIME, Runtime, create_app
from storage.db import create_engine
from storage.models import OutboxRow
from tests.support.builders import COORDINATOR, seed_directory
from tests.support.fake_connector import FakeConnector
from tests.support.reliability import record
from tests.support.services import make_services

TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
TIMEOUT = 0.3  # the gateway's connector timeout in this test
MESSAGE = re.compile(r"Synthetic storm message M(\d{3})")
PEOPLE = [f"{n:08x}-5707-4000-8000-00000000beef" for n in range(1, 9)]
BLOCKED = f"{99:08x}-5707-4000-8000-00000000beef"  # has blocked the app: 403 every time
SILENT = f"{98:08x}-5707-4000-8000-00000000beef"  # Teams answers 503 every time
MESSAGES_EACH = 6
FAULTS = ("429", "500", "502", "503", "504", "412", "timeout", "slow")


@dataclass(frozen=True)
class Attempt:
    conversation: str
    number: int | None  # the synthetic message number, if the body could be read
    answer: str  # "ok", "slow", "429", "timeout", "late-accept"...
    at: datetime  # the bot's clock at the attempt


class StormConnector(FakeConnector):
    """Answers attempts per conversation from a script; "ok" when the script is empty."""

    def __init__(self, clock: FixedClock) -> None:
        super().__init__()
        self.clock = clock
        self.scripts: dict[str, list[str]] = defaultdict(list)
        self.always: dict[str, str] = {}
        self.attempts: list[Attempt] = []

    async def _send(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        activity = await request.json()
        found = MESSAGE.search(str(activity.get("text")))
        number = int(found.group(1)) if found else None
        script = self.scripts[conversation]
        answer = self.always.get(conversation) or (script.pop(0) if script else "ok")
        self.attempts.append(Attempt(conversation, number, answer, self.clock.now()))
        if answer == "timeout":
            await asyncio.sleep(TIMEOUT * 2)  # never answers in time, and took nothing
            return web.json_response({"error": {"code": "Timeout"}}, status=504)
        if answer == "late-accept":
            response = await super()._send(request)  # Teams took it...
            await asyncio.sleep(TIMEOUT * 2)  # ...and answered too late
            return response
        if answer == "slow":
            await asyncio.sleep(TIMEOUT / 3)
            return await super()._send(request)
        if answer == "ok":
            return await super()._send(request)
        status = int(answer)
        headers = {"Retry-After": "7"} if status == 429 else {}
        body = {"error": {"code": f"HTTP{status}", "message": "synthetic storm"}}
        return web.json_response(body, status=status, headers=headers)

    def delivered(self) -> Counter[int]:
        return Counter(
            int(m.group(1)) for a in self.sent if (m := MESSAGE.search(str(a.get("text"))))
        )


@dataclass
class Storm:
    runtime: Runtime
    connector: StormConnector
    clock: FixedClock

    async def deliver_everything(self, rounds: int = 400) -> None:
        """Sweep; when nothing is due, move the clock to the next due attempt."""
        engine = self.runtime.database.engine
        for _ in range(rounds):
            if await self.runtime.sender.deliver_due():
                continue
            async with engine.connect() as connection:
                due = await connection.scalar(
                    select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == "pending")
                )
            if due is None:
                return
            self.clock.set(max(due, self.clock.now()) + timedelta(milliseconds=1))
        raise AssertionError("the outbox never ran dry")


@pytest.fixture
async def storm(sqlite_url: str, clock: FixedClock) -> AsyncIterator[Storm]:
    engine = create_engine(sqlite_url)
    await seed_directory(make_services(engine, clock))
    await engine.dispose()
    settings = Settings(  # type: ignore[call-arg]
        database_url=sqlite_url, allowed_tenants=[TENANT], connector_timeout_seconds=TIMEOUT
    )
    app = create_app(settings, clock)
    connector = StormConnector(clock)
    async with connector, TestClient(TestServer(app)):
        runtime = app[RUNTIME]
        await runtime.sender.stop()  # the test decides when the outbox is swept
        await runtime.ticker.stop()
        runtime.sender.rng = random.Random(12)
        async with runtime.database.units() as uow:
            for n, aad in enumerate([COORDINATOR, *PEOPLE, BLOCKED, SILENT]):
                await uow.directory.upsert_person(aad, f"Storm Person {n}", None, clock.now())
                await uow.addresses.save_personal(
                    Address(aad, TENANT, f"29:storm-{n}", f"a:storm-{n}", connector.url, "28:bot"),
                    clock.now(),
                )
            await uow.commit()
        yield Storm(runtime, connector, clock)


def chat(aad: str) -> str:
    return f"a:storm-{[COORDINATOR, *PEOPLE, BLOCKED, SILENT].index(aad)}"


async def test_a_storm_of_faults_delivers_each_message_exactly_once_with_bounded_backoff(
    storm: Storm,
) -> None:
    rng = random.Random(2027)
    numbers: dict[int, str] = {}
    late_accepts = 0
    for index, person in enumerate(PEOPLE):
        script: list[str] = []
        for _ in range(MESSAGES_EACH):
            faults = rng.randint(0, 5)  # fewer than the 8 attempts allowed
            script += [rng.choice(FAULTS) for _ in range(faults)]
            script.append("ok")
        if index < 3:  # Teams took these in fact, but answered too late
            script.insert(1, "late-accept")
            late_accepts += 1
        storm.connector.scripts[chat(person)] = script
    storm.connector.always[chat(BLOCKED)] = "403"
    storm.connector.always[chat(SILENT)] = "503"
    now = storm.clock.now()
    async with storm.runtime.database.units() as uow:
        n = 0
        for person in [*PEOPLE, BLOCKED, SILENT]:
            for _ in range(MESSAGES_EACH):
                n += 1
                numbers[n] = person
                await enqueue(
                    uow,
                    f"storm:{n}",
                    person,
                    notice(f"Synthetic storm message M{n:03d}."),
                    now,
                )
        await uow.commit()

    await storm.deliver_everything()

    attempts = storm.connector.attempts
    delivered = storm.connector.delivered()
    reachable = {n for n, person in numbers.items() if person in PEOPLE}
    faults = sum(1 for a in attempts if a.answer != "ok")
    lost = len(reachable - set(delivered))
    extra = sum(c - 1 for c in delivered.values() if c > 1)
    record(
        "connector",
        faults,
        lost=lost,
        duplicates=max(0, extra - late_accepts),
        window_faults=late_accepts,
        window_resent=extra,
    )
    assert lost == 0
    assert extra == late_accepts, "a second copy only where Teams took it and answered late"
    assert set(delivered) == reachable, "nothing reaches the blocked or the silent person"

    policy = RetryPolicy()
    per_message = Counter(a.number for a in attempts if a.number is not None)
    assert max(per_message.values()) <= policy.max_attempts, "retries are bounded"
    silent = [a for a in attempts if a.conversation == chat(SILENT)]
    assert Counter(a.number for a in silent) == dict.fromkeys(
        [n for n, p in numbers.items() if p == SILENT], policy.max_attempts
    ), "the silent person's messages are each tried 8 times, then given up"
    blocked = [a for a in attempts if a.conversation == chat(BLOCKED)]
    assert Counter(a.number for a in blocked) == dict.fromkeys(
        [n for n, p in numbers.items() if p == BLOCKED], 1
    ), "403 is permanent: tried once"

    _assert_backoff(silent, policy)
    _assert_retry_after(attempts)
    reports = [
        a
        for a in storm.connector.sent
        if a["_conversation"] == chat(COORDINATOR) and "could not be reached" in str(a["text"])
    ]
    assert len(reports) == 2, "the coordinator is told once per person, not once per message"
    assert any("Storm Person 9" in a["text"] and "blocked or removed" in a["text"] for a in reports)
    assert any("Storm Person 10" in a["text"] and "after 8 tries" in a["text"] for a in reports)


def _assert_backoff(attempts: list[Attempt], policy: RetryPolicy) -> None:
    """Between a message's tries: exponential, with full jitter (each wait is drawn from
    [ceiling / 2, ceiling]), and not the same for every message."""
    by_message: dict[int | None, list[datetime]] = defaultdict(list)
    for attempt in attempts:
        by_message[attempt.number].append(attempt.at)
    first_waits = set()
    for times in by_message.values():
        waits = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        for k, wait in enumerate(waits, start=1):
            ceiling = min(policy.cap_seconds, policy.base_seconds * 2 ** (k - 1))
            # The sweep runs a millisecond after the due time; pacing never delays here.
            assert ceiling / 2 <= wait <= ceiling + 0.01, (k, wait)
        first_waits.add(round(waits[0], 3))
    assert len(first_waits) > 1, "jitter: not every message waits the same"


def _assert_retry_after(attempts: list[Attempt]) -> None:
    """After a 429 (Retry-After: 7) nothing goes to that conversation for 7 s."""
    by_conversation: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_conversation[attempt.conversation].append(attempt)
    throttled = 0
    for seen in by_conversation.values():
        for before, after in itertools.pairwise(seen):
            if before.answer == "429":
                throttled += 1
                assert (after.at - before.at).total_seconds() >= 7, (before, after)
    assert throttled > 0, "the storm had 429s"


async def test_slow_answers_within_the_timeout_are_delivered_once_without_a_retry(
    storm: Storm,
) -> None:
    person = PEOPLE[0]
    storm.connector.always[chat(person)] = "slow"
    async with storm.runtime.database.units() as uow:
        for n in range(1, 6):
            await enqueue(
                uow,
                f"slow:{n}",
                person,
                notice(f"Synthetic storm message M{n:03d}."),
                storm.clock.now(),
            )
        await uow.commit()

    await storm.deliver_everything()

    record("connector", 5, duplicates=sum(c - 1 for c in storm.connector.delivered().values()))
    assert storm.connector.delivered() == dict.fromkeys(range(1, 6), 1)
    assert len(storm.connector.attempts) == 5
