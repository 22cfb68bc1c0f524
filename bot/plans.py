"""Use cases of the safety action plan and the rest of a case's life.

The plan is drafted by coordinators (several may edit it: every change bumps the case's plan
version, and a card issued at an older version gets "updated by someone else" with the current
plan), agreed at the conference (the case becomes heard, then monitoring, and each agency's
contacts get their action cards), and followed up by the agencies in Teams.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from bot.delivery import agency_names, enqueue, notify_coordinators, replace_card
from bot.domain.actions import Action, ActionStatus, parse_action, parse_update
from bot.domain.cases import CaseView
from bot.domain.deadlines import ConferenceChoice
from bot.domain.directory import Agency, Person
from bot.domain.errors import (
    AlreadyDone,
    FieldErrors,
    IllegalTransition,
    MaratError,
    NotFound,
    NotPermitted,
)
from bot.domain.lifecycle import AWAITING_CONFERENCE, CaseState, check_transition, transition
from bot.domain.reminders import ReminderKind
from bot.ports import OutgoingMessage, UnitOfWork
from bot.usecase_base import UseCaseBase, records_denials
from cards.action import NEUTRAL as ACTION_NEUTRAL
from cards.action import action_card

PLAN_KIND = "plan"
PLAN_REMOVE_KIND = "plan.remove"
ACTION_KIND = "action"
ACTION_REMINDERS = (
    ReminderKind.ACTION_BEFORE,
    ReminderKind.ACTION_DUE,
    ReminderKind.ACTION_OVERDUE,
    ReminderKind.ACTION_ESCALATION,
)
DISCUSSION_KIND = "discussion"
PLANNABLE = AWAITING_CONFERENCE


class ActionsFilter(StrEnum):
    ALL = "all"
    MINE = "mine"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class PlanView:
    """Everything the plan card shows, with freshly issued tokens for its buttons."""

    case: CaseView
    actions: tuple[Action, ...]
    agencies: tuple[Agency, ...]
    names: dict[str, str]
    token: str
    remove_tokens: dict[int, str] = field(default_factory=dict)


class PlanProblem(MaratError):
    """The plan card must come back with a message (and the user's input kept)."""

    def __init__(
        self,
        message: str,
        plan: PlanView,
        errors: Mapping[str, str] | None = None,
        confirm: bool = False,
    ) -> None:
        super().__init__(message)
        self.plan = plan
        self.errors = dict(errors or {})
        self.confirm = confirm


@dataclass(frozen=True)
class PlanAgreed:
    case: CaseView
    actions: tuple[Action, ...]
    names: dict[str, str]
    conference: date | None


@dataclass(frozen=True)
class ActionView:
    action: Action
    agency_name: str
    token: str | None
    updated_by: str | None


class InvalidUpdate(FieldErrors):
    def __init__(self, errors: Mapping[str, str], view: ActionView) -> None:
        super().__init__(errors)
        self.view = view


@dataclass(frozen=True)
class DiscussionRecorded:
    reference: str
    held: bool
    attendees: list[str]
    recorded_now: bool


class InvalidDiscussion(FieldErrors):
    def __init__(
        self, errors: Mapping[str, str], reference: str, when: date, agencies: dict[str, str]
    ) -> None:
        super().__init__(errors)
        self.reference = reference
        self.when = when
        self.agencies = agencies


def action_key(action_id: int, contact: str) -> str:
    return f"action:{action_id}:{contact}"


class PlanUseCases(UseCaseBase):
    """Action plans, action updates, reviews, deferrals, withdrawals and closure."""

    # -- the plan ----------------------------------------------------------------------------

    async def _case(self, uow: UnitOfWork, person: Person, reference: str, action: str) -> CaseView:
        case = await uow.cases.by_reference(reference)
        if case is None:
            raise self._deny(
                person.aad_object_id,
                person,
                action,
                NotFound(f"No case {reference.upper()} that you can see."),
            )
        return case

    async def _plan_view(self, uow: UnitOfWork, person: Person, case: CaseView) -> PlanView:
        version = await uow.actions.plan_version(case.id)
        now = self.clock.now()
        token = await uow.tokens.issue(PLAN_KIND, case.id, person.aad_object_id, now, version)
        actions = tuple(await uow.actions.for_case(case.id))
        removes = {
            a.id: await uow.tokens.issue(PLAN_REMOVE_KIND, a.id, person.aad_object_id, now, version)
            for a in actions
            if not a.agreed
        }
        agencies = tuple(await uow.directory.agencies())
        names = await agency_names(uow)
        return PlanView(case, actions, agencies, names, token, removes)

    @records_denials
    async def open_plan(self, aad: str, reference: str) -> PlanView:
        async with self.units() as uow:
            person = await self._require(uow, aad, "plan.view")
            case = await self._case(uow, person, reference, "plan.view")
            view = await self._plan_view(uow, person, case)
            await self._audit(uow, person, "plan.view", case.id)
            await uow.commit()
        return view

    async def _plan_token(
        self, uow: UnitOfWork, person: Person, token: str, kinds: tuple[str, ...]
    ) -> tuple[CaseView, int, int | None]:
        """The case a plan card is about, and whether the card is still current."""
        issued = await uow.tokens.peek(token)
        if issued is None or issued.kind not in kinds or issued.subject_id is None:
            raise NotFound("This plan card has expired. Type plan REF for a fresh one.")
        if issued.kind == PLAN_REMOVE_KIND:
            target = await uow.actions.by_id(issued.subject_id)
            if target is None:
                raise NotFound("That action has already been removed.")
            case_id, action_id = target.case_id, target.id
        else:
            case_id, action_id = issued.subject_id, None
        case = await uow.cases.by_id(case_id)
        assert case is not None
        if case.state not in PLANNABLE:
            raise IllegalTransition(
                f"{case.reference} is {case.state.value}: its plan can no longer be changed "
                "here. Updates to agreed actions come from the agencies."
            )
        await uow.cases.lock(case.id)
        current = await uow.actions.plan_version(case.id)
        if issued.version != current:
            view = await self._plan_view(uow, person, case)
            raise PlanProblem(
                "The plan was updated by someone else; here is the current "
                "version. Please check it and try again.",
                view,
            )
        return case, current, action_id

    @records_denials
    async def add_action(self, aad: str, token: str, inputs: Mapping[str, object]) -> PlanView:
        async with self.units() as uow:
            person = await self._require(uow, aad, "plan.add_action")
            try:
                case, version, _ = await self._plan_token(uow, person, token, (PLAN_KIND,))
            except PlanProblem:
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                raise
            agencies = [a.key for a in await uow.directory.agencies()]
            try:
                draft = parse_action(inputs, agencies, self.today(), self.calendar)
            except FieldErrors as invalid:
                view = await self._plan_view(uow, person, case)
                await uow.commit()
                raise PlanProblem(
                    "Please correct the highlighted fields.", view, invalid.errors
                ) from None
            await uow.actions.add(case.id, draft, person.aad_object_id, self.clock.now())
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, self.clock.now(), "added")
            await self._audit(uow, person, "plan.add_action", case.id)
            view = await self._plan_view(uow, person, case)
            await uow.commit()
        return view

    @records_denials
    async def remove_action(self, aad: str, token: str) -> PlanView:
        async with self.units() as uow:
            person = await self._require(uow, aad, "plan.remove_action")
            try:
                case, version, action_id = await self._plan_token(
                    uow, person, token, (PLAN_REMOVE_KIND,)
                )
            except PlanProblem:
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                raise
            assert action_id is not None
            if not await uow.actions.remove_draft(action_id):
                raise NotFound("That action is already agreed; the agency updates it instead.")
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, self.clock.now(), "removed")
            await self._audit(uow, person, "plan.remove_action", case.id)
            view = await self._plan_view(uow, person, case)
            await uow.commit()
        return view

    @records_denials
    async def agree_plan(
        self, aad: str, token: str, confirm_no_perpetrator_action: bool
    ) -> PlanAgreed:
        """The conference agreed the plan: heard, then monitoring; agencies get their actions.

        With no perpetrator-focused action the coordinator must confirm that perpetrator risk
        was considered (the card asks, and a second, explicit button agrees).
        """
        async with self.units() as uow:
            person = await self._require(uow, aad, "plan.agree")
            try:
                case, version, _ = await self._plan_token(uow, person, token, (PLAN_KIND,))
            except PlanProblem:
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                raise
            actions = await uow.actions.for_case(case.id)
            drafts = [a for a in actions if not a.agreed]
            if not drafts:
                view = await self._plan_view(uow, person, case)
                await uow.commit()
                raise PlanProblem("Add at least one action before agreeing the plan.", view)
            if not any(a.perpetrator_focused for a in actions) and (
                not confirm_no_perpetrator_action
            ):
                view = await self._plan_view(uow, person, case)
                await uow.commit()
                raise PlanProblem(
                    "Please confirm: no action addresses the person causing harm.",
                    view,
                    confirm=True,
                )
            now = self.clock.now()
            heard = transition(
                case.reference,
                case.state,
                CaseState.HEARD,
                person.aad_object_id,
                now,
                "plan agreed at the conference",
            )
            await uow.cases.change_state(case.id, heard)
            await uow.cases.set_heard(case.id, case.listing.meeting_id, now)
            await uow.cases.end_listing(case.id, now)
            await uow.cases.change_state(
                case.id,
                transition(
                    case.reference,
                    CaseState.HEARD,
                    CaseState.MONITORING,
                    person.aad_object_id,
                    now,
                    None,
                ),
            )
            await uow.actions.agree(case.id, now)
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, now, "agreed")
            await self._audit(uow, person, "plan.agree", case.id)
            names = await agency_names(uow)
            agreed = [
                a for a in await uow.actions.for_case(case.id) if a.id in {d.id for d in drafts}
            ]
            for action in agreed:
                await self._send_action(uow, case, action, names)
                await uow.reminders.schedule(
                    self.schedule.action(case.id, action.id, action.due), now
                )
            updated = await uow.cases.by_id(case.id)
            await uow.commit()
        self.on_outbox()
        assert updated is not None
        return PlanAgreed(updated, tuple(agreed), names, case.listing.meeting_date)

    async def _send_action(
        self, uow: UnitOfWork, case: CaseView, action: Action, names: dict[str, str]
    ) -> None:
        now = self.clock.now()
        agency_name = names.get(action.agency_key, action.agency_key)
        contacts = await uow.directory.contacts_of(action.agency_key)
        if not contacts:
            await notify_coordinators(
                uow,
                f"no-contacts:action:{action.id}",
                f"MARAT delivery problem: {agency_name} has no contacts in the directory, so "
                f"its action on {case.reference} could not be sent. Add a contact or tell the "
                "agency another way.",
                now,
                case.id,
                only=case.created_by,
            )
            return
        for contact in contacts:
            token = await uow.tokens.issue(ACTION_KIND, action.id, contact.aad_object_id, now)
            card = action_card(action, agency_name, token, None)
            await enqueue(
                uow,
                action_key(action.id, contact.aad_object_id),
                contact.aad_object_id,
                OutgoingMessage(card=card, summary=ACTION_NEUTRAL),
                now,
                case.id,
            )

    # -- action updates by the agencies ---------------------------------------------------

    @records_denials
    async def update_action(self, aad: str, token: str, inputs: Mapping[str, object]) -> ActionView:
        """An agency contact reports progress. Each card's token works once: the replacement
        card carries a new one, so a second click of the old card changes nothing."""
        async with self.units() as uow:
            person = await self._require(uow, aad, "action.update", coordinator=False)
            issued = await uow.tokens.peek(token)
            action = (
                await uow.actions.by_id(issued.subject_id)
                if issued and issued.kind == ACTION_KIND and issued.subject_id
                else None
            )
            if action is None:
                raise NotFound("This action card has expired. Type actions to see yours.")
            if action.agency_key not in person.agency_keys:
                raise self._deny(
                    aad,
                    person,
                    "action.update",
                    NotPermitted("This action belongs to another agency."),
                    action.case_id,
                )
            names = await agency_names(uow)
            agency_name = names.get(action.agency_key, action.agency_key)
            if (issued is not None and issued.used) or action.status.is_closed:
                # A second click, or a closed action: show where it stands, change nothing.
                view = await self._action_view(uow, person, action, agency_name)
                await uow.commit()
                return view
            try:
                change = parse_update(inputs)
            except FieldErrors as invalid:
                raise InvalidUpdate(
                    invalid.errors,
                    ActionView(
                        action, agency_name, token, await self._name(uow, action.updated_by)
                    ),
                ) from None
            now = self.clock.now()
            await uow.cases.lock(action.case_id)
            if not await uow.tokens.claim(token, person.aad_object_id, now, "updated"):
                raise AlreadyDone("")
            await uow.actions.record_update(action.id, change, person.aad_object_id, now)
            if change.status.is_closed:
                await uow.reminders.cancel(ACTION_REMINDERS, action.id, change.status.value, now)
            await self._audit(uow, person, "action.update", action.case_id)
            updated = await uow.actions.by_id(action.id)
            assert updated is not None
            case = await uow.cases.by_id(action.case_id)
            assert case is not None
            for contact in await uow.directory.contacts_of(action.agency_key):
                if contact.aad_object_id == person.aad_object_id:
                    continue
                fresh = (
                    None
                    if updated.status.is_closed
                    else await uow.tokens.issue(ACTION_KIND, action.id, contact.aad_object_id, now)
                )
                await replace_card(
                    uow,
                    action_key(action.id, contact.aad_object_id),
                    contact.aad_object_id,
                    OutgoingMessage(
                        card=action_card(updated, agency_name, fresh, person.name),
                        summary="A MARAT action was updated.",
                    ),
                    now,
                    case.id,
                )
            if change.status is ActionStatus.NOT_POSSIBLE:
                await notify_coordinators(
                    uow,
                    f"action-not-possible:{action.id}",
                    f"MARAT update: {agency_name} says its action on {case.reference} is not "
                    f"possible ({change.note}). Please review the case: review "
                    f"{case.reference} REASON.",
                    now,
                    case.id,
                    only=case.created_by,
                )
            actions = await uow.actions.for_case(case.id)
            if actions and all(a.status is ActionStatus.DONE for a in actions):
                await notify_coordinators(
                    uow,
                    f"actions-done:{case.id}:{len(actions)}",
                    f"MARAT update: every action on {case.reference} is done. Please close "
                    f"the case (close {case.reference}) or review it if risk is not reduced.",
                    now,
                    case.id,
                    only=case.created_by,
                )
            view = await self._action_view(uow, person, updated, agency_name)
            await uow.commit()
        self.on_outbox()
        return view

    async def _name(self, uow: UnitOfWork, aad: str | None) -> str | None:
        if not aad:
            return None
        person = await uow.directory.person(aad)
        return person.name if person else "A former contact"

    async def _action_view(
        self, uow: UnitOfWork, person: Person, action: Action, agency_name: str
    ) -> ActionView:
        """The card to show now, with a fresh token while the action is still open."""
        token = None
        if not action.status.is_closed:
            token = await uow.tokens.issue(
                ACTION_KIND, action.id, person.aad_object_id, self.clock.now()
            )
        return ActionView(action, agency_name, token, await self._name(uow, action.updated_by))

    @records_denials
    async def list_actions(
        self, aad: str, which: ActionsFilter
    ) -> tuple[list[Action], dict[str, str]]:
        """Open agreed actions: a contact sees their agencies', a coordinator sees all
        (``mine``: for a coordinator, the cases they referred)."""
        async with self.units() as uow:
            person = await self._require(uow, aad, "actions.list", coordinator=False)
            today = self.today()
            scope = None if person.is_coordinator else person.agency_keys
            due_before = today if which is ActionsFilter.OVERDUE else None
            actions = await uow.actions.open_agreed(scope, due_before)
            if which is ActionsFilter.MINE and person.is_coordinator:
                mine = set(person.agency_keys)
                referred = {
                    c.id
                    for c in await uow.cases.open_cases()
                    if c.created_by == person.aad_object_id
                }
                actions = [a for a in actions if a.case_id in referred or a.agency_key in mine]
            for case_id in {a.case_id for a in actions}:
                await self._audit(uow, person, "actions.list", case_id)
            names = await agency_names(uow)
            await uow.commit()
        return actions, names

    # -- lifecycle ---------------------------------------------------------------------------

    @records_denials
    async def change_case(
        self, aad: str, reference: str, target: CaseState, reason: str | None
    ) -> CaseView:
        """`review`, `defer`, `withdraw` and `close`, each audited with who, when and why."""
        action = {
            CaseState.REVIEW: "case.review",
            CaseState.DEFERRED: "case.defer",
            CaseState.WITHDRAWN: "case.withdraw",
            CaseState.CLOSED: "case.close",
        }[target]
        async with self.units() as uow:
            person = await self._require(uow, aad, action)
            case = await self._case(uow, person, reference, action)
            await uow.cases.lock(case.id)
            check_transition(case.reference, case.state, target, reason)
            now = self.clock.now()
            open_actions = [
                a
                for a in await uow.actions.for_case(case.id)
                if a.agreed and not a.status.is_closed
            ]
            if target is CaseState.CLOSED and open_actions and not (reason and reason.strip()):
                raise IllegalTransition(
                    f"{case.reference} has {len(open_actions)} open action(s). Close it only "
                    f"with a reason: close {case.reference} REASON."
                )
            await uow.cases.change_state(
                case.id,
                transition(case.reference, case.state, target, person.aad_object_id, now, reason),
            )
            if target in (CaseState.REVIEW, CaseState.DEFERRED):
                # Re-listed at the next conference with capacity, from tomorrow on.
                slots = await uow.meetings.slots_from(self.today())
                later = [
                    s
                    for s in slots
                    if s.date > self.today()
                    and s.free_places > 0
                    and s.meeting_id != case.listing.meeting_id
                ]
                # The day-14 target belonged to the first hearing: a re-listing is not a breach.
                first = later[0] if later else None
                await uow.cases.relist(
                    case.id,
                    ConferenceChoice(
                        first.meeting_id if first else None,
                        first.date if first else None,
                        first.date if first else case.listing.target,
                        False,
                    ),
                    now,
                    target.value,
                )
            elif target in (CaseState.WITHDRAWN, CaseState.CLOSED):
                await uow.cases.end_listing(case.id, now)
            await self._audit(uow, person, action, case.id)
            updated = await uow.cases.by_id(case.id)
            await uow.commit()
        assert updated is not None
        return updated

    # -- the day-3 case discussion -------------------------------------------------------

    @records_denials
    async def record_discussion(
        self, aad: str, token: str, inputs: Mapping[str, object]
    ) -> DiscussionRecorded:
        """Held or not, which agencies took part, notes. Held moves the case to discussed; a
        discussion not recorded by the end of day 3 counts as missed in the figures."""
        async with self.units() as uow:
            person = await self._require(uow, aad, "discussion.record")
            issued = await uow.tokens.peek(token)
            case = (
                await uow.cases.by_id(issued.subject_id)
                if issued and issued.kind == DISCUSSION_KIND and issued.subject_id
                else None
            )
            if case is None:
                raise NotFound(
                    "This case discussion card has expired. Open the case with case REF."
                )
            names = await agency_names(uow)
            involved = {k: names.get(k, k) for k in case.agencies}
            existing = await uow.cases.discussion(case.id)
            if existing is not None:
                return DiscussionRecorded(
                    case.reference,
                    existing.held,
                    [names.get(a, a) for a in existing.attendees],
                    False,
                )
            held_text = str(inputs.get("held") or "").strip()
            attendees = [
                a.strip() for a in str(inputs.get("attendees") or "").split(",") if a.strip()
            ]
            notes = " ".join(str(inputs.get("notes") or "").split()) or None
            errors: dict[str, str] = {}
            if held_text not in ("yes", "no"):
                errors["held"] = "Please say whether the case discussion was held."
            if any(a not in involved for a in attendees):
                errors["attendees"] = "Please choose agencies involved in the case."
            if notes and len(notes) > 4000:
                errors["notes"] = "Please use at most 4000 characters."
            if errors:
                raise InvalidDiscussion(errors, case.reference, case.deadlines.discussion, involved)
            now = self.clock.now()
            held = held_text == "yes"
            await uow.cases.lock(case.id)
            if not await uow.cases.record_discussion(
                case.id, held, attendees, notes, person.aad_object_id, now
            ):
                raise AlreadyDone("")
            if held and case.state is CaseState.REFERRED:
                await uow.cases.change_state(
                    case.id,
                    transition(
                        case.reference,
                        case.state,
                        CaseState.DISCUSSED,
                        person.aad_object_id,
                        now,
                        "case discussion held",
                    ),
                )
            await uow.reminders.cancel([ReminderKind.DISCUSSION], case.id, "recorded", now)
            await uow.tokens.claim(token, person.aad_object_id, now, "recorded")
            await self._audit(uow, person, "discussion.record", case.id)
            await uow.commit()
        return DiscussionRecorded(case.reference, held, [involved[a] for a in attendees], True)
