"""A case's safety-plan actions and their update history."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.actions import (
    Action,
    ActionDraft,
    ActionStatus,
    ActionUpdate,
    Amendment,
    AmendmentKind,
)
from bot.domain.clock import LONDON
from storage.models import (
    ActionAmendmentRow,
    ActionRow,
    ActionUpdateRow,
    AgencyRow,
    CaseAgencyRow,
    CaseRow,
)
from storage.repositories._common import OPEN_STATES


class SqlActions:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _actions(self, *where: Any) -> list[Action]:
        rows = await self.session.execute(
            select(ActionRow, AgencyRow.key, CaseRow.reference)
            .join(AgencyRow, AgencyRow.id == ActionRow.agency_id)
            .join(CaseRow, CaseRow.id == ActionRow.case_id)
            .where(*where)
            .order_by(ActionRow.due_date, ActionRow.id)
        )
        return [
            Action(
                r.id,
                r.case_id,
                reference,
                key,
                r.description,
                r.due_date,
                r.perpetrator_focused,
                ActionStatus(r.status),
                r.note,
                r.updated_by,
                r.updated_at,
                r.agreed_at is not None,
            )
            for r, key, reference in rows.all()
        ]

    async def plan_version(self, case_id: int) -> int:
        version = await self.session.scalar(
            select(CaseRow.plan_version).where(CaseRow.id == case_id)
        )
        return int(version or 0)

    async def bump_plan_version(self, case_id: int, expected: int) -> bool:
        """Compare-and-set: False if someone changed the plan since ``expected`` was read."""
        result = await self.session.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id, CaseRow.plan_version == expected)
            .values(plan_version=CaseRow.plan_version + 1)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def _involve(self, case_id: int, agency_key: str) -> int:
        """The agency's id, made involved in the case: the agency that will act must be able
        to see it (need to know)."""
        agency_id = await self.session.scalar(
            select(AgencyRow.id).where(AgencyRow.key == agency_key)
        )
        if agency_id is None:
            raise LookupError("unknown agency")
        if await self.session.get(CaseAgencyRow, (case_id, agency_id)) is None:
            self.session.add(CaseAgencyRow(case_id=case_id, agency_id=agency_id))
        return agency_id

    async def add(
        self, case_id: int, draft: ActionDraft, by: str, at: datetime, agreed: bool = False
    ) -> int:
        agency_id = await self._involve(case_id, draft.agency_key)
        row = ActionRow(
            case_id=case_id,
            agency_id=agency_id,
            description=draft.description,
            due_date=draft.due,
            perpetrator_focused=draft.perpetrator_focused,
            status=ActionStatus.OPEN.value,
            created_by=by,
            created_at=at,
            agreed_at=at if agreed else None,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def remove_draft(self, action_id: int) -> bool:
        """Remove an action of a plan not yet agreed (agreed actions are updated instead)."""
        row = await self.session.get(ActionRow, action_id)
        if row is None or row.agreed_at is not None:
            return False
        await self.session.delete(row)
        await self.session.flush()
        return True

    async def for_case(self, case_id: int) -> list[Action]:
        return await self._actions(ActionRow.case_id == case_id)

    async def by_id(self, action_id: int) -> Action | None:
        found = await self._actions(ActionRow.id == action_id)
        return found[0] if found else None

    async def agree(self, case_id: int, at: datetime) -> None:
        await self.session.execute(
            update(ActionRow)
            .where(ActionRow.case_id == case_id, ActionRow.agreed_at.is_(None))
            .values(agreed_at=at, agreed_on=at.astimezone(LONDON).date())
        )

    async def record_update(
        self, action_id: int, change: ActionUpdate, by: str, at: datetime
    ) -> None:
        await self.session.execute(
            update(ActionRow)
            .where(ActionRow.id == action_id)
            .values(
                status=change.status.value,
                note=change.note,
                updated_by=by,
                updated_at=at,
                closed_on=at.astimezone(LONDON).date() if change.status.is_closed else None,
            )
        )
        self.session.add(
            ActionUpdateRow(
                action_id=action_id, status=change.status.value, note=change.note, by=by, at=at
            )
        )
        await self.session.flush()

    async def open_agreed(
        self, agency_keys: Collection[str] | None = None, due_before: date | None = None
    ) -> list[Action]:
        """Agreed actions not done or ruled out; optionally of some agencies, or overdue."""
        where: list[Any] = [
            ActionRow.agreed_at.is_not(None),
            # A closed or withdrawn case's actions are no longer anyone's to do.
            CaseRow.state.in_(OPEN_STATES),
            ActionRow.status.in_([ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value]),
        ]
        if agency_keys is not None:
            where.append(AgencyRow.key.in_(list(agency_keys)))
        if due_before is not None:
            where.append(ActionRow.due_date < due_before)
        return await self._actions(*where)

    async def change(self, action_id: int, due: date, agency_key: str) -> None:
        """Move an agreed action's due date and/or give it to another agency (involved)."""
        row = await self.session.get(ActionRow, action_id)
        if row is None:
            raise LookupError("unknown action")
        row.agency_id = await self._involve(row.case_id, agency_key)
        row.due_date = due
        await self.session.flush()

    async def withdraw(self, action_id: int, reason: str, by: str, at: datetime) -> None:
        """The coordinator withdrew the action: closed, with the reason as its note."""
        await self.record_update(action_id, ActionUpdate(ActionStatus.WITHDRAWN, reason), by, at)

    async def record_amendment(self, case_id: int, amendment: Amendment) -> None:
        self.session.add(
            ActionAmendmentRow(
                action_id=amendment.action_id,
                case_id=case_id,
                kind=amendment.kind.value,
                before=amendment.before,
                after=amendment.after,
                reason=amendment.reason,
                by=amendment.by,
                at=amendment.at,
            )
        )
        await self.session.flush()

    async def amendments(self, case_id: int) -> list[Amendment]:
        rows = await self.session.scalars(
            select(ActionAmendmentRow)
            .where(ActionAmendmentRow.case_id == case_id)
            .order_by(ActionAmendmentRow.at, ActionAmendmentRow.id)
        )
        return [
            Amendment(r.action_id, AmendmentKind(r.kind), r.before, r.after, r.reason, r.by, r.at)
            for r in rows
        ]
