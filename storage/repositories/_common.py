"""Helpers shared by the repositories."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import CaseState

OPEN_STATES = [s.value for s in CaseState if s.is_open]


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"
