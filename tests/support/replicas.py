"""Real bot processes on one PostgreSQL database: starting, killing and stopping them, seeding
what they sweep, and a connector that counts what each delivered."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.domain.actions import ActionDraft
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.reminders import ReminderKind, ReminderPlan, Schedule
from bot.ops.launcher import ManagedProcess, free_port, tail
from bot.ports import Address
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.db_data import deadlines, full_referral, opened, unlisted
from tests.support.fake_connector import FakeConnector

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Wednesday 6 January 2027, 10:00 in London (GMT in winter): a plain working day.
START = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
TODAY = date(2027, 1, 6)
SEEDED_AT = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
TENANT = "00000000-0000-4000-8000-00000000fa4e"
BOT_ID = "28:marat-bot-replicas"
COORDINATOR = "c0000000-0000-4000-8000-000000000001"
SWEEP_SECONDS = 1
REMINDER_LEASE_SECONDS = 3
OUTBOX_LEASE_SECONDS = 3
POLL = 0.05
DESCRIPTION = re.compile(r"Synthetic action A(\d{4,})")


# -------------------------------------------------------------------------------------------
# Waiting on observable events
# -------------------------------------------------------------------------------------------


async def eventually(
    check: Callable[[], Awaitable[bool]],
    timeout: float,
    what: str,
    progress: Callable[[], Awaitable[str]] | None = None,
) -> float:
    """Poll ``check`` every POLL seconds until it is true; returns the seconds it took.

    Fails with ``what`` (and ``progress()``, the state reached) once ``timeout`` has passed.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():
        if loop.time() - started > timeout:
            state = await progress() if progress else ""
            pytest.fail(f"not within {timeout:.0f} s: {what}. {state}")
        await asyncio.sleep(POLL)
    return loop.time() - started


async def _true(value: bool) -> bool:
    return value


# -------------------------------------------------------------------------------------------
# The fake Bot Connector
# -------------------------------------------------------------------------------------------


class CountingConnector(FakeConnector):
    """The loopback Bot Connector of tests/http, which can also be down: while ``accepting``
    is False every send is answered 503 (a retryable answer) and only counted in ``refused``;
    ``sent`` holds the activities it accepted, in arrival order."""

    def __init__(self) -> None:
        super().__init__()
        self.accepting = True
        self.refused = 0

    async def _send(self, request: web.Request) -> web.Response:
        if not self.accepting:
            await request.read()
            self.refused += 1
            return web.json_response(
                {"error": {"code": "ServiceUnavailable", "message": "synthetic outage"}},
                status=503,
            )
        return await super()._send(request)

    def per_action(self) -> Counter[int]:
        """How many accepted messages name each synthetic action (by its number)."""
        return Counter(action_number(activity) for activity in self.sent)


def action_number(activity: dict[str, Any]) -> int:
    """The number of the synthetic action a message is about (-1 if it names none)."""
    found = DESCRIPTION.search(str(activity.get("text") or ""))
    return int(found.group(1)) if found else -1


# -------------------------------------------------------------------------------------------
# Seeding through the repositories
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """An agency's only contact, reachable in a 1:1 chat at the fake connector."""

    aad_object_id: str
    agency_key: str
    user_id: str
    conversation_id: str


@dataclass(frozen=True)
class SeededAction:
    """An agreed action of an open case; its agency has exactly one contact."""

    number: int
    action_id: int
    case_id: int
    contact: Contact
    due: date


def description(number: int) -> str:
    return f"Synthetic action A{number:04d}: a made-up safety step"


