"""The outbox: proactive messages written with the change that causes them, then delivered.

Rows are claimed with a lease. On PostgreSQL the claim uses FOR UPDATE SKIP LOCKED, so
replicas never claim the same row; a sender that dies leaves rows that become due again when
the lease runs out. Delivered, failed and unreachable rows keep no message content (data
minimisation: the card held case data only until it was delivered).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ports import OutboxItem
from storage.models import OutboxRow
from storage.repositories._common import is_postgres

PENDING = "pending"
SENT = "sent"
SCRUBBED = "{}"


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        key: str,
        recipient: str,
        kind: str,
        payload: str,
        at: datetime,
        case_id: int | None = None,
        replaces_key: str | None = None,
    ) -> bool:
        """Add a message unless one with this key exists (then False: nothing changes)."""
        dialect_insert = pg_insert if is_postgres(self.session) else sqlite_insert
        statement = (
            dialect_insert(OutboxRow)
            .values(
                key=key,
                recipient=recipient.lower(),
                kind=kind,
                payload=payload,
                replaces_key=replaces_key,
                case_id=case_id,
                status=PENDING,
                attempts=0,
                next_attempt_at=at,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=[OutboxRow.key])
            .returning(OutboxRow.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int, owner: str = "-"
    ) -> list[OutboxItem]:
        query = (
            select(OutboxRow)
            .where(
                OutboxRow.status == PENDING,
                OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until <= now),
            )
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        if is_postgres(self.session):
            query = query.with_for_update(skip_locked=True)
        rows = (await self.session.scalars(query)).all()
        for row in rows:
            row.lease_until = lease_until
            row.lease_owner = owner
        await self.session.flush()
        return [
            OutboxItem(
                r.id, r.key, r.recipient, r.kind, r.payload, r.replaces_key, r.case_id, r.attempts
            )
            for r in rows
        ]

    async def renew(self, item_id: int, owner: str, lease_until: datetime) -> bool:
        """Extend our lease on a row just before sending it; False if it is no longer ours
        (our sweep outlasted the lease and another sender took the row over)."""
        result = await self.session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == item_id,
                OutboxRow.status == PENDING,
                OutboxRow.lease_owner == owner,
            )
            .values(lease_until=lease_until)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def payload(self, item_id: int) -> str | None:
        return await self.session.scalar(select(OutboxRow.payload).where(OutboxRow.id == item_id))

    async def sent(self, key: str) -> tuple[str, str] | None:
        """(conversation id, activity id) of a delivered message, for updating it later."""
        row = await self.session.scalar(select(OutboxRow).where(OutboxRow.key == key))
        if row is None or row.status != SENT or not row.activity_id or not row.conversation_id:
            return None
        return row.conversation_id, row.activity_id

    async def status(self, key: str) -> str | None:
        return await self.session.scalar(select(OutboxRow.status).where(OutboxRow.key == key))

    async def replace_pending_payload(self, key: str, payload: str) -> bool:
        """Change a message that has not gone yet (so it goes out already up to date)."""
        result = await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.key == key, OutboxRow.status == PENDING)
            .values(payload=payload)
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_sent(
        self,
        item_id: int,
        conversation_id: str,
        activity_id: str | None,
        status: int,
        at: datetime,
    ) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(
                status=SENT,
                conversation_id=conversation_id,
                activity_id=activity_id,
                last_status=status,
                attempts=OutboxRow.attempts + 1,
                sent_at=at,
                lease_until=None,
                payload=SCRUBBED,
            )
        )

    async def mark_retry(
        self, item_id: int, next_attempt_at: datetime, status: int | None, count_attempt: bool
    ) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(
                next_attempt_at=next_attempt_at,
                last_status=status,
                lease_until=None,
                attempts=OutboxRow.attempts + (1 if count_attempt else 0),
            )
        )

    async def mark_failed(
        self, item_id: int, final_status: str, status: int | None, at: datetime
    ) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(
                status=final_status,
                last_status=status,
                lease_until=None,
                attempts=OutboxRow.attempts + 1,
                sent_at=None,
                payload=SCRUBBED,
            )
        )

    async def delivery_states(self, case_id: int) -> dict[str, str]:
        """Per recipient, the state of the case's messages to them (worst state wins)."""
        rank = {"unreachable": 4, "failed": 3, PENDING: 2, SENT: 1}
        states: dict[str, str] = {}
        rows = await self.session.execute(
            select(OutboxRow.recipient, OutboxRow.status).where(
                OutboxRow.case_id == case_id, OutboxRow.kind == "card"
            )
        )
        for recipient, state in rows.all():
            if rank.get(state, 0) > rank.get(states.get(recipient, ""), 0):
                states[recipient] = state
        return states

    async def recipients(self, key_prefix: str) -> dict[str, str]:
        """Who the messages whose key starts with ``key_prefix`` are for, and their delivery
        state (e.g. every message one reminder caused)."""
        pattern = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.session.execute(
            select(OutboxRow.recipient, OutboxRow.status)
            .where(OutboxRow.key.like(pattern + "%", escape="\\"))
            .order_by(OutboxRow.id)
        )
        return {recipient: state for recipient, state in rows.all()}
