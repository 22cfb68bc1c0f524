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

from bot.domain.clock import LONDON
from bot.domain.errors import NotFound
from bot.domain.reminders import ReminderKind, ReminderState, has_lapsed
from bot.domain.wording import moment
from bot.ports import DatabaseUnavailable, ProactiveCards, ReminderItem, UnitOfWork
from bot.services.context import UseCaseContext
from bot.services.outbox import enqueue
from bot.services.reminder_messages import Effect, ReminderMessages, Skip

log = logging.getLogger(__name__)

DROPPED_EXPIRED = "reminder dropped: expired before it could be sent"
DROPPED_SUPERSEDED = "reminder dropped: a later one about the same item goes instead"


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
        self._paused = False

    async def run(self) -> SweepResult:
        """Send what is due now (never outside 08:00–18:00 on a working day). With the
        database out of reach it stops and says so once; the next tick picks up from there
        (what it had claimed comes back when the leases run out)."""
        result = SweepResult()
        try:
            await self._sweep(result)
        except DatabaseUnavailable:
            if not self._paused:
                log.warning("reminder sweep paused: the database cannot be reached")
            self._paused = True
            return result
        if self._paused:
            log.info("reminder sweep resumed: the database answers again")
            self._paused = False
        if result.sent:
            self.ctx.on_outbox()
        return result

    async def _sweep(self, result: SweepResult) -> None:
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
            self.ctx.fault("holding-reminder-claims")
            for item in items:
                await self._process(item, self.ctx.now(), result)

    async def effect(self, uow: UnitOfWork, item: ReminderItem) -> Effect | Skip:
        """The messages the reminder would send now, or why it no longer applies."""
        return await self.messages.effect(uow, item)

    async def _process(self, item: ReminderItem, now: datetime, result: SweepResult) -> None:
        try:
            async with self.ctx.units() as uow:
                if has_lapsed(item.kind, item.expires_at, now):
                    # After downtime: missed, and its moment has passed.
                    await self._finish(uow, item, ReminderState.DROPPED, "expired", now)
                    if item.kind is ReminderKind.CAPACITY_FORECAST:
                        # The weekly look goes on: next week's, counted from today.
                        today = now.astimezone(LONDON).date()
                        await uow.reminders.schedule(
                            [self.ctx.schedule.capacity_forecast(today)], now
                        )
                    log.info(DROPPED_EXPIRED, extra={"outcome": item.kind.value})
                    result.dropped += 1
                elif await uow.reminders.superseded(item, now):
                    # After downtime: a later one about the same thing is due too; it goes.
                    await self._finish(uow, item, ReminderState.DROPPED, "superseded", now)
                    log.info(DROPPED_SUPERSEDED, extra={"outcome": item.kind.value})
                    result.dropped += 1
                else:
                    effect = await self.effect(uow, item)
                    if isinstance(effect, Skip):
                        await self._finish(uow, item, ReminderState.CANCELLED, effect.why[:64], now)
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

    async def _finish(
        self, uow: UnitOfWork, item: ReminderItem, state: ReminderState, outcome: str, now: datetime
    ) -> None:
        if not await uow.reminders.finish(item.id, self.owner, state, outcome, now):
            raise _LeaseLost


EXPIRED = "expired before it could be sent"
SUPERSEDED = "a later reminder of the same kind about the same item goes instead"
# What the use cases store when they cancel reminders, as `reminders list` says it.
CANCELLED_BY = {
    "answered": "the agency answered",
    "recorded": "the case discussion was recorded",
    "done": "the action was done",
    "not_possible": "the action was not possible",
    "due date moved": "the action's due date moved",
    "withdrawn": "the action was withdrawn",
}
PURPOSE = {
    ReminderKind.INFO_DUE: "an agency's information return was due and not in",
    ReminderKind.INFO_MISSING: "information returns were missing after the due date",
    ReminderKind.DISCUSSION: "the case discussion was due and not recorded",
    ReminderKind.CONFERENCE_BEFORE: "the conference was two working days away",
    ReminderKind.CONFERENCE_DAY: "the conference was that day",
    ReminderKind.NO_CONFERENCE: "no conference had a free place by the day-14 target",
    ReminderKind.ACTION_BEFORE: "the action was due the next working day",
    ReminderKind.ACTION_DUE: "the action was due that day",
    ReminderKind.ACTION_OVERDUE: "the action was overdue",
    ReminderKind.ACTION_ESCALATION: "the action was 3 working days overdue",
}