class Seeder:
    """Writes the synthetic world with the project's repositories (one transaction per step)."""

    def __init__(self, units: SqlUnitOfWorkFactory, service_url: str) -> None:
        self.units = units
        self.service_url = service_url
        self.schedule = Schedule(WorkingDayCalendar("ENG"))
        self.contacts: list[Contact] = []
        self._cases = 0

    async def directory(self, agencies: int) -> list[Contact]:
        """One coordinator and ``agencies`` agencies with one contact each, all with a stored
        1:1 conversation whose service URL is the fake connector."""
        async with self.units() as uow:
            await uow.directory.upsert_person(COORDINATOR, "Coordinator Zero", None, SEEDED_AT)
            await uow.directory.set_coordinator(COORDINATOR, True)
            await uow.addresses.save_personal(self._address(COORDINATOR, 0), SEEDED_AT)
            for n in range(1, agencies + 1):
                agency, _ = await uow.directory.upsert_agency(
                    f"Synthetic Agency {n:04d}", SEEDED_AT
                )
                aad = f"{n:08x}-0000-4000-8000-00000000c0de"
                await uow.directory.upsert_person(aad, f"Contact {n:04d}", None, SEEDED_AT)
                await uow.directory.add_membership(aad, agency.key)
                address = self._address(aad, n)
                await uow.addresses.save_personal(address, SEEDED_AT)
                self.contacts.append(
                    Contact(aad, agency.key, address.user_id, address.conversation_id)
                )
            await uow.commit()
        return self.contacts

    def _address(self, aad: str, n: int) -> Address:
        return Address(
            aad_object_id=aad,
            tenant_id=TENANT,
            user_id=f"29:synthetic-user-{n}",
            conversation_id=f"a:synthetic-chat-{n}",
            service_url=self.service_url,
            bot_id=BOT_ID,
        )

    async def agreed_actions(
        self, count: int, due: date, per_case: int = 4, first: int = 0
    ) -> list[SeededAction]:
        """``count`` agreed, open actions due on ``due``, ``per_case`` to a case; action
        ``n`` belongs to the agency of contact ``n % len(contacts)``."""
        assert self.contacts, "seed the directory first"
        seeded: list[SeededAction] = []
        numbers = list(range(first, first + count))
        for start in range(0, count, 100 * per_case):
            async with self.units() as uow:
                chunk = numbers[start : start + 100 * per_case]
                for offset in range(0, len(chunk), per_case):
                    self._cases += 1
                    contact = self.contacts[chunk[offset] % len(self.contacts)]
                    case_id = await uow.cases.create(
                        f"MARAT-2027-{self._cases:04d}",
                        full_referral(
                            victim_name=f"Synthetic Person {self._cases:04d}",
                            referring_agency=contact.agency_key,
                            agencies=(contact.agency_key,),
                        ),
                        deadlines(),
                        unlisted(),
                        opened(actor=COORDINATOR, at=SEEDED_AT),
                    )
                    for number in chunk[offset : offset + per_case]:
                        owner = self.contacts[number % len(self.contacts)]
                        action_id = await uow.actions.add(
                            case_id,
                            ActionDraft(owner.agency_key, description(number), due, False),
                            COORDINATOR,
                            SEEDED_AT,
                        )
                        seeded.append(SeededAction(number, action_id, case_id, owner, due))
                    await uow.actions.agree(case_id, SEEDED_AT)
                await uow.commit()
        return seeded

    def action_due(self, action: SeededAction) -> ReminderPlan:
        """The product's own "due today" reminder for the action (09:00 London on the due
        date, worth sending until 18:00): exactly one message, to the agency's contact."""
        plans = self.schedule.action(action.case_id, action.action_id, action.due)
        return next(p for p in plans if p.kind is ReminderKind.ACTION_DUE)

    async def schedule_plans(self, plans: Sequence[ReminderPlan], at: datetime = START) -> int:
        """Create the reminders in one transaction: they all become visible at once."""
        async with self.units() as uow:
            created = await uow.reminders.schedule(plans, at)
            await uow.commit()
        return created


# -------------------------------------------------------------------------------------------
# The bot processes
# -------------------------------------------------------------------------------------------


class ReplicaExited(Exception):
    """A bot process ended before it was ready."""


@dataclass
class Replica:
    name: str
    process: ManagedProcess
    url: str
    clock_start: datetime
    spawned: float  # time.monotonic() at spawn

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def log_entries(self) -> list[dict[str, Any]]:
        """The JSON log lines the process wrote (other lines are skipped)."""
        entries: list[dict[str, Any]] = []
        content = self.log_path.read_text(encoding="utf-8", errors="replace")
        for line in content.splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries


