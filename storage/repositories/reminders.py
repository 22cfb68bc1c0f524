"""Reminders: created with the event that implies them, claimed by the sweep when due.

The claim takes due live rows (pending, or claimed under a lease that has run out) through
the partial index on ``due_at``; on PostgreSQL with FOR UPDATE SKIP LOCKED, so replicas claim
disjoint rows. Finishing a row checks that the lease is still ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.reminders import ReminderKind, ReminderPlan, ReminderState
from bot.ports import ReminderItem
from storage.models import ReminderRow
from storage.repositories._common import is_postgres

LIVE = (ReminderState.PENDING.value, ReminderState.CLAIMED.value)
LIVE_SQL = "reminders.state IN ('pending', 'claimed')"


def _item(row: ReminderRow) -> ReminderItem:
    return ReminderItem(
        row.id,
        row.key,
        ReminderKind(row.kind),
        row.case_id,
        row.subject_id,
        row.slot,
        row.due_at,
        row.expires_at,
        ReminderState(row.state),
        row.outcome,
    )


class SqlReminders:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedule(self, plans: Sequence[ReminderPlan], at: datetime) -> int:
        """Create the reminders that do not exist yet (by key); returns how many were new."""
        if not plans:
            return 0
        dialect_insert = pg_insert if is_postgres(self.session) else sqlite_insert
        statement = (
            dialect_insert(ReminderRow)
            .values(
                [
                    {
                        "key": p.key,
                        "kind": p.kind.value,
                        "case_id": p.case_id,
                        "subject_id": p.subject_id,
                        "slot": p.slot,
                        "due_at": p.due_at,
                        "expires_at": p.expires_at,
                        "state": ReminderState.PENDING.value,
                        "created_at": at,
                    }
                    for p in plans
                ]
            )
            .on_conflict_do_nothing(index_elements=[ReminderRow.key])
            .returning(ReminderRow.id)
        )
        return len((await self.session.execute(statement)).all())

    def _due(self, now: datetime) -> list[object]:
        return [
            # Literal, to match the partial index's predicate whatever plan PostgreSQL picks
            # for the prepared statement (a bound parameter would not prove it).
            text(LIVE_SQL),
            ReminderRow.due_at <= now,
            or_(
                ReminderRow.state == ReminderState.PENDING.value,
                and_(
                    ReminderRow.state == ReminderState.CLAIMED.value, ReminderRow.lease_until <= now
                ),
            ),
        ]

    async def claim_due(
        self, now: datetime, lease_until: datetime, owner: str, limit: int
    ) -> list[ReminderItem]:
        query = (
            select(ReminderRow)
            .where(*self._due(now))  # type: ignore[arg-type]
            .order_by(ReminderRow.due_at, ReminderRow.id)
            .limit(limit)
        )
        if is_postgres(self.session):
            query = query.with_for_update(skip_locked=True)
        rows = (await self.session.scalars(query)).all()
        if rows:
            await self.session.execute(
                update(ReminderRow)
                .where(ReminderRow.id.in_([r.id for r in rows]))
                .values(
                    state=ReminderState.CLAIMED.value, lease_until=lease_until, lease_owner=owner
                )
            )
        return [_item(r) for r in rows]

    async def finish(
        self, reminder_id: int, owner: str, state: ReminderState, outcome: str, at: datetime
    ) -> bool:
        """Close a claimed reminder; False if our lease ran out and someone else has it."""
        result = await self.session.execute(
            update(ReminderRow)
            .where(
                ReminderRow.id == reminder_id,
                ReminderRow.state == ReminderState.CLAIMED.value,
                ReminderRow.lease_owner == owner,
            )
            .values(state=state.value, outcome=outcome, done_at=at, lease_until=None)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def superseded(self, item: ReminderItem, now: datetime) -> bool:
        """Whether a later reminder of the same kind about the same subject is due by ``now``
        (live or already sent): then a missed earlier one is not worth a message of its own."""
        later = await self.session.scalar(
            select(ReminderRow.id)
            .where(
                ReminderRow.kind == item.kind.value,
                ReminderRow.subject_id == item.subject_id,
                ReminderRow.slot > item.slot,
                ReminderRow.due_at <= now,
                ReminderRow.state.in_([*LIVE, ReminderState.SENT.value]),
            )
            .limit(1)
        )
        return later is not None

    async def cancel(
        self, kinds: Sequence[ReminderKind], subject_id: int, reason: str, at: datetime
    ) -> int:
        """Answering, agreeing or closing makes some reminders pointless: cancel them."""
        result = await self.session.execute(
            update(ReminderRow)
            .where(
                ReminderRow.kind.in_([k.value for k in kinds]),
                ReminderRow.subject_id == subject_id,
                ReminderRow.state == ReminderState.PENDING.value,
            )
            .values(state=ReminderState.CANCELLED.value, outcome=reason, done_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def reschedule(self, plans: Sequence[ReminderPlan], at: datetime) -> int:
        """Plan reminders again after their subject moved: a cancelled row with the same key
        (an action moved back to an earlier due date) comes back to life; the rest are new."""
        revived = 0
        for plan in plans:
            result = await self.session.execute(
                update(ReminderRow)
                .where(
                    ReminderRow.key == plan.key,
                    ReminderRow.state == ReminderState.CANCELLED.value,
                )
                .values(
                    state=ReminderState.PENDING.value,
                    due_at=plan.due_at,
                    expires_at=plan.expires_at,
                    outcome=None,
                    done_at=None,
                )
            )
            revived += int(getattr(result, "rowcount", 0) or 0)
        return revived + await self.schedule(plans, at)

    async def cancel_case(self, case_id: int, reason: str, at: datetime) -> int:
        """Every pending reminder of a case that has been closed or withdrawn."""
        result = await self.session.execute(
            update(ReminderRow)
            .where(
                ReminderRow.case_id == case_id,
                ReminderRow.state == ReminderState.PENDING.value,
            )
            .values(state=ReminderState.CANCELLED.value, outcome=reason, done_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def for_case(self, case_id: int) -> list[ReminderItem]:
        rows = await self.session.scalars(
            select(ReminderRow)
            .where(ReminderRow.case_id == case_id)
            .order_by(ReminderRow.due_at, ReminderRow.id)
        )
        return [_item(r) for r in rows]

    async def for_subject(
        self, kinds: Sequence[ReminderKind], subject_id: int
    ) -> list[ReminderItem]:
        rows = await self.session.scalars(
            select(ReminderRow)
            .where(
                ReminderRow.kind.in_([k.value for k in kinds]), ReminderRow.subject_id == subject_id
            )
            .order_by(ReminderRow.due_at, ReminderRow.id)
        )
        return [_item(r) for r in rows]

    async def due_at(self, at: datetime, limit: int) -> list[ReminderItem]:
        """What a sweep at ``at`` would consider (for `marat reminders preview`), including
        rows a crashed replica left claimed whose lease has run out; no lock, no change."""
        rows = await self.session.scalars(
            select(ReminderRow)
            .where(*self._due(at))  # type: ignore[arg-type]
            .order_by(ReminderRow.due_at, ReminderRow.id)
            .limit(limit)
        )
        return [_item(r) for r in rows]
