"""Driving the real bot through botbuilder's TestAdapter: one ``Chat`` per user, a
``TurnHarness`` per bot process, and readers for the cards it answers with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, Mention
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.settings import Settings
from bot.teams.app import build_runtime
from storage.database import Database
from tests.support.builders import COORDINATOR

TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
BOT = ChannelAccount(id="28:marat-bot", name="MARAT")
CARD = "application/vnd.microsoft.card.adaptive"


def card_of(activity: Activity) -> dict[str, Any]:
    return next(a.content for a in activity.attachments or [] if a.content_type == CARD)


def card_text(card: dict[str, Any]) -> str:
    """Every visible string of a card, for asserting what a person would read."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value", "label"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return "\n".join(parts)


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found[node["id"]] = node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return found


def error_after(card: dict[str, Any], input_id: str) -> str | None:
    """The error TextBlock shown directly under an input, if any."""
    body = card["body"]
    for index, element in enumerate(body):
        if element.get("id") == input_id:
            following = body[index + 1] if index + 1 < len(body) else {}
            if following.get("type") == "TextBlock" and following.get("color") == "Attention":
                return str(following["text"])
            return None
    raise AssertionError(f"no input {input_id}")


@dataclass
class Chat:
    """One user talking to the bot through TestAdapter."""

    adapter: TestAdapter
    aad: str = COORDINATOR
    conversation_type: str = "personal"
    tenant: str | None = TENANT
    sent: list[Activity] = field(default_factory=list)

    def _activity(self, **values: Any) -> Activity:
        channel_data = {"tenant": {"id": self.tenant}} if self.tenant else {}
        return Activity(
            channel_id="msteams",
            from_property=ChannelAccount(id="29:user", name="Someone", aad_object_id=self.aad),
            recipient=BOT,
            conversation=ConversationAccount(
                id=f"conv-{self.conversation_type}",
                conversation_type=self.conversation_type,
                tenant_id=self.tenant,
            ),
            channel_data=channel_data,
            service_url="https://smba.example.test/",
            **values,
        )

    async def _receive(self, activity: Activity) -> list[Activity]:
        start = len(self.adapter.activity_buffer)
        await self.adapter.receive_activity(activity)
        replies = self.adapter.activity_buffer[start:]
        self.sent.extend(replies)
        return replies

    async def say(self, text: str, mention_bot: bool = False) -> list[Activity]:
        entities = None
        if mention_bot:
            text = f"<at>MARAT</at> {text}"
            entities = [Mention(mentioned=BOT, text="<at>MARAT</at>", type="mention")]
        return await self._receive(self._activity(type="message", text=text, entities=entities))

    async def card(self, text: str) -> dict[str, Any]:
        replies = await self.say(text)
        cards = [card_of(a) for a in replies if a.attachments]
        assert cards, f"expected a card, got {[a.text for a in replies]}"
        return cards[-1]

    async def execute(self, verb: str, data: dict[str, Any]) -> Any:
        """Action.Execute: returns the invoke response body (the replacement card)."""
        body, _messages = await self.execute_with_messages(verb, data)
        return body

    async def execute_with_messages(
        self, verb: str, data: dict[str, Any]
    ) -> tuple[Any, list[Activity]]:
        """Action.Execute: the invoke response body, and any messages sent during the turn."""
        replies = await self._receive(
            self._activity(
                type="invoke",
                name="adaptiveCard/action",
                value={
                    "action": {"type": "Action.Execute", "verb": verb, "data": data},
                    "trigger": "manual",
                },
            )
        )
        responses = [a for a in replies if a.type == "invokeResponse"]
        assert len(responses) == 1, replies
        response = responses[0].value
        assert response.status == 200
        return response.body, [a for a in replies if a.type == "message"]

    async def submit(self, data: dict[str, Any], reply_to: str = "card-1") -> list[Activity]:
        """Action.Submit: a message with a value and no text."""
        return await self._receive(self._activity(type="message", value=data, reply_to_id=reply_to))


class TurnHarness:
    def __init__(self, engine: AsyncEngine, clock: FixedClock, settings: Settings) -> None:
        self.runtime = build_runtime(settings, clock, Database(engine))
        self.deps = self.runtime.deps
        self.clock = clock
        self.adapter = TestAdapter(self.runtime.bot.on_turn)

    def chat(self, **kwargs: Any) -> Chat:
        return Chat(self.adapter, **kwargs)

    async def add_meeting(self, day: date, capacity: int = 18) -> None:
        await self.deps.conferences.add_meeting(None, day, capacity)
