"""Proactive delivery over real HTTP: the app from ``create_app``, the real BotFrameworkGateway
(connector client, msrest) and a loopback Bot Connector that can refuse sends on request.

People's 1:1 chats are learnt the way Teams teaches them: each person sends the bot one message
whose serviceUrl is the fake connector. A coordinator then refers a case over HTTP, and the
information requests go out through the outbox.

Most tests switch the app's background sender loop off and drive ``runtime.sender.deliver_due()``
themselves after moving the FixedClock, so that every sweep is finished before the assertions
run. The last test keeps the loop running and waits on the connector's event.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import delete, select

from bot.domain.clock import FixedClock
from bot.domain.directory import DirectoryRow, Role
from bot.ports import OutgoingMessage, TeamAddress
from bot.services.outbox import enqueue
from bot.settings import Settings
from bot.teams.app import RUNTIME, Runtime, create_app
from cards.common import envelope, text
from cards.information_request import NEUTRAL
from storage.db import create_engine, session_factory
from storage.models import ConversationRefRow, OutboxRow
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT, referral_inputs
from tests.support.fake_connector import FakeConnector
from tests.support.services import make_services

TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
ACTIVITY_IDS = itertools.count(1)
CHAT = {COORDINATOR: "a:chat-casey", POLICE_CONTACT: "a:chat-pat", HOUSING_CONTACT: "a:chat-harper"}
USER_ID = {COORDINATOR: "29:casey", POLICE_CONTACT: "29:pat", HOUSING_CONTACT: "29:harper"}
REFERENCE = "MARAT-2027-0001"
SECOND = timedelta(seconds=1)
BOT_ID = "28:marat-bot"
TEAM = "19:marat-team@thread.tacv2"
CONTACTS = (POLICE_CONTACT, HOUSING_CONTACT)


@dataclass
class Refusal:
    status: int
    retry_after: int | None
    times: int | None  # None: every time


class RefusingConnector(FakeConnector):
    """The loopback connector, told to refuse the next sends (or updates) to a conversation
    with 429 (and Retry-After), 502 or 403; a refused activity is not stored. ``attempts``
    records every request that reached it, refused or not, as (method, conversation).

    It also knows team rosters (``GET …/members/{id}``) and opens 1:1 chats
    (``POST /v3/conversations``), for people reachable only through a team."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[tuple[str, str]] = []
        self.rosters: dict[str, dict[str, dict[str, str]]] = {}  # team -> aad -> account
        self.new_chats: dict[str, str] = {}  # user id -> id of the 1:1 chat to create
        self._refusals: dict[tuple[str, str], deque[Refusal]] = {}
        self._changed = asyncio.Event()
        router = self.server.app.router
        router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        router.add_post("/v3/conversations", self._create)

    def refuse(
        self,
        conversation: str,
        status: int,
        times: int | None = 1,
        retry_after: int | None = None,
        method: str = "POST",
    ) -> None:
        self._refusals.setdefault((method, conversation), deque()).append(
            Refusal(status, retry_after, times)
        )

    def attempts_to(self, conversation: str, method: str = "POST") -> int:
        return self.attempts.count((method, conversation))

    def _refusal(self, method: str, conversation: str) -> web.Response | None:
        self.attempts.append((method, conversation))
        self._changed.set()
        queue = self._refusals.get((method, conversation))
        if not queue:
            return None
        refusal = queue[0]
        if refusal.times is not None:
            refusal.times -= 1
            if refusal.times == 0:
                queue.popleft()
        headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
        body = {"error": {"code": f"HTTP{refusal.status}", "message": "refused by the test"}}
        return web.json_response(body, status=refusal.status, headers=headers)

    async def _send(self, request: web.Request) -> web.Response:
        refused = self._refusal("POST", request.match_info["conversation"])
        if refused is not None:
            return refused
        response = await super()._send(request)
        self._changed.set()
        return response

    async def _update(self, request: web.Request) -> web.Response:
        refused = self._refusal("PUT", request.match_info["conversation"])
        if refused is not None:
            return refused
        response = await super()._update(request)
        self._changed.set()
        return response

    async def _member(self, request: web.Request) -> web.Response:
        team = request.match_info["conversation"]
        refused = self._refusal("GET", team)
        if refused is not None:
            return refused
        account = self.rosters.get(team, {}).get(request.match_info["member"].lower())
        if account is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(account)

    async def _create(self, request: web.Request) -> web.Response:
        parameters = await request.json()
        user_id = parameters["members"][0]["id"]
        self.attempts.append(("CREATE", user_id))
        return web.json_response({"id": self.new_chats[user_id]}, status=201)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait (on an event, never a sleep) until ``condition`` holds."""

        async def changes() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(changes(), timeout)

    def sent_to(self, aad: str) -> list[dict[str, Any]]:
        return [a for a in self.sent if a["_conversation"] == CHAT[aad]]

    def cards_to(self, aad: str) -> list[dict[str, Any]]:
        """Information-request cards that reached the person's chat."""
        return [a for a in self.sent_to(aad) if a.get("summary") == NEUTRAL]

    def problems(self) -> list[str]:
        return [
            a.get("text") or ""
            for a in self.sent_to(COORDINATOR)
            if "delivery problem" in (a.get("text") or "")
        ]


