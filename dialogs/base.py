"""What a dialog receives (the turn's context) and returns (the reply to deliver)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.errors import UsageError
from bot.ports import TeamAddress
from bot.services.actions import Actions
from bot.services.amendments import Amendments
from bot.services.capacity import CapacityPlanner
from bot.services.cases import Cases
from bot.services.conferences import Conferences
from bot.services.context import UseCaseContext
from bot.services.directory import DirectoryAdmin
from bot.services.discussion import Discussions
from bot.services.information_requests import InformationRequests
from bot.services.lifecycle import Lifecycle
from bot.services.memberships import Memberships
from bot.services.packs import ConferencePacks
from bot.services.plans import Plans
from bot.services.referrals import Referrals
from bot.services.reports import Reports
from cards.common import Card


@dataclass(frozen=True)
class Reply:
    """Text and/or a card. ``replace`` asks for the clicked card to be replaced in place."""

    text: str | None = None
    card: Card | None = None
    replace: bool = False
    # Further cards after ``card``, in order (a conference pack: one card per case).
    more: tuple[Card, ...] = ()
    # Case detail asked for in a channel or group chat: delivered to the asker's 1:1 chat.
    private: Card | None = None


PRIVATE_NOTE = (
    " I am sending the details to your 1:1 chat with me: case detail is never shown here."
)


def detail_reply(turn: TurnInfo, card: Card, summary: str) -> Reply:
    """The card in a 1:1 chat; elsewhere counts and references only, and the card privately."""
    if turn.is_personal:
        return Reply(card=card)
    return Reply(text=summary + PRIVATE_NOTE, private=card)


@dataclass(frozen=True)
class Mentioned:
    """Someone @mentioned in the message (not the bot): Teams gives their chat id and name."""

    user_id: str
    name: str


@dataclass(frozen=True)
class TurnInfo:
    """Who is asking, and where; built by the edge from an authenticated activity.

    ``roster`` is the conversation (a team, a group chat or the 1:1 chat) whose members can be
    looked up, e.g. to resolve an @mention to an Entra object id.
    """

    aad_object_id: str
    is_personal: bool
    correlation_id: str
    mentions: tuple[Mentioned, ...] = ()
    roster: TeamAddress | None = None
    tenant_id: str | None = None


@dataclass(frozen=True)
class Dependencies:
    """The use cases a dialog may call, built once in the composition root (bot/teams/app.py)."""

    context: UseCaseContext
    referrals: Referrals
    information_requests: InformationRequests
    cases: Cases
    conferences: Conferences
    plans: Plans
    amendments: Amendments
    packs: ConferencePacks
    actions: Actions
    lifecycle: Lifecycle
    discussions: Discussions
    directory: DirectoryAdmin
    memberships: Memberships
    reports: Reports
    capacity: CapacityPlanner
    help_contact: str = "your MARAT coordinator"

    @property
    def calendar(self) -> WorkingDayCalendar:
        """The working-day calendar the cards count days with."""
        return self.context.calendar

    def today(self) -> date:
        """Today in London."""
        return self.context.today()


def parse_iso_date(value: str, usage: str) -> date:
    """A strict YYYY-MM-DD argument; anything else is a usage error."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise UsageError(usage)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{value} is not a real date. {usage}") from None
