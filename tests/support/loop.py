"""The information-request loop as people meet it: a turn harness with the real outbox sender and
a recording Bot Connector, each person in their own 1:1 chat."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from botbuilder.schema import Activity

from bot.domain.delivery import ConnectorAnswer
from bot.domain.information import InformationRequest
from bot.ports import Address, Member, OutgoingMessage, TeamAddress
from bot.teams.outbox_sender import OutboxSender
from tests.support.builders import (
    COORDINATOR,
    referral_inputs,
)
from tests.support.turns import (
    CARD,
    Chat,
    TurnHarness,
    card_text,
    inputs_of,
)

VERB = "inforeq.submit"
PROBATION_CONTACT = "44444444-4444-4444-8444-444444444444"
CONFERENCE = date(2027, 1, 14)
# The default referral (tests.support.builders) is received Mon 4 Jan 2027 and involves these three;
# day 0 is that Monday, so returns are due by the end of working day 2, Wed 6 Jan.
INVOLVED = {"Police", "IDVA service", "Housing"}
DUE = "Wed 6 Jan 2027"
ANSWER = {"known": "yes", "information": "Two call-outs in 2026 (synthetic).", "concerns": ""}


# -- an in-memory Bot Connector ----------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """A message the bot sent proactively, as Teams would have received it."""

    address: Address
    message: OutgoingMessage
    activity_id: str

    @property
    def recipient(self) -> str:
        return self.address.aad_object_id

    @property
    def card(self) -> dict[str, Any]:
        assert self.message.card is not None, self.message
        return self.message.card


@dataclass(frozen=True)
class Updated:
    """An in-place update of a message the bot sent earlier."""

    address: Address
    activity_id: str
    message: OutgoingMessage


class FakeMessenger:
    """Records sends and updates; a person in ``busy`` gets 429 (Retry-After 60 s) instead."""

    def __init__(self) -> None:
        self.sent: list[Delivered] = []
        self.updates: list[Updated] = []
        self.busy: set[str] = set()
        self._ids = itertools.count(1)

    async def send(self, address: Address, message: OutgoingMessage) -> ConnectorAnswer:
        if address.aad_object_id in self.busy:
            return ConnectorAnswer(429, None, 60.0)
        activity_id = f"1:{next(self._ids)}"
        self.sent.append(Delivered(address, message, activity_id))
        return ConnectorAnswer(201, activity_id)

    async def update(
        self, address: Address, activity_id: str, message: OutgoingMessage
    ) -> ConnectorAnswer:
        self.updates.append(Updated(address, activity_id, message))
        return ConnectorAnswer(200, activity_id)

    async def member(self, team: TeamAddress, who: str) -> Member | None:
        return None

    async def open_personal_chat(self, team: TeamAddress, member: Member) -> Address | None:
        return None


# -- people, each in their own 1:1 chat -----------------------------------------------------------


class PersonalChat(Chat):
    """A user in *their own* 1:1 chat (the shared Chat gives everyone one conversation id)."""

    def _activity(self, **values: Any) -> Activity:
        activity = super()._activity(**values)
        if self.conversation_type == "personal":
            activity.conversation.id = conversation_of(self.aad)
            activity.from_property.id = f"29:{self.aad}"
        return activity


def conversation_of(aad: str) -> str:
    return f"a:personal-{aad}"


@dataclass(frozen=True)
class RequestCard:
    """An information-request card someone received."""

    delivered: Delivered

    @property
    def card(self) -> dict[str, Any]:
        return self.delivered.card

    @property
    def action(self) -> dict[str, Any]:
        actions = self.card.get("actions") or []
        assert len(actions) == 1, actions
        return dict(actions[0])

    @property
    def token(self) -> str:
        return str(self.action["data"]["token"])

    @property
    def agency(self) -> str:
        text = card_text(self.card)
        return text.split("For ", 1)[1].split(":", 1)[0]


class Loop:
    """The turn harness plus the outbox sender and a fake Teams."""

    def __init__(self, harness: TurnHarness) -> None:
        self.harness = harness
        self.messenger = FakeMessenger()
        self.sender = OutboxSender(
            harness.runtime.deps.context.units, self.messenger, harness.clock
        )

    def chat(self, aad: str = COORDINATOR) -> PersonalChat:
        return PersonalChat(self.harness.adapter, aad=aad)

    async def deliver(self) -> None:
        """Sweep the outbox until nothing more is due now."""
        for _ in range(20):
            if not await self.sender.deliver_due():
                return
        raise AssertionError("the outbox never ran dry")

    async def refer(self, **overrides: Any) -> str:
        chat = self.chat(COORDINATOR)
        card = await chat.card("refer")
        token = card["actions"][0]["data"]["token"]
        body = await chat.execute("refer.submit", {"token": token, **referral_inputs(**overrides)})
        shown = card_text(body.value)
        assert "Referral recorded: " in shown, shown
        return shown.split("Referral recorded: ")[1].split()[0]

    def sent_to(self, aad: str, since: int = 0) -> list[Delivered]:
        return [d for d in self.messenger.sent[since:] if d.recipient == aad]

    def requests_for(self, aad: str, reference: str) -> dict[str, RequestCard]:
        """The open information-request cards ``aad`` received for the case, by agency."""
        found = [
            RequestCard(d)
            for d in self.sent_to(aad)
            if d.message.card is not None
            and "known" in inputs_of(d.card)
            and reference in card_text(d.card)
        ]
        by_agency = {r.agency: r for r in found}
        assert len(by_agency) == len(found), "one card per agency and contact"
        return by_agency

    def request(self, aad: str, reference: str, agency: str) -> RequestCard:
        return self.requests_for(aad, reference)[agency]

    async def answer(self, aad: str, token: str, **inputs: str) -> dict[str, Any]:
        """Action.Execute on the card; returns the card of the invoke response."""
        body = await self.chat(aad).execute(VERB, {"token": token, "verb": VERB, **inputs})
        assert body.type == CARD, body
        card: dict[str, Any] = body.value
        return card

    async def answer_own(
        self, aad: str, reference: str, agency: str, **inputs: str
    ) -> dict[str, Any]:
        """``aad`` answers the card they received for ``agency`` about the case."""
        return await self.answer(aad, self.request(aad, reference, agency).token, **inputs)

    async def recorded(self, reference: str) -> dict[str, InformationRequest]:
        """What the database holds for the case's requests, by agency key."""
        async with self.harness.deps.context.units() as uow:
            case = await uow.cases.by_reference(reference)
            assert case is not None
            return {r.agency_key: r for r in await uow.cases.information_requests(case.id)}

    async def case_card(self, aad: str, reference: str) -> dict[str, Any]:
        return await self.chat(aad).card(f"case {reference}")


def facts_of(card: dict[str, Any]) -> dict[str, str]:
    """Every fact of the card's FactSets, title to value (later titles win)."""
    found: dict[str, str] = {}

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for node in walk(card.get("body", [])):
        if node.get("type") == "FactSet":
            for fact in node.get("facts", []):
                found[str(fact["title"])] = str(fact["value"])
    return found


def notices(loop: Loop, aad: str, needle: str) -> list[str]:
    return [
        d.message.text
        for d in loop.sent_to(aad)
        if d.message.text is not None and needle in d.message.text
    ]
