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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.delivery import agency_names, coordinators_for, enqueue, notice
from bot.domain.actions import ActionStatus
from bot.domain.cases import CaseView
from bot.domain.clock import LONDON, Clock
from bot.domain.lifecycle import CaseState
from bot.domain.reminders import ReminderKind, ReminderPlan, ReminderState, Schedule
from bot.ports import OutgoingMessage, ReminderItem, UnitOfWork, UnitOfWorkFactory
from cards.common import day
from cards.discussion import NEUTRAL as DISCUSSION_NEUTRAL
from cards.discussion import discussion_card

log = logging.getLogger(__name__)

DISCUSSION_CARD_KIND = "discussion"
ACTION_KINDS = (
    ReminderKind.ACTION_BEFORE,
    ReminderKind.ACTION_DUE,
    ReminderKind.ACTION_OVERDUE,
    ReminderKind.ACTION_ESCALATION,
)


@dataclass(frozen=True)
class Outgoing:
    """One message a reminder causes (to one person)."""

    recipient: str
    message: OutgoingMessage


@dataclass
class Effect:
    """What a due reminder does now: messages to queue and reminders to plan next."""

    messages: list[Outgoing] = field(default_factory=list)
    follow_ups: list[ReminderPlan] = field(default_factory=list)
    summary: str = ""


@dataclass
class SweepResult:
    sent: int = 0
    cancelled: int = 0
    dropped: int = 0
    skipped_outside_hours: bool = False


class _LeaseLost(Exception):
    """Our lease ran out mid-sweep and another replica has the reminder: change nothing."""


