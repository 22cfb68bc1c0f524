"""The same activity delivered twice, or twice at once, has one effect (issue 12, point 4).

Teams redelivers an activity (same id) when the bot took long to answer, sometimes while the
first copy is still being handled. Over real HTTP (``create_app`` with a FixedClock and the
loopback fake connector), each test sends copies of one activity and counts what the bot did:
cases created, replies sent, the invoke answers given.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.schema import Activity, ConversationAccount
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.settings import Settings
from bot.teams.app import create_app
from bot.teams.inbound import InboundLedger
from storage.db import create_engine, session_factory
from storage.models import CaseRow
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.builders import COORDINATOR, referral_inputs, seed_directory
from tests.support.fake_connector import FakeConnector
from tests.support.reliability import record
from tests.support.services import make_services

TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
CHAT = "a:personal-casey"
IDS = itertools.count(1)


@dataclass
class Bot:
    client: TestClient[Any, Any]
    connector: FakeConnector
    engine: AsyncEngine
    clock: FixedClock

    def activity(self, activity_id: str | None = None, **values: Any) -> dict[str, Any]:
        return {
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": {"id": "29:casey", "name": "Someone", "aadObjectId": COORDINATOR},
            "recipient": {"id": "28:marat-bot", "name": "MARAT"},
            "conversation": {"id": CHAT, "conversationType": "personal", "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            "id": activity_id or f"activity-{next(IDS)}",
            **values,
        }

    async def post(self, body: dict[str, Any]) -> tuple[int, Any]:
        response = await self.client.post("/api/messages", json=body)
        payload = await response.json() if response.content_type == "application/json" else None
        return response.status, payload

    async def cases(self) -> int:
        async with self.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(CaseRow)) or 0)

    async def referral_token(self) -> str:
        before = len(self.connector.sent)
        await self.post(self.activity(type="message", text="refer"))
        card = (await self.connector.wait_for(before + 1))[-1]["attachments"][0]["content"]
        return str(card["actions"][0]["data"]["token"])

    def submit(self, token: str, activity_id: str) -> dict[str, Any]:
        return self.activity(
            activity_id,
            type="invoke",
            name="adaptiveCard/action",
            value={
                "action": {
                    "type": "Action.Execute",
                    "verb": "refer.submit",
                    "data": {"token": token, **referral_inputs()},
                }
            },
        )


@pytest.fixture
async def bot(sqlite_url: str, clock: FixedClock) -> AsyncIterator[Bot]:
    engine = create_engine(sqlite_url)
    await seed_directory(make_services(engine, clock))
    settings = Settings(database_url=sqlite_url, allowed_tenants=[TENANT])  # type: ignore[call-arg]
    async with (
        FakeConnector() as connector,
        TestClient(TestServer(create_app(settings, clock))) as client,
    ):
        yield Bot(client, connector, engine, clock)
    await engine.dispose()


async def test_a_message_delivered_twice_is_answered_once(bot: Bot) -> None:
    body = bot.activity("redelivered-1", type="message", text="refer")
    first, _ = await bot.post(body)
    await bot.connector.wait_for(1)
    again, _ = await bot.post(body)

    assert first in (200, 201) and again in (200, 201)
    assert len(bot.connector.sent) == 1, "one referral card, not two"
    record("inbound duplicate", 1, duplicates=len(bot.connector.sent) - 1)


async def test_a_card_action_delivered_twice_makes_one_case_and_both_copies_get_its_card(
    bot: Bot,
) -> None:
    token = await bot.referral_token()
    body = bot.submit(token, "submit-1")

    first = await bot.post(body)
    second = await bot.post(body)
    third = await bot.post(body)

    cases = await bot.cases()
    record("inbound duplicate", 2, duplicates=cases - 1)
    assert cases == 1
    assert first[0] == second[0] == third[0] == 200
    assert first[1]["value"]["body"][0]["text"] == "Referral recorded: MARAT-2027-0001"
    assert second[1] == first[1] == third[1], "the copies get the first answer, replayed"


async def test_the_same_card_action_delivered_at_once_has_one_effect(bot: Bot) -> None:
    token = await bot.referral_token()
    body = bot.submit(token, "submit-concurrent")
    sent_before = len(bot.connector.sent)

    answers = await asyncio.gather(*(bot.post(body) for _ in range(4)))

    cases = await bot.cases()
    record("inbound duplicate", 3, duplicates=cases - 1)
    assert cases == 1
    assert {status for status, _ in answers} == {200}
    bodies = [payload for _, payload in answers]
    assert all(b == bodies[0] for b in bodies), bodies
    assert bodies[0]["value"]["body"][0]["text"] == "Referral recorded: MARAT-2027-0001"
    assert len(bot.connector.sent) == sent_before, "no extra reply went through the connector"


async def test_the_same_message_delivered_at_once_is_answered_once(bot: Bot) -> None:
    body = bot.activity("concurrent-help", type="message", text="help")

    statuses = await asyncio.gather(*(bot.post(body) for _ in range(5)))

    await bot.connector.wait_for(1)
    record("inbound duplicate", 4, duplicates=len(bot.connector.sent) - 1)
    assert len(bot.connector.sent) == 1
    assert {status for status, _ in statuses} <= {200, 201}


async def test_different_activities_saying_the_same_are_each_answered(bot: Bot) -> None:
    await bot.post(bot.activity(type="message", text="help"))
    await bot.post(bot.activity(type="message", text="help"))
    assert len(await bot.connector.wait_for(2)) == 2


def _key(activity_id: str, kind: str) -> str:
    activity = Activity(
        channel_id="msteams", conversation=ConversationAccount(id=CHAT), type=kind, id=activity_id
    )
    key = InboundLedger.key_of(activity)
    assert key is not None
    return key


async def test_a_copy_arriving_while_another_replica_handles_it_is_told_to_retry(
    bot: Bot,
) -> None:
    """Another replica took the activity 10 s ago (its lease: 30 s). The copy here changes
    nothing and Teams is told to retry (503); once that replica's lease has run out (it
    died), the next copy is handled: nothing is lost to a crash."""
    units = SqlUnitOfWorkFactory(session_factory(bot.engine))
    taken = bot.clock.now() - timedelta(seconds=10)
    async with units() as uow:
        begun = await uow.inbound.begin(
            _key("elsewhere-1", "message"), taken, taken + timedelta(seconds=30)
        )
        await uow.commit()
    assert begun == "first"
    body = bot.activity("elsewhere-1", type="message", text="help")

    status, _ = await bot.post(body)
    assert status == 503
    assert bot.connector.sent == []

    bot.clock.advance(timedelta(seconds=21))
    status, _ = await bot.post(body)
    assert status in (200, 201)
    assert len(await bot.connector.wait_for(1)) == 1
    status, _ = await bot.post(body)
    assert status in (200, 201) and len(bot.connector.sent) == 1
    record("inbound duplicate", 2, lost=1 - len(bot.connector.sent))


async def test_what_is_kept_about_an_activity_names_nobody(bot: Bot) -> None:
    await bot.post(bot.activity("kept-1", type="message", text="help"))
    async with bot.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM inbound_activities"))).all()
    assert len(rows) == 1
    kept = str(rows)
    for secret in (CHAT, COORDINATOR, "kept-1", "29:casey", "help"):
        assert secret not in kept
