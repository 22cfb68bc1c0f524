"""Directory administration by coordinators in Teams: agencies, their contacts, coordinators.

These are use cases like those of ``bot/services.py``: roles are checked from the directory and
the asker's Entra object id, each change is one transaction, and every change and every refusal
writes an audit record (who, role, what, outcome — never names or e-mail addresses). They live
in their own module because they also look people up in Teams through the ``Messenger`` port.

Teams lookups happen *between* transactions: on SQLite the bot has a single database
connection, and a slow roster call must not hold it. So a change reads what it needs, looks the
person up, then re-checks the asker and the agency in the transaction that applies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.clock import Clock
from bot.domain.directory import Agency, Person, agency_key
from bot.domain.errors import MaratError, NotFound, NotPermitted, NotRegistered
from bot.ports import AuditEvent, Member, Messenger, TeamAddress, UnitOfWork, UnitOfWorkFactory
from bot.usecase_base import records_denials, role_of

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


class Change(StrEnum):
    """What a command did; ``UNCHANGED`` means it was already so (not an error)."""

    CREATED = "created"
    RESTORED = "restored"
    ADDED = "added"
    REMOVED = "removed"
    UNCHANGED = "unchanged"


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
    email: str


PersonRef = ByMention | ByEmail


@dataclass(frozen=True)
class AgencyChange:
    agency: Agency
    change: Change


@dataclass(frozen=True)
class ContactListing:
    """A person shown in the agency list; ``reachable`` = the bot has a 1:1 chat with them."""

    name: str
    reachable: bool


@dataclass(frozen=True)
class AgencyListing:
    agency: Agency
    contacts: tuple[ContactListing, ...]


@dataclass(frozen=True)
class DirectoryListing:
    agencies: tuple[AgencyListing, ...]
    coordinators: tuple[ContactListing, ...]


@dataclass(frozen=True)
class PersonChange:
    """The outcome of a contact or coordinator command, in the words a reply needs.

    ``unregistered``: the person's last role went, so they are no longer in the directory.
    ``reachable``: the bot can message them (it has their 1:1 chat).
    """

    name: str
    change: Change
    agency: Agency | None = None
    reachable: bool = True
    unregistered: bool = False


@dataclass(frozen=True)
class _Found:
    aad_object_id: str
    name: str
    email: str | None


class DirectoryAdmin:
    """The ``agency``, ``contact`` and ``coordinator`` commands, for coordinators only.

    ``messenger`` is None when the bot cannot call Teams (local runs): people are then found
    only by an e-mail address already stored in the directory.
    """

    def __init__(self, units: UnitOfWorkFactory, clock: Clock, messenger: Messenger | None) -> None:
        self.units = units
        self.clock = clock
        self.messenger = messenger

    # -- permission and audit --------------------------------------------------------------

    def _refuse(
        self,
        asker: Asker,
        person: Person | None,
        action: str,
        error: MaratError,
        outcome: str = "denied",
    ) -> MaratError:
        """Attach the refusal's audit record; ``records_denials`` writes it afterwards."""
        error.denial = AuditEvent(  # type: ignore[attr-defined]
            self.clock.now(),
            asker.aad_object_id,
            role_of(person),
            action,
            outcome,
            correlation_id=asker.correlation_id,
        )
        return error

    async def _require(self, uow: UnitOfWork, asker: Asker, action: str) -> Person:
        # The same refusals as every other coordinator command (bot/services.py).
        person = await uow.directory.person(asker.aad_object_id)
        if person is None:
            raise self._refuse(
                asker, None, action, NotRegistered("You are not registered with the MARAT.")
            )
        if not person.is_coordinator:
            raise self._refuse(
                asker,
                person,
                action,
                NotPermitted("That is for MARAT coordinators. Type help to see what you can do."),
            )
        return person

    async def _audit(
        self, uow: UnitOfWork, asker: Asker, person: Person, action: str, change: Change | None
    ) -> None:
        """``change`` None is a read; an unchanged result is recorded as such, not as "ok"."""
        outcome = "unchanged" if change is Change.UNCHANGED else "ok"
        await uow.audit.record(
            AuditEvent(
                self.clock.now(),
                person.aad_object_id,
                role_of(person),
                action,
                outcome,
                correlation_id=asker.correlation_id,
            )
        )

    @records_denials
    async def require_coordinator(self, asker: Asker, action: str) -> None:
        """Refuse (and audit) anyone but a coordinator, e.g. before showing a usage line."""
        async with self.units() as uow:
            await self._require(uow, asker, action)

    # -- agencies --------------------------------------------------------------------------

    @records_denials
    async def add_agency(self, asker: Asker, name: str) -> AgencyChange:
        """Create an agency, or restore a removed one; an active one is left as it is."""
        async with self.units() as uow:
            person = await self._require(uow, asker, "agency.add")
            existing = await uow.directory.agency_by_key(agency_key(name))
            if existing is not None and existing[1]:
                result = AgencyChange(existing[0], Change.UNCHANGED)
            else:
                agency, created = await uow.directory.upsert_agency(name, self.clock.now())
                result = AgencyChange(agency, Change.CREATED if created else Change.RESTORED)
            await self._audit(uow, asker, person, "agency.add", result.change)
            await uow.commit()
        return result

    @records_denials
    async def remove_agency(self, asker: Asker, key: str) -> AgencyChange:
        """Deactivate an agency: gone from referral cards and lists; cases keep their history."""
        async with self.units() as uow:
            person = await self._require(uow, asker, "agency.remove")
            existing = await uow.directory.agency_by_key(key)
            if existing is None:
                raise self._refuse(
                    asker,
                    person,
                    "agency.remove",
                    NotFound(f"There is no agency {key}. Type agency list to see the keys."),
                    "not_found",
                )
            agency, active = existing
            if active:
                await uow.directory.remove_agency(key)
            change = Change.REMOVED if active else Change.UNCHANGED
            await self._audit(uow, asker, person, "agency.remove", change)
            await uow.commit()
        return AgencyChange(agency, change)

    @records_denials
    async def directory(self, asker: Asker) -> DirectoryListing:
        """Active agencies with their contacts, and the coordinators, each marked reachable."""
        async with self.units() as uow:
            person = await self._require(uow, asker, "agency.list")
            listings = []
            for agency in await uow.directory.agencies():
                contacts = await uow.directory.contacts_of(agency.key)
                listings.append(AgencyListing(agency, await self._listed(uow, contacts)))
            coordinators = await self._listed(uow, await uow.directory.coordinators())
            await self._audit(uow, asker, person, "agency.list", None)
            await uow.commit()
        return DirectoryListing(tuple(listings), coordinators)

    @staticmethod
    async def _listed(uow: UnitOfWork, people: Iterable[Person]) -> tuple[ContactListing, ...]:
        return tuple(
            [
                ContactListing(p.name, await uow.addresses.personal(p.aad_object_id) is not None)
                for p in people
            ]
        )

    # -- contacts --------------------------------------------------------------------------

    @records_denials
    async def add_contact(self, asker: Asker, key: str, who: PersonRef) -> PersonChange:
        """Make someone a contact of an agency, adding them to the directory if needed."""
        action = "contact.add"
        found = await self._find(asker, action, who, key)
        async with self.units() as uow:
            actor = await self._require(uow, asker, action)
            agency = await self._active_agency(uow, asker, actor, action, key)
            before = await uow.directory.person(found.aad_object_id)
            if before is None:
                await uow.directory.upsert_person(
                    found.aad_object_id, found.name, found.email, self.clock.now()
                )
            already = before is not None and agency.key in before.agency_keys
            if not already:
                await uow.directory.add_membership(found.aad_object_id, agency.key)
            change = Change.UNCHANGED if already else Change.ADDED
            reachable = await uow.addresses.personal(found.aad_object_id) is not None
            await self._audit(uow, asker, actor, action, change)
            await uow.commit()
        return PersonChange(_name(before, found), change, agency, reachable)

    @records_denials
    async def remove_contact(self, asker: Asker, key: str, who: PersonRef) -> PersonChange:
        """Stop someone being a contact; with no role left they leave the directory."""
        action = "contact.remove"
        found = await self._find(asker, action, who, key)
        async with self.units() as uow:
            actor = await self._require(uow, asker, action)
            agency = await self._active_agency(uow, asker, actor, action, key)
            before = await uow.directory.person(found.aad_object_id)
            change, unregistered = Change.UNCHANGED, False
            if before is not None and agency.key in before.agency_keys:
                await uow.directory.remove_membership(found.aad_object_id, agency.key)
                unregistered = await self._retire_if_roleless(uow, found.aad_object_id)
                change = Change.REMOVED
            await self._audit(uow, asker, actor, action, change)
            await uow.commit()
        return PersonChange(_name(before, found), change, agency, unregistered=unregistered)

    # -- coordinators ----------------------------------------------------------------------

    @records_denials
    async def add_coordinator(self, asker: Asker, who: PersonRef) -> PersonChange:
        """Give someone the coordinator role, adding them to the directory if needed."""
        action = "coordinator.add"
        found = await self._find(asker, action, who)
        async with self.units() as uow:
            actor = await self._require(uow, asker, action)
            before = await uow.directory.person(found.aad_object_id)
            if before is None:
                await uow.directory.upsert_person(
                    found.aad_object_id, found.name, found.email, self.clock.now()
                )
            already = before is not None and before.is_coordinator
            if not already:
                await uow.directory.set_coordinator(found.aad_object_id, True)
            change = Change.UNCHANGED if already else Change.ADDED
            reachable = await uow.addresses.personal(found.aad_object_id) is not None
            await self._audit(uow, asker, actor, action, change)
            await uow.commit()
        return PersonChange(_name(before, found), change, reachable=reachable)

    @records_denials
    async def remove_coordinator(self, asker: Asker, who: PersonRef) -> PersonChange:
        """Take the coordinator role away, but never from the last coordinator."""
        action = "coordinator.remove"
        found = await self._find(asker, action, who)
        async with self.units() as uow:
            actor = await self._require(uow, asker, action)
            coordinators = await uow.directory.lock_coordinators()
            if actor.aad_object_id not in coordinators:
                # Demoted by someone else while this command was on its way.
                raise self._refuse(
                    asker,
                    actor,
                    action,
                    NotPermitted(
                        "That is for MARAT coordinators. Type help to see what you can do."
                    ),
                )
            before = await uow.directory.person(found.aad_object_id)
            name = _name(before, found)
            change, unregistered = Change.UNCHANGED, False
            if found.aad_object_id in coordinators:
                if len(coordinators) == 1:
                    raise self._refuse(
                        asker,
                        actor,
                        action,
                        NotPermitted(
                            "You are the only MARAT coordinator, so you cannot remove your own "
                            "role. Add another coordinator first."
                            if found.aad_object_id == actor.aad_object_id
                            else f"{name} is the only MARAT coordinator. Add another "
                            "coordinator first."
                        ),
                    )
                await uow.directory.set_coordinator(found.aad_object_id, False)
                unregistered = await self._retire_if_roleless(uow, found.aad_object_id)
                change = Change.REMOVED
            await self._audit(uow, asker, actor, action, change)
            await uow.commit()
        return PersonChange(name, change, unregistered=unregistered)

    # -- helpers ---------------------------------------------------------------------------

    async def _active_agency(
        self, uow: UnitOfWork, asker: Asker, actor: Person, action: str, key: str
    ) -> Agency:
        existing = await uow.directory.agency_by_key(key)
        if existing is None:
            raise self._refuse(
                asker,
                actor,
                action,
                NotFound(f"There is no agency {key}. Type agency list to see the keys."),
                "not_found",
            )
        agency, active = existing
        if not active:
            raise self._refuse(
                asker,
                actor,
                action,
                NotFound(
                    f"{agency.name} has been removed. Restore it first with: "
                    f"agency add {agency.name}"
                ),
                "not_found",
            )
        return agency

    async def _retire_if_roleless(self, uow: UnitOfWork, aad_object_id: str) -> bool:
        """Someone with no role left is taken out of the directory, so they are told they are
        not registered instead of being "registered as nothing"."""
        after = await uow.directory.person(aad_object_id)
        if after is None or after.is_coordinator or after.agency_keys:
            return False
        return await uow.directory.deactivate_person(aad_object_id, self.clock.now())

    async def _find(
        self, asker: Asker, action: str, who: PersonRef, key: str | None = None
    ) -> _Found:
        """Resolve a mention or an e-mail to one person's Entra object id.

        First a read-only transaction (the asker's role, the agency, a directory e-mail match
        and the installed teams), then the Teams lookups outside any transaction.
        """
        async with self.units() as uow:
            actor = await self._require(uow, asker, action)
            if key is not None:
                await self._active_agency(uow, asker, actor, action, key)
            known: list[Person] = []
            teams: list[TeamAddress] = []
            if isinstance(who, ByEmail):
                known = await uow.directory.people_by_email(who.email)
                if not known:
                    teams = await uow.addresses.teams(asker.tenant_id)
        if len(known) == 1:
            return _Found(known[0].aad_object_id, known[0].name, known[0].email)
        if len(known) > 1:
            raise self._refuse(asker, actor, action, NotFound(AMBIGUOUS_EMAIL), "not_found")
        member = await self._member(asker, actor, action, who, teams)
        if member is None or not member.aad_object_id:
            raise self._refuse(asker, actor, action, NotFound(NOT_FOUND), "not_found")
        email = member.email or (who.email if isinstance(who, ByEmail) else None)
        name = member.name or (who.name if isinstance(who, ByMention) else "") or email or ""
        return _Found(member.aad_object_id.lower(), name, email)

    async def _member(
        self, asker: Asker, actor: Person, action: str, who: PersonRef, teams: list[TeamAddress]
    ) -> Member | None:
        """Ask Teams: a mention in this conversation's roster; an e-mail there, then in each
        team of the tenant the app is installed in."""
        unavailable = MENTION_UNAVAILABLE if isinstance(who, ByMention) else LOOKUP_UNAVAILABLE
        if self.messenger is None:
            raise self._refuse(asker, actor, action, NotFound(unavailable), "not_found")
        if isinstance(who, ByMention):
            if asker.roster is None:
                raise self._refuse(asker, actor, action, NotFound(unavailable), "not_found")
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


def _name(before: Person | None, found: _Found) -> str:
    """The directory's name for someone already in it; otherwise what Teams calls them."""
    return before.name if before is not None else found.name
