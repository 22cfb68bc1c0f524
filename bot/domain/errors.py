"""Business errors: expected refusals that are shown to the user politely.

Anything that is not a ``MaratError`` is a bug: it is logged with a correlation id and the user
sees only that id, never the exception text.
"""

from __future__ import annotations

from collections.abc import Mapping


class MaratError(Exception):
    """A refusal the user can act on; ``str(error)`` is safe to show and holds no case data."""


class NotRegistered(MaratError):
    """The user is not in the MARAT directory."""


class NotPermitted(MaratError):
    """The user is registered but their role does not allow this."""


class NotFound(MaratError):
    """The thing asked for does not exist (or is not visible to this user)."""


class IllegalTransition(MaratError):
    """A case cannot move from its current state to the one asked for."""


class UsageError(MaratError):
    """A command's arguments are malformed; the message carries the usage line."""


class FieldErrors(MaratError):
    """Input failed validation; ``errors`` maps an input id to the message shown under it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("Please correct the highlighted fields.")
        self.errors: dict[str, str] = dict(errors)


class AlreadyDone(MaratError):
    """A card token was used already; carries what the first use produced."""

    def __init__(self, outcome: str) -> None:
        super().__init__("This card has already been submitted.")
        self.outcome = outcome
