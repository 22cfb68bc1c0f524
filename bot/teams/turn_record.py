"""What one HTTP turn turned out to be, for the web layer and the metrics.

``bot/teams/app.py`` opens a ``TurnRecord`` for each request to ``/api/messages``; the handler
notes on it what the turn was (a command or verb name from its fixed tables, or the activity
type) and how it ended. It is read after the adapter has finished: the metrics count it, and
a turn that could not reach the database is answered with a retryable HTTP status. Only names
from fixed lists go here: never text a user typed, never an identity.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Final, Literal

Outcome = Literal["ok", "refused", "error", "unavailable", "duplicate", "in_flight", "ignored"]
OUTCOMES: Final[tuple[Outcome, ...]] = (
    "ok",
    "refused",
    "error",
    "unavailable",
    "duplicate",
    "in_flight",
    "ignored",
)


@dataclass
class TurnRecord:
    """The kind of turn (``command:help``, ``verb:inforeq.submit``, ``conversationUpdate``…)
    and its outcome; "unavailable" and "in_flight" make the web layer answer 503."""

    kind: str = "other"
    outcome: Outcome = "ok"

    @property
    def retryable(self) -> bool:
        return self.outcome in ("unavailable", "in_flight")


_CURRENT: contextvars.ContextVar[TurnRecord | None] = contextvars.ContextVar(
    "turn_record", default=None
)


def open_record() -> TurnRecord:
    """A fresh record for the turn now starting in this task."""
    record = TurnRecord()
    _CURRENT.set(record)
    return record


def current() -> TurnRecord:
    """This turn's record (a throwaway one outside a web request, e.g. in TestAdapter)."""
    record = _CURRENT.get()
    if record is None:
        record = TurnRecord()
        _CURRENT.set(record)
    return record


def note(kind: str | None = None, outcome: Outcome | None = None) -> None:
    """Note the kind and/or the outcome of the current turn (the worst outcome wins over
    "ok": a turn whose reply failed is not a success because a later step was)."""
    record = current()
    if kind is not None:
        record.kind = kind
    if outcome is not None and (record.outcome == "ok" or outcome != "ok"):
        record.outcome = outcome
