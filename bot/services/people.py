"""Finding a person to add to the directory: by @mention (the conversation's roster) or by
e-mail (the directory first, then the rosters of the teams the app is installed in).

Teams lookups happen *between* transactions: on SQLite the bot has a single database
connection, and a slow roster call must not hold it. So a change first reads what it needs,
looks the person up, then re-checks the asker and the agency in the transaction that applies
it (bot/services/directory.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bot.domain.directory import Person
from bot.domain.errors import MaratError, NotFound
from bot.ports import Member, Messenger, TeamAddress, UnitOfWork
from bot.services.access import denied
from bot.services.context import UseCaseContext

NOT_FOUND = (
    "I could not find that person. They must be a member of a team (or of this chat) where "
    "the MARAT app is installed, or be added by CSV import (marat directory import) with "
    "their Entra object id."
)
LOOKUP_UNAVAILABLE = (
    "I cannot look people up in Teams at the moment, and nobody in the MARAT directory has "
    "that e-mail address. Please try again later, or add them by CSV import (marat directory "
    "import) with their Entra object id."
)
MENTION_UNAVAILABLE = (
    "I cannot look people up in Teams at the moment, so an @mention does not work just now. "
    "Use their e-mail address if they are already in the MARAT directory, or add them by CSV "
    "import (marat directory import) with their Entra object id."
)
AMBIGUOUS_EMAIL = (
    "More than one person in the MARAT directory has that e-mail address, so I will not "
    "guess. Please @mention the person instead."
)


@dataclass(frozen=True)
class Asker:
    """Who is asking and where: the conversation whose roster resolves their @mentions."""

    aad_object_id: str
    correlation_id: str | None = None
    roster: TeamAddress | None = None
    tenant_id: str | None = None


@dataclass(frozen=True)
class ByMention:
    """A person @mentioned in the message: Teams gives their chat id, not their object id."""

    user_id: str
    name: str


@dataclass(frozen=True)
class ByEmail:
    """A person named by e-mail address."""

    email: str


PersonRef = ByMention | ByEmail


@dataclass(frozen=True)
class Found:
    """The person a reference resolved to."""

    aad_object_id: str
    name: str
    email: str | None


# Checks the asker (and the agency) inside the lookup's read-only transaction.
Admit = Callable[[UnitOfWork], Awaitable[Person]]


class PeopleFinder:
    """Resolves a mention or an e-mail to one person's Entra object id.

    ``messenger`` is None when the bot cannot call Teams (local runs): people are then found
    only by an e-mail address already stored in the directory.
    """

    def __init__(self, ctx: UseCaseContext, messenger: Messenger | None) -> None:
        self.ctx = ctx
        self.messenger = messenger

    def _refuse(self, asker: Asker, actor: Person, action: str, message: str) -> MaratError:
        return denied(
            self.ctx,
            asker.aad_object_id,
            actor,
            action,
            NotFound(message),
            outcome="not_found",
            correlation_id=asker.correlation_id,
        )

    async def find(self, asker: Asker, action: str, who: PersonRef, admit: Admit) -> Found:
        """First a read-only transaction (``admit`` checks the asker and the agency, then a
        directory e-mail match and the installed teams), then the Teams lookups outside any
        transaction."""
        async with self.ctx.units() as uow:
            actor = await admit(uow)
            known: list[Person] = []
            teams: list[TeamAddress] = []
            if isinstance(who, ByEmail):
                known = await uow.directory.people_by_email(who.email)
                if not known:
                    teams = await uow.addresses.teams(asker.tenant_id)
        if len(known) == 1:
            return Found(known[0].aad_object_id, known[0].name, known[0].email)
        if len(known) > 1:
            raise self._refuse(asker, actor, action, AMBIGUOUS_EMAIL)
        member = await self._member(asker, actor, action, who, teams)
        if member is None or not member.aad_object_id:
            raise self._refuse(asker, actor, action, NOT_FOUND)
        email = member.email or (who.email if isinstance(who, ByEmail) else None)
        name = member.name or (who.name if isinstance(who, ByMention) else "") or email or ""
        return Found(member.aad_object_id.lower(), name, email)

    async def _member(
        self, asker: Asker, actor: Person, action: str, who: PersonRef, teams: list[TeamAddress]
    ) -> Member | None:
        """Ask Teams: a mention in this conversation's roster; an e-mail there, then in each
        team of the tenant the app is installed in."""
        unavailable = MENTION_UNAVAILABLE if isinstance(who, ByMention) else LOOKUP_UNAVAILABLE
        if self.messenger is None:
            raise self._refuse(asker, actor, action, unavailable)
        if isinstance(who, ByMention):
            if asker.roster is None:
                raise self._refuse(asker, actor, action, unavailable)
            return await self.messenger.member(asker.roster, who.user_id)
        for team in _distinct([asker.roster, *teams]):
            member = await self.messenger.member(team, who.email)
            if member is not None:
                return member
        return None


def _distinct(teams: Iterable[TeamAddress | None]) -> list[TeamAddress]:
    seen: set[str] = set()
    result = []
    for team in teams:
        if team is not None and team.team_id not in seen:
            seen.add(team.team_id)
            result.append(team)
    return result
