"""The audit trail."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.ports import AuditEvent
from storage.models import (
    AuditRow,
)


class SqlAudit:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, event: AuditEvent) -> None:
        self.session.add(
            AuditRow(
                at=event.at,
                actor=event.actor,
                role=event.role,
                action=event.action,
                case_id=event.case_id,
                outcome=event.outcome,
                correlation_id=event.correlation_id,
            )
        )
