"""Use cases of the MARAT, over the repository protocols and an injected clock.

Each public method is one transaction. Permission is checked here, from the directory and the
user's Entra object id, never from anything a card or message claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot import messages
from bot.delivery import (
    PRIVATE_PREFIX,
    agency_names,
    enqueue,
    notice,
    notify_coordinators,
    replace_card,
)
from bot.domain.actions import Action
from bot.domain.cases import Agenda, CaseDetail, CaseView, Meeting, agenda_order
from bot.domain.clock import london_today
from bot.domain.deadlines import (
    ConferenceSlot,
    case_deadlines,
    choose_conference,
)
from bot.domain.directory import Agency, DirectoryRow, Person, Role, agency_key
from bot.domain.errors import (
    AlreadyDone,
    FieldErrors,
    NotFound,
    NotPermitted,
)
from bot.domain.information import is_late, parse_answer
from bot.domain.lifecycle import AWAITING_CONFERENCE, CaseState, Transition
from bot.domain.referral import Referral, parse_referral
from bot.domain.reminders import ReminderKind, ReminderPlan
from bot.domain.repeats import is_repeat, same_victim
from bot.plans import PlanUseCases
from bot.ports import AuditEvent, OutgoingMessage, UnitOfWork
from bot.usecase_base import ServiceOptions, records_denials

__all__ = ["AgendaWhich", "AnswerOutcome", "InvalidAnswer", "MaratService", "ServiceOptions"]

REFERRAL_CARD_KIND = "referral"
INFOREQ_CARD_KIND = "inforeq"
RELISTABLE = AWAITING_CONFERENCE


class AgendaWhich(StrEnum):
    NEXT = "next"
    TODAY = "today"
    DATE = "date"


@dataclass(frozen=True)
class ReferralForm:
    """What the referral card needs: a fresh token, the directory's agencies and today."""

    token: str
    agencies: tuple[Agency, ...]
    today: date


@dataclass(frozen=True)
class AnswerForm:
    """What an information-request card shows, to render it again or its answered state."""

    case: CaseView
    agency_name: str
    due: date


@dataclass(frozen=True)
class AnswerOutcome:
    form: AnswerForm
    recorded: bool  # False: the agency had already answered
    answered_by: str
    answered_at: datetime | None
    late: bool
    mine: bool


class InvalidAnswer(FieldErrors):
    """The answer failed validation; carries the form so the card can come back as it was."""

    def __init__(self, errors: Mapping[str, str], form: AnswerForm) -> None:
        super().__init__(errors)
        self.form = form


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


