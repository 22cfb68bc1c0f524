"""The project's own driver for the Microsoft 365 Agents Playground, and its process helpers.

The Playground (``@microsoft/m365agentsplayground``, pinned to 0.2.28 in ``package.json`` next
to this file) is a Teams-client emulator with a mock Bot Connector. Its web page talks to its
server through a *private, undocumented* HTTP/WebSocket API; :class:`PlaygroundClient` speaks
that API directly, so the end-to-end tests need no browser:

* ``GET  /_internal/v1/config``: ids of the current user, the bot and the chats.
* ``WS   /_ws_conversation/v1/conversations/stream``: every bot output (proactive messages
  included) as ``{"action": "createMessage"|"updateMessage"|"typing", "message": {...}}``.
* ``POST /_debug/conversation/{conv}/installation``: the bot gets installationUpdate and
  conversationUpdate (members added), as when the page loads.
* ``POST /_conversation/v1/conversations/{conv}/messages``: the user types text.
* ``POST /_conversation/v1/submit``: Action.Submit (a message whose ``value`` is data + inputs).
* ``POST /_conversation/v1/invoke``: Action.Execute (invoke ``adaptiveCard/action``); the
  response is the bot's invoke body, e.g. ``{"type": "application/vnd...adaptive", "value": card}``.

The message and submit endpoints return before the bot answers: take a :meth:`mark` before
acting and wait on the websocket for what arrived after it.

``start_stack`` starts the bot (``marat serve --demo``) and the Playground on free loopback
ports with the product's own launcher (bot/ops/launcher.py, which `marat demo` uses too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp

from bot.ops.launcher import (
    LaunchError,
    ProcessExited,
    Stack,
    playground_executable,
)
from bot.ops.launcher import start_stack as launch

JSON = dict[str, Any]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
DEFAULT_TIMEOUT = 10.0
REFERENCE = re.compile(r"MARAT-\d{4}-\d{4}")


class PlaygroundError(RuntimeError):
    """The Playground answered an HTTP call with an error status."""


# ---------------------------------------------------------------------------------------------
# Cards and messages
# ---------------------------------------------------------------------------------------------


def card_of(message: Mapping[str, Any]) -> JSON | None:
    """The first Adaptive Card attached to a Playground message, or None."""
    for attachment in message.get("attachments") or []:
        if attachment.get("contentType") == CARD_CONTENT_TYPE:
            content = attachment.get("content")
            return content if isinstance(content, dict) else None
    return None


def walk(node: Any) -> Iterator[JSON]:
    """Every JSON object inside ``node``, depth first, in document order."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def card_text(card: Mapping[str, Any]) -> str:
    """Every visible string of a card's body (texts, fact titles and values, labels, values)."""
    parts: list[str] = []
    for node in walk(card.get("body", [])):
        for key in ("text", "title", "value", "label"):
            if isinstance(node.get(key), str):
                parts.append(node[key])
    return "\n".join(parts)


def message_text(message: Mapping[str, Any]) -> str:
    """A message's own text plus the visible text of its card, if any."""
    card = card_of(message)
    return "\n".join([str(message.get("text") or ""), card_text(card) if card else ""])


def inputs_of(card: Mapping[str, Any]) -> dict[str, JSON]:
    """The card's inputs by id."""
    return {
        str(node["id"]): node
        for node in walk(card.get("body", []))
        if str(node.get("type", "")).startswith("Input.") and "id" in node
    }


def facts_of(card: Mapping[str, Any]) -> dict[str, str]:
    """Every FactSet fact of the card, title to value."""
    return {
        str(fact.get("title")): str(fact.get("value"))
        for node in walk(card.get("body", []))
        if node.get("type") == "FactSet"
        for fact in node.get("facts", [])
    }


def element_after(card: Mapping[str, Any], element_id: str) -> JSON | None:
    """The element right after the one with ``element_id`` in the same container, or None."""
    for node in walk(card):
        for value in node.values():
            if not isinstance(value, list):
                continue
            for index, element in enumerate(value):
                if isinstance(element, dict) and element.get("id") == element_id:
                    following = value[index + 1] if index + 1 < len(value) else None
                    return following if isinstance(following, dict) else None
    raise AssertionError(f"the card has no element with id {element_id!r}")


