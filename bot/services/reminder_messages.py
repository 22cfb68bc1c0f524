"""What each kind of reminder says, if it is still relevant when it falls due
(PRODUCT.md section 5): the messages it causes and the reminders it plans next."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bot.domain.actions import ActionStatus
from bot.domain.cases import CaseView
from bot.domain.clock import LONDON
from bot.domain.delivery import OutgoingMessage
from bot.domain.lifecycle import CaseState
from bot.domain.reminders import ReminderKind, ReminderPlan
from bot.domain.wording import day
from bot.ports import ProactiveCards, ReminderItem, UnitOfWork
from bot.services.capacity import CapacityPlanner
from bot.services.context import UseCaseContext
from bot.services.discussion import DISCUSSION_CARD
from bot.services.outbox import agency_names, coordinators_for, notice


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


class ReminderMessages:
    """Turns a due reminder into its messages, from the database as it is now."""

    def __init__(self, ctx: UseCaseContext, cards: ProactiveCards) -> None:
        self.ctx = ctx
        self.cards = cards
        self.capacity = CapacityPlanner(ctx)

    async def effect(self, uow: UnitOfWork, item: ReminderItem) -> Effect | None:
        """The messages the reminder would send now, or None if it no longer applies."""
        kind = item.kind
        if kind is ReminderKind.CONFERENCE_BEFORE or kind is ReminderKind.CONFERENCE_DAY:
            return await self._conference(uow, item)
        if kind is ReminderKind.CAPACITY_FORECAST:
            return await self._capacity(uow, item)
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
        late = self.ctx.now().astimezone(LONDON).date() > request.due
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
            token = await DISCUSSION_CARD.issue(
                uow, case.id, coordinator.aad_object_id, self.ctx.now()
            )
            card = self.cards.discussion(
                token,
                case.reference,
                case.deadlines.discussion,
                {k: names.get(k, k) for k in case.agencies},
            )
            messages.append(Outgoing(coordinator.aad_object_id, card))
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

    async def _capacity(self, uow: UnitOfWork, item: ReminderItem) -> Effect:
        """Each week: warn the coordinators if the next 4 weeks' calendar is likely to miss
        the target, and plan next week's look either way."""
        effect = Effect(follow_ups=[self.ctx.schedule.capacity_forecast(item.slot)])
        warning = await self.capacity.warning(uow, item.slot)
        if warning is None:
            effect.summary = "no miss likely"
            return effect
        effect.messages = [
            Outgoing(c.aad_object_id, notice(warning.text))
            for c in await uow.directory.coordinators()
        ]
        effect.summary = f"coordinators, miss likely by {warning.forecast.first_breach}"
        return effect

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
        due_day = self.ctx.calendar.next_working_day(action.due)
        follow_ups: list[ReminderPlan] = []
        if item.kind is ReminderKind.ACTION_BEFORE:
            lead = "is due tomorrow"
        elif item.kind is ReminderKind.ACTION_DUE:
            lead = "is due today"
        else:
            overdue = self.ctx.calendar.working_days_between(due_day, item.slot)
            lead = f"is {overdue} working day{'s' if overdue != 1 else ''} overdue"
            follow_ups.append(self.ctx.schedule.overdue(case.id, action.id, due_day, overdue + 2))
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
