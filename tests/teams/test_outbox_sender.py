"""Proactive delivery end to end above the gateway: the real referral use case writes
information requests to the outbox with the referral, and the real OutboxSender delivers them
through a FakeMessenger (tests/support/fakes.py), on SQLite, with a FixedClock.

Nothing here sleeps: each test drives ``sender.deliver_due()`` (one sweep) and moves the clock.
Rules under test (PRODUCT.md sections 1, 4, 5; TEAMS.md): 429 waits for Retry-After, 502
backs off and is retried, 403 is permanent, nothing is sent twice, one conversation is never
written to faster than Teams allows, and whoever cannot be reached is reported to the case's
coordinator once, never skipped silently.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.cases import CaseView
from bot.domain.clock import FixedClock
from bot.domain.delivery import ConnectorAnswer, RetryPolicy
from bot.domain.directory import DirectoryRow, Role
from bot.ports import Address, Member, OutgoingMessage, TeamAddress
from bot.services.outbox import enqueue
from bot.services.referrals import ReferralRecorded
from bot.teams.outbox_sender import OutboxSender
from cards.information_request import NEUTRAL
from dialogs.base import Dependencies
from storage.db import session_factory
from storage.models import ConversationRefRow, OutboxRow
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT, referral_inputs
from tests.support.fakes import Call, FakeMessenger
from tests.support.services import make_services

IDVA_CONTACT = "44444444-4444-4444-8444-444444444444"
PARKER = "55555555-5555-4555-8555-555555555555"  # a second Police contact, where needed
TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
SERVICE_URL = "https://smba.example.test/"
BOT_ID = "28:marat-bot"
CHAT = {
    COORDINATOR: "a:chat-casey",
    POLICE_CONTACT: "a:chat-pat",
    HOUSING_CONTACT: "a:chat-harper",
    IDVA_CONTACT: "a:chat-indy",
    PARKER: "a:chat-parker",
}
REFERENCE = "MARAT-2027-0001"
CASE_DATA = ("Jane Testcase", "John Fictional", "1990", "1988", "Synthetic test summary")
PROBLEM = "delivery problem"
SECOND = timedelta(seconds=1)


def directory() -> list[DirectoryRow]:
    """A coordinator who is no agency's contact, and one contact for each of three agencies."""
    return [
        DirectoryRow(1, None, "Casey Coordinator", None, COORDINATOR, Role.COORDINATOR),
        DirectoryRow(2, "Police", "Pat Police", None, POLICE_CONTACT, Role.CONTACT),
        DirectoryRow(3, "Housing", "Harper Housing", None, HOUSING_CONTACT, Role.CONTACT),
        DirectoryRow(4, "IDVA service", "Indy Advocate", None, IDVA_CONTACT, Role.CONTACT),
    ]


def address(aad: str) -> Address:
    return Address(aad, TENANT, f"29:{aad[:4]}", CHAT[aad], SERVICE_URL, BOT_ID)


