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

The second half of the module starts the bot (``marat serve --demo``) and the Playground as
subprocesses on free loopback ports, waits for them to be ready and always stops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp

JSON = dict[str, Any]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
PLAYGROUND_PACKAGE = "@microsoft/m365agentsplayground"
PLAYGROUND_VERSION = "0.2.28"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = PROJECT_ROOT / "tests" / "e2e"  # where npm ci installs the Playground
INSTALL_HINT = "run `npm ci --prefix tests/e2e` from the project root (needs Node.js 20+ and npm)"
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


class E2ESetupError(Exception):
    """The end-to-end environment is not usable; the message says what to do."""


class ProcessExited(E2ESetupError):
    """A process ended before it was ready (for example: its free port was taken meanwhile)."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bind to port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ("" if it does not exist)."""
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(content.splitlines()[-lines:])


class ManagedProcess:
    """A subprocess in its own process group, its output captured to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        cwd: Path,
        env: Mapping[str, str],
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends its children too
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> int | None:
        """The exit code, or None while it runs."""
        return self.process.poll()

    def tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL it if it is still there after ``grace``."""
        try:
            if self.process.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    self.process.wait(grace)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self.process.wait(grace)
            # Children left behind in the group (the process itself has exited).
            self._signal(signal.SIGKILL)
        finally:
            self._log.close()

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def _http_ready(url: str, expect: Callable[[int, str], bool]) -> bool:
    try:
        with _LOCAL.open(url, timeout=1) as response:
            return expect(response.status, response.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_ready(
    processes: Mapping[ManagedProcess, str],
    expect: Mapping[ManagedProcess, Callable[[int, str], bool]],
    timeout: float = 30.0,
    poll: float = 0.05,
) -> None:
    """Poll each process's readiness URL until all answer as expected (bounded by ``timeout``).

    Raises :class:`E2ESetupError` with the log tail if a process exits or the time runs out.
    """
    pending = dict(processes)
    deadline = time.monotonic() + timeout
    while pending:
        for proc, url in list(pending.items()):
            code = proc.exited()
            if code is not None:
                raise ProcessExited(
                    f"{proc.name} exited with code {code} before it was ready "
                    f"({' '.join(proc.argv)}). Log tail:\n{proc.tail()}"
                )
            if _http_ready(url, expect[proc]):
                del pending[proc]
        if not pending:
            return
        if time.monotonic() > deadline:
            names = ", ".join(f"{p.name} ({u})" for p, u in pending.items())
            logs = "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in pending)
            raise E2ESetupError(f"not ready after {timeout:.0f} s: {names}\n{logs}")
        time.sleep(poll)


def playground_executable() -> Path:
    """The pinned Playground CLI under tests/e2e/node_modules; fails with the install command."""
    if shutil.which("node") is None:
        raise E2ESetupError(
            f"Node.js (`node`) is not on PATH: install Node.js 20+, then {INSTALL_HINT}."
        )
    executable = E2E_DIR / "node_modules" / ".bin" / "agentsplayground"
    manifest = E2E_DIR / "node_modules" / PLAYGROUND_PACKAGE / "package.json"
    if not executable.exists() or not manifest.exists():
        raise E2ESetupError(f"The Agents Playground is not installed: {INSTALL_HINT}.")
    version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    if version != PLAYGROUND_VERSION:
        raise E2ESetupError(
            f"{PLAYGROUND_PACKAGE} {version} is installed but the tests need "
            f"{PLAYGROUND_VERSION} (its API is private): {INSTALL_HINT}."
        )
    return executable


def _clean_env() -> dict[str, str]:
    """The inherited environment without settings that would change the bot or its auth."""
    prefixes = ("MARAT_", "MICROSOFTAPP", "MICROSOFT_APP")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(prefixes) and key.upper() != "DATABASE_URL"
    }
    # Bot <-> Playground traffic is loopback only: keep it away from any configured proxy.
    for key in ("NO_PROXY", "no_proxy"):
        env[key] = ",".join(filter(None, ["127.0.0.1", "localhost", env.get(key)]))
    return env


@dataclass
class BotProcess:
    process: ManagedProcess
    url: str

    @property
    def messages_url(self) -> str:
        return f"{self.url}/api/messages"


