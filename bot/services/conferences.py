"""The conference calendar and the agenda: adding conferences (which lists waiting cases)
and each conference's agenda in the SafeLives order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.domain.actions import Action
from bot.domain.cases import Agenda, Meeting, agenda_order
from bot.domain.deadlines import ConferenceChoice, ConferenceSlot, choose_conference
from bot.domain.errors import FieldErrors
from bot.domain.lifecycle import AWAITING_CONFERENCE
from bot.domain.wording import day as day_text
from bot.ports import AuditEvent, UnitOfWork
from bot.services.access import audit, records_denials, require
from bot.services.cases import can_see
from bot.services.context import UseCaseContext
from bot.services.packs import PACK_BUTTON


class AgendaWhich(StrEnum):
    """Which conference `/agenda` is about."""

    NEXT = "next"
    TODAY = "today"
    DATE = "date"


@dataclass(frozen=True)
class MeetingAdded:
    """The conference as saved, and the waiting cases now listed on it."""

    meeting: Meeting
    newly_listed: tuple[str, ...]


class Conferences:
    """Conference dates and agendas."""

    def __init__(self, ctx: UseCaseContext) -> None:
        self.ctx = ctx

    @records_denials
    async def agenda(self, aad: str, which: AgendaWhich, day: date | None = None) -> Agenda:
        """The agenda as this person may see it (a contact: their agencies' cases only)."""
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "agenda.view", coordinator=False)
            today = ctx.today()
            if which is AgendaWhich.NEXT:
                meeting = await uow.meetings.next_on_or_after(today)
                discussions_day = today
            else:
                discussions_day = today if which is AgendaWhich.TODAY else (day or today)
                meeting = await uow.meetings.by_date(discussions_day)
            cases = await uow.cases.on_meeting(meeting.id) if meeting else []
            discussions = await uow.cases.discussions_on(discussions_day)
            cases = [c for c in cases if can_see(person, c)]
            discussions = [c for c in discussions if can_see(person, c)]
            with_children, adult_only, returning = agenda_order(cases)
            outstanding: list[Action] = []
            if meeting is not None:
                scope = None if person.is_coordinator else person.agency_keys
                outstanding = await uow.actions.open_agreed(scope, due_before=meeting.date)
            perpetrator_actions = {
                c.id: sum(a.perpetrator_focused for a in await uow.actions.for_case(c.id))
                for c in cases
            }
            shown = {c.id for c in [*cases, *discussions]} | {a.case_id for a in outstanding}
            for case_id in shown:
                await audit(ctx, uow, person, "agenda.view", case_id)
            pack_token = None
            if meeting is not None and person.is_coordinator:
                pack_token = await PACK_BUTTON.issue(uow, meeting.id, aad, ctx.now())
            await uow.commit()
        return Agenda(
            meeting,
            with_children,
            adult_only,
            tuple(discussions),
            discussions_day,
            tuple(outstanding),
            returning,
            perpetrator_actions,
            pack_token,
        )

    @records_denials
    async def add_meeting(self, aad: str | None, day: date, capacity: int | None) -> MeetingAdded:
        """Add (or resize) a conference and list the cases that were waiting for one.

        ``aad`` None means the operator's CLI, which needs no directory entry.
        """
        ctx = self.ctx
        capacity = capacity if capacity is not None else ctx.options.conference_capacity
        errors: dict[str, str] = {}
        if day < ctx.today():
            errors["date"] = "The conference date is in the past."
        elif not ctx.calendar.is_working_day(day):
            name = ctx.calendar.holiday_name(day)
            errors["date"] = f"{day_text(day)} is not a working day" + (
                f" ({name})." if name else "."
            )
        if not 1 <= capacity <= 100:
            errors["capacity"] = "The capacity is a whole number from 1 to 100."
        async with ctx.units() as uow:
            actor = "cli"
            if aad is not None:
                person = await require(ctx, uow, aad, "meeting.add")
                actor = person.aad_object_id
            if errors:
                raise FieldErrors(errors)
            existing = await uow.meetings.by_date(day)
            if existing and capacity < existing.listed:
                raise FieldErrors(
                    {
                        "capacity": (
                            f"{existing.listed} cases are already listed then; the capacity "
                            "cannot be lower."
                        )
                    }
                )
            meeting = await uow.meetings.add(day, capacity, actor, ctx.now())
            await uow.reminders.schedule(
                [
                    *ctx.schedule.conference(meeting.id, meeting.date),
                    ctx.schedule.capacity_forecast(ctx.today()),
                ],
                ctx.now(),
            )
            listed = await self._list_waiting(uow, meeting)
            role = "operator" if aad is None else "coordinator"
            await uow.audit.record(AuditEvent(ctx.now(), actor, role, "meeting.add", "ok"))
            meeting = await uow.meetings.by_date(day) or meeting
            await uow.commit()
        return MeetingAdded(meeting, listed)

    async def _list_waiting(self, uow: UnitOfWork, meeting: Meeting) -> tuple[str, ...]:
        """Give a new conference's places to cases with no conference, or one past target."""
        candidates = [
            c
            for c in await uow.cases.open_cases()
            if c.state in AWAITING_CONFERENCE
            and c.deadlines.earliest_conference <= meeting.date
            and (
                c.listing.meeting_date is None
                or (c.listing.breach and c.listing.meeting_date > meeting.date)
            )
        ]
        listed = []
        for case in candidates[: meeting.free_places]:
            choice = choose_conference(
                case.deadlines, [ConferenceSlot(meeting.id, meeting.date, 1)]
            )
            if case.heard_at is not None:
                # Heard already (re-listed after a review or deferral): not a missed target.
                choice = ConferenceChoice(choice.meeting_id, choice.date, choice.target, False)
            await uow.cases.relist(case.id, choice, self.ctx.now(), "conference added")
            listed.append(case.reference)
        return tuple(listed)

    async def meeting_on(self, day: date) -> Meeting | None:
        """The conference on that day, if any (for the demo seed and the CLI)."""
        async with self.ctx.units() as uow:
            return await uow.meetings.by_date(day)

    @records_denials
    async def meetings(self, aad: str, limit: int = 12) -> list[Meeting]:
        """Coming conferences and their places (coordinators)."""
        async with self.ctx.units() as uow:
            await require(self.ctx, uow, aad, "meeting.list")
            return await uow.meetings.list_from(self.ctx.today(), limit)
