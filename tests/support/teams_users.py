"""People talking to real bot processes over HTTP, the way Teams would post their activities:
typed messages and card clicks (Action.Execute) to ``POST /api/messages``, with the fake
connector as their service URL; and readers for the cards the bot sent them.

A click whose process dies before answering gets ``None``: the person was told nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.support.builders import referral_inputs
from tests.support.replicas import BOT_ID, TENANT, Contact, Replica, eventually

CARD = "application/vnd.microsoft.card.adaptive"
_IDS = itertools.count(1)


@dataclass(frozen=True)
class Answer:
    """What the bot answered one HTTP request with."""

    status: int
    body: Any

    @property
    def card_text(self) -> str:
        """Every text of the invoke response's card (or its message)."""
        value = (self.body or {}).get("value") if isinstance(self.body, dict) else None
        if isinstance(value, str):
            return value
        return " ".join(
            str(node.get("text")) for node in walk(value or {}) if isinstance(node.get("text"), str)
        )


@dataclass(frozen=True)
class TeamsUser:
    """One person with a 1:1 chat with the bot (the seeded conversation of ``contact``)."""

    aad_object_id: str
    user_id: str
    conversation_id: str
    service_url: str

    @classmethod
    def of(cls, contact: Contact, service_url: str) -> TeamsUser:
        return cls(contact.aad_object_id, contact.user_id, contact.conversation_id, service_url)

    def activity(self, **values: Any) -> dict[str, Any]:
        return {
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {"id": self.user_id, "name": "Someone", "aadObjectId": self.aad_object_id},
            "recipient": {"id": BOT_ID, "name": "MARAT"},
            "conversation": {
                "id": self.conversation_id,
                "conversationType": "personal",
                "tenantId": TENANT,
            },
            "channelData": {"tenant": {"id": TENANT}},
            "id": f"activity-{next(_IDS)}",
            **values,
        }

    def say_activity(self, text: str) -> dict[str, Any]:
        return self.activity(type="message", text=text)

    def click_activity(self, verb: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.activity(
            type="invoke",
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": verb, "data": data}},
        )

    async def say(self, replica: Replica, text: str) -> Answer | None:
        return await post(replica, self.say_activity(text))

    async def click(self, replica: Replica, verb: str, data: dict[str, Any]) -> Answer | None:
        return await post(replica, self.click_activity(verb, data))


async def post(replica: Replica, activity: dict[str, Any], timeout: float = 30.0) -> Answer | None:
    """POST the activity; None if the process died (or vanished) before answering."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
            http.post(f"{replica.url}/api/messages", json=activity) as response,
        ):
            body = (
                await response.json()
                if response.content_type == "application/json"
                else await response.text()
            )
            return Answer(response.status, body)
    except (aiohttp.ClientError, ConnectionError):
        return None


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def card_of(activity: dict[str, Any]) -> dict[str, Any] | None:
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == CARD:
            content = attachment.get("content")
            return content if isinstance(content, dict) else None
    return None


def token_for(card: dict[str, Any], verb: str) -> str | None:
    """The token of the card's Action.Execute with ``verb``."""
    for node in walk(card):
        if node.get("type") == "Action.Execute" and node.get("verb") == verb:
            return str(node["data"]["token"])
    return None


def cards_to(
    sent: Sequence[dict[str, Any]], conversation_id: str, verb: str
) -> list[dict[str, Any]]:
    """The cards delivered to a conversation that carry a button with ``verb``."""
    found = []
    for activity in sent:
        card = card_of(activity)
        if activity.get("_conversation") == conversation_id and card and token_for(card, verb):
            found.append(card)
    return found


async def refer_case(
    coordinator: TeamsUser,
    replica: Replica,
    sent: Sequence[dict[str, Any]],
    agency_keys: Sequence[str],
    received: str,
) -> str:
    """The coordinator types ``refer`` and submits the card: the new case's reference."""
    before = len(cards_to(sent, coordinator.conversation_id, "refer.submit"))
    assert await coordinator.say(replica, "refer") is not None

    async def arrived() -> bool:
        return len(cards_to(sent, coordinator.conversation_id, "refer.submit")) > before

    await eventually(arrived, 15, "the referral card arrives")
    card = cards_to(sent, coordinator.conversation_id, "refer.submit")[-1]
    incident = received  # the incident may be the day the referral came in
    inputs = referral_inputs(
        agencies=",".join(agency_keys),
        referring_agency=agency_keys[0],
        received_date=received,
        incident_date=incident,
    )
    answer = await coordinator.click(
        replica, "refer.submit", {"token": token_for(card, "refer.submit"), **inputs}
    )
    assert answer is not None and answer.status == 200, answer
    text = answer.card_text
    assert "Referral recorded: " in text, text
    return text.split("Referral recorded: ", 1)[1].split()[0]
