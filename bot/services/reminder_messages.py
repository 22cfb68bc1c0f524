"""What each kind of reminder says, if it is still relevant when it falls due
(PRODUCT.md section 5): the messages it causes, who they go to and why, and the reminders it
plans next; or why it no longer applies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.domain.actions import STATUS_LABELS
from bot.domain.cases import CaseView
from bot.domain.clock import LONDON
from bot.domain.delivery import OutgoingMessage
from bot.domain.directory import Person
from bot.domain.lifecycle import CaseState
from bot.domain.reminders import ReminderKind, ReminderPlan
from bot.domain.wording import day, plural, verb
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
    """What a due reminder does now: messages to queue and reminders to plan next; ``to``
    names the recipients (agency and display names, never case detail) and ``why`` says why
    it goes, for `marat reminders preview|list`."""

    messages: list[Outgoing] = field(default_factory=list)
    follow_ups: list[ReminderPlan] = field(default_factory=list)
    to: str = ""
    why: str = ""


@dataclass(frozen=True)
class Skip:
    """The reminder no longer applies, and why (short: it is stored as its outcome)."""

    why: str


def names(people: Sequence[Person]) -> str:
    """Display names, in order, once each ('nobody' if there is no one)."""
    return ", ".join(dict.fromkeys(p.name for p in people)) or "nobody"


class ReminderMessages:
    """Turns a due reminder into its messages, from the database as it is now."""

    def __init__(self, ctx: UseCaseContext, cards: ProactiveCards) -> None:
        self.ctx = ctx
        self.cards = cards
        self.capacity = CapacityPlanner(ctx)

    async def effect(self, uow: UnitOfWork, item: ReminderItem) -> Effect | Skip:
        """The messages the reminder would send now, or why it no longer applies."""
        kind = item.kind
        if kind is ReminderKind.CONFERENCE_BEFORE or kind is ReminderKind.CONFERENCE_DAY:
            return await self._conference(uow, item)
        if kind is ReminderKind.CAPACITY_FORECAST:
            return await self._capacity(uow, item)
        case = await uow.cases.by_id(item.case_id) if item.case_id else None
        if case is None:
            return Skip("the case is gone")
        if not case.state.is_open:
            return Skip(f"the case is {case.state.value}")
        if kind is ReminderKind.INFO_DUE:
            return await self._information_due(uow, item, case)
        if kind is ReminderKind.INFO_MISSING:
            return await self._information_missing(uow, case)
        if kind is ReminderKind.DISCUSSION:
            return await self._discussion(uow, case)
        if kind is ReminderKind.NO_CONFERENCE:
            return await self._no_conference(uow, case)
        return await self._action(uow, item, case)

    async def _to_coordinator(self, uow: UnitOfWork, case: CaseView, text: str, why: str) -> Effect:
        chosen = await coordinators_for(uow, case.created_by)
        return Effect(
            [Outgoing(c.aad_object_id, notice(text)) for c in chosen],
            to=f"coordinator: {names(chosen)}",
            why=why,
        )

    async def _information_due(
        self, uow: UnitOfWork, item: ReminderItem, case: CaseView
    ) -> Effect | Skip:
        request = await uow.cases.information_request(item.subject_id)
        if request is None:
            return Skip("the request is gone")
        agency = (await agency_names(uow)).get(request.agency_key, request.agency_key)
        if request.answered:
            return Skip(f"{agency} has answered")
        if case.heard_at is not None:
            return Skip("the conference it was for has been held")
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
            to=f"{agency}: {names(contacts)}",
            why=f"{agency}'s information is due by the end of {day(request.due)} and not in",
        )

    async def _information_missing(self, uow: UnitOfWork, case: CaseView) -> Effect | Skip:
        requests = await uow.cases.information_requests(case.id)
        missing = [r for r in requests if not r.answered]
        if not missing:
            return Skip("every information return is in")
        if case.heard_at is not None:
            return Skip("the conference it was for has been held")
        agency_name = await agency_names(uow)
        agencies = ", ".join(agency_name.get(r.agency_key, r.agency_key) for r in missing)
        count = len(missing)
        text = (
            f"Information returns for {case.reference} were due by the end of "
            f"{day(missing[0].due)} and {count} {verb(count, 'is', 'are')} still missing: "
            f"{agencies}."
        )
        why = f"{plural(count, 'information return')} of {len(requests)} missing: {agencies}"
        return await self._to_coordinator(uow, case, text, why)

    async def _discussion(self, uow: UnitOfWork, case: CaseView) -> Effect | Skip:
        if case.state is not CaseState.REFERRED:
            return Skip("the case discussion is recorded")
        agency_name = await agency_names(uow)
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
                {k: agency_name.get(k, k) for k in case.agencies},
            )
            messages.append(Outgoing(coordinator.aad_object_id, card))
        seen = {m.recipient for m in messages}
        text = (
            f"The case discussion for {case.reference} is today. Please be ready to share "
            "what your agency knows."
        )
        groups = [f"coordinator (with the discussion card): {names(chosen)}"]
        for key in case.agencies:
            contacts = await uow.directory.contacts_of(key)
            groups.append(f"{agency_name.get(key, key)}: {names(contacts)}")
            for contact in contacts:
                if contact.aad_object_id not in seen:
                    seen.add(contact.aad_object_id)
                    messages.append(Outgoing(contact.aad_object_id, notice(text)))
        return Effect(
            messages,
            to="; ".join(groups),
            why=f"the case discussion is on {day(case.deadlines.discussion)} and not recorded",
        )

    async def _conference(self, uow: UnitOfWork, item: ReminderItem) -> Effect | Skip:
        meetings = [
            m for m in await uow.meetings.list_from(item.slot, 30) if m.id == item.subject_id
        ]
        if not meetings:
            return Skip("the conference is gone")
        meeting = meetings[0]
        cases = [c for c in await uow.cases.on_meeting(meeting.id) if c.state.is_open]
        if not cases:
            return Skip("no case is listed at it")
        per_person: dict[str, list[str]] = defaultdict(list)
        people: dict[str, str] = {}
        agency_name = await agency_names(uow)
        agencies: dict[str, str] = {}
        for case in cases:
            for key in case.agencies:
                contacts = await uow.directory.contacts_of(key)
                agencies[key] = f"{agency_name.get(key, key)}: {names(contacts)}"
                for contact in contacts:
                    people[contact.aad_object_id] = contact.name
                    if case.reference not in per_person[contact.aad_object_id]:
                        per_person[contact.aad_object_id].append(case.reference)
        when = "today" if item.kind is ReminderKind.CONFERENCE_DAY else f"on {day(meeting.date)}"
        messages = [
            Outgoing(
                aad,
                notice(
                    f"MARAC conference {when}: your agency is involved in "
                    f"{plural(len(refs), 'case')}: {', '.join(refs)}."
                ),
            )
            for aad, refs in per_person.items()
        ]
        return Effect(
            messages,
            to="; ".join(agencies.values()),
            why=f"{plural(len(cases), 'case')} listed at the conference of {day(meeting.date)}",
        )

    async def _capacity(self, uow: UnitOfWork, item: ReminderItem) -> Effect:
        """Each week: warn the coordinators if the next 4 weeks' calendar is likely to miss
        the target, and plan next week's look either way."""
        effect = Effect(follow_ups=[self.ctx.schedule.capacity_forecast(item.slot)])
        warning = await self.capacity.warning(uow, item.slot)
        if warning is None:
            effect.why = "no miss of the day-14 target is likely in the next 4 weeks"
            return effect
        coordinators = await uow.directory.coordinators()
        effect.messages = [Outgoing(c.aad_object_id, notice(warning.text)) for c in coordinators]
        effect.to = f"coordinators: {names(coordinators)}"
        effect.why = (
            f"a miss of the day-14 target is likely by {day(warning.forecast.first_breach)}"
        )
        return effect

    async def _no_conference(self, uow: UnitOfWork, case: CaseView) -> Effect | Skip:
        if case.heard_at is not None:
            return Skip("the case has been heard")
        if not case.listing.breach:
            return Skip("the case is listed within its target")
        target = case.deadlines.conference_target
        listed = case.listing.meeting_date
        where = (
            f"It is listed at {day(listed)}, after the target"
            if listed
            else "It is not listed at any conference"
        )
        if target >= self.ctx.today():
            step = f" Add a conference on or before {day(target)} with meeting add YYYY-MM-DD."
        elif listed is None:
            step = " Add a conference with meeting add YYYY-MM-DD to list it."
        else:
            step = ""  # the target has passed and the earliest free place is taken already
        text = (
            f"No MARAC conference with capacity on or before {day(target)} for "
            f"{case.reference} (the day-14 target). {where}.{step}"
        )
        why = f"no conference with a free place by the day-14 target, {day(target)}"
        return await self._to_coordinator(uow, case, text, why)

    async def _action(self, uow: UnitOfWork, item: ReminderItem, case: CaseView) -> Effect | Skip:
        action = await uow.actions.by_id(item.subject_id)
        if action is None:
            return Skip("the action is gone")
        if not action.agreed:
            return Skip("the action is not agreed")
        if action.status.is_closed:
            return Skip(f"the action is {STATUS_LABELS[action.status].lower()}")
        agency = (await agency_names(uow)).get(action.agency_key, action.agency_key)
        due_day = self.ctx.calendar.next_working_day(action.due)
        today = self.ctx.today()
        # Counted from today, not from the slot: after an outage the nudge or escalation goes
        # late, and says how late the action really is.
        overdue = self.ctx.calendar.working_days_between(due_day, max(today, item.slot))
        late = f"is {plural(overdue, 'working day')} overdue"
        if item.kind is ReminderKind.ACTION_ESCALATION:
            text = (
                f"{agency}'s action on {case.reference} {late} (due "
                f"{day(action.due)}): {action.description}. It will be on the next agenda "
                "as outstanding."
            )
            why = f"{agency}'s action was due {day(action.due)}: {late.removeprefix('is ')}"
            return await self._to_coordinator(uow, case, text, why)
        follow_ups: list[ReminderPlan] = []
        if item.kind is ReminderKind.ACTION_BEFORE:
            lead = "is due tomorrow"
        elif item.kind is ReminderKind.ACTION_DUE:
            lead = "is due today"
        else:
            lead = late
            follow_ups.append(
                self.ctx.schedule.next_nudge(case.id, action.id, max(today, item.slot))
            )
        contacts = await uow.directory.contacts_of(action.agency_key)
        text = (
            f"Your agency's action on {case.reference} {lead} ({day(action.due)}): "
            f"{action.description}. Please update the action card."
        )
        return Effect(
            [Outgoing(c.aad_object_id, notice(text)) for c in contacts],
            follow_ups,
            to=f"{agency}: {names(contacts)}",
            why=f"{agency}'s action {lead} ({day(action.due)}) and is not done",
        )