class MaratService(PlanUseCases):
    """Every use case of the MARAT (the plan and lifecycle ones come from bot/plans.py)."""

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
            await self._detect_repeat(uow, case_id, referral)
            view = await uow.cases.by_id(case_id)
            assert view is not None
            await self._send_information_requests(uow, view)
            await uow.reminders.schedule(await self._referral_reminders(uow, view), now)
            await uow.commit()
        self.on_outbox()
        return view

    async def _detect_repeat(self, uow: UnitOfWork, case_id: int, referral: Referral) -> None:
        """Link the victim's previous case; within 12 months it is a repeat, and the agencies
        of that earlier case are told (they need to know; nothing more than the references)."""
        for earlier, name, dob in await uow.cases.earlier_referrals(referral.victim_name, case_id):
            if not same_victim(
                self.options.repeat_rule, referral.victim_name, referral.victim_dob, name, dob
            ):
                continue
            repeat = is_repeat(referral.received_date, earlier)
            await uow.cases.set_repeat_of(case_id, earlier.case_id, repeat)
            if repeat:
                case = await uow.cases.by_id(case_id)
                assert case is not None
                now = self.clock.now()
                for key in earlier.agencies:
                    for contact in await uow.directory.contacts_of(key):
                        await enqueue(
                            uow,
                            f"repeat:{case_id}:{contact.aad_object_id}",
                            contact.aad_object_id,
                            notice(
                                f"New referral {case.reference} is a repeat of "
                                f"{earlier.reference}, which your agency was involved in."
                            ),
                            now,
                            case_id,
                        )
            return

    async def _referral_reminders(self, uow: UnitOfWork, case: CaseView) -> list[ReminderPlan]:
        """Day 2 per agency, day-3 escalation and discussion, and the no-conference alarm."""
        schedule, d = self.schedule, case.deadlines
        plans = [
            schedule.information_request(case.id, r.id, r.due)
            for r in await uow.cases.information_requests(case.id)
        ]
        plans.append(schedule.missing_returns(case.id, d.discussion, case.listing.meeting_date))
        plans.append(schedule.discussion(case.id, d.discussion))
        if case.listing.breach:
            day_ten = self.calendar.add_working_days(d.day_zero, 10)
            plans.extend(schedule.no_conference(case.id, self.clock.now(), day_ten))
        return plans

    async def _send_information_requests(self, uow: UnitOfWork, case: CaseView) -> None:
        """Queue each involved agency's request to every contact, with the case (atomically).

        An agency with no contacts is reported to the coordinator: never skipped silently.
        """
        names = await agency_names(uow)
        now = self.clock.now()
        for request in await uow.cases.information_requests(case.id):
            agency_name = names.get(request.agency_key, request.agency_key)
            contacts = await uow.directory.contacts_of(request.agency_key)
            if not contacts:
                await notify_coordinators(
                    uow,
                    f"no-contacts:{case.id}:{request.agency_key}",
                    f"MARAT delivery problem: {agency_name} has no contacts in the directory, "
                    f"so its information request for {case.reference} cannot be sent. Add one "
                    f"(contact add {request.agency_key} …) or contact the agency another way.",
                    now,
                    case.id,
                    only=case.created_by,
                )
                continue
            for contact in contacts:
                token = await uow.tokens.issue(
                    INFOREQ_CARD_KIND, request.id, contact.aad_object_id, now
                )
                await enqueue(
                    uow,
                    messages.information_request_key(request.id, contact.aad_object_id),
                    contact.aad_object_id,
                    messages.information_request(token, case, agency_name, request.due),
                    now,
                    case.id,
                )

    @records_denials
    async def answer_information_request(
        self, aad: str, token: str, inputs: Mapping[str, object]
    ) -> AnswerOutcome:
        """Record the first valid answer for the agency; later ones see who answered.

        Invalid input raises ``FieldErrors`` (with the form to show again); the agency's other
        contacts have their copies replaced to show it is answered; the coordinator is told
        when every return of the case is in.
        """
        async with self.units() as uow:
            person = await self._require(uow, aad, "inforeq.answer", coordinator=False)
            issued = await uow.tokens.peek(token)
            request = (
                await uow.cases.information_request(issued.subject_id)
                if issued and issued.kind == INFOREQ_CARD_KIND and issued.subject_id
                else None
            )
            if request is None:
                raise NotFound("This information request card has expired.")
            if request.agency_key not in person.agency_keys:
                raise self._deny(
                    aad,
                    person,
                    "inforeq.answer",
                    NotPermitted("This request is for another agency's contacts."),
                    request.case_id,
                )
            case = await uow.cases.by_id(request.case_id)
            assert case is not None
            names = await agency_names(uow)
            agency_name = names.get(request.agency_key, request.agency_key)
            form = AnswerForm(case, agency_name, request.due)
            if request.answered:
                answerer = await uow.directory.person(request.answered_by or "")
                return AnswerOutcome(
                    form,
                    False,
                    answerer.name if answerer else "Someone",
                    request.answered_at,
                    bool(request.late),
                    request.answered_by == person.aad_object_id,
                )
            try:
                answer = parse_answer(inputs)
            except FieldErrors as error:
                raise InvalidAnswer(error.errors, form) from None
            now = self.clock.now()
            late = is_late(request.due, london_today(self.clock))
            # Answers to one case take turns: otherwise the last two, committing together,
            # would each see the other as outstanding and nobody would tell the coordinator.
            await uow.cases.lock(case.id)
            if not await uow.cases.answer_request(
                request.id, person.aad_object_id, now, answer, late
            ):
                raise AlreadyDone("")  # a colleague answered a moment earlier: roll back
            await uow.tokens.claim(token, person.aad_object_id, now, "answered")
            await uow.reminders.cancel([ReminderKind.INFO_DUE], request.id, "answered", now)
            await self._audit(uow, person, "inforeq.answer", case.id)
            for contact in await uow.directory.contacts_of(request.agency_key):
                if contact.aad_object_id == person.aad_object_id:
                    continue
                await replace_card(
                    uow,
                    messages.information_request_key(request.id, contact.aad_object_id),
                    contact.aad_object_id,
                    messages.information_answered(
                        case.reference, agency_name, person.name, now, late
                    ),
                    now,
                    case.id,
                )
            requests = await uow.cases.information_requests(case.id)
            if all(r.answered for r in requests):
                await notify_coordinators(
                    uow,
                    f"returns-complete:{case.id}",
                    f"MARAT update: all {len(requests)} information returns are in for "
                    f"{case.reference}.",
                    now,
                    case.id,
                    only=case.created_by,
                )
            await uow.commit()
        self.on_outbox()
        return AnswerOutcome(form, True, person.name, now, late, True)

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
                await self._audit(uow, person, "agenda.view", case_id)
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
        )

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
            requests = await uow.cases.information_requests(case.id)
            names = await agency_names(uow)
            not_reached: list[tuple[str, str]] = []
            if person.is_coordinator:
                for recipient, state in (await uow.outbox.delivery_states(case.id)).items():
                    if state in ("unreachable", "failed"):
                        who = await uow.directory.person(recipient)
                        not_reached.append(
                            (
                                who.name if who else "A former contact",
                                "could not be reached"
                                if state == "unreachable"
                                else "delivery failed",
                            )
                        )
            discussion = await uow.cases.discussion(case.id)
            discussion_token = None
            if person.is_coordinator and discussion is None and case.state.is_open:
                discussion_token = await uow.tokens.issue(
                    "discussion", case.id, person.aad_object_id, self.clock.now()
                )
            actions = [
                a
                for a in await uow.actions.for_case(case.id)
                if person.is_coordinator or a.agency_key in person.agency_keys
            ]
            updaters: dict[str, str] = {}
            for updater in {a.updated_by for a in actions if a.updated_by}:
                who = await uow.directory.person(updater)
                updaters[updater] = who.name if who else "a former contact"
            await self._audit(uow, person, "case.view", case.id)
            await uow.commit()
        return CaseDetail(
            case,
            transitions,
            names,
            frozenset(r.agency_key for r in requests if r.answered),
            frozenset(r.agency_key for r in requests if r.late),
            tuple(sorted(not_reached)),
            None if person.is_coordinator else person.agency_keys,
            discussion,
            discussion_token,
            tuple(actions),
            updaters,
        )

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

    async def send_privately(self, aad: str, card: dict[str, Any], reference: str) -> None:
        """Queue a card of case detail for the asker's 1:1 chat (asked for in a channel)."""
        async with self.units() as uow:
            await enqueue(
                uow,
                f"{PRIVATE_PREFIX}{reference}:{aad}",
                aad,
                OutgoingMessage(card=card, summary=card.get("fallbackText")),
                self.clock.now(),
            )
            await uow.commit()
        self.on_outbox()

    async def agency_names(self) -> dict[str, str]:
        async with self.units() as uow:
            return await agency_names(uow)

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
            await uow.reminders.schedule(
                self.schedule.conference(meeting.id, meeting.date), self.clock.now()
            )
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
