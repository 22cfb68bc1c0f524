"""Rules for delivering proactive messages to Teams: what to do with each connector answer,
how long to back off, and how fast one conversation may be written to.

Teams limits one bot in one conversation to 7 messages a second, 8 in 2 s, 60 in 30 s and
1,800 an hour; 429 carries Retry-After; 412, 502 and 504 are transient; 403 and 404 mean the
bot will never reach that conversation (blocked, uninstalled, gone).
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final


@dataclass(frozen=True)
class OutgoingMessage:
    """Text and/or a card; ``summary`` is what notification previews show (keep it neutral)."""

    text: str | None = None
    card: dict[str, Any] | None = None
    summary: str | None = None


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class ConnectorAnswer:
    """What the gateway learned from one attempt."""

    status: int | None  # None: no HTTP answer at all (connection refused, timeout)
    activity_id: str | None = None
    retry_after: float | None = None  # seconds, from a 429's Retry-After header

    @property
    def outcome(self) -> Outcome:
        if self.status is not None and 200 <= self.status < 300:
            return Outcome.DELIVERED
        if self.status in (400, 401, 403, 404, 405, 413):
            return Outcome.PERMANENT
        return Outcome.RETRY


class ConnectorUnavailable(Exception):
    """A look-up the sender needs (a roster member, a new 1:1 chat) got a retryable answer:
    the person is not unreachable, Teams is just not answering now."""

    def __init__(self, answer: ConnectorAnswer) -> None:
        super().__init__(f"connector answered {answer.status}")
        self.answer = answer


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts."""

    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 600.0

    def delay(self, attempt: int, answer: ConnectorAnswer, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if answer.status == 429 and answer.retry_after is not None:
            # At least a second: a "Retry-After: 0" must not turn the sender into a busy loop.
            return min(max(answer.retry_after, 1.0), self.cap_seconds)
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)

    def gives_up(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


TEAMS_CONVERSATION_LIMITS: Final = (
    (timedelta(seconds=1), 7),
    (timedelta(seconds=2), 8),
    (timedelta(seconds=30), 60),
    (timedelta(hours=1), 1800),
)


class ConversationPacer:
    """Remembers recent sends per conversation and says when the next one is allowed."""

    def __init__(
        self, limits: tuple[tuple[timedelta, int], ...] = TEAMS_CONVERSATION_LIMITS
    ) -> None:
        self.limits = limits
        self._longest = max(window for window, _ in limits)
        self._sent: dict[str, deque[datetime]] = defaultdict(deque)
        self._held: dict[str, datetime] = {}

    def next_allowed(self, conversation: str, now: datetime) -> datetime:
        """``now`` if a message may go now, else the earliest instant it may."""
        history = self._sent[conversation]
        while history and now - history[0] >= self._longest:
            history.popleft()
        allowed = max(now, self._held.get(conversation, now))
        for window, count in self.limits:
            recent = [t for t in history if now - t < window]
            if len(recent) >= count:
                allowed = max(allowed, recent[-count] + window)
        return allowed

    def record(self, conversation: str, at: datetime) -> None:
        self._sent[conversation].append(at)

    def hold(self, conversation: str, until: datetime) -> None:
        """After a 429, nothing more goes to that conversation until Retry-After has passed."""
        self._held[conversation] = max(until, self._held.get(conversation, until))