@dataclass(frozen=True)
class PreviewLine:
    """One line of `marat reminders preview` or `list`: when, what, which case, what happens
    (or happened) to it, to whom (agency and display names, never case detail) and why."""

    due_at: datetime
    kind: ReminderKind
    case_reference: str | None
    verdict: str  # "send", "drop", "cancel"; for `list` the stored state
    to: str
    why: str


async def _line(
    sweep: ReminderSweep, uow: UnitOfWork, item: ReminderItem, at: datetime, reference: str | None
) -> PreviewLine:
    """What a sweep at ``at`` would do with a live reminder (in a unit of work rolled back)."""
    if has_lapsed(item.kind, item.expires_at, at):
        why = f"{EXPIRED} (it could go until {moment(item.expires_at)})"
        return PreviewLine(item.due_at, item.kind, reference, "drop", "", why)
    if await uow.reminders.superseded(item, at):
        return PreviewLine(item.due_at, item.kind, reference, "drop", "", SUPERSEDED)
    effect = await sweep.effect(uow, item)
    if isinstance(effect, Skip):
        return PreviewLine(item.due_at, item.kind, reference, "cancel", "", effect.why)
    return PreviewLine(item.due_at, item.kind, reference, "send", effect.to, effect.why)


async def preview(
    sweep: ReminderSweep, at: datetime, limit: int = 1000
) -> tuple[bool, list[PreviewLine]]:
    """What a sweep at ``at`` would do, from the database as it is now; writes nothing (every
    unit of work here is rolled back). Returns (sending allowed at ``at``, lines)."""
    lines: list[PreviewLine] = []
    async with sweep.ctx.units() as uow:
        for item in await uow.reminders.due_at(at, limit):
            case = await uow.cases.by_id(item.case_id) if item.case_id else None
            lines.append(await _line(sweep, uow, item, at, case.reference if case else None))
        # Never commit: previewing issues tokens and reads, and must leave no trace.
    return sweep.ctx.schedule.can_send(at), lines


async def case_reminders(sweep: ReminderSweep, reference: str) -> tuple[str, list[PreviewLine]]:
    """A case's reminders for `marat reminders list`: each with its state, who it went (or
    will go) to, and why it was sent, cancelled or dropped (or would be sent when due)."""
    lines: list[PreviewLine] = []
    async with sweep.ctx.units() as uow:
        case = await uow.cases.by_reference(reference)
        if case is None:
            raise NotFound(f"No case {reference.upper()}.")
        for item in await uow.reminders.for_case(case.id):
            lines.append(await _stored(sweep, uow, item, case.reference))
        # Never commit (as for preview).
    return case.reference, lines


async def _stored(
    sweep: ReminderSweep, uow: UnitOfWork, item: ReminderItem, reference: str
) -> PreviewLine:
    state = item.state.value
    if item.state is ReminderState.SENT:
        recipients = await uow.outbox.recipients(f"reminder:{item.key}:")
        people = [await uow.directory.person(aad) for aad in recipients]
        to = ", ".join(p.name if p else "a former contact" for p in people) or "nobody"
        return PreviewLine(item.due_at, item.kind, reference, state, to, PURPOSE[item.kind])
    if item.state is ReminderState.CANCELLED:
        why = CANCELLED_BY.get(item.outcome or "", item.outcome or "no longer relevant")
        return PreviewLine(item.due_at, item.kind, reference, state, "", why)
    if item.state is ReminderState.DROPPED:
        why = (
            SUPERSEDED if item.outcome == "superseded" else f"{EXPIRED} (missed while no sweep ran)"
        )
        return PreviewLine(item.due_at, item.kind, reference, state, "", why)
    # Pending or claimed: what it would do at its due time, as the database stands now.
    line = await _line(sweep, uow, item, max(item.due_at, sweep.ctx.now()), reference)
    verdict = {"send": "would be sent", "cancel": "would be cancelled", "drop": "would drop"}
    why = f"{verdict[line.verdict]}: {line.why}"
    return PreviewLine(item.due_at, item.kind, reference, state, line.to, why)
