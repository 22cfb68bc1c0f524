"""Contacts and coordinators: coordinators make people contacts of agencies, or
coordinators, finding them by @mention or e-mail (bot/services/people.py). Every change and
refusal is audited; the last coordinator cannot be removed."""

from __future__ import annotations

from bot.domain.directory import Person
from bot.domain.errors import NotPermitted
from bot.ports import Messenger, UnitOfWork
from bot.services.access import COORDINATORS_ONLY, records_denials
from bot.services.context import UseCaseContext
from bot.services.directory import (
    Change,
    PersonChange,
    active_agency,
    audit_change,
    refuse,
    require_coordinator,
)
from bot.services.people import Asker, Found, PeopleFinder, PersonRef


class Memberships:
    """The ``contact`` and ``coordinator`` commands (coordinators only)."""

    def __init__(self, ctx: UseCaseContext, messenger: Messenger | None) -> None:
        self.ctx = ctx
        self.finder = PeopleFinder(ctx, messenger)

    # -- contacts --------------------------------------------------------------------------

    async def _find(
        self, asker: Asker, action: str, who: PersonRef, key: str | None = None
    ) -> Found:
        async def admit(uow: UnitOfWork) -> Person:
            actor = await require_coordinator(self.ctx, uow, asker, action)
            if key is not None:
                await active_agency(self.ctx, uow, asker, actor, action, key)
            return actor

        return await self.finder.find(asker, action, who, admit)

    @records_denials
    async def add_contact(self, asker: Asker, key: str, who: PersonRef) -> PersonChange:
        """Make someone a contact of an agency, adding them to the directory if needed."""
        action = "contact.add"
        found = await self._find(asker, action, who, key)
        async with self.ctx.units() as uow:
            actor = await require_coordinator(self.ctx, uow, asker, action)
            agency = await active_agency(self.ctx, uow, asker, actor, action, key)
            before = await uow.directory.person(found.aad_object_id)
            if before is None:
                await uow.directory.upsert_person(
                    found.aad_object_id, found.name, found.email, self.ctx.now()
                )
            already = before is not None and agency.key in before.agency_keys
            if not already:
                await uow.directory.add_membership(found.aad_object_id, agency.key)
            change = Change.UNCHANGED if already else Change.ADDED
            reachable = await uow.addresses.personal(found.aad_object_id) is not None
            await audit_change(self.ctx, uow, asker, actor, action, change)
            await uow.commit()
        return PersonChange(_name(before, found), change, agency, reachable)

    @records_denials
    async def remove_contact(self, asker: Asker, key: str, who: PersonRef) -> PersonChange:
        """Stop someone being a contact; with no role left they leave the directory."""
        action = "contact.remove"
        found = await self._find(asker, action, who, key)
        async with self.ctx.units() as uow:
            actor = await require_coordinator(self.ctx, uow, asker, action)
            agency = await active_agency(self.ctx, uow, asker, actor, action, key)
            before = await uow.directory.person(found.aad_object_id)
            change, unregistered = Change.UNCHANGED, False
            if before is not None and agency.key in before.agency_keys:
                await uow.directory.remove_membership(found.aad_object_id, agency.key)
                unregistered = await self._retire_if_roleless(uow, found.aad_object_id)
                change = Change.REMOVED
            await audit_change(self.ctx, uow, asker, actor, action, change)
            await uow.commit()
        return PersonChange(_name(before, found), change, agency, unregistered=unregistered)

    # -- coordinators ----------------------------------------------------------------------

    @records_denials
    async def add_coordinator(self, asker: Asker, who: PersonRef) -> PersonChange:
        """Give someone the coordinator role, adding them to the directory if needed."""
        action = "coordinator.add"
        found = await self._find(asker, action, who)
        async with self.ctx.units() as uow:
            actor = await require_coordinator(self.ctx, uow, asker, action)
            before = await uow.directory.person(found.aad_object_id)
            if before is None:
                await uow.directory.upsert_person(
                    found.aad_object_id, found.name, found.email, self.ctx.now()
                )
            already = before is not None and before.is_coordinator
            if not already:
                await uow.directory.set_coordinator(found.aad_object_id, True)
            change = Change.UNCHANGED if already else Change.ADDED
            reachable = await uow.addresses.personal(found.aad_object_id) is not None
            await audit_change(self.ctx, uow, asker, actor, action, change)
            await uow.commit()
        return PersonChange(_name(before, found), change, reachable=reachable)

    @records_denials
    async def remove_coordinator(self, asker: Asker, who: PersonRef) -> PersonChange:
        """Take the coordinator role away, but never from the last coordinator."""
        action = "coordinator.remove"
        found = await self._find(asker, action, who)
        async with self.ctx.units() as uow:
            actor = await require_coordinator(self.ctx, uow, asker, action)
            coordinators = await uow.directory.lock_coordinators()
            if actor.aad_object_id not in coordinators:
                # Demoted by someone else while this command was on its way.
                raise refuse(self.ctx, asker, actor, action, NotPermitted(COORDINATORS_ONLY))
            before = await uow.directory.person(found.aad_object_id)
            name = _name(before, found)
            change, unregistered = Change.UNCHANGED, False
            if found.aad_object_id in coordinators:
                if len(coordinators) == 1:
                    raise refuse(
                        self.ctx,
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
            await audit_change(self.ctx, uow, asker, actor, action, change)
            await uow.commit()
        return PersonChange(name, change, unregistered=unregistered)

    async def _retire_if_roleless(self, uow: UnitOfWork, aad_object_id: str) -> bool:
        """Someone with no role left is taken out of the directory, so they are told they are
        not registered instead of being "registered as nothing"."""
        after = await uow.directory.person(aad_object_id)
        if after is None or after.is_coordinator or after.agency_keys:
            return False
        return await uow.directory.deactivate_person(aad_object_id, self.ctx.now())


def _name(before: Person | None, found: Found) -> str:
    """The directory's name for someone already in it; otherwise what Teams calls them."""
    return before.name if before is not None else found.name