def start_bot(workdir: Path) -> BotProcess:
    """``marat serve --demo`` on a free port with a fresh SQLite file in ``workdir``.

    No app id (anonymous, loopback only). The working directory is ``workdir`` so that a
    developer's ``.env`` in the project root is not read.
    """
    port = free_port()
    env = _clean_env()
    env["DATABASE_URL"] = f"sqlite:///{workdir / 'marat.sqlite3'}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    argv = [sys.executable, "-m", "bot.ops.cli", "serve", "--demo", "--host", "127.0.0.1"]
    argv += ["--port", str(port)]
    proc = ManagedProcess("bot", argv, workdir / "bot.log", workdir, env)
    return BotProcess(proc, f"http://127.0.0.1:{port}")


@dataclass
class PlaygroundProcess:
    process: ManagedProcess
    url: str


def start_playground(workdir: Path, bot_messages_url: str) -> PlaygroundProcess:
    """The Agents Playground on a free port, pointed at the bot; no browser, no telemetry.

    The Playground tries to open a browser with ``xdg-open`` after it starts listening and
    crashes when there is none, so a no-op ``xdg-open`` goes first on its PATH.
    """
    executable = playground_executable()
    stub_dir = workdir / "bin"
    stub_dir.mkdir(exist_ok=True)
    stub = stub_dir / "xdg-open"
    stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    stub.chmod(0o755)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _clean_env()
    env["PATH"] = os.pathsep.join([str(stub_dir), env.get("PATH", "")])
    env["BROWSER"] = str(stub)
    argv = [str(executable), "-e", bot_messages_url, "-c", "msteams", "--dt"]
    argv += ["-p", str(port), "--su", f"{url}/_connector"]
    run_dir = workdir / "playground"
    run_dir.mkdir(exist_ok=True)  # it writes devTools/ logs into its working directory
    proc = ManagedProcess("playground", argv, workdir / "playground.log", run_dir, env)
    return PlaygroundProcess(proc, url)


@dataclass
class Stack:
    """The running bot and Playground."""

    bot: BotProcess
    playground: PlaygroundProcess
    workdir: Path

    @property
    def processes(self) -> list[ManagedProcess]:
        return [self.bot.process, self.playground.process]

    @property
    def playground_devtools_log(self) -> Path:
        """The Playground's own detailed log (it writes devTools/ into its working directory)."""
        return self.workdir / "playground" / "devTools" / "m365agentsplayground.log"

    def logs(self, lines: int = 40) -> str:
        """The tail of each process's output and of the Playground's log, for failure reports."""
        parts = [f"--- {p.name} ({p.log_path}) ---\n{p.tail(lines)}" for p in self.processes]
        devtools = tail(self.playground_devtools_log, lines)
        clipped = "\n".join(line[:300] for line in devtools.splitlines())
        parts.append(f"--- playground devTools ({self.playground_devtools_log}) ---\n{clipped}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Bot first: its graceful shutdown may still be finishing a turn that calls the
        Playground's connector (a card update is acknowledged on the websocket before the
        bot has read the HTTP answer), so the Playground must outlive it."""
        for proc in self.processes:
            proc.stop()


def start_stack(workdir: Path, timeout: float = 30.0, attempts: int = 3) -> Stack:
    """Start the bot and the Playground side by side and wait until both are ready.

    A free port can be taken by someone else between choosing and binding it, so a start
    where a process exits early is retried (in a fresh directory) up to ``attempts`` times.
    """
    playground_executable()  # fail before starting anything if the Playground is missing
    for attempt in range(1, attempts + 1):
        rundir = workdir if attempt == 1 else workdir / f"retry-{attempt}"
        rundir.mkdir(parents=True, exist_ok=True)
        try:
            return _start_once(rundir, timeout)
        except ProcessExited:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _start_once(workdir: Path, timeout: float) -> Stack:
    bot = start_bot(workdir)
    try:
        playground = start_playground(workdir, bot.messages_url)
    except BaseException:
        bot.process.stop()
        raise
    stack = Stack(bot, playground, workdir)
    try:
        wait_ready(
            {bot.process: f"{bot.url}/readyz", playground.process: f"{playground.url}/_debug/ping"},
            {
                bot.process: lambda status, _body: status == 200,
                playground.process: lambda status, body: status == 200 and "pong" in body,
            },
            timeout=timeout,
        )
    except BaseException:
        stack.stop()
        raise
    return stack
