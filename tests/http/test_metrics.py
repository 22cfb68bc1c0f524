"""``GET /metrics`` (issue 12, point 6): the Prometheus text format with turns by kind and
outcome, turn latency, the outbox backlog and the age of its oldest message, deliveries by
result, reminders by state, sweep duration and database pool use; no label carries case data
or a person's identity.

The app from ``create_app`` on SQLite with a FixedClock and the loopback fake connector; the
background sender is stopped so that the test decides when messages go.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.domain.clock import FixedClock
from bot.domain.reminders import ReminderKind, ReminderPlan
from bot.ports import OutgoingMessage
from bot.services.outbox import enqueue
from bot.settings import Settings
from bot.teams.app import RUNTIME, Runtime, create_app
from storage.db import create_engine
from tests.support.builders import COORDINATOR, STRANGER, seed_directory
from tests.support.fake_connector import FakeConnector
from tests.support.services import make_services

TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
IDS = itertools.count(1)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def activity(service_url: str, aad: str = COORDINATOR, **values: Any) -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": "29:casey", "name": "Casey Coordinator", "aadObjectId": aad},
        "recipient": {"id": "28:marat-bot", "name": "MARAT"},
        "conversation": {"id": "a:chat-casey", "conversationType": "personal", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
        "id": f"metrics-{next(IDS)}",
        **values,
    }


async def scrape(client: TestClient[Any, Any]) -> tuple[str, Samples]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    body = await response.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return body, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
async def served(
    sqlite_url: str, clock: FixedClock
) -> AsyncIterator[tuple[TestClient[Any, Any], Runtime, FakeConnector]]:
    engine = create_engine(sqlite_url)
    await seed_directory(make_services(engine, clock))
    await engine.dispose()
    settings = Settings(database_url=sqlite_url, allowed_tenants=[TENANT])  # type: ignore[call-arg]
    app = create_app(settings, clock)
    async with FakeConnector() as connector, TestClient(TestServer(app)) as client:
        runtime = app[RUNTIME]
        await runtime.sender.stop()
        await runtime.ticker.stop()
        yield client, runtime, connector


async def test_metrics_count_turns_backlog_deliveries_reminders_and_the_pool(
    served: tuple[TestClient[Any, Any], Runtime, FakeConnector], clock: FixedClock
) -> None:
    client, runtime, connector = served
    for body in (
        activity(connector.url, type="message", text="help"),
        activity(connector.url, type="message", text="help"),
        activity(connector.url, aad=STRANGER, type="message", text="agenda"),
        activity(connector.url, type="message", text="plan MARAT-2027-0999"),
    ):
        response = await client.post("/api/messages", json=body)
        assert response.status in (200, 201)
    now = clock.now()
    async with runtime.database.units() as uow:
        for n, age in enumerate((timedelta(minutes=2), timedelta(seconds=30))):
            await enqueue(
                uow,
                f"notice:metrics-{n}",
                COORDINATOR,
                OutgoingMessage(text="A MARAT update needs your attention."),
                now - age,
            )
        await uow.reminders.schedule(
            [
                ReminderPlan(ReminderKind.NO_CONFERENCE, None, subject, now.date(), now - age, now)
                for subject, age in ((1, timedelta(minutes=10)), (3, timedelta(minutes=1)))
            ]
            + [
                ReminderPlan(
                    ReminderKind.NO_CONFERENCE,
                    None,
                    2,
                    now.date(),
                    now + timedelta(hours=1),
                    now + timedelta(hours=2),
                )
            ],
            now,
        )
        await uow.commit()

    _, samples = await scrape(client)

    assert value(samples, "marat_turns_total", kind="help", outcome="ok") == 2
    assert value(samples, "marat_turns_total", kind="agenda", outcome="refused") == 1
    assert value(samples, "marat_turns_total", kind="plan", outcome="refused") == 1
    assert value(samples, "marat_turn_duration_seconds_count", kind="help") == 2
    assert value(samples, "marat_outbox_backlog") == 2
    assert value(samples, "marat_outbox_oldest_age_seconds") == 120
    assert value(samples, "marat_reminders", state="pending") == 3
    assert value(samples, "marat_reminders", state="claimed") == 0
    assert value(samples, "marat_reminders_due") == 2
    assert value(samples, "marat_reminder_oldest_due_age_seconds") == 600
    assert value(samples, "marat_db_pool_size") == 1
    assert value(samples, "marat_db_pool_checked_out") == 0
    assert value(samples, "marat_database_up") == 1
    assert value(samples, "marat_deliveries_total", result="sent") == 0

    # Replies went straight back; only the two queued messages go through the outbox.
    await runtime.sender.deliver_due()
    _, samples = await scrape(client)
    assert value(samples, "marat_deliveries_total", result="sent") == 2
    assert value(samples, "marat_outbox_backlog") == 0
    assert value(samples, "marat_outbox_oldest_age_seconds") == 0


async def test_a_sweep_is_timed_and_its_results_counted(
    served: tuple[TestClient[Any, Any], Runtime, FakeConnector],
) -> None:
    client, runtime, _ = served
    _, before = await scrape(client)  # the ticker's first sweep at start-up counts too
    await runtime.ticker.sweep()
    await runtime.ticker.sweep()
    _, samples = await scrape(client)
    assert (
        value(samples, "marat_reminder_sweep_duration_seconds_count")
        - value(before, "marat_reminder_sweep_duration_seconds_count")
        == 2
    )
    assert value(samples, "marat_reminders_processed_total", result="sent") == 0


async def test_no_label_carries_case_data_or_an_identity(
    served: tuple[TestClient[Any, Any], Runtime, FakeConnector],
) -> None:
    client, _, connector = served
    for text in ("case MARAT-2027-0001", "hello Jane Testcase", "agency add Secret Agency"):
        await client.post("/api/messages", json=activity(connector.url, type="message", text=text))
    await client.post(
        "/api/messages",
        json=activity(
            connector.url,
            type="invoke",
            name="adaptiveCard/action",
            value={"action": {"verb": "jane.testcase@example.org", "data": {"token": "t"}}},
        ),
    )

    body, samples = await scrape(client)

    labels = {v for (_, pairs) in samples for (_, v) in pairs}
    for secret in (COORDINATOR, "MARAT-2027", "Jane", "Testcase", "Secret", "example.org", "29:"):
        assert secret not in body
        assert not any(secret in label for label in labels)
    assert ("marat_turns_total", (("kind", "unknown verb"), ("outcome", "refused"))) in samples
    assert ("marat_turns_total", (("kind", "unknown"), ("outcome", "ok"))) in samples


async def test_a_scrape_with_the_database_gone_says_so_instead_of_failing(
    served: tuple[TestClient[Any, Any], Runtime, FakeConnector],
) -> None:
    client, runtime, _ = served

    async def unreachable(*_args: object) -> Any:
        raise OSError("connection refused (synthetic)")

    runtime.database.snapshot = unreachable  # type: ignore[method-assign]
    _, samples = await scrape(client)
    assert value(samples, "marat_database_up") == 0