class ReminderSweep:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        clock: Clock,
        schedule: Schedule,
        on_outbox: object = None,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 200,
    ) -> None:
        self.units = units
        self.clock = clock
        self.schedule = schedule
        self.on_outbox = on_outbox if callable(on_outbox) else (lambda: None)
        self.lease = lease
        self.batch = batch
        self.owner = secrets.token_hex(8)

    async def run(self) -> SweepResult:
        """Send what is due now (never outside 08:00–18:00 on a working day)."""
        result = SweepResult()
        while True:
            # The time is read afresh for every batch: a long sweep must give late batches
            # a full lease, judge expiry now, and stop at 18:00.
            now = self.clock.now()
            if not self.schedule.can_send(now):
                result.skipped_outside_hours = True
                break
            async with self.units() as uow:
                items = await uow.reminders.claim_due(now, now + self.lease, self.owner, self.batch)
                await uow.commit()
            if not items:
                break  # nothing (more) due: follow-ups planned this sweep are claimed too
            for item in items:
                await self._process(item, self.clock.now(), result)
        if result.sent:
            self.on_outbox()
        return result

    async def _process(self, item: ReminderItem, now: datetime, result: SweepResult) -> None:
        try:
            async with self.units() as uow:
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
        calendar = self.schedule.calendar
        due_day = calendar.next_working_day(action.due)
        today = now.astimezone(LONDON).date()
        overdue = calendar.working_days_between(due_day, item.slot)
        while True:
            overdue += 2
            plan = self.schedule.overdue(case.id, action.id, due_day, overdue)
            if plan.slot >= today:
                return [plan]

    async def _finish(
        self, uow: UnitOfWork, item: ReminderItem, state: ReminderState, outcome: str, now: datetime
    ) -> None:
        if not await uow.reminders.finish(item.id, self.owner, state, outcome, now):
            raise _LeaseLost

    # -- what each kind of reminder says, if it is still relevant -----------------------------

    async def effect(self, uow: UnitOfWork, item: ReminderItem) -> Effect | None:
        """The messages the reminder would send now, or None if it no longer applies."""
        kind = item.kind
        if kind is ReminderKind.CONFERENCE_BEFORE or kind is ReminderKind.CONFERENCE_DAY:
            return await self._conference(uow, item)
        case = await uow.cases.by_id(item.case_id) if item.case_id else None
        if case is None or not case.state.is_open:
            return None
        if kind is ReminderKind.INFO_DUE:
            return await self._information_due(uow, item, case)
        if kind is ReminderKind.INFO_MISSING:
            return await self._information_missing(uow, case)
        if kind is ReminderKind.DISCUSSION:
            return await self._discussion(uow, case)
        if kind is ReminderKind.NO_CONFERENCE:
            return await self._no_conference(uow, case)
        return await self._action(uow, item, case)

    async def _to_coordinator(self, uow: UnitOfWork, case: CaseView, text: str) -> list[Outgoing]:
        chosen = await coordinators_for(uow, case.created_by)
        return [Outgoing(c.aad_object_id, notice(text)) for c in chosen]

    async def _information_due(
        self, uow: UnitOfWork, item: ReminderItem, case: CaseView
    ) -> Effect | None:
        request = await uow.cases.information_request(item.subject_id)
        if request is None or request.answered:
            return None
        contacts = await uow.directory.contacts_of(request.agency_key)
        late = self.clock.now().astimezone(LONDON).date() > request.due
        when = (
            f"was due by the end of {day(request.due)}"
            if late
            else f"is due by the end of today ({day(request.due)})"
        )
        text = (
            f"Your agency's information for {case.reference} {when}. Please answer the "
            "information request card."
        )
        return Effect(
            [Outgoing(c.aad_object_id, notice(text)) for c in contacts],
            summary=f"{len(contacts)} contacts",
        )

    async def _information_missing(self, uow: UnitOfWork, case: CaseView) -> Effect | None:
        missing = [r for r in await uow.cases.information_requests(case.id) if not r.answered]
        if not missing:
            return None
        names = await agency_names(uow)
        agencies = ", ".join(names.get(r.agency_key, r.agency_key) for r in missing)
        text = (
            f"Information returns for {case.reference} were due yesterday and "
            f"{len(missing)} are still missing: {agencies}."
        )
        return Effect(await self._to_coordinator(uow, case, text), summary=agencies)

    async def _discussion(self, uow: UnitOfWork, case: CaseView) -> Effect | None:
        if case.state is not CaseState.REFERRED:
            return None  # already recorded
        names = await agency_names(uow)
        messages: list[Outgoing] = []
        chosen = await coordinators_for(uow, case.created_by)
        for coordinator in chosen:
            token = await uow.tokens.issue(
                DISCUSSION_CARD_KIND, case.id, coordinator.aad_object_id, self.clock.now()
            )
            card = discussion_card(
                token,
                case.reference,
                case.deadlines.discussion,
                {k: names.get(k, k) for k in case.agencies},
            )
            messages.append(
                Outgoing(
                    coordinator.aad_object_id,
                    OutgoingMessage(card=card, summary=DISCUSSION_NEUTRAL),
                )
            )
        seen = {m.recipient for m in messages}
        text = (
            f"The case discussion for {case.reference} is today. Please be ready to share "
            "what your agency knows."
        )
        for key in case.agencies:
            for contact in await uow.directory.contacts_of(key):
                if contact.aad_object_id not in seen:
                    seen.add(contact.aad_object_id)
                    messages.append(Outgoing(contact.aad_object_id, notice(text)))
        return Effect(messages, summary=f"{len(messages)} people")

    async def _conference(self, uow: UnitOfWork, item: ReminderItem) -> Effect | None:
        meetings = [
            m for m in await uow.meetings.list_from(item.slot, 30) if m.id == item.subject_id
        ]
        if not meetings:
            return None
        meeting = meetings[0]
        cases = [c for c in await uow.cases.on_meeting(meeting.id) if c.state.is_open]
        if not cases:
            return None
        per_person: dict[str, list[str]] = defaultdict(list)
        for case in cases:
            for key in case.agencies:
                for contact in await uow.directory.contacts_of(key):
                    if case.reference not in per_person[contact.aad_object_id]:
                        per_person[contact.aad_object_id].append(case.reference)
        when = "today" if item.kind is ReminderKind.CONFERENCE_DAY else f"on {day(meeting.date)}"
        messages = [
            Outgoing(
                aad,
                notice(
                    f"MARAC conference {when}: your agency is involved in "
                    f"{len(refs)} case(s): {', '.join(refs)}."
                ),
            )
            for aad, refs in per_person.items()
        ]
        return Effect(messages, summary=f"{len(cases)} cases, {len(messages)} people")

    async def _no_conference(self, uow: UnitOfWork, case: CaseView) -> Effect | None:
        if case.heard_at is not None or not case.listing.breach:
            return None
        where = (
            f"It is listed at {day(case.listing.meeting_date)}, after the target"
            if case.listing.meeting_date
            else "It is not listed at any conference"
        )
        text = (
            f"No MARAC conference with capacity on or before {day(case.listing.target)} "
            f"for {case.reference} (the day-14 target). {where}. Add a conference with "
            "meeting add YYYY-MM-DD."
        )
        return Effect(await self._to_coordinator(uow, case, text), summary="coordinator")

    async def _action(self, uow: UnitOfWork, item: ReminderItem, case: CaseView) -> Effect | None:
        action = await uow.actions.by_id(item.subject_id)
        if (
            action is None
            or not action.agreed
            or action.status in (ActionStatus.DONE, ActionStatus.NOT_POSSIBLE)
        ):
            return None
        names = await agency_names(uow)
        agency = names.get(action.agency_key, action.agency_key)
        if item.kind is ReminderKind.ACTION_ESCALATION:
            text = (
                f"{agency}'s action on {case.reference} is 3 working days overdue (due "
                f"{day(action.due)}): {action.description}. It will be on the next agenda "
                "as outstanding."
            )
            return Effect(await self._to_coordinator(uow, case, text), summary="coordinator")
        due_day = self.schedule.calendar.next_working_day(action.due)
        follow_ups: list[ReminderPlan] = []
        if item.kind is ReminderKind.ACTION_BEFORE:
            lead = "is due tomorrow"
        elif item.kind is ReminderKind.ACTION_DUE:
            lead = "is due today"
        else:
            overdue = self.schedule.calendar.working_days_between(due_day, item.slot)
            lead = f"is {overdue} working day{'s' if overdue != 1 else ''} overdue"
            follow_ups.append(self.schedule.overdue(case.id, action.id, due_day, overdue + 2))
        contacts = await uow.directory.contacts_of(action.agency_key)
        text = (
            f"Your agency's action on {case.reference} {lead} ({day(action.due)}): "
            f"{action.description}. Please update the action card."
        )
        return Effect(
            [Outgoing(c.aad_object_id, notice(text)) for c in contacts],
            follow_ups,
            summary=f"{len(contacts)} contacts",
        )


async def cancel_reminders(
    uow: UnitOfWork, kinds: Sequence[ReminderKind], subject_id: int, reason: str, at: datetime
) -> None:
    await uow.reminders.cancel(kinds, subject_id, reason, at)


@dataclass(frozen=True)
class PreviewLine:
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
    async with sweep.units() as uow:
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
    return sweep.schedule.can_send(at), lines