@dataclass
class World:
    units: SqlUnitOfWorkFactory
    deps: Dependencies
    clock: FixedClock
    messenger: FakeMessenger
    sender: OutboxSender

    def replica(self) -> OutboxSender:
        """Another sender on the same database (a second bot replica, or a restarted bot)."""
        return OutboxSender(self.units, self.messenger, self.clock, rng=random.Random(7))

    async def remember(self, *people: str) -> None:
        """Store each person's 1:1 chat, as their first message to the bot would."""
        async with self.units() as uow:
            for aad in people:
                await uow.addresses.save_personal(address(aad), self.clock.now())
            await uow.commit()

    async def forget(self, aad: str) -> None:
        """As if the person had never talked to the bot: no 1:1 chat on record."""
        async with self.units() as uow:
            await uow.session.execute(
                delete(ConversationRefRow).where(ConversationRefRow.aad_object_id == aad)
            )
            await uow.commit()

    async def refer(self, **overrides: Any) -> CaseView:
        form = await self.deps.referrals.open_referral(COORDINATOR)
        outcome = await self.deps.referrals.submit_referral(
            COORDINATOR, form.token, referral_inputs(**overrides)
        )
        assert isinstance(outcome, ReferralRecorded), outcome
        return outcome.case

    async def drain(self, sender: OutboxSender | None = None) -> int:
        """Sweep until a sweep finds nothing due at this instant; returns how many were tried."""
        tried = 0
        while swept := await (sender or self.sender).deliver_due():
            tried += swept
        return tried

    async def rows(self) -> list[OutboxRow]:
        async with self.units() as uow:
            found = list(await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
            uow.session.expunge_all()
        return found

    async def row_to(self, recipient: str, kind: str = "card") -> OutboxRow:
        (found,) = [r for r in await self.rows() if r.recipient == recipient and r.kind == kind]
        return found

    def cards(self, aad: str) -> list[Call]:
        return [c for c in self.messenger.delivered(CHAT[aad]) if c.message.card is not None]

    def problems(self) -> list[str]:
        """The delivery-problem texts the coordinator has received."""
        return [t for t in self.messenger.texts(CHAT[COORDINATOR]) if PROBLEM in t]


@pytest.fixture
async def world(sqlite_engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[World]:
    deps = make_services(sqlite_engine, clock)
    await deps.directory.import_directory(directory())
    await deps.conferences.add_meeting(None, date(2027, 1, 12), 18)
    units = SqlUnitOfWorkFactory(session_factory(sqlite_engine))
    messenger = FakeMessenger(clock)
    sender = OutboxSender(units, messenger, clock, rng=random.Random(2027))
    world = World(units, deps, clock, messenger, sender)
    await world.remember(COORDINATOR, POLICE_CONTACT, HOUSING_CONTACT, IDVA_CONTACT)
    yield world


CONTACTS = (POLICE_CONTACT, HOUSING_CONTACT, IDVA_CONTACT)


# -- the information requests of a referral ----------------------------------------------------


async def test_each_contact_gets_exactly_one_information_request_card(world: World) -> None:
    case = await world.refer(agencies="police,idva-service,housing")
    assert case.reference == REFERENCE

    assert await world.drain() == 3
    for contact in CONTACTS:
        (card,) = world.cards(contact)
        assert card.address == address(contact)
    assert world.messenger.delivered(CHAT[COORDINATOR]) == []

    world.clock.advance(timedelta(hours=1))
    await world.drain()
    assert len(world.messenger.calls) == 3, "nothing is sent twice"


async def test_the_card_preview_is_neutral_and_holds_no_case_data(world: World) -> None:
    await world.refer()
    await world.drain()

    (call,) = world.cards(POLICE_CONTACT)
    message, card = call.message, call.message.card
    assert card is not None
    assert message.summary == NEUTRAL == "A MARAT information request needs your answer"
    assert card["fallbackText"] == NEUTRAL
    assert message.text is None, "a text line would be the preview's first line"
    preview = " ".join(filter(None, [message.summary, message.text, card["fallbackText"]]))
    for detail in (*CASE_DATA, REFERENCE):
        assert detail not in preview
    assert REFERENCE in str(card["body"]), "the case itself is inside the card"


async def test_delivered_rows_keep_no_payload(world: World) -> None:
    await world.refer()
    await world.drain()

    rows = await world.rows()
    assert [r.status for r in rows] == ["sent"] * 3
    assert [r.payload for r in rows] == ["{}"] * 3
    assert all(r.activity_id and r.conversation_id for r in rows)


# -- transient answers: retried, delivered once ------------------------------------------------


async def test_a_429_is_not_retried_before_its_retry_after(world: World) -> None:
    world.messenger.script(CHAT[POLICE_CONTACT], ConnectorAnswer(429, retry_after=30))
    await world.refer()
    await world.drain()
    assert len(world.messenger.calls_to(CHAT[POLICE_CONTACT])) == 1
    assert world.cards(POLICE_CONTACT) == []

    world.clock.advance(29 * SECOND)
    await world.drain()
    assert len(world.messenger.calls_to(CHAT[POLICE_CONTACT])) == 1, "resent too early"

    world.clock.advance(SECOND)
    await world.drain()
    world.clock.advance(timedelta(hours=1))
    await world.drain()
    assert len(world.cards(POLICE_CONTACT)) == 1
    assert len(world.messenger.calls_to(CHAT[POLICE_CONTACT])) == 2
    assert (await world.row_to(POLICE_CONTACT)).status == "sent"


async def test_a_502_is_retried_after_a_backoff_and_delivered_once(world: World) -> None:
    world.messenger.script(CHAT[POLICE_CONTACT], ConnectorAnswer(502))
    await world.refer()
    await world.drain()
    assert world.cards(POLICE_CONTACT) == []

    world.clock.advance(SECOND / 2)  # jitter keeps the first backoff within [1 s, 2 s]
    await world.drain()
    assert len(world.messenger.calls_to(CHAT[POLICE_CONTACT])) == 1, "retried without backoff"

    world.clock.advance(2 * SECOND)
    await world.drain()
    world.clock.advance(timedelta(hours=1))
    await world.drain()
    assert len(world.cards(POLICE_CONTACT)) == 1
    assert len(world.messenger.calls_to(CHAT[POLICE_CONTACT])) == 2
    assert world.problems() == []


async def test_repeated_502s_fail_at_max_attempts_and_the_coordinator_is_told_once(
    world: World,
) -> None:
    world.messenger.always(CHAT[POLICE_CONTACT], ConnectorAnswer(502))
    await world.refer()
    for _ in range(12):  # more sweeps than attempts, each after the longest backoff
        await world.drain()
        world.clock.advance(timedelta(minutes=10))

    assert len(world.messenger.calls_to(CHAT[POLICE_CONTACT])) == RetryPolicy().max_attempts
    police = await world.row_to(POLICE_CONTACT)
    assert (police.status, police.payload) == ("failed", "{}")
    (problem,) = world.problems()
    assert "Pat Police" in problem and REFERENCE in problem
    for contact in (HOUSING_CONTACT, IDVA_CONTACT):
        assert len(world.cards(contact)) == 1

    world.clock.advance(timedelta(days=1))
    await world.drain()
    assert len(world.problems()) == 1


# -- permanent answers and people the bot cannot reach -----------------------------------------


async def test_a_403_makes_the_contact_unreachable_at_once_and_the_coordinator_is_told_once(
    world: World,
) -> None:
    world.messenger.always(CHAT[POLICE_CONTACT], ConnectorAnswer(403))
    await world.refer()
    await world.drain()

    assert len(world.messenger.calls_to(CHAT[POLICE_CONTACT])) == 1, "a 403 is never retried"
    police = await world.row_to(POLICE_CONTACT)
    assert (police.status, police.payload) == ("unreachable", "{}")
    (problem,) = world.problems()
    assert "Pat Police" in problem and REFERENCE in problem

    world.clock.advance(timedelta(days=1))
    await world.drain()
    assert len(world.messenger.calls_to(CHAT[POLICE_CONTACT])) == 1
    assert len(world.problems()) == 1


async def test_a_contact_with_no_chat_and_no_team_is_reported_by_name_and_reference(
    world: World,
) -> None:
    await world.forget(HOUSING_CONTACT)  # Harper never talked to the bot
    await world.refer()
    await world.drain()

    assert world.messenger.calls_to(CHAT[HOUSING_CONTACT]) == []
    housing = await world.row_to(HOUSING_CONTACT)
    assert (housing.status, housing.payload) == ("unreachable", "{}")
    (problem,) = world.problems()
    assert "Harper Housing" in problem and REFERENCE in problem

    world.clock.advance(timedelta(days=1))
    await world.drain()
    assert len(world.problems()) == 1


async def test_a_contact_reachable_only_through_a_team_gets_a_new_chat(world: World) -> None:
    await world.forget(HOUSING_CONTACT)
    team = TeamAddress("19:marat-team@thread.tacv2", TENANT, SERVICE_URL, BOT_ID)
    async with world.units() as uow:
        await uow.addresses.save_team(team, world.clock.now())
        await uow.commit()
    harper = Member("29:harper", HOUSING_CONTACT, "Harper Housing", None)
    world.messenger.add_member(team.team_id, harper)

    await world.refer()
    await world.drain()

    assert world.messenger.opened == [(team, harper)]
    opened = Address(HOUSING_CONTACT, TENANT, "29:harper", "a:chat-29:harper", SERVICE_URL, BOT_ID)
    (card,) = [c for c in world.messenger.delivered(opened.conversation_id) if c.message.card]
    assert card.address == opened
    async with world.units() as uow:
        assert await uow.addresses.personal(HOUSING_CONTACT) == opened
    assert world.problems() == []

    await world.refer(victim_name="Second Testcase")
    await world.drain()
    assert len(world.messenger.opened) == 1, "the saved chat is used from then on"
    assert len(world.messenger.delivered(opened.conversation_id)) == 2


async def test_an_agency_with_no_contacts_is_reported_to_the_coordinator_once(
    world: World,
) -> None:
    async with world.units() as uow:
        await uow.directory.upsert_agency("Probation", world.clock.now())
        await uow.commit()
    await world.refer(agencies="police,idva-service,housing,probation")
    await world.drain()

    (problem,) = world.problems()
    assert "Probation" in problem and REFERENCE in problem
    for contact in CONTACTS:
        assert len(world.cards(contact)) == 1

    world.clock.advance(timedelta(days=1))
    await world.drain()
    assert len(world.problems()) == 1


# -- Teams' rate limit per conversation --------------------------------------------------------


async def test_twelve_messages_to_one_chat_are_paced(world: World) -> None:
    start = world.clock.now()
    async with world.units() as uow:
        for n in range(12):
            message = OutgoingMessage(text=f"MARAT update {n}", summary="MARAT update")
            await enqueue(uow, f"test:pace:{n}", POLICE_CONTACT, message, start)
        await uow.commit()

    await world.drain()
    assert len(world.messenger.delivered(CHAT[POLICE_CONTACT])) == 7, "7 a second at most"
    for _ in range(4):
        world.clock.advance(SECOND)
        await world.drain()

    calls = world.messenger.calls_to(CHAT[POLICE_CONTACT])
    assert sorted(c.message.text or "" for c in calls) == sorted(
        f"MARAT update {n}" for n in range(12)
    ), "every message exactly once"
    times = [c.at for c in calls if c.at is not None]
    assert max(Counter(times).values()) <= 7
    assert all(_in_window(times, at, 2 * SECOND) <= 8 for at in times)
    assert max(times) > start, "the rest went after the clock moved"


def _in_window(times: list[datetime], end: datetime, window: timedelta) -> int:
    return sum(1 for t in times if timedelta(0) <= end - t < window)


# -- a sender that dies after claiming ---------------------------------------------------------


async def test_messages_claimed_by_a_crashed_sender_are_delivered_once_after_the_lease(
    world: World,
) -> None:
    await world.refer()
    now = world.clock.now()
    async with world.units() as uow:  # claim, then "crash": never send, never record
        claimed = await uow.outbox.claim_due(now, now + world.sender.settings.lease, 50)
        await uow.commit()
    assert len(claimed) == 3

    assert await world.drain() == 0, "another sender leaves leased rows alone"
    world.clock.advance(world.sender.settings.lease - SECOND)
    assert await world.drain() == 0

    world.clock.advance(SECOND)
    replica = world.replica()
    assert await world.drain(replica) == 3
    world.clock.advance(timedelta(hours=1))
    await world.drain(replica)
    await world.drain()
    for contact in CONTACTS:
        assert len(world.cards(contact)) == 1
    assert len(world.messenger.calls) == 3


async def test_a_sweep_slower_than_its_lease_never_delivers_a_message_twice(world: World) -> None:
    """Two replicas (PostgreSQL). Replica A claims a batch; the connector is slow (each answer
    takes 15 s, the gateway's timeout), so A's two-minute lease runs out while A is still
    working through the batch, and replica B's sweep claims the rows A has not reached yet.
    Each message must still reach the person once (PRODUCT.md 5: once, even with replicas)."""
    start = world.clock.now()
    async with world.units() as uow:
        for n in range(12):
            message = OutgoingMessage(text=f"MARAT update {n}", summary="MARAT update")
            await enqueue(uow, f"test:slow:{n}", POLICE_CONTACT, message, start)
        await uow.commit()
    replica = world.replica()
    replica_swept = False

    async def slow_connector(_address: Address, _message: OutgoingMessage) -> None:
        nonlocal replica_swept
        world.clock.advance(timedelta(seconds=15))
        if world.clock.now() - start > world.sender.settings.lease and not replica_swept:
            replica_swept = True
            await replica.deliver_due()

    world.messenger.during_call = slow_connector
    await world.sender.deliver_due()
    world.messenger.during_call = None
    world.clock.advance(timedelta(hours=1))
    await world.drain()
    await world.drain(replica)

    delivered = Counter(c.message.text for c in world.messenger.delivered(CHAT[POLICE_CONTACT]))
    assert delivered == Counter(f"MARAT update {n}" for n in range(12))


# -- a card that changes after it was queued ---------------------------------------------------


async def _add_second_police_contact(world: World) -> None:
    parker = DirectoryRow(5, "Police", "Parker Police", None, PARKER, Role.CONTACT)
    await world.deps.directory.import_directory([parker])
    await world.remember(PARKER)


def _token(call: Call) -> str:
    assert call.message.card is not None
    return str(call.message.card["actions"][0]["data"]["token"])


def _heading(card: dict[str, Any] | None) -> str:
    assert card is not None
    return str(card["body"][0]["text"])


def shown_in(world: World, aad: str) -> str:
    """The heading of the information-request card the person's chat shows now: the card as
    delivered, or the latest in-place update of it."""
    (card,) = world.cards(aad)
    updates = world.messenger.updates(CHAT[aad])
    assert all(u.activity_id == card.answer.activity_id for u in updates)
    return _heading((updates[-1] if updates else card).message.card)


async def test_when_a_colleague_answers_the_other_contacts_card_is_updated_in_place(
    world: World,
) -> None:
    await _add_second_police_contact(world)
    await world.refer()
    await world.drain()
    assert shown_in(world, PARKER) == "MARAT information request"

    (pat_card,) = world.cards(POLICE_CONTACT)
    await world.deps.information_requests.answer(POLICE_CONTACT, _token(pat_card), {"known": "no"})
    await world.drain()

    assert shown_in(world, PARKER) == "MARAT information request answered"
    assert len(world.cards(PARKER)) == 1, "updated in place, not sent again"


async def test_a_card_answered_by_a_colleague_while_on_the_wire_still_ends_up_answered(
    world: World,
) -> None:
    """Pat answers for Police while Parker's copy is being delivered (claimed, not yet
    recorded). Parker's chat must end up showing that the request is answered."""
    await _add_second_police_contact(world)
    await world.refer()

    async def pat_answers_meanwhile(address: Address, _message: OutgoingMessage) -> None:
        if address.conversation_id == CHAT[PARKER]:
            world.messenger.during_call = None
            (pat_card,) = world.cards(POLICE_CONTACT)
            await world.deps.information_requests.answer(
                POLICE_CONTACT, _token(pat_card), {"known": "no"}
            )

    world.messenger.during_call = pat_answers_meanwhile
    await world.drain()
    world.clock.advance(timedelta(hours=1))
    await world.drain()

    assert shown_in(world, PARKER) == "MARAT information request answered"
