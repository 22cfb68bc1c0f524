"""Use cases of the MARAT, over the repository protocols and an injected clock.

Each public method is one transaction. Permission is checked here, from the directory and the
user's Entra object id, never from anything a card or message claims.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Concatenate, ParamSpec, TypeVar

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import Agenda, CaseDetail, CaseView, Meeting, agenda_order
from bot.domain.clock import Clock, london_today
from bot.domain.deadlines import (
    ConferenceSlot,
    DeadlinePolicy,
    case_deadlines,
    choose_conference,
)
from bot.domain.directory import Agency, DirectoryRow, Person, Role, agency_key
from bot.domain.errors import (
    AlreadyDone,
    FieldErrors,
    MaratError,
    NotFound,
    NotPermitted,
    NotRegistered,
)
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import parse_referral
from bot.ports import AuditEvent, UnitOfWork, UnitOfWorkFactory

REFERRAL_CARD_KIND = "referral"
RELISTABLE = (CaseState.REFERRED, CaseState.DISCUSSED, CaseState.DEFERRED, CaseState.REVIEW)


class AgendaWhich(StrEnum):
    NEXT = "next"
    TODAY = "today"
    DATE = "date"


@dataclass(frozen=True)
class ServiceOptions:
    case_prefix: str = "MARAT"
    conference_capacity: int = 18


@dataclass(frozen=True)
class ReferralForm:
    """What the referral card needs: a fresh token, the directory's agencies and today."""

    token: str
    agencies: tuple[Agency, ...]
    today: date


@dataclass(frozen=True)
class MeetingAdded:
    meeting: Meeting
    newly_listed: tuple[str, ...]


@dataclass(frozen=True)
class ImportSummary:
    agencies_created: int
    people_created: int
    people_updated: int
    memberships_added: int


P = ParamSpec("P")
T = TypeVar("T")


