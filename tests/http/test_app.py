"""The aiohttp app end to end over HTTP: CloudAdapter, auth rules, the invoke workaround."""

from __future__ import annotations

import itertools
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.domain.clock import FixedClock
from bot.ops.cli import main as marat
from bot.settings import Settings
from bot.teams.app import StartupError, create_app
from storage.db import create_engine
from tests.support.builders import COORDINATOR, STRANGER, referral_inputs, seed_directory
from tests.support.fake_connector import FakeConnector
from tests.support.services import make_services

TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
ACTIVITY_IDS = itertools.count(1)
CARD = "application/vnd.microsoft.card.adaptive"


def activity(service_url: str, aad: str = COORDINATOR, **values: Any) -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": "29:user", "name": "Someone", "aadObjectId": aad},
        "recipient": {"id": "28:marat-bot", "name": "MARAT"},
        "conversation": {"id": "a:personal-1", "conversationType": "personal", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
        "id": f"incoming-{next(ACTIVITY_IDS)}",  # Teams gives every activity its own
        **values,
    }


@pytest.fixture
async def client(sqlite_url: str, clock: FixedClock) -> AsyncIterator[TestClient[Any, Any]]:
    seed_engine = create_engine(sqlite_url)
    await seed_directory(make_services(seed_engine, clock))
    await seed_engine.dispose()
    settings = Settings(database_url=sqlite_url, allowed_tenants=[TENANT])  # type: ignore[call-arg]
    async with TestClient(TestServer(create_app(settings, clock))) as test_client:
        yield test_client


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as fake:
        yield fake


async def test_health_and_readiness(client: TestClient[Any, Any]) -> None:
    health = await client.get("/healthz")
    assert health.status == 200 and (await health.json())["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {
        "status": "ready",
        "database": "ok",
        "schema": "ok",
        "delivery": "ok",
        "scheduler": "ok",
    }


async def test_a_message_is_answered_through_the_connector(
    client: TestClient[Any, Any], connector: FakeConnector
) -> None:
    response = await client.post(
        "/api/messages", json=activity(connector.url, type="message", text="help")
    )
    assert response.status in (200, 201)
    sent = await connector.wait_for(1)
    assert sent[0]["_conversation"] == "a:personal-1"
    assert sent[0]["attachments"][0]["contentType"] == CARD
    assert sent[0]["summary"] == "MARAT bot help."


async def test_a_stranger_gets_the_polite_refusal(
    client: TestClient[Any, Any], connector: FakeConnector
) -> None:
    await client.post(
        "/api/messages", json=activity(connector.url, aad=STRANGER, type="message", text="agenda")
    )
    sent = await connector.wait_for(1)
    assert "not registered with the MARAT" in sent[0]["text"]


async def test_action_execute_returns_the_replacement_card_over_http(
    client: TestClient[Any, Any], connector: FakeConnector
) -> None:
    """The 4.17.1 CloudAdapter double-serialisation bug would make this an HTTP 500."""
    await client.post("/api/messages", json=activity(connector.url, type="message", text="refer"))
    card = (await connector.wait_for(1))[0]["attachments"][0]["content"]
    token = card["actions"][0]["data"]["token"]
    response = await client.post(
        "/api/messages",
        json=activity(
            connector.url,
            type="invoke",
            name="adaptiveCard/action",
            value={
                "action": {
                    "type": "Action.Execute",
                    "verb": "refer.submit",
                    "data": {"token": token, **referral_inputs()},
                }
            },
        ),
    )
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == CARD
    assert body["value"]["body"][0]["text"] == "Referral recorded: MARAT-2027-0001"


async def test_action_submit_updates_the_card_through_the_connector(
    client: TestClient[Any, Any], connector: FakeConnector
) -> None:
    await client.post("/api/messages", json=activity(connector.url, type="message", text="refer"))
    card = (await connector.wait_for(1))[0]["attachments"][0]["content"]
    data = card["actions"][0]["fallback"]["data"]
    await client.post(
        "/api/messages",
        json=activity(
            connector.url,
            type="message",
            replyToId="activity-1",
            value={**data, **referral_inputs()},
        ),
    )
    assert connector.updated and connector.updated[0]["_id"] == "activity-1"
    content = connector.updated[0]["attachments"][0]["content"]
    assert content["body"][0]["text"] == "Referral recorded: MARAT-2027-0001"


async def test_malformed_requests_are_refused_cleanly(client: TestClient[Any, Any]) -> None:
    not_json = await client.post(
        "/api/messages", data="hello", headers={"Content-Type": "text/plain"}
    )
    assert not_json.status == 415
    broken = await client.post(
        "/api/messages", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status == 400


async def test_with_an_app_id_unauthenticated_requests_are_rejected(
    sqlite_url: str, clock: FixedClock, connector: FakeConnector
) -> None:
    settings = Settings(
        database_url=sqlite_url,
        app_id="00000000-1111-2222-3333-444444444444",
        app_password="not-a-real-secret",
        app_tenant_id=TENANT,
    )  # type: ignore[call-arg]
    async with TestClient(TestServer(create_app(settings, clock))) as client:
        response = await client.post(
            "/api/messages", json=activity(connector.url, type="message", text="help")
        )
        assert response.status == 401
    assert connector.sent == []


async def test_a_second_instance_on_the_same_sqlite_file_refuses_to_start(
    sqlite_url: str, clock: FixedClock
) -> None:
    settings = Settings(database_url=sqlite_url)  # type: ignore[call-arg]
    async with TestClient(TestServer(create_app(settings, clock))):
        with pytest.raises(StartupError, match="Another marat-bot is already using"):
            async with TestClient(TestServer(create_app(settings, clock))):
                pass


async def test_the_bot_refuses_to_start_on_an_unmigrated_database(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # type: ignore[call-arg]
    with pytest.raises(StartupError, match="marat db upgrade"):
        async with TestClient(TestServer(create_app(settings, clock))):
            pass


def test_serve_refuses_a_public_address_without_an_app_id(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    assert marat(["serve", "--host", "0.0.0.0"]) == 2
    assert "MicrosoftAppId is required unless the bot listens on a loopback address" in (
        capsys.readouterr().err
    )


def test_a_bad_setting_is_named_at_start_up(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARAT_REGION", "Mars")
    monkeypatch.setenv("MARAT_CONFERENCE_CAPACITY", "0")
    assert marat(["db", "upgrade"]) == 2
    error = capsys.readouterr().err
    assert "MARAT_REGION: Input should be 'ENG', 'WLS', 'SCT' or 'NIR'" in error
    assert "MARAT_CONFERENCE_CAPACITY" in error
    assert "Traceback" not in error


def test_serve_reports_a_busy_port_in_one_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert marat(["serve", "--port", str(port)]) == 2
    error = capsys.readouterr().err
    assert f"Cannot listen on 127.0.0.1:{port}" in error
    assert "Traceback" not in error