def directory() -> list[DirectoryRow]:
    return [
        DirectoryRow(1, None, "Casey Coordinator", None, COORDINATOR, Role.COORDINATOR),
        DirectoryRow(2, "Police", "Pat Police", None, POLICE_CONTACT, Role.CONTACT),
        DirectoryRow(3, "Housing", "Harper Housing", None, HOUSING_CONTACT, Role.CONTACT),
    ]


@dataclass
class Bot:
    client: TestClient[Any, Any]
    runtime: Runtime
    connector: RefusingConnector
    clock: FixedClock

    def activity(self, aad: str, **values: Any) -> dict[str, Any]:
        return {
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": {"id": USER_ID[aad], "name": "Someone", "aadObjectId": aad},
            "recipient": {"id": BOT_ID, "name": "MARAT"},
            "conversation": {"id": CHAT[aad], "conversationType": "personal", "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            "id": f"incoming-{next(ACTIVITY_IDS)}",  # Teams gives every activity its own
            **values,
        }

    async def introduce(self, *people: str) -> None:
        """Each person says hello: the bot learns their 1:1 chat (and answers with help)."""
        for aad in people:
            before = len(self.connector.sent)
            response = await self.client.post(
                "/api/messages", json=self.activity(aad, type="message", text="help")
            )
            assert response.status in (200, 201)
            await self.connector.wait_for(before + 1)
        self.connector.attempts.clear()

    async def refer(self) -> str:
        before = len(self.connector.sent)
        await self.client.post(
            "/api/messages", json=self.activity(COORDINATOR, type="message", text="refer")
        )
        card = (await self.connector.wait_for(before + 1))[-1]["attachments"][0]["content"]
        response = await self.client.post(
            "/api/messages",
            json=self.activity(
                COORDINATOR,
                type="invoke",
                name="adaptiveCard/action",
                value={
                    "action": {
                        "type": "Action.Execute",
                        "verb": "refer.submit",
                        "data": {
                            "token": card["actions"][0]["data"]["token"],
                            **referral_inputs(agencies="police,housing"),
                        },
                    }
                },
            ),
        )
        assert response.status == 200
        recorded = (await response.json())["value"]["body"][0]["text"]
        assert recorded == f"Referral recorded: {REFERENCE}"
        return REFERENCE

    async def sweep(self, after: timedelta = timedelta(0)) -> int:
        """Move the clock, then one sweep of the app's own sender."""
        self.clock.advance(after)
        return await self.runtime.sender.deliver_due()

    async def forget(self, aad: str) -> None:
        """As if the person had never talked to the bot in a 1:1 chat."""
        async with self.units() as uow:
            await uow.session.execute(
                delete(ConversationRefRow).where(ConversationRefRow.aad_object_id == aad)
            )
            await uow.commit()

    async def install_in_team(self, team_id: str, *members: str) -> None:
        """The app is installed in a team whose roster holds ``members``."""
        async with self.units() as uow:
            await uow.addresses.save_team(
                TeamAddress(team_id, TENANT, self.connector.url, BOT_ID), self.clock.now()
            )
            await uow.commit()
        self.connector.rosters[team_id] = {
            aad: {"id": USER_ID[aad], "name": "Someone", "aadObjectId": aad} for aad in members
        }
        for aad in members:
            self.connector.new_chats[USER_ID[aad]] = CHAT[aad]

    async def outbox(self) -> list[OutboxRow]:
        async with self.units() as uow:
            rows = list(await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
            uow.session.expunge_all()
        return rows

    @property
    def units(self) -> SqlUnitOfWorkFactory:
        """Transactions on the app's own database engine."""
        return SqlUnitOfWorkFactory(session_factory(self.runtime.database.engine))


@pytest.fixture
async def connector() -> AsyncIterator[RefusingConnector]:
    fake = RefusingConnector()
    async with fake:
        yield fake


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url, allowed_tenants=[TENANT])  # type: ignore[call-arg]


@pytest.fixture
async def seeded(sqlite_url: str, clock: FixedClock) -> None:
    engine = create_engine(sqlite_url)
    deps = make_services(engine, clock)
    await deps.directory.import_directory(directory())
    await deps.conferences.add_meeting(None, date(2027, 1, 12), 18)
    await engine.dispose()


async def _serve(
    settings: Settings,
    clock: FixedClock,
    connector: RefusingConnector,
    monkeypatch: pytest.MonkeyPatch,
    loop: bool,
) -> AsyncIterator[Bot]:
    app = create_app(settings, clock)
    runtime = app[RUNTIME]
    if not loop:
        monkeypatch.setattr(runtime.sender, "start", lambda: None)
    async with TestClient(TestServer(app)) as client:
        bot = Bot(client, runtime, connector, clock)
        await bot.introduce(COORDINATOR, POLICE_CONTACT, HOUSING_CONTACT)
        yield bot


@pytest.fixture
async def bot(
    seeded: None,
    settings: Settings,
    clock: FixedClock,
    connector: RefusingConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Bot]:
    """The app with its sender loop off: the test sweeps."""
    async for served in _serve(settings, clock, connector, monkeypatch, loop=False):
        yield served


@pytest.fixture
async def live_bot(
    seeded: None,
    settings: Settings,
    clock: FixedClock,
    connector: RefusingConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Bot]:
    """The app as it runs in production, its sender loop woken by each referral."""
    async for served in _serve(settings, clock, connector, monkeypatch, loop=True):
        yield served


async def test_each_contact_gets_one_card_through_the_real_gateway(bot: Bot) -> None:
    await bot.refer()
    assert await bot.sweep() == 2

    for contact in CONTACTS:
        (card,) = bot.connector.cards_to(contact)
        assert card["recipient"]["id"] == USER_ID[contact]
        assert card["attachments"][0]["content"]["fallbackText"] == NEUTRAL
    assert [row.status for row in await bot.outbox()] == ["sent", "sent"]


async def test_429_then_success_delivers_exactly_one_copy_after_retry_after(bot: Bot) -> None:
    for contact in CONTACTS:
        bot.connector.refuse(CHAT[contact], 429, retry_after=30)
    await bot.refer()

    await bot.sweep()
    await bot.sweep(after=29 * SECOND)
    for contact in CONTACTS:
        assert bot.connector.attempts_to(CHAT[contact]) == 1, "Retry-After: 30 was not honoured"
        assert bot.connector.cards_to(contact) == []

    await bot.sweep(after=SECOND)
    await bot.sweep(after=timedelta(hours=1))
    for contact in CONTACTS:
        assert len(bot.connector.cards_to(contact)) == 1
        assert bot.connector.attempts_to(CHAT[contact]) == 2


async def test_502_then_success_delivers_exactly_one_copy(bot: Bot) -> None:
    for contact in CONTACTS:
        bot.connector.refuse(CHAT[contact], 502)
    await bot.refer()

    await bot.sweep()
    for contact in CONTACTS:
        # msrest would retry a 5xx three times by itself; the gateway turns that off.
        assert bot.connector.attempts_to(CHAT[contact]) == 1
        assert bot.connector.cards_to(contact) == []

    await bot.sweep(after=2 * SECOND)
    await bot.sweep(after=timedelta(hours=1))
    for contact in CONTACTS:
        assert len(bot.connector.cards_to(contact)) == 1
        assert bot.connector.attempts_to(CHAT[contact]) == 2


async def test_a_502_on_an_update_is_seen_once_per_sweep(bot: Bot) -> None:
    """msrest's retry policy covers PUT (an update) on every 5xx unless the gateway turns it
    off; the outbox must see and schedule each try itself."""
    await bot.refer()
    await bot.sweep()
    (police_card,) = [row for row in await bot.outbox() if row.recipient == POLICE_CONTACT]
    async with bot.units() as uow:
        await enqueue(
            uow,
            "test:update",
            POLICE_CONTACT,
            OutgoingMessage(card=envelope([text("Updated")]), summary="MARAT update"),
            bot.clock.now(),
            replaces_key=police_card.key,
        )
        await uow.commit()
    bot.connector.refuse(CHAT[POLICE_CONTACT], 502, method="PUT")

    await bot.sweep()
    assert bot.connector.attempts_to(CHAT[POLICE_CONTACT], "PUT") == 1
    assert bot.connector.updated == []

    await bot.sweep(after=2 * SECOND)
    await bot.sweep(after=timedelta(hours=1))
    (updated,) = bot.connector.updated
    assert updated["_id"] == police_card.activity_id
    assert bot.connector.attempts_to(CHAT[POLICE_CONTACT], "PUT") == 2


async def test_a_contact_reachable_only_through_a_team_gets_a_new_chat(bot: Bot) -> None:
    await bot.forget(HOUSING_CONTACT)
    await bot.install_in_team(TEAM, HOUSING_CONTACT)
    await bot.refer()
    await bot.sweep()

    assert len(bot.connector.cards_to(HOUSING_CONTACT)) == 1
    async with bot.units() as uow:
        saved = await uow.addresses.personal(HOUSING_CONTACT)
    assert saved is not None and saved.conversation_id == CHAT[HOUSING_CONTACT]
    assert bot.connector.problems() == []


async def test_a_transient_roster_error_is_retried_not_reported_as_unreachable(bot: Bot) -> None:
    """412/502/504 are retried (PRODUCT.md 5) — also when the 502 comes from the roster lookup
    that finds someone's 1:1 chat through a team."""
    await bot.forget(HOUSING_CONTACT)
    await bot.install_in_team(TEAM, HOUSING_CONTACT)
    bot.connector.refuse(TEAM, 502, method="GET")
    await bot.refer()

    await bot.sweep()
    await bot.sweep(after=2 * SECOND)
    await bot.sweep(after=timedelta(hours=1))
    await bot.sweep()

    assert bot.connector.problems() == []
    assert len(bot.connector.cards_to(HOUSING_CONTACT)) == 1


async def test_403_for_one_contact_tells_the_coordinator_in_their_chat(live_bot: Bot) -> None:
    connector = live_bot.connector
    connector.refuse(CHAT[POLICE_CONTACT], 403, times=None)

    await live_bot.refer()
    await connector.wait_until(lambda: bool(connector.problems()))
    await connector.wait_until(lambda: bool(connector.cards_to(HOUSING_CONTACT)))

    (problem,) = connector.problems()
    assert "Pat Police" in problem and REFERENCE in problem
    assert connector.attempts_to(CHAT[POLICE_CONTACT]) == 1, "a 403 is not retried"
    assert connector.cards_to(POLICE_CONTACT) == []
    assert len(connector.cards_to(HOUSING_CONTACT)) == 1
