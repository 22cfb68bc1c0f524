"""Conversation references: where each person's 1:1 chat is, and the teams the app is in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ports import Address, TeamAddress
from storage.models import ConversationRefRow, TeamInstallationRow


class SqlAddressBook:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save_personal(self, address: Address, at: datetime) -> bool:
        """Insert or refresh; True when the person had no 1:1 chat on record before."""
        aad = address.aad_object_id.lower()
        row = await self.session.scalar(
            select(ConversationRefRow).where(ConversationRefRow.aad_object_id == aad)
        )
        created = row is None
        if row is None:
            row = ConversationRefRow(aad_object_id=aad)
            self.session.add(row)
        row.tenant_id = address.tenant_id
        row.user_id = address.user_id
        row.conversation_id = address.conversation_id
        row.service_url = address.service_url
        row.bot_id = address.bot_id
        row.channel_id = address.channel_id
        row.updated_at = at
        await self.session.flush()
        return created

    async def personal(self, aad_object_id: str) -> Address | None:
        row = await self.session.scalar(
            select(ConversationRefRow).where(
                ConversationRefRow.aad_object_id == aad_object_id.lower()
            )
        )
        if row is None:
            return None
        return Address(
            row.aad_object_id,
            row.tenant_id,
            row.user_id,
            row.conversation_id,
            row.service_url,
            row.bot_id,
            row.channel_id,
        )

    async def save_team(self, team: TeamAddress, at: datetime) -> None:
        row = await self.session.scalar(
            select(TeamInstallationRow).where(TeamInstallationRow.team_id == team.team_id)
        )
        if row is None:
            row = TeamInstallationRow(team_id=team.team_id, installed_at=at)
            self.session.add(row)
        row.tenant_id = team.tenant_id
        row.service_url = team.service_url
        row.bot_id = team.bot_id
        row.removed_at = None
        await self.session.flush()

    async def remove_team(self, team_id: str, at: datetime) -> None:
        row = await self.session.scalar(
            select(TeamInstallationRow).where(TeamInstallationRow.team_id == team_id)
        )
        if row is not None:
            row.removed_at = at

    async def teams(self, tenant_id: str | None) -> list[TeamAddress]:
        query = select(TeamInstallationRow).where(TeamInstallationRow.removed_at.is_(None))
        if tenant_id:
            query = query.where(TeamInstallationRow.tenant_id == tenant_id)
        rows = await self.session.scalars(query.order_by(TeamInstallationRow.id))
        return [TeamAddress(r.team_id, r.tenant_id, r.service_url, r.bot_id) for r in rows]
