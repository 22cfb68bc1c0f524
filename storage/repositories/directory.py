"""Agencies, people and their roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
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

    async def agencies(self) -> list[Agency]:
        rows = await self.session.scalars(
            select(AgencyRow).where(AgencyRow.active.is_(True)).order_by(AgencyRow.id)
        )
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