def execute_action(card: Mapping[str, Any], verb: str) -> JSON:
    """The card's Action.Execute with ``verb`` (top-level actions or ActionSets)."""
    for node in walk({"actions": card.get("actions", []), "body": card.get("body", [])}):
        if node.get("type") == "Action.Execute" and node.get("verb") == verb:
            return node
    raise AssertionError(f"the card has no Action.Execute with verb {verb!r}")


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaygroundConfig:
    """Who is who in the Playground (from ``/_internal/v1/config``)."""

    user_id: str
    user_name: str
    aad_object_id: str
    tenant_id: str
    bot_id: str
    conversation_id: str
    raw: JSON

    @classmethod
    def parse(cls, config: JSON, conversation: str = "personal") -> PlaygroundConfig:
        """``conversation``: "personal", "group" (the first group chat) or a conversation id."""
        if conversation == "personal":
            conversation_id = config["personalChat"]["id"]
        elif conversation == "group":
            conversation_id = config["groupChats"][0]["id"]
        else:
            conversation_id = conversation
        user = config["currentUser"]
        return cls(
            user_id=str(user["id"]),
            user_name=str(user.get("name", "")),
            aad_object_id=str(user.get("aadObjectId", "")),
            tenant_id=str(config.get("tenantId", "")),
            bot_id=str(config["bot"]["id"]),
            conversation_id=str(conversation_id),
            raw=config,
        )


Predicate = Callable[[JSON], bool]
BOT_OUTPUT = ("createMessage",)
CARD_UPDATES = ("createMessage", "updateMessage")


