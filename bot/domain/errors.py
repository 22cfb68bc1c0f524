"""Business errors: expected refusals that are shown to the user politely.

Anything that is not a ``MaratError`` is a bug: it is logged with a correlation id and the user
sees only that id, never the exception text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Denial:
    """The audit record of a refusal: who was refused what, never the personal data itself.

    It travels with the refusal so that it can be written after the refused transaction has
    rolled back (see ``bot.services.access.records_denials``).
    """

    at: datetime
    actor: str
    role: str
    action: str
    case_id: int | None = None
    correlation_id: str | None = None
    outcome: str = "denied"


class MaratError(Exception):
    """A refusal the user can act on; ``str(error)`` is safe to show and holds no case data.

    ``denial`` is set when the refusal must be audited (a permission or registration check).
    """

    denial: Denial | None = None

    def audited(self, denial: Denial) -> MaratError:
        """This refusal, carrying the audit record of it."""
        self.denial = denial
        return self


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


class CaseClosed(MaratError):
    """A card of a closed or withdrawn case was used: it needs nothing more (said politely,
    and the card is replaced by that message)."""
