"""Conference dates and their free places."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import Meeting
from bot.domain.deadlines import ConferenceSlot
from storage.models import (
    ListingRow,
    MeetingRow,
)
from storage.repositories._common import is_postgres


def _listed_count() -> Select[int | None, int]:
    return (
        select(ListingRow.meeting_id, func.count())
        .where(ListingRow.ended_at.is_(None), ListingRow.meeting_id.is_not(None))
        .group_by(ListingRow.meeting_id)
    )


class SqlMeetings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _with_counts(self, rows: Sequence[MeetingRow]) -> list[Meeting]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        result = await self.session.execute(_listed_count().where(ListingRow.meeting_id.in_(ids)))
        counts: dict[int | None, int] = {meeting: count for meeting, count in result.all()}
        return [Meeting(r.id, r.date, r.capacity, counts.get(r.id, 0)) for r in rows]

    async def add(self, day: date, capacity: int, actor: str, at: datetime) -> Meeting:
        row = await self.session.scalar(select(MeetingRow).where(MeetingRow.date == day))
        if row is None:
            row = MeetingRow(date=day, capacity=capacity, created_at=at, created_by=actor)
            self.session.add(row)
            await self.session.flush()
        else:
            row.capacity = capacity
        return (await self._with_counts([row]))[0]

    async def by_date(self, day: date) -> Meeting | None:
        row = await self.session.scalar(select(MeetingRow).where(MeetingRow.date == day))
        return (await self._with_counts([row]))[0] if row else None

    async def by_id(self, meeting_id: int) -> Meeting | None:
        row = await self.session.get(MeetingRow, meeting_id)
        return (await self._with_counts([row]))[0] if row else None

    async def next_on_or_after(self, day: date) -> Meeting | None:
        row = await self.session.scalar(
            select(MeetingRow).where(MeetingRow.date >= day).order_by(MeetingRow.date).limit(1)
        )
        return (await self._with_counts([row]))[0] if row else None

    async def list_from(self, day: date, limit: int) -> list[Meeting]:
        rows = (
            await self.session.scalars(
                select(MeetingRow)
                .where(MeetingRow.date >= day)
                .order_by(MeetingRow.date)
                .limit(limit)
            )
        ).all()
        return await self._with_counts(rows)

    async def slots_from(self, day: date) -> list[ConferenceSlot]:
        """Conferences from ``day`` with free places, locked against concurrent listing.

        On PostgreSQL the meeting rows are locked (FOR UPDATE) until commit, so two replicas
        cannot both take a conference's last place; SQLite serialises writers anyway.
        """
        query = select(MeetingRow).where(MeetingRow.date >= day).order_by(MeetingRow.date)
        if is_postgres(self.session):
            query = query.with_for_update()
        meetings = await self._with_counts((await self.session.scalars(query)).all())
        return [ConferenceSlot(m.id, m.date, m.free_places) for m in meetings]
