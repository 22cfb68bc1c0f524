"""The MARAT directory: coordinators manage agencies, contacts and coordinators in Teams, and
the operator imports a CSV. Roles are checked from the directory by Entra object id; each
change is one transaction, and every change and refusal writes an audit record (who, role,
what, outcome; never names or e-mail addresses)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.directory import (
    Agency,
    AgencyListing,
    ContactListing,
    DirectoryListing,
    DirectoryRow,
    Person,
    Role,
    agency_key,
)
from bot.domain.errors import MaratError, NotFound
from bot.ports import AuditEvent, UnitOfWork
from bot.services.access import audit, denied, records_denials, require
from bot.services.context import UseCaseContext
from bot.services.outbox import agency_names
from bot.services.people import Asker


class Change(StrEnum):
    """What a command did; ``UNCHANGED`` means it was already so (not an error)."""

    CREATED = "created"
    RESTORED = "restored"
    ADDED = "added"
    REMOVED = "removed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class AgencyChange:
    """The outcome of `agency add|remove`."""

    agency: Agency
    change: Change


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
class ImportSummary:
    """What a CSV import changed."""

    agencies_created: int
    people_created: int
    people_updated: int
    memberships_added: int


def refuse(
    ctx: UseCaseContext,
    asker: Asker,
    person: Person | None,
    action: str,
    error: MaratError,
    outcome: str = "denied",
) -> MaratError:
    """A directory refusal, audited with the asker's correlation id."""
    return denied(
        ctx,
        asker.aad_object_id,
        person,
        action,
        error,
        outcome=outcome,
        correlation_id=asker.correlation_id,
    )


async def require_coordinator(
    ctx: UseCaseContext, uow: UnitOfWork, asker: Asker, action: str
) -> Person:
    """The same refusals as every other coordinator command."""
    return await require(ctx, uow, asker.aad_object_id, action, correlation_id=asker.correlation_id)


async def audit_change(
    ctx: UseCaseContext,
    uow: UnitOfWork,
    asker: Asker,
    person: Person,
    action: str,
    change: Change | None,
) -> None:
    """``change`` None is a read; an unchanged result is recorded as such, not as "ok"."""
    outcome = "unchanged" if change is Change.UNCHANGED else "ok"
    await audit(ctx, uow, person, action, outcome=outcome, correlation_id=asker.correlation_id)


async def active_agency(
    ctx: UseCaseContext, uow: UnitOfWork, asker: Asker, actor: Person, action: str, key: str
) -> Agency:
    """The agency with this key, refused (and audited) if unknown or removed."""
    existing = await uow.directory.agency_by_key(key)
    if existing is None:
        raise refuse(
            ctx,
            asker,
            actor,
            action,
            NotFound(f"There is no agency {key}. Type agency list to see the keys."),
            "not_found",
        )
    agency, active = existing
    if not active:
        raise refuse(
            ctx,
            asker,
            actor,
            action,
            NotFound(
                f"{agency.name} has been removed. Restore it first with: agency add {agency.name}"
            ),
            "not_found",
        )
    return agency


class DirectoryAdmin:
    """The ``agency`` commands and the agency list (coordinators only), the CSV import, and
    who someone is. Contacts and coordinators are ``Memberships`` (bot/services/memberships.py).
    """

    def __init__(self, ctx: UseCaseContext) -> None:
        self.ctx = ctx

    # -- who is asking ---------------------------------------------------------------------

    async def person(self, aad_object_id: str) -> Person | None:
        """The directory entry of this Entra object id (None: not registered)."""
        async with self.ctx.units() as uow:
            return await uow.directory.person(aad_object_id)

    async def agency_names(self) -> dict[str, str]:
        """Every agency's display name by key."""
        async with self.ctx.units() as uow:
            return await agency_names(uow)

    @records_denials
    async def require_coordinator(self, asker: Asker, action: str) -> None:
        """Refuse (and audit) anyone but a coordinator, e.g. before showing a usage line."""
        async with self.ctx.units() as uow:
            await require_coordinator(self.ctx, uow, asker, action)

    # -- agencies --------------------------------------------------------------------------

    @records_denials
    async def add_agency(self, asker: Asker, name: str) -> AgencyChange:
        """Create an agency, or restore a removed one; an active one is left as it is."""
        async with self.ctx.units() as uow:
            person = await require_coordinator(self.ctx, uow, asker, "agency.add")
            existing = await uow.directory.agency_by_key(agency_key(name))
            if existing is not None and existing[1]:
                result = AgencyChange(existing[0], Change.UNCHANGED)
            else:
                agency, created = await uow.directory.upsert_agency(name, self.ctx.now())
                result = AgencyChange(agency, Change.CREATED if created else Change.RESTORED)
            await audit_change(self.ctx, uow, asker, person, "agency.add", result.change)
            await uow.commit()
        return result

    @records_denials
    async def remove_agency(self, asker: Asker, key: str) -> AgencyChange:
        """Deactivate an agency: gone from referral cards and lists; cases keep their history."""
        async with self.ctx.units() as uow:
            person = await require_coordinator(self.ctx, uow, asker, "agency.remove")
            existing = await uow.directory.agency_by_key(key)
            if existing is None:
                raise refuse(
                    self.ctx,
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
            await audit_change(self.ctx, uow, asker, person, "agency.remove", change)
            await uow.commit()
        return AgencyChange(agency, change)

    @records_denials
    async def directory(self, asker: Asker) -> DirectoryListing:
        """Active agencies with their contacts, and the coordinators, each marked reachable."""
        async with self.ctx.units() as uow:
            person = await require_coordinator(self.ctx, uow, asker, "agency.list")
            listings = []
            for agency in await uow.directory.agencies():
                contacts = await uow.directory.contacts_of(agency.key)
                listings.append(AgencyListing(agency, await _listed(uow, contacts)))
            coordinators = await _listed(uow, await uow.directory.coordinators())
            await audit_change(self.ctx, uow, asker, person, "agency.list", None)
            await uow.commit()
        return DirectoryListing(tuple(listings), coordinators)

    # -- the CSV import ----------------------------------------------------------------------

    async def import_directory(self, rows: list[DirectoryRow]) -> ImportSummary:
        """Apply a parsed CSV in one transaction: re-importing updates, never duplicates."""
        now = self.ctx.now()
        agencies_created = people_created = people_updated = memberships = 0
        async with self.ctx.units() as uow:
            seen: set[str] = set()
            for row in rows:
                if row.agency:
                    _agency, created = await uow.directory.upsert_agency(row.agency, now)
                    agencies_created += created
                if row.aad_object_id not in seen:
                    created = await uow.directory.upsert_person(
                        row.aad_object_id, row.name, row.email, now
                    )
                    people_created += created
                    people_updated += not created
                    await uow.directory.set_coordinator(row.aad_object_id, False)
                    seen.add(row.aad_object_id)
            for row in rows:
                if row.role is Role.COORDINATOR:
                    await uow.directory.set_coordinator(row.aad_object_id, True)
                elif row.agency:
                    memberships += await uow.directory.add_membership(
                        row.aad_object_id, agency_key(row.agency)
                    )
            await uow.audit.record(AuditEvent(now, "cli", "operator", "directory.import", "ok"))
            await uow.commit()
        return ImportSummary(agencies_created, people_created, people_updated, memberships)


async def _listed(uow: UnitOfWork, people: Iterable[Person]) -> tuple[ContactListing, ...]:
    return tuple(
        [
            ContactListing(p.name, await uow.addresses.personal(p.aad_object_id) is not None)
            for p in people
        ]
    )