@dataclass
class Replicas:
    """Starts, kills and stops ``marat serve`` processes on one database."""

    database_url: str
    workdir: Path
    started: list[Replica] = field(default_factory=list)

    def environment(
        self, clock_start: datetime, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        """The inherited environment minus anything that would configure the bot, plus ours
        (no MicrosoftAppId: anonymous, which the bot allows on loopback only) and ``extra``
        (a fault point to arm, another database URL…)."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.upper().startswith(("MARAT_", "MICROSOFTAPP", "MICROSOFT_APP"))
            and key.upper() != "DATABASE_URL"
        }
        for key in ("NO_PROXY", "no_proxy"):  # the connector is loopback: never via a proxy
            env[key] = ",".join(filter(None, ["127.0.0.1", "localhost", env.get(key)]))
        paths = [str(PROJECT_ROOT), env.get("PYTHONPATH")]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
        env["PYTHONUNBUFFERED"] = "1"
        env.update(
            DATABASE_URL=self.database_url,
            MARAT_CLOCK_START=clock_start.isoformat(),
            MARAT_SWEEP_SECONDS=str(SWEEP_SECONDS),
            MARAT_REMINDER_LEASE_SECONDS=str(REMINDER_LEASE_SECONDS),
            MARAT_OUTBOX_LEASE_SECONDS=str(OUTBOX_LEASE_SECONDS),
            MARAT_ALLOWED_TENANTS=TENANT,
        )
        env.update(extra or {})
        return env

    def _spawn(
        self, name: str, clock_start: datetime, extra: dict[str, str] | None = None
    ) -> Replica:
        rundir = self.workdir / name
        rundir.mkdir(parents=True, exist_ok=True)  # no .env there: only our environment counts
        port = free_port()
        argv = [sys.executable, "-m", "bot.ops.cli", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(port)]
        process = ManagedProcess(
            name, argv, self.workdir / f"{name}.log", rundir, self.environment(clock_start, extra)
        )
        return Replica(name, process, f"http://127.0.0.1:{port}", clock_start, time.monotonic())

    async def start(
        self,
        count: int,
        clock_start: datetime,
        timeout: float = 30.0,
        extra: dict[str, str] | None = None,
    ) -> list[Replica]:
        """Spawn ``count`` processes at once and wait until every one answers /readyz 200.

        A process that exits first (its free port taken meanwhile) is spawned again."""
        batch = []
        for _ in range(count):
            replica = self._spawn(f"bot-{len(self.started) + 1}", clock_start, extra)
            self.started.append(replica)
            batch.append(replica)
        for attempt in range(3):
            failed = await self._wait_ready(batch, timeout)
            if not failed:
                return batch
            for index, replica in enumerate(batch):
                if replica in failed:
                    await asyncio.to_thread(replica.process.stop)
                    again = self._spawn(f"{replica.name}-retry{attempt + 1}", clock_start, extra)
                    self.started[self.started.index(replica)] = again
                    batch[index] = again
        raise ReplicaExited(f"could not start the replicas:\n{self.logs()}")

    async def _wait_ready(self, batch: Sequence[Replica], timeout: float) -> list[Replica]:
        """Poll /readyz; returns the processes that exited before they were ready."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pending = list(batch)
        exited: list[Replica] = []
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while pending:
                for replica in list(pending):
                    if replica.process.exited() is not None:
                        pending.remove(replica)
                        exited.append(replica)
                        continue
                    with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                        async with http.get(f"{replica.url}/readyz") as response:
                            if response.status == 200:
                                pending.remove(replica)
                if pending and loop.time() > deadline:
                    pytest.fail(f"bot processes not ready after {timeout:.0f} s:\n{self.logs()}")
                if pending:
                    await asyncio.sleep(POLL)
        return exited

    def launch(
        self, clock_start: datetime, extra: dict[str, str] | None = None, name: str = "bot"
    ) -> Replica:
        """Spawn one process without waiting for it to be ready: one armed to die at a fault
        point that its start-up already reaches (the first sweep, the first delivery)."""
        replica = self._spawn(f"{name}-{len(self.started) + 1}", clock_start, extra)
        self.started.append(replica)
        return replica

    async def exited(self, replica: Replica, timeout: float = 30.0) -> int:
        """Wait until the process has exited; its exit code (-9: SIGKILL)."""
        await eventually(
            lambda: _true(replica.process.exited() is not None),
            timeout,
            f"{replica.name} exits",
        )
        code = replica.process.exited()
        assert code is not None
        return code

    def clock_now(self) -> datetime:
        """Where the replicas' timeline is now (the first replica's clock start plus the
        real time since it was spawned): a process started later continues it. Before any
        process: START."""
        if not self.started:
            return START
        first = self.started[0]
        return first.clock_start + timedelta(seconds=time.monotonic() - first.spawned)

    def kill(self, replica: Replica) -> None:
        """SIGKILL the whole process group: no clean-up code runs, leases stay as they are."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(replica.process.pid, signal.SIGKILL)
        replica.process.process.wait(10)

    async def stop(self, replica: Replica) -> None:
        """SIGTERM (graceful), then SIGKILL; in a thread, because a process finishing a send
        needs this event loop (the fake connector) to answer it."""
        await asyncio.to_thread(replica.process.stop)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(replica) for replica in self.started))

    def logs(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {r.name} ({r.log_path}) ---\n{tail(r.log_path, lines)}" for r in self.started
        )


# -------------------------------------------------------------------------------------------
# Fixtures
# -------------------------------------------------------------------------------------------
