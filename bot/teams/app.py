"""Composition root: ``create_app(settings)`` wires storage, use cases and the Teams edge.

No module-level globals: everything hangs off the aiohttp Application, so tests can run
several apps side by side.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)

from bot.domain.clock import Clock, ShiftedClock, SystemClock
from bot.domain.repeats import RepeatRule
from bot.faults import FaultPoints
from bot.logs import new_correlation_id
from bot.ports import Messenger, ProactiveCards
from bot.services.actions import Actions
from bot.services.amendments import Amendments
from bot.services.capacity import CapacityPlanner
from bot.services.cases import Cases
from bot.services.conferences import Conferences
from bot.services.context import ServiceOptions, UseCaseContext
from bot.services.directory import DirectoryAdmin
from bot.services.discussion import Discussions
from bot.services.information_requests import InformationRequests
from bot.services.lifecycle import Lifecycle
from bot.services.memberships import Memberships
from bot.services.packs import ConferencePacks
from bot.services.plan_view import PlanBoard
from bot.services.plans import Plans
from bot.services.referrals import Referrals
from bot.services.reminders import ReminderSweep
from bot.services.reports import Reports
from bot.settings import Settings
from bot.teams.conversations import Conversations
from bot.teams.gateway import BotFrameworkGateway, TurnGateway
from bot.teams.handler import COMMANDS, VERBS, MaratBot
from bot.teams.inbound import InboundLedger
from bot.teams.metrics import CONTENT_TYPE, Metrics
from bot.teams.outbox_sender import OutboxSender, SenderSettings
from bot.teams.turn_record import open_record
from cards.proactive import TeamsCards
from dialogs.base import Dependencies
from scheduler.ticker import Ticker
from storage.database import Database

log = logging.getLogger(__name__)


# Every label value a turn can have (bot/teams/turn_record.py): the handler's tables, the
# activity types Teams sends, and the few names the handler uses itself.
KNOWN_TURN_KINDS = frozenset(
    {
        *COMMANDS,
        *VERBS,
        "unknown",
        "unknown verb",
        "greet",
        "message",
        "invoke",
        "conversationUpdate",
        "installationUpdate",
        "messageReaction",
        "messageUpdate",
        "messageDelete",
        "event",
        "other",
    }
)
RETRY_AFTER_SECONDS = "5"
READY_TIMEOUT_SECONDS = 5.0


class StartupError(Exception):
    """The bot cannot start; the message says what to do."""


@dataclass
class Runtime:
    """Everything one bot process runs, built once by ``build_runtime``."""

    settings: Settings
    database: Database
    deps: Dependencies
    bot: MaratBot
    adapter: CloudAdapter
    sender: OutboxSender
    sweep: ReminderSweep
    ticker: Ticker
    metrics: Metrics
    clock: Clock

    @property
    def context(self) -> UseCaseContext:
        return self.deps.context


RUNTIME = web.AppKey("runtime", Runtime)
BODY = web.RequestKey("activity", object)


class _AdapterConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        self.APP_TYPE = settings.app_type
        self.APP_TENANTID = settings.app_tenant_id


def build_dependencies(
    ctx: UseCaseContext,
    cards: ProactiveCards,
    messenger: Messenger | None,
    help_contact: str = "your MARAT coordinator",
) -> Dependencies:
    """Every use case, composed over one context (the dialogs receive them all)."""
    requests = InformationRequests(ctx, cards)
    actions = Actions(ctx, cards)
    board = PlanBoard(ctx)
    amendments = Amendments(ctx, board, actions, cards)
    return Dependencies(
        context=ctx,
        referrals=Referrals(ctx, requests),
        information_requests=requests,
        cases=Cases(ctx),
        conferences=Conferences(ctx),
        plans=Plans(ctx, board, actions, amendments),
        amendments=amendments,
        packs=ConferencePacks(ctx),
        actions=actions,
        lifecycle=Lifecycle(ctx, cards),
        discussions=Discussions(ctx),
        directory=DirectoryAdmin(ctx),
        memberships=Memberships(ctx, messenger),
        reports=Reports(ctx),
        capacity=CapacityPlanner(ctx),
        help_contact=help_contact,
    )


def options_of(settings: Settings) -> ServiceOptions:
    return ServiceOptions(
        settings.case_prefix,
        settings.conference_capacity,
        RepeatRule(settings.repeat_rule),
        settings.send_time,
        settings.received_max_age_days,
        settings.capacity_warning_threshold / 100,
        settings.adult_female_population,
    )


def build_runtime(
    settings: Settings, clock: Clock | None = None, database: Database | None = None
) -> Runtime:
    database = database or Database.from_url(settings.database_url)
    if clock is None:
        clock = ShiftedClock(settings.clock_start) if settings.clock_start else SystemClock()
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_AdapterConfig(settings)))
    gateway = BotFrameworkGateway(adapter, settings.app_id, settings.connector_timeout_seconds)
    faults = FaultPoints.from_environment()  # nothing is armed outside the crash tests
    metrics = Metrics(KNOWN_TURN_KINDS)
    sender = OutboxSender(
        database.units,
        gateway,
        clock,
        settings=SenderSettings(lease=timedelta(seconds=settings.outbox_lease_seconds)),
        fault=faults.reached,
        count=metrics.delivery,
    )
    ctx = UseCaseContext(
        database.units,
        clock,
        settings.calendar(),
        settings.policy(),
        options_of(settings),
        on_outbox=sender.wake,
        fault=faults.reached,
    )
    cards = TeamsCards()
    deps = build_dependencies(ctx, cards, gateway, settings.help_contact)
    bot = MaratBot(
        deps,
        settings.tenants,
        Conversations(database.units, clock, sender.wake),
        InboundLedger(database.units, clock),
    )

    async def on_error(context: TurnContext, error: Exception) -> None:
        # Anything that escapes the handler: log by type only, and tell the user a reference.
        reference = new_correlation_id()
        log.error("unhandled turn error", exc_info=error, extra={"correlation_id": reference})
        try:
            await TurnGateway(context).send_text(
                f"Sorry, something went wrong on my side (reference {reference})."
            )
        except Exception:
            log.warning(
                "could not tell the user about an error", extra={"correlation_id": reference}
            )

    adapter.on_turn_error = on_error
    sweep = ReminderSweep(ctx, cards, lease=timedelta(seconds=settings.reminder_lease_seconds))
    ticker = Ticker(metrics.timed_sweep(sweep.run), settings.sweep_seconds)
    return Runtime(settings, database, deps, bot, adapter, sender, sweep, ticker, metrics, clock)


def _single_instance_lock(path: Path) -> IO[str]:
    """SQLite is single-instance: a second bot on the same file refuses to start."""
    handle = open(path.with_name(path.name + ".lock"), "w")  # noqa: SIM115 - held for life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StartupError(
            f"Another marat-bot is already using {path.name}. SQLite allows one instance; "
            "use PostgreSQL (DATABASE_URL) to run several."
        ) from None
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


async def _messages(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    if "application/json" not in request.headers.get("Content-Type", ""):
        raise web.HTTPUnsupportedMediaType(text="Expected application/json.")
    try:
        request[BODY] = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="The body is not valid JSON.") from None
    record = open_record()
    started = time.perf_counter()
    try:
        response = await runtime.adapter.process(request, runtime.bot)
    finally:
        runtime.metrics.turn(record.kind, record.outcome, time.perf_counter() - started)
    if record.retryable and (response is None or response.status < 300) and not _is_invoke(request):
        # The user has been told to try again; Teams is told the same (it may redeliver).
        return web.Response(status=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    return response if response is not None else web.Response(status=201)


def _is_invoke(request: web.Request) -> bool:
    body = request.get(BODY)
    return isinstance(body, dict) and body.get("type") == "invoke"


async def _metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    now = runtime.clock.now()
    body = await runtime.metrics.render(
        lambda: runtime.database.snapshot(now), runtime.database.pool_use, now
    )
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    checks: dict[str, str] = {}
    try:
        # Bounded: an unreachable server must make /readyz say "not ready", not hang it.
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await runtime.database.ping()
            checks["database"] = "ok"
            checks["schema"] = "ok" if await runtime.database.schema_is_current() else "outdated"
    except Exception:
        log.warning("readiness check: database unreachable")
        checks["database"] = "unreachable"
    checks["delivery"] = "ok" if runtime.sender.running else "stopped"
    checks["scheduler"] = "ok" if runtime.ticker.running else "stopped"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", **checks}, status=200 if ready else 503
    )


def create_app(
    settings: Settings, clock: Clock | None = None, database: Database | None = None
) -> web.Application:
    """The bot's aiohttp application: `POST /api/messages`, `GET /healthz`, `GET /readyz`,
    `GET /metrics`.

    Refuses (SettingsError) to build an unauthenticated bot for a non-loopback address.
    """
    settings.check_can_serve()
    runtime = build_runtime(settings, clock, database)
    app = web.Application(client_max_size=256 * 1024)
    app[RUNTIME] = runtime

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        lock_path = runtime.database.sqlite_file
        lock = _single_instance_lock(lock_path) if lock_path else None
        try:
            if not await runtime.database.schema_is_current():
                raise StartupError("The database schema is not up to date: run `marat db upgrade`.")
            runtime.sender.start()
            runtime.ticker.start()
            yield
        finally:
            await runtime.ticker.stop()
            await runtime.sender.stop()
            await runtime.database.dispose()
            if lock is not None:
                lock.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    return app


def serve(settings: Settings) -> None:
    """Run the bot until interrupted (`marat serve`)."""
    address = f"http://{settings.host}:{settings.port}/api/messages"
    try:
        web.run_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            # Called once the socket is bound, so the line is true when it is logged.
            print=lambda _banner: log.info("marat-bot listening on %s", address),
            access_log=None,
        )
    except OSError as error:
        raise StartupError(
            f"Cannot listen on {settings.host}:{settings.port}: {error.strerror or error}."
        ) from None
