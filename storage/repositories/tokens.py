"""Single-use card-action tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ports import TokenInfo
from storage.models import (
    CardTokenRow,
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SqlCardTokens:
    """Tokens are random and stored only as a hash, so a database copy cannot forge a click."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(
        self,
        kind: str,
        subject_id: int | None,
        issued_to: str,
        at: datetime,
        version: int | None = None,
    ) -> str:
        token = secrets.token_urlsafe(24)
        self.session.add(
            CardTokenRow(
                token_hash=_hash(token),
                kind=kind,
                subject_id=subject_id,
                issued_to=issued_to,
                issued_at=at,
                version=version,
            )
        )
        await self.session.flush()
        return token

    async def peek(self, token: str) -> TokenInfo | None:
        row = await self.session.scalar(
            select(CardTokenRow).where(CardTokenRow.token_hash == _hash(token))
        )
        if row is None:
            return None
        return TokenInfo(
            row.kind,
            row.subject_id,
            row.issued_to,
            row.used_at is not None,
            row.outcome,
            row.version,
        )

    async def claim(self, token: str, used_by: str, at: datetime, outcome: str) -> bool:
        """Mark a token used; False if someone used it first (the row lock decides on PG)."""
        result = await self.session.execute(
            update(CardTokenRow)
            .where(CardTokenRow.token_hash == _hash(token), CardTokenRow.used_at.is_(None))
            .values(used_at=at, used_by=used_by, outcome=outcome)
        )
        return bool(getattr(result, "rowcount", 0) == 1)
