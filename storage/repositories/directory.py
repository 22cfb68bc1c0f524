"""Agencies, people and their roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.directory import Agency, Person, agency_key
from storage.models import (
    AgencyRow,
    MembershipRow,
    PersonRow,
)


class SqlDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def agencies(self, include_removed: bool = False) -> list[Agency]:
        """Active agencies in directory order; with ``include_removed``, every agency (to
        name the agencies of older cases)."""
        query = select(AgencyRow).order_by(AgencyRow.id)
        if not include_removed:
            query = query.where(AgencyRow.active.is_(True))
        rows = await self.session.scalars(query)
        return [Agency(r.id, r.key, r.name) for r in rows]

    async def upsert_agency(self, name: str, at: datetime) -> tuple[Agency, bool]:
        key = agency_key(name)
        row = await self.session.scalar(select(AgencyRow).where(AgencyRow.key == key))
        created = row is None
        if row is None:
            row = AgencyRow(key=key, name=name.strip(), active=True, created_at=at)
            self.session.add(row)
            await self.session.flush()
        else:
            row.active = True
        return Agency(row.id, row.key, row.name), created

    async def person(self, aad_object_id: str) -> Person | None:
        row = await self.session.scalar(
            select(PersonRow).where(
                PersonRow.aad_object_id == aad_object_id.lower(), PersonRow.active.is_(True)
            )
        )
        if row is None:
            return None
        keys = await self.session.scalars(
            select(AgencyRow.key)
            .join(MembershipRow, MembershipRow.agency_id == AgencyRow.id)
            .where(MembershipRow.person_id == row.id, AgencyRow.active.is_(True))
        )
        return Person(row.aad_object_id, row.name, row.email, row.is_coordinator, frozenset(keys))

    async def upsert_person(
        self, aad_object_id: str, name: str, email: str | None, at: datetime
    ) -> bool:
        aad = aad_object_id.lower()
        row = await self.session.scalar(select(PersonRow).where(PersonRow.aad_object_id == aad))
        if row is None:
            self.session.add(
                PersonRow(
                    aad_object_id=aad,
                    name=name,
                    email=email,
                    is_coordinator=False,
                    active=True,
                    created_at=at,
                    updated_at=at,
                )
            )
            await self.session.flush()
            return True
        row.name, row.email, row.active, row.updated_at = name, email, True, at
        return False

    async def set_coordinator(self, aad_object_id: str, is_coordinator: bool) -> None:
        await self.session.execute(
            update(PersonRow)
            .where(PersonRow.aad_object_id == aad_object_id.lower())
            .values(is_coordinator=is_coordinator)
        )

    async def add_membership(self, aad_object_id: str, agency_key_: str) -> bool:
        person_id = await self.session.scalar(
            select(PersonRow.id).where(PersonRow.aad_object_id == aad_object_id.lower())
        )
        agency_id = await self.session.scalar(
            select(AgencyRow.id).where(AgencyRow.key == agency_key_)
        )
        if person_id is None or agency_id is None:
            raise LookupError("unknown person or agency")
        exists = await self.session.get(MembershipRow, (person_id, agency_id))
        if exists is not None:
            return False
        self.session.add(MembershipRow(person_id=person_id, agency_id=agency_id))
        await self.session.flush()
        return True

    async def contacts_of(self, agency_key_: str) -> list[Person]:
        """The active contacts of an agency, each as a full Person."""
        aad_ids = await self.session.scalars(
            select(PersonRow.aad_object_id)
            .join(MembershipRow, MembershipRow.person_id == PersonRow.id)
            .join(AgencyRow, AgencyRow.id == MembershipRow.agency_id)
            .where(AgencyRow.key == agency_key_, PersonRow.active.is_(True))
            .order_by(PersonRow.id)
        )
        people = [await self.person(aad) for aad in aad_ids.all()]
        return [p for p in people if p is not None]

    async def coordinators(self) -> list[Person]:
        aad_ids = await self.session.scalars(
            select(PersonRow.aad_object_id)
            .where(PersonRow.is_coordinator.is_(True), PersonRow.active.is_(True))
            .order_by(PersonRow.id)
        )
        people = [await self.person(aad) for aad in aad_ids.all()]
        return [p for p in people if p is not None]

    # -- administration in Teams (bot/directory_admin.py) ---------------------------------

    async def agency_by_key(self, key: str) -> tuple[Agency, bool] | None:
        """The agency with this key, removed ones included, and whether it is active.

        Administration needs to tell "unknown" from "removed" (which ``agency add`` restores).
        """
        row = await self.session.scalar(select(AgencyRow).where(AgencyRow.key == key))
        if row is None:
            return None
        return Agency(row.id, row.key, row.name), row.active

    async def remove_agency(self, key: str) -> bool:
        """Deactivate an agency; True when it was active.

        The row stays so that cases which involve it keep their history, and its memberships
        stay so that restoring it (``upsert_agency``) brings its contacts back.
        """
        result = await self.session.execute(
            update(AgencyRow)
            .where(AgencyRow.key == key, AgencyRow.active.is_(True))
            .values(active=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def remove_membership(self, aad_object_id: str, agency_key_: str) -> bool:
        """Stop a person being a contact of an agency; True when they were one."""
        person_id = await self.session.scalar(
            select(PersonRow.id).where(PersonRow.aad_object_id == aad_object_id.lower())
        )
        agency_id = await self.session.scalar(
            select(AgencyRow.id).where(AgencyRow.key == agency_key_)
        )
        if person_id is None or agency_id is None:
            return False
        result = await self.session.execute(
            delete(MembershipRow).where(
                MembershipRow.person_id == person_id, MembershipRow.agency_id == agency_id
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def people_by_email(self, email: str) -> list[Person]:
        """Active people whose stored e-mail is this one, compared case-insensitively.

        A list, not one person: nothing stops two directory rows sharing an address, and the
        caller must not pick one of them by guesswork.
        """
        aad_ids = await self.session.scalars(
            select(PersonRow.aad_object_id)
            .where(
                func.lower(PersonRow.email) == email.strip().lower(),
                PersonRow.active.is_(True),
            )
            .order_by(PersonRow.id)
        )
        people = [await self.person(aad) for aad in aad_ids.all()]
        return [p for p in people if p is not None]

    async def deactivate_person(self, aad_object_id: str, at: datetime) -> bool:
        """Take someone out of the directory (they are then "not registered"); True if active.

        Used when their last role is removed; ``upsert_person`` brings them back.
        """
        result = await self.session.execute(
            update(PersonRow)
            .where(PersonRow.aad_object_id == aad_object_id.lower(), PersonRow.active.is_(True))
            .values(active=False, updated_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def lock_coordinators(self) -> list[str]:
        """The active coordinators' Entra object ids, locked until the transaction ends.

        Two coordinators removing each other at the same moment must not both pass the
        "not the last coordinator" check: on PostgreSQL the second waits here and then sees
        the first one's change. (SQLite has one writer at a time, and no FOR UPDATE.)
        """
        rows = await self.session.scalars(
            select(PersonRow.aad_object_id)
            .where(PersonRow.is_coordinator.is_(True), PersonRow.active.is_(True))
            .order_by(PersonRow.id)
            .with_for_update()
        )
        return list(rows.all())