def records_denials(
    method: Callable[Concatenate[MaratService, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[MaratService, P], Coroutine[Any, Any, T]]:
    """Write a refusal's audit record in its own transaction, after the refused one is gone.

    (The refused transaction rolls back; and SQLite has one connection, so the record cannot
    be written while that transaction still holds it.)
    """

    @functools.wraps(method)
    async def wrapper(service: MaratService, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(service, *args, **kwargs)
        except MaratError as error:
            denial = getattr(error, "denial", None)
            if isinstance(denial, AuditEvent):
                async with service.units() as uow:
                    await uow.audit.record(denial)
                    await uow.commit()
            raise

    return wrapper


def role_of(person: Person | None) -> str:
    if person is None:
        return "unregistered"
    return Role.COORDINATOR.value if person.is_coordinator else Role.CONTACT.value


class MaratService:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        clock: Clock,
        calendar: WorkingDayCalendar,
        policy: DeadlinePolicy,
        options: ServiceOptions | None = None,
    ) -> None:
        self.units = units
        self.clock = clock
        self.calendar = calendar
        self.policy = policy
        self.options = options or ServiceOptions()

    def today(self) -> date:
        return london_today(self.clock)

    # -- who is asking ---------------------------------------------------------------------

    async def person(self, aad_object_id: str) -> Person | None:
        async with self.units() as uow:
            return await uow.directory.person(aad_object_id)

    def _deny(
        self,
        aad: str,
        person: Person | None,
        action: str,
        error: MaratError,
        case_id: int | None = None,
    ) -> MaratError:
        """Attach the audit record of a refusal; ``records_denials`` writes it afterwards."""
        error.denial = AuditEvent(  # type: ignore[attr-defined]
            self.clock.now(), aad, role_of(person), action, "denied", case_id
        )
        return error

    async def _require(
        self, uow: UnitOfWork, aad: str, action: str, coordinator: bool = True
    ) -> Person:
        person = await uow.directory.person(aad)
        if person is None:
            raise self._deny(
                aad, None, action, NotRegistered("You are not registered with the MARAT.")
            )
        if coordinator and not person.is_coordinator:
            raise self._deny(
                aad,
                person,
                action,
                NotPermitted("That is for MARAT coordinators. Type help to see what you can do."),
            )
        return person

    async def _audit(
        self,
        uow: UnitOfWork,
        person: Person,
        action: str,
        case_id: int | None = None,
        outcome: str = "ok",
    ) -> None:
        await uow.audit.record(
            AuditEvent(
                self.clock.now(), person.aad_object_id, role_of(person), action, outcome, case_id
            )
        )

    # -- referral --------------------------------------------------------------------------

    @records_denials
    async def open_referral(self, aad: str) -> ReferralForm:
        async with self.units() as uow:
            person = await self._require(uow, aad, "referral.open")
            token = await uow.tokens.issue(
                REFERRAL_CARD_KIND, None, person.aad_object_id, self.clock.now()
            )
            agencies = tuple(await uow.directory.agencies())
            await uow.commit()
        return ReferralForm(token, agencies, self.today())

    async def referral_agencies(self) -> tuple[Agency, ...]:
        async with self.units() as uow:
            return tuple(await uow.directory.agencies())

    @records_denials
    async def submit_referral(self, aad: str, token: str, inputs: Mapping[str, object]) -> CaseView:
        """Validate and create the case, list it at a conference, and open its requests.

        A second submit of the same card returns ``AlreadyDone`` with the first case's
        reference; invalid input raises ``FieldErrors`` and creates nothing.
        """
        async with self.units() as uow:
            person = await self._require(uow, aad, "referral.submit")
            issued = await uow.tokens.peek(token)
            if issued is None or issued.kind != REFERRAL_CARD_KIND:
                raise NotFound("This referral card has expired. Type refer for a new one.")
            if issued.used:
                raise AlreadyDone(issued.outcome or "")
            agencies = await uow.directory.agencies()
            today = self.today()
            referral = parse_referral(inputs, today, [a.key for a in agencies])
            deadlines = case_deadlines(referral.received_date, self.calendar, self.policy)
            slots = await uow.meetings.slots_from(deadlines.earliest_conference)
            choice = choose_conference(deadlines, slots)
            opened_year = today.year
            reference = await uow.cases.next_reference(self.options.case_prefix, opened_year)
            now = self.clock.now()
            case_id = await uow.cases.create(
                reference,
                referral,
                deadlines,
                choice,
                Transition(
                    None,
                    CaseState.REFERRED,
                    person.aad_object_id,
                    now,
                    None if referral.consent else "shared without consent",
                ),
            )
            if not await uow.tokens.claim(token, person.aad_object_id, now, reference):
                # Someone submitted the same card a moment earlier: undo ours, report theirs.
                raise AlreadyDone("")
            await self._audit(uow, person, "case.create", case_id)
            view = await uow.cases.by_id(case_id)
            await uow.commit()
        assert view is not None
        return view

    async def already_done_reference(self, token: str) -> str | None:
        async with self.units() as uow:
            issued = await uow.tokens.peek(token)
            return issued.outcome if issued else None

    # -- reading cases ---------------------------------------------------------------------

    def _visible(self, person: Person, case: CaseView) -> bool:
        return person.is_coordinator or bool(person.agency_keys & set(case.agencies))

    @records_denials
    async def agenda(self, aad: str, which: AgendaWhich, day: date | None = None) -> Agenda:
        async with self.units() as uow:
            person = await self._require(uow, aad, "agenda.view", coordinator=False)
            today = self.today()
            if which is AgendaWhich.NEXT:
                meeting = await uow.meetings.next_on_or_after(today)
                discussions_day = today
            else:
                discussions_day = today if which is AgendaWhich.TODAY else (day or today)
                meeting = await uow.meetings.by_date(discussions_day)
            cases = await uow.cases.on_meeting(meeting.id) if meeting else []
            discussions = await uow.cases.discussions_on(discussions_day)
            cases = [c for c in cases if self._visible(person, c)]
            discussions = [c for c in discussions if self._visible(person, c)]
            with_children, adult_only = agenda_order(cases)
            for case in {c.id: c for c in [*cases, *discussions]}.values():
                await self._audit(uow, person, "agenda.view", case.id)
            await uow.commit()
        return Agenda(meeting, with_children, adult_only, tuple(discussions), discussions_day)

    @records_denials
    async def case_detail(self, aad: str, reference: str) -> CaseDetail:
        async with self.units() as uow:
            person = await self._require(uow, aad, "case.view", coordinator=False)
            case = await uow.cases.by_reference(reference)
            if case is None or not self._visible(person, case):
                # The same answer whether it does not exist or is not theirs (need to know).
                raise self._deny(
                    aad,
                    person,
                    "case.view",
                    NotFound(f"No case {reference.upper()} that you can see."),
                    case.id if case else None,
                )
            transitions = tuple(await uow.cases.transitions(case.id))
            answered = await uow.cases.answered_agencies(case.id)
            names = {a.key: a.name for a in await uow.directory.agencies()}
            await self._audit(uow, person, "case.view", case.id)
            await uow.commit()
        return CaseDetail(case, transitions, names, answered)

    @records_denials
    async def open_cases(self, aad: str) -> list[CaseView]:
        """Open cases, breaches first, then by their next deadline."""
        async with self.units() as uow:
            person = await self._require(uow, aad, "cases.list")
            cases = await uow.cases.open_cases()
            for case in cases:
                await self._audit(uow, person, "cases.list", case.id)
            await uow.commit()
        today = self.today()

        def order(case: CaseView) -> tuple[bool, date, str]:
            step = case.next_deadline(today)
            return (not case.listing.breach, step[1] if step else date.max, case.reference)

        return sorted(cases, key=order)

    async def agency_names(self) -> dict[str, str]:
        async with self.units() as uow:
            return {a.key: a.name for a in await uow.directory.agencies()}

    # -- conferences -----------------------------------------------------------------------

    @records_denials
    async def add_meeting(self, aad: str | None, day: date, capacity: int | None) -> MeetingAdded:
        """Add (or resize) a conference and list the cases that were waiting for one.

        ``aad`` None means the operator's CLI, which needs no directory entry.
        """
        capacity = capacity if capacity is not None else self.options.conference_capacity
        errors: dict[str, str] = {}
        if day < self.today():
            errors["date"] = "The conference date is in the past."
        elif not self.calendar.is_working_day(day):
            name = self.calendar.holiday_name(day)
            errors["date"] = f"{day:%A %-d %B %Y} is not a working day" + (
                f" ({name})." if name else "."
            )
        if not 1 <= capacity <= 100:
            errors["capacity"] = "The capacity is a whole number from 1 to 100."
        async with self.units() as uow:
            actor = "cli"
            if aad is not None:
                person = await self._require(uow, aad, "meeting.add")
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
            meeting = await uow.meetings.add(day, capacity, actor, self.clock.now())
            listed = await self._list_waiting(uow, meeting)
            await uow.audit.record(
                AuditEvent(
                    self.clock.now(),
                    actor,
                    "operator" if aad is None else "coordinator",
                    "meeting.add",
                    "ok",
                )
            )
            meeting = await uow.meetings.by_date(day) or meeting
            await uow.commit()
        return MeetingAdded(meeting, listed)

    async def _list_waiting(self, uow: UnitOfWork, meeting: Meeting) -> tuple[str, ...]:
        """Give a new conference's places to cases with no conference, or one past target."""
        free = meeting.free_places
        candidates = [
            c
            for c in await uow.cases.open_cases()
            if c.state in RELISTABLE
            and c.deadlines.earliest_conference <= meeting.date
            and (
                c.listing.meeting_date is None
                or (c.listing.breach and c.listing.meeting_date > meeting.date)
            )
        ]
        listed = []
        for case in candidates[:free]:
            choice = choose_conference(
                case.deadlines, [ConferenceSlot(meeting.id, meeting.date, 1)]
            )
            await uow.cases.relist(case.id, choice, self.clock.now(), "conference added")
            listed.append(case.reference)
        return tuple(listed)

    async def meeting_on(self, day: date) -> Meeting | None:
        async with self.units() as uow:
            return await uow.meetings.by_date(day)

    @records_denials
    async def meetings(self, aad: str, limit: int = 12) -> list[Meeting]:
        async with self.units() as uow:
            await self._require(uow, aad, "meeting.list")
            return await uow.meetings.list_from(self.today(), limit)

    # -- directory -------------------------------------------------------------------------

    async def import_directory(self, rows: list[DirectoryRow]) -> ImportSummary:
        """Apply a parsed CSV in one transaction: re-importing updates, never duplicates."""
        now = self.clock.now()
        agencies_created = people_created = people_updated = memberships = 0
        async with self.units() as uow:
            seen: set[str] = set()
            for row in rows:
                if row.agency:
                    _agency, created = await uow.directory.upsert_agency(row.agency, now)
                    agencies_created += created
                if row.aad_object_id not in seen:
                    created = await uow.directory.upsert_person(
                        row.aad_object_id, row.name, row.email, now
                    )
                    people_created += created
                    people_updated += not created
                    await uow.directory.set_coordinator(row.aad_object_id, False)
                    seen.add(row.aad_object_id)
            for row in rows:
                if row.role is Role.COORDINATOR:
                    await uow.directory.set_coordinator(row.aad_object_id, True)
                elif row.agency:
                    memberships += await uow.directory.add_membership(
                        row.aad_object_id, agency_key(row.agency)
                    )
            await uow.audit.record(AuditEvent(now, "cli", "operator", "directory.import", "ok"))
            await uow.commit()
        return ImportSummary(agencies_created, people_created, people_updated, memberships)