class PlaygroundClient:
    """Acts as the Playground's current user and records everything the bot sends.

    Use as ``async with PlaygroundClient(url) as pg:``; every websocket frame lands in
    :attr:`frames` (arrival order) while the client is open.
    """

    def __init__(self, base_url: str, conversation: str = "personal") -> None:
        self.base = base_url.rstrip("/")
        self._conversation = conversation
        self.frames: list[JSON] = []
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self._config: PlaygroundConfig | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            raw = await self._get("/_internal/v1/config")
            self._config = PlaygroundConfig.parse(raw["config"], self._conversation)
            ws_url = (
                "ws" + self.base.removeprefix("http") + "/_ws_conversation/v1/conversations/stream"
            )
            self._ws = await self._session.ws_connect(ws_url, heartbeat=20)
        except BaseException:
            await self._session.close()
            raise
        self._reader = asyncio.create_task(self._read(self._ws))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    @property
    def config(self) -> PlaygroundConfig:
        """The Playground's ids (available inside ``async with``)."""
        if self._config is None:
            raise RuntimeError("use the client inside `async with`")
        return self._config

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            event = json.loads(frame.data)
            if not isinstance(event, dict):
                continue
            event["_received"] = time.monotonic()
            async with self._changed:
                self.frames.append(event)
                self._changed.notify_all()

    # -- HTTP -------------------------------------------------------------------------------

    @property
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use the client inside `async with`")
        return self._session

    async def _get(self, path: str) -> Any:
        async with self._http.get(self.base + path) as response:
            body = await response.text()
            if response.status >= 400:
                raise PlaygroundError(f"GET {path} -> HTTP {response.status}: {body[:500]}")
            return json.loads(body)

    async def _post(self, path: str, payload: Mapping[str, Any]) -> Any:
        async with self._http.post(self.base + path, json=payload) as response:
            body = await response.text()
            if response.status >= 400:
                raise PlaygroundError(f"POST {path} -> HTTP {response.status}: {body[:500]}")
            return json.loads(body) if body.strip() else None

    # -- what the user does -----------------------------------------------------------------

    async def install(self) -> Any:
        """Install the app in the chat: the bot gets installationUpdate + conversationUpdate."""
        return await self._post(
            f"/_debug/conversation/{self.config.conversation_id}/installation", {}
        )

    async def send_text(self, text: str) -> Any:
        """Type ``text`` in the chat; returns the user's message ``{"messageId", "timestamp"}``."""
        return await self._post(
            f"/_conversation/v1/conversations/{self.config.conversation_id}/messages",
            {"from": {"id": self.config.user_id}, "text": text, "textFormat": "plain"},
        )

    async def submit(self, card_message_id: str, value: Mapping[str, Any]) -> Any:
        """Action.Submit on the card message: ``value`` is the action's data merged with inputs."""
        return await self._post(
            "/_conversation/v1/submit",
            {
                "conversation": {"id": self.config.conversation_id},
                "from": {"id": self.config.user_id},
                "replyToId": card_message_id,
                "value": dict(value),
            },
        )

    async def execute(
        self,
        card_message_id: str,
        verb: str,
        data: Mapping[str, Any],
        title: str | None = None,
    ) -> Any:
        """Action.Execute on the card message; returns the bot's invoke response body.

        A bot failure comes back as :class:`PlaygroundError` (the Playground answers HTTP 502
        ``UserBotError``).
        """
        return await self._post(
            "/_conversation/v1/invoke",
            {
                "name": "adaptiveCard/action",
                "from": {"id": self.config.user_id},
                "conversation": {"id": self.config.conversation_id},
                "replyToId": card_message_id,
                "value": {
                    "action": {
                        "type": "Action.Execute",
                        "title": title or verb,
                        "verb": verb,
                        "data": dict(data),
                    }
                },
            },
        )

    # -- what the bot sends -----------------------------------------------------------------

    def mark(self) -> int:
        """A position in :attr:`frames`; pass it as ``since`` to see only what came after."""
        return len(self.frames)

    def bot_messages(self, since: int = 0, actions: Sequence[str] = BOT_OUTPUT) -> list[JSON]:
        """The bot's messages among ``frames[since:]`` whose frame action is in ``actions``."""
        found = []
        for frame in self.frames[since:]:
            message = frame.get("message")
            if frame.get("action") not in actions or not isinstance(message, dict):
                continue
            if (message.get("from") or {}).get("id") != self.config.bot_id:
                continue
            found.append({**message, "_action": frame.get("action")})
        return found

    async def wait_for(
        self,
        predicate: Predicate,
        since: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
        actions: Sequence[str] = BOT_OUTPUT,
        what: str = "a matching bot message",
    ) -> JSON:
        """The first bot message after ``since`` that satisfies ``predicate``.

        The returned message carries the frame's action under ``"_action"``. On timeout the
        error lists what did arrive, to help diagnose.
        """

        async def scan() -> JSON:
            async with self._changed:
                while True:
                    for message in self.bot_messages(since, actions):
                        if predicate(message):
                            return message
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            seen = [
                f"{m['_action']}: {message_text(m)[:200]!r}"
                for m in self.bot_messages(since, CARD_UPDATES)
            ]
            raise AssertionError(
                f"no {what} within {timeout:.0f} s; the bot sent {len(seen)} message(s): {seen}"
            ) from None

    async def wait_text(
        self, substring: str, since: int = 0, timeout: float = DEFAULT_TIMEOUT
    ) -> JSON:
        """The first bot message after ``since`` whose text (or card text) has ``substring``."""
        return await self.wait_for(
            lambda m: substring in message_text(m),
            since,
            timeout,
            what=f"message with {substring!r}",
        )

    async def wait_card(
        self,
        since: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
        predicate: Callable[[JSON], bool] | None = None,
        actions: Sequence[str] = BOT_OUTPUT,
    ) -> tuple[JSON, JSON]:
        """The first bot card after ``since`` (optionally: whose card satisfies ``predicate``).

        Returns ``(message, card)``.
        """

        def matches(message: JSON) -> bool:
            card = card_of(message)
            return card is not None and (predicate is None or predicate(card))

        message = await self.wait_for(matches, since, timeout, actions, what="matching card")
        card = card_of(message)
        assert card is not None
        return message, card


# ---------------------------------------------------------------------------------------------
# Processes: the bot and the Playground
# ---------------------------------------------------------------------------------------------


E2ESetupError = LaunchError  # the end-to-end environment is not usable; the message says why


def start_stack(workdir: Path, timeout: float = 30.0, attempts: int = 3) -> Stack:
    """Start the bot and the Playground side by side and wait until both are ready.

    A free port can be taken by someone else between choosing and binding it, so a start
    where a process exits early is retried (in a fresh directory) up to ``attempts`` times.
    """
    playground_executable()  # fail before starting anything if the Playground is missing
    for attempt in range(1, attempts + 1):
        rundir = workdir if attempt == 1 else workdir / f"retry-{attempt}"
        try:
            return launch(rundir, timeout=timeout)
        except ProcessExited:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")
