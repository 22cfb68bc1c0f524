"""Composition root: ``create_app(settings)`` wires storage, use cases and the Teams edge.

No module-level globals: everything hangs off the aiohttp Application, so tests can run
several apps side by side.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from aiohttp import web
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import Conversations, OutboxSender, SenderSettings
from bot.domain.clock import Clock, ShiftedClock, SystemClock
from bot.domain.repeats import RepeatRule
from bot.gateway import BotFrameworkGateway
from bot.handler import MaratBot
from bot.logs import new_correlation_id
from bot.reminders import ReminderSweep
from bot.services import MaratService, ServiceOptions
from bot.settings import Settings
from dialogs.base import Dependencies
from scheduler.ticker import Ticker
from storage.db import create_engine, is_sqlite, session_factory
from storage.migrate import is_up_to_date
from storage.unit_of_work import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The bot cannot start; the message says what to do."""


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    service: MaratService
    bot: MaratBot
    adapter: CloudAdapter
    sender: OutboxSender
    sweep: ReminderSweep
    ticker: Ticker


RUNTIME = web.AppKey("runtime", Runtime)


class _AdapterConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        self.APP_TYPE = settings.app_type
        self.APP_TENANTID = settings.app_tenant_id


def build_runtime(
    settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None
) -> Runtime:
    engine = engine or create_engine(settings.database_url)
    if clock is None:
        clock = ShiftedClock(settings.clock_start) if settings.clock_start else SystemClock()
    units = SqlUnitOfWorkFactory(session_factory(engine))
    calendar = settings.calendar()
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_AdapterConfig(settings)))
    gateway = BotFrameworkGateway(adapter, settings.app_id)
    sender = OutboxSender(
        units,
        gateway,
        clock,
        settings=SenderSettings(lease=timedelta(seconds=settings.outbox_lease_seconds)),
    )
    service = MaratService(
        units,
        clock,
        calendar,
        settings.policy(),
        ServiceOptions(
            settings.case_prefix,
            settings.conference_capacity,
            RepeatRule(settings.repeat_rule),
            settings.send_time,
        ),
        on_outbox=sender.wake,
    )
    deps = Dependencies(service, calendar, settings.help_contact, gateway)
    bot = MaratBot(deps, settings.tenants, Conversations(units, clock, sender.wake))

    async def on_error(context: object, error: Exception) -> None:
        # Anything that escapes the handler: log by type only, and tell the user a reference.
        reference = new_correlation_id()
        log.error("unhandled turn error", exc_info=error, extra={"correlation_id": reference})
        send = getattr(context, "send_activity", None)
        if send is not None:
            try:
                await send(f"Sorry, something went wrong on my side (reference {reference}).")
            except Exception:
                log.warning(
                    "could not tell the user about an error", extra={"correlation_id": reference}
                )

    adapter.on_turn_error = on_error
    sweep = ReminderSweep(
        units,
        clock,
        service.schedule,
        sender.wake,
        lease=timedelta(seconds=settings.reminder_lease_seconds),
    )
    ticker = Ticker(sweep.run, settings.sweep_seconds)
    return Runtime(settings, engine, service, bot, adapter, sender, sweep, ticker)


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not is_sqlite(url) or not database or database == ":memory:":
        return None
    return Path(database).resolve()


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
        await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="The body is not valid JSON.") from None
    response = await runtime.adapter.process(request, runtime.bot)
    return response if response is not None else web.Response(status=201)


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    checks: dict[str, str] = {}
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["schema"] = "ok" if await is_up_to_date(runtime.engine) else "outdated"
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
    settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None
) -> web.Application:
    """The bot's aiohttp application: `POST /api/messages`, `GET /healthz`, `GET /readyz`.

    Refuses (SettingsError) to build an unauthenticated bot for a non-loopback address.
    """
    settings.check_can_serve()
    runtime = build_runtime(settings, clock, engine)
    app = web.Application(client_max_size=256 * 1024)
    app[RUNTIME] = runtime

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        lock_path = _sqlite_path(settings.database_url)
        lock = _single_instance_lock(lock_path) if lock_path else None
        try:
            if not await is_up_to_date(runtime.engine):
                raise StartupError("The database schema is not up to date: run `marat db upgrade`.")
            runtime.sender.start()
            runtime.ticker.start()
            yield
        finally:
            await runtime.ticker.stop()
            await runtime.sender.stop()
            await runtime.engine.dispose()
            if lock is not None:
                lock.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    return app
