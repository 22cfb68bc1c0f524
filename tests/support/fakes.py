"""Shared fakes for tests above the gateway.

``FakeMessenger`` implements the ``Messenger`` protocol (bot/ports.py) in memory: it records
every call per conversation, answers each call from a programmable script (success when the
script is empty), knows team rosters for ``member()`` and opens 1:1 chats on request.

    messenger = FakeMessenger(clock, [ConnectorAnswer(429, retry_after=3), ConnectorAnswer(200)])
    messenger.script("a:chat-police", ConnectorAnswer(502))  # only for that conversation
    messenger.add_member("19:team", Member("29:pat", PAT, "Pat Police", None))
    ...
    assert len(messenger.delivered("a:chat-police")) == 1
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.domain.clock import Clock
from bot.domain.delivery import ConnectorAnswer, Outcome
from bot.ports import Address, Member, Messenger, OutgoingMessage, TeamAddress

CallKind = Literal["send", "update"]
Hook = Callable[[Address, OutgoingMessage], Awaitable[None]]


@dataclass(frozen=True)
class Call:
    """One send or update the sender asked for, and what the fake connector answered."""

    kind: CallKind
    address: Address
    message: OutgoingMessage
    answer: ConnectorAnswer
    at: datetime | None  # the clock's time of the call, when the fake was given a clock
    activity_id: str | None = None  # for updates: the activity being replaced

    @property
    def conversation_id(self) -> str:
        return self.address.conversation_id

    @property
    def delivered(self) -> bool:
        return self.answer.outcome is Outcome.DELIVERED


class FakeMessenger:
    """An in-memory Bot Connector with a script of answers."""

    def __init__(self, clock: Clock | None = None, answers: Iterable[ConnectorAnswer] = ()) -> None:
        """``answers``: the script for the first calls, whatever the conversation."""
        self.clock = clock
        self.calls: list[Call] = []
        self.members: dict[str, list[Member]] = defaultdict(list)
        self.opened: list[tuple[TeamAddress, Member]] = []
        self.refuse_chats = False
        # Runs at the start of every send and update, while the call is "on the wire": lets a
        # test move the clock (a slow connector) or act while a message is in flight.
        self.during_call: Hook | None = None
        self._scripts: dict[str | None, deque[ConnectorAnswer]] = defaultdict(deque)
        self._always: dict[str, ConnectorAnswer] = {}
        self._ids = itertools.count(1)
        self.script(None, *answers)

    # -- programming it ------------------------------------------------------------------

    def script(self, conversation_id: str | None, *answers: ConnectorAnswer) -> None:
        """Answer the next calls to ``conversation_id`` (``None``: to any conversation) with
        ``answers``, in order; once they are used up, calls succeed again."""
        self._scripts[conversation_id].extend(answers)

    def always(self, conversation_id: str, answer: ConnectorAnswer) -> None:
        """Answer every call to ``conversation_id`` with ``answer`` (e.g. a 403: blocked)."""
        self._always[conversation_id] = answer

    def add_member(self, team_id: str, member: Member) -> None:
        self.members[team_id].append(member)

    # -- reading what happened -------------------------------------------------------------

    def calls_to(self, conversation_id: str) -> list[Call]:
        return [c for c in self.calls if c.conversation_id == conversation_id]

    def delivered(self, conversation_id: str | None = None) -> list[Call]:
        """Sends (not updates) that the fake connector accepted."""
        return [
            c
            for c in self.calls
            if c.kind == "send"
            and c.delivered
            and (conversation_id is None or c.conversation_id == conversation_id)
        ]

    def texts(self, conversation_id: str) -> list[str]:
        return [c.message.text or "" for c in self.delivered(conversation_id)]

    def updates(self, conversation_id: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.kind == "update"
            and c.delivered
            and (conversation_id is None or c.conversation_id == conversation_id)
        ]

    # -- the Messenger protocol ------------------------------------------------------------

    def _answer(self, conversation_id: str) -> ConnectorAnswer:
        if conversation_id in self._always:
            return self._always[conversation_id]
        for key in (conversation_id, None):
            if self._scripts[key]:
                answer = self._scripts[key].popleft()
                break
        else:
            answer = ConnectorAnswer(200)
        if answer.outcome is Outcome.DELIVERED and answer.activity_id is None:
            answer = ConnectorAnswer(answer.status, f"activity-{next(self._ids)}")
        return answer

    def _now(self) -> datetime | None:
        return self.clock.now() if self.clock is not None else None

    async def send(self, address: Address, message: OutgoingMessage) -> ConnectorAnswer:
        if self.during_call is not None:
            await self.during_call(address, message)
        answer = self._answer(address.conversation_id)
        self.calls.append(Call("send", address, message, answer, self._now()))
        return answer

    async def update(
        self, address: Address, activity_id: str, message: OutgoingMessage
    ) -> ConnectorAnswer:
        if self.during_call is not None:
            await self.during_call(address, message)
        answer = self._answer(address.conversation_id)
        if answer.outcome is Outcome.DELIVERED:
            answer = ConnectorAnswer(answer.status, activity_id)
        self.calls.append(Call("update", address, message, answer, self._now(), activity_id))
        return answer

    async def member(self, team: TeamAddress, who: str) -> Member | None:
        """A member of the team by Entra object id or e-mail (as Teams accepts either)."""
        wanted = who.lower()
        for member in self.members.get(team.team_id, []):
            if wanted in (member.aad_object_id.lower(), (member.email or "").lower()):
                return member
        return None

    async def open_personal_chat(self, team: TeamAddress, member: Member) -> Address | None:
        if self.refuse_chats:
            return None
        self.opened.append((team, member))
        return Address(
            member.aad_object_id.lower(),
            team.tenant_id,
            member.user_id,
            f"a:chat-{member.user_id}",
            team.service_url,
            team.bot_id,
        )


def _conforms(messenger: FakeMessenger) -> Messenger:
    """Type check only: mypy fails here if FakeMessenger drifts from the protocol."""
    return messenger
