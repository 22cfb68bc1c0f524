"""Agreed actions: each agency's contacts get their action card, report progress in it, and
list their open actions; the coordinator hears when an action is not possible or all are done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.actions import Action, ActionStatus, parse_update
from bot.domain.cases import CaseView
from bot.domain.directory import Person
from bot.domain.errors import FieldErrors
from bot.domain.reminders import ReminderKind
from bot.ports import ProactiveCards, TokenInfo, UnitOfWork
from bot.services.access import audit, records_denials, require
from bot.services.card_tokens import CardKind
from bot.services.context import UseCaseContext
from bot.services.outbox import (
    action_key,
    agency_names,
    enqueue,
    notify_coordinators,
    replace_card,
)

ACTION_REMINDERS = (
    ReminderKind.ACTION_BEFORE,
    ReminderKind.ACTION_DUE,
    ReminderKind.ACTION_OVERDUE,
    ReminderKind.ACTION_ESCALATION,
)


async def _action(uow: UnitOfWork, issued: TokenInfo) -> Action | None:
    return await uow.actions.by_id(issued.subject_id) if issued.subject_id else None


ACTION_CARD = CardKind(
    "action",
    "This action card has expired. Type actions to see yours.",
    _action,
    may_act=lambda person, action: action.agency_key in person.agency_keys,
    not_permitted="This action belongs to another agency.",
    case_of=lambda action: action.case_id,
)


class ActionsFilter(StrEnum):
    """Which open actions `/actions` lists."""

    ALL = "all"
    MINE = "mine"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class ActionView:
    """An action card as it should read now; ``token`` None once the action is closed."""

    action: Action
    agency_name: str
    token: str | None
    updated_by: str | None


@dataclass(frozen=True)
class ActionUpdateInvalid:
    """Nothing was recorded: the card comes back with these errors under its fields."""

    view: ActionView
    errors: dict[str, str]


class _Raced(Exception):
    """The same card was clicked twice at once and the other click won."""


class Actions:
    """Sending action cards, recording agencies' updates, and listing open actions."""

    def __init__(self, ctx: UseCaseContext, cards: ProactiveCards) -> None:
        self.ctx = ctx
        self.cards = cards

    async def send(
        self, uow: UnitOfWork, case: CaseView, action: Action, names: Mapping[str, str]
    ) -> None:
        """Queue the action's card for each contact of its agency (or tell the coordinator
        that the agency has nobody to send it to)."""
        now = self.ctx.now()
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
            token = await ACTION_CARD.issue(uow, action.id, contact.aad_object_id, now)
            await enqueue(
                uow,
                action_key(action.id, contact.aad_object_id),
                contact.aad_object_id,
                self.cards.action(action, agency_name, token, None),
                now,
                case.id,
            )

    @records_denials
    async def update_action(
        self, aad: str, token: str, inputs: Mapping[str, object]
    ) -> ActionView | ActionUpdateInvalid:
        """An agency contact reports progress. Each card's token works once: the replacement
        card carries a new one, so a second click of the old card changes nothing."""
        try:
            return await self._update(aad, token, inputs)
        except _Raced:
            return await self._update(aad, token, inputs)

    async def _update(
        self, aad: str, token: str, inputs: Mapping[str, object]
    ) -> ActionView | ActionUpdateInvalid:
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "action.update", coordinator=False)
            click = await ACTION_CARD.open(ctx, uow, person, token, "action.update")
            action = click.subject
            names = await agency_names(uow)
            agency_name = names.get(action.agency_key, action.agency_key)
            if click.issued.used or action.status.is_closed:
                # A second click, or a closed action: show where it stands, change nothing.
                view = await self._view(uow, person, action, agency_name)
                await uow.commit()
                return view
            try:
                change = parse_update(inputs)
            except FieldErrors as invalid:
                updated_by = await _name(uow, action.updated_by)
                return ActionUpdateInvalid(
                    ActionView(action, agency_name, token, updated_by), invalid.errors
                )
            now = ctx.now()
            await uow.cases.lock(action.case_id)
            if not await click.claim(uow, person.aad_object_id, now, "updated"):
                raise _Raced
            await uow.actions.record_update(action.id, change, person.aad_object_id, now)
            if change.status.is_closed:
                await uow.reminders.cancel(ACTION_REMINDERS, action.id, change.status.value, now)
            await audit(ctx, uow, person, "action.update", action.case_id)
            updated = await uow.actions.by_id(action.id)
            assert updated is not None
            case = await uow.cases.by_id(action.case_id)
            assert case is not None
            await self._tell_colleagues(uow, person, updated, case, agency_name)
            await self._tell_coordinator(uow, updated, case, agency_name)
            view = await self._view(uow, person, updated, agency_name)
            await uow.commit()
        ctx.on_outbox()
        return view

    async def _tell_colleagues(
        self, uow: UnitOfWork, person: Person, action: Action, case: CaseView, agency_name: str
    ) -> None:
        """The agency's other contacts see the update in place (with a fresh token)."""
        now = self.ctx.now()
        for contact in await uow.directory.contacts_of(action.agency_key):
            if contact.aad_object_id == person.aad_object_id:
                continue
            fresh = (
                None
                if action.status.is_closed
                else await ACTION_CARD.issue(uow, action.id, contact.aad_object_id, now)
            )
            card = self.cards.action(action, agency_name, fresh, person.name)
            await replace_card(
                uow,
                action_key(action.id, contact.aad_object_id),
                contact.aad_object_id,
                card,
                now,
                case.id,
            )

    async def _tell_coordinator(
        self, uow: UnitOfWork, action: Action, case: CaseView, agency_name: str
    ) -> None:
        """Not possible asks for a review; all done asks to close (or review) the case."""
        now = self.ctx.now()
        if action.status is ActionStatus.NOT_POSSIBLE:
            await notify_coordinators(
                uow,
                f"action-not-possible:{action.id}",
                f"MARAT update: {agency_name} says its action on {case.reference} is not "
                f"possible ({action.note}). Please review the case: review "
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

    async def _view(
        self, uow: UnitOfWork, person: Person, action: Action, agency_name: str
    ) -> ActionView:
        """The card to show now, with a fresh token while the action is still open."""
        token = None
        if not action.status.is_closed:
            token = await ACTION_CARD.issue(uow, action.id, person.aad_object_id, self.ctx.now())
        return ActionView(action, agency_name, token, await _name(uow, action.updated_by))

    @records_denials
    async def list_actions(
        self, aad: str, which: ActionsFilter
    ) -> tuple[list[Action], dict[str, str]]:
        """Open agreed actions: a contact sees their agencies', a coordinator sees all
        (``mine``: for a coordinator, the cases they referred)."""
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "actions.list", coordinator=False)
            scope = None if person.is_coordinator else person.agency_keys
            due_before = ctx.today() if which is ActionsFilter.OVERDUE else None
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
                await audit(ctx, uow, person, "actions.list", case_id)
            names = await agency_names(uow)
            await uow.commit()
        return actions, names


async def _name(uow: UnitOfWork, aad: str | None) -> str | None:
    """The directory name of whoever last updated an action."""
    if not aad:
        return None
    person = await uow.directory.person(aad)
    return person.name if person else "A former contact"
