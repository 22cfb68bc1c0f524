"""Amending an agreed plan between conferences (coordinators): add an action (agreed at once),
change an action's due date or agency (with a reason), withdraw an action (with a reason).

Each amendment is recorded with who, when and why (``action_amendments``; the audit row names
no reason, as it holds no case detail), the agencies concerned get the new or updated action
card (the old card is updated in place to say what changed), and the action's reminders are
planned again: a moved due date moves them, a withdrawn action's are cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.actions import (
    STATUS_LABELS,
    Action,
    ActionDraft,
    Amendment,
    AmendmentKind,
    parse_change,
    parse_withdrawal,
)
from bot.domain.cases import CaseView
from bot.domain.directory import Person
from bot.domain.errors import FieldErrors
from bot.domain.wording import day, moment
from bot.ports import ProactiveCards, UnitOfWork
from bot.services.access import audit, records_denials, require
from bot.services.actions import ACTION_CARD, ACTION_REMINDERS, Actions
from bot.services.context import UseCaseContext
from bot.services.outbox import action_key, agency_names, enqueue, notify_coordinators, replace_card
from bot.services.plan_view import PLAN_AMEND_CARD, PlanBoard, PlanChange, PlanNeedsAttention


class Amendments:
    """The amendments of an agreed plan."""

    def __init__(
        self, ctx: UseCaseContext, board: PlanBoard, actions: Actions, cards: ProactiveCards
    ) -> None:
        self.ctx = ctx
        self.board = board
        self.actions = actions
        self.cards = cards

    async def add_agreed(
        self, uow: UnitOfWork, person: Person, case: CaseView, draft: ActionDraft
    ) -> Action:
        """An action added to an agreed plan: agreed at once, sent to its agency's contacts,
        its reminders planned, the amendment recorded (in the caller's transaction)."""
        now = self.ctx.now()
        action_id = await uow.actions.add(case.id, draft, person.aad_object_id, now, agreed=True)
        action = await uow.actions.by_id(action_id)
        assert action is not None
        await self.actions.send(uow, case, action, await agency_names(uow))
        await uow.reminders.schedule(self.ctx.schedule.action(case.id, action.id, action.due), now)
        await uow.actions.record_amendment(
            case.id,
            Amendment(
                action.id,
                AmendmentKind.ADDED,
                None,
                draft.due.isoformat(),
                None,
                person.aad_object_id,
                now,
            ),
        )
        return action

    async def _open(
        self, uow: UnitOfWork, person: Person, token: str, verb: str
    ) -> tuple[CaseView, int, Action] | PlanNeedsAttention:
        click = await PLAN_AMEND_CARD.open(self.ctx, uow, person, token, verb)
        current = await self.board.current(uow, person, click)
        if isinstance(current, PlanNeedsAttention):
            return current
        case, version, action_id = current
        action = await uow.actions.by_id(action_id or 0)
        assert action is not None
        if action.status.is_closed:
            state = STATUS_LABELS[action.status].lower()
            return PlanNeedsAttention(
                await self.board.view(uow, person, case),
                f"That action is {state} already, so it can no longer be changed.",
            )
        return case, version, action

    @records_denials
    async def open_amendment(self, aad: str, token: str) -> PlanNeedsAttention:
        """The plan card with one agreed action's change/withdraw form open (each form on a
        card of its own: the forms share the contract's input ids). Changes nothing."""
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "plan.view")
            opened = await self._open(uow, person, token, "plan.view")
            if isinstance(opened, PlanNeedsAttention):
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                return opened
            case, _version, action = opened
            view = await self.board.view(uow, person, case)
            await audit(ctx, uow, person, "plan.view", case.id)
            await uow.commit()
        return PlanNeedsAttention(view, "", focus=action.id)

    @records_denials
    async def change_action(self, aad: str, token: str, inputs: Mapping[str, object]) -> PlanChange:
        """Move an agreed action's due date and/or give it to another agency, with a reason."""
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "plan.change_action")
            opened = await self._open(uow, person, token, "plan.change_action")
            if isinstance(opened, PlanNeedsAttention):
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                return opened
            case, version, action = opened
            keys = [a.key for a in await uow.directory.agencies()]
            try:
                change = parse_change(inputs, action, keys, ctx.today(), ctx.calendar)
            except FieldErrors as invalid:
                view = await self.board.view(uow, person, case)
                await uow.commit()
                return PlanNeedsAttention(
                    view, "Please correct the highlighted fields.", invalid.errors, focus=action.id
                )
            now = ctx.now()
            await uow.actions.change(action.id, change.due, change.agency_key)
            names = await agency_names(uow)
            said: list[str] = []
            if change.due_changed:
                await uow.actions.record_amendment(
                    case.id,
                    Amendment(
                        action.id,
                        AmendmentKind.DUE_DATE,
                        action.due.isoformat(),
                        change.due.isoformat(),
                        change.reason,
                        person.aad_object_id,
                        now,
                    ),
                )
                await uow.reminders.cancel(ACTION_REMINDERS, action.id, "due date moved", now)
                await uow.reminders.reschedule(
                    ctx.schedule.action(case.id, action.id, change.due), now
                )
                said.append(f"due date moved from {day(action.due)} to {day(change.due)}")
            if change.agency_changed:
                await uow.actions.record_amendment(
                    case.id,
                    Amendment(
                        action.id,
                        AmendmentKind.AGENCY,
                        action.agency_key,
                        change.agency_key,
                        change.reason,
                        person.aad_object_id,
                        now,
                    ),
                )
                said.append(
                    f"given to {names.get(change.agency_key, change.agency_key)} (was "
                    f"{names.get(action.agency_key, action.agency_key)})"
                )
            summary = "; ".join(said)
            what = (
                f"{summary[0].upper()}{summary[1:]} by {person.name}, {moment(now)}: "
                f"{change.reason}"
            )
            updated = await uow.actions.by_id(action.id)
            assert updated is not None
            await self._tell_agencies(uow, case, action, updated, names, what)
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, now, "changed")
            await audit(ctx, uow, person, "plan.change_action", case.id)
            view = await self.board.view(uow, person, case, f"Action changed: {what}.")
            await uow.commit()
        ctx.on_outbox()
        return view

    @records_denials
    async def withdraw_action(
        self, aad: str, token: str, inputs: Mapping[str, object]
    ) -> PlanChange:
        """Withdraw an agreed action, with a reason: its reminders are cancelled and its
        agency's cards say it is withdrawn."""
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "plan.withdraw_action")
            opened = await self._open(uow, person, token, "plan.withdraw_action")
            if isinstance(opened, PlanNeedsAttention):
                await uow.commit()
                return opened
            case, version, action = opened
            try:
                reason = parse_withdrawal(inputs)
            except FieldErrors as invalid:
                view = await self.board.view(uow, person, case)
                await uow.commit()
                return PlanNeedsAttention(
                    view, "Please correct the highlighted fields.", invalid.errors, focus=action.id
                )
            now = ctx.now()
            await uow.actions.withdraw(action.id, reason, person.aad_object_id, now)
            await uow.actions.record_amendment(
                case.id,
                Amendment(
                    action.id,
                    AmendmentKind.WITHDRAWN,
                    None,
                    None,
                    reason,
                    person.aad_object_id,
                    now,
                ),
            )
            await uow.reminders.cancel(ACTION_REMINDERS, action.id, "withdrawn", now)
            what = f"Withdrawn by {person.name}, {moment(now)}: {reason}"
            updated = await uow.actions.by_id(action.id)
            assert updated is not None
            await self._tell_agencies(uow, case, action, updated, await agency_names(uow), what)
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, now, "withdrawn")
            await audit(ctx, uow, person, "plan.withdraw_action", case.id)
            view = await self.board.view(uow, person, case, f"Action withdrawn: {reason}.")
            await uow.commit()
        ctx.on_outbox()
        return view

    async def _tell_agencies(
        self,
        uow: UnitOfWork,
        case: CaseView,
        before: Action,
        after: Action,
        names: Mapping[str, str],
        what: str,
    ) -> None:
        """Every card of the action is updated in place to say what changed; the contacts of
        a newly given agency get the card (a contact of both keeps one, updated)."""
        now = self.ctx.now()
        updater = await uow.directory.person(after.updated_by) if after.updated_by else None
        updated_by = updater.name if updater else None
        old = {c.aad_object_id for c in await uow.directory.contacts_of(before.agency_key)}
        new = await uow.directory.contacts_of(after.agency_key)
        agency = names.get(after.agency_key, after.agency_key)
        still = {c.aad_object_id for c in new}
        for former in old - still:
            gone = f"{what}. Your agency no longer holds this action."
            await replace_card(
                uow,
                action_key(before.id, former),
                former,
                self.cards.action(
                    after, names.get(before.agency_key, before.agency_key), None, updated_by, gone
                ),
                now,
                case.id,
            )
        if not new and before.agency_key != after.agency_key:
            await notify_coordinators(
                uow,
                f"no-contacts:action:{after.id}:{after.agency_key}",
                f"MARAT delivery problem: {agency} has no contacts in the directory, so its "
                f"action on {case.reference} could not be sent. Add a contact or tell the "
                "agency another way.",
                now,
                case.id,
                only=case.created_by,
            )
        for contact in new:
            aad = contact.aad_object_id
            token = (
                None if after.status.is_closed else await ACTION_CARD.issue(uow, after.id, aad, now)
            )
            card = self.cards.action(after, agency, token, updated_by, f"{what}.")
            key = action_key(after.id, aad)
            if await uow.outbox.status(key) is None:
                await enqueue(uow, key, aad, card, now, case.id)
            else:
                await replace_card(uow, key, aad, card, now, case.id)
