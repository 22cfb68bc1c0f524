"""The reminder sweep: what is due now is claimed, checked, and turned into outbox messages.

Every replica runs the sweep (scheduler/ticker.py); the database decides who sends what. A
claimed reminder is finished in one transaction with the messages it causes, and only while
our lease holds, so each reminder has its effect exactly once whatever the replicas, crashes
or downtime. Outbox keys derive from the reminder key, so even a replayed reminder cannot queue
a second copy.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.actions import ActionStatus
from bot.domain.clock import LONDON
from bot.domain.reminders import ReminderKind, ReminderPlan, ReminderState
from bot.ports import ProactiveCards, ReminderItem, UnitOfWork
from bot.services.context import UseCaseContext
from bot.services.outbox import enqueue
from bot.services.reminder_messages import Effect, ReminderMessages

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    """What one sweep did."""

    sent: int = 0
    cancelled: int = 0
    dropped: int = 0
    skipped_outside_hours: bool = False


class _LeaseLost(Exception):
    """Our lease ran out mid-sweep and another replica has the reminder: change nothing."""


class ReminderSweep:
    """One replica's sweep: ``run()`` sends what is due now (tests call it directly)."""

    def __init__(
        self,
        ctx: UseCaseContext,
        cards: ProactiveCards,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 200,
    ) -> None:
        self.ctx = ctx
        self.messages = ReminderMessages(ctx, cards)
        self.lease = lease
        self.batch = batch
        self.owner = secrets.token_hex(8)

    async def run(self) -> SweepResult:
        """Send what is due now (never outside 08:00–18:00 on a working day)."""
        result = SweepResult()
        while True:
            # The time is read afresh for every batch: a long sweep must give late batches
            # a full lease, judge expiry now, and stop at 18:00.
            now = self.ctx.now()
            if not self.ctx.schedule.can_send(now):
                result.skipped_outside_hours = True
                break
            async with self.ctx.units() as uow:
                items = await uow.reminders.claim_due(now, now + self.lease, self.owner, self.batch)
                await uow.commit()
            if not items:
                break  # nothing (more) due: follow-ups planned this sweep are claimed too
            for item in items:
                await self._process(item, self.ctx.now(), result)
        if result.sent:
            self.ctx.on_outbox()
        return result

    async def effect(self, uow: UnitOfWork, item: ReminderItem) -> Effect | None:
        """The messages the reminder would send now, or None if it no longer applies."""
        return await self.messages.effect(uow, item)

    async def _process(self, item: ReminderItem, now: datetime, result: SweepResult) -> None:
        try:
            async with self.ctx.units() as uow:
                if now >= item.expires_at:
                    await self._finish(uow, item, ReminderState.DROPPED, "expired", now)
                    # An overdue action's nudges go on after an outage: plan the next one.
                    await uow.reminders.schedule(await self._resume(uow, item, now), now)
                    # After downtime: missed and no longer worth sending.
                    log.info(
                        "reminder dropped: expired before it could be sent",
                        extra={"outcome": item.kind.value},
                    )
                    result.dropped += 1
                else:
                    effect = await self.effect(uow, item)
                    if effect is None:
                        await self._finish(
                            uow, item, ReminderState.CANCELLED, "no longer relevant", now
                        )
                        result.cancelled += 1
                    else:
                        for out in effect.messages:
                            await enqueue(
                                uow,
                                f"reminder:{item.key}:{out.recipient}",
                                out.recipient,
                                out.message,
                                now,
                                item.case_id,
                            )
                        await uow.reminders.schedule(effect.follow_ups, now)
                        await self._finish(
                            uow, item, ReminderState.SENT, f"{len(effect.messages)} messages", now
                        )
                        result.sent += 1
                await uow.commit()
        except _LeaseLost:
            log.warning("reminder lease lost to another replica; left to it")

    async def _resume(
        self, uow: UnitOfWork, item: ReminderItem, now: datetime
    ) -> list[ReminderPlan]:
        if item.kind is ReminderKind.CAPACITY_FORECAST:  # the weekly forecast goes on
            return [self.ctx.schedule.capacity_forecast(now.astimezone(LONDON).date())]
        if item.kind is not ReminderKind.ACTION_OVERDUE or item.case_id is None:
            return []
        action = await uow.actions.by_id(item.subject_id)
        case = await uow.cases.by_id(item.case_id)
        if (
            action is None
            or case is None
            or not case.state.is_open
            or action.status in (ActionStatus.DONE, ActionStatus.NOT_POSSIBLE)
        ):
            return []
        calendar = self.ctx.calendar
        due_day = calendar.next_working_day(action.due)
        today = now.astimezone(LONDON).date()
        overdue = calendar.working_days_between(due_day, item.slot)
        while True:
            overdue += 2
            plan = self.ctx.schedule.overdue(case.id, action.id, due_day, overdue)
            if plan.slot >= today:
                return [plan]

    async def _finish(
        self, uow: UnitOfWork, item: ReminderItem, state: ReminderState, outcome: str, now: datetime
    ) -> None:
        if not await uow.reminders.finish(item.id, self.owner, state, outcome, now):
            raise _LeaseLost


@dataclass(frozen=True)
class PreviewLine:
    """One line of `marat reminders preview`."""

    due_at: datetime
    kind: ReminderKind
    case_reference: str | None
    verdict: str  # "send", "drop (expired)", "cancel (no longer relevant)"
    recipients: int
    summary: str


async def preview(
    sweep: ReminderSweep, at: datetime, limit: int = 1000
) -> tuple[bool, list[PreviewLine]]:
    """What a sweep at ``at`` would do, from the database as it is now; writes nothing (every
    unit of work here is rolled back). Returns (sending allowed at ``at``, lines)."""
    lines: list[PreviewLine] = []
    async with sweep.ctx.units() as uow:
        items = await uow.reminders.due_at(at, limit)
        for item in items:
            case = await uow.cases.by_id(item.case_id) if item.case_id else None
            reference = case.reference if case else None
            if at >= item.expires_at:
                lines.append(
                    PreviewLine(item.due_at, item.kind, reference, "drop (expired)", 0, "")
                )
                continue
            effect = await sweep.effect(uow, item)
            if effect is None:
                lines.append(
                    PreviewLine(
                        item.due_at, item.kind, reference, "cancel (no longer relevant)", 0, ""
                    )
                )
            else:
                lines.append(
                    PreviewLine(
                        item.due_at,
                        item.kind,
                        reference,
                        "send",
                        len(effect.messages),
                        effect.summary,
                    )
                )
        # Never commit: previewing issues tokens and reads, and must leave no trace.
    return sweep.ctx.schedule.can_send(at), lines
