"""The safety action plan: drafted by coordinators, agreed at the conference (or explicitly
outside one, with a reason), then amended between conferences (bot/services/amendments.py).

Agreeing makes the case heard, then monitoring, and sends each agency's contacts their action
cards (bot/services/actions.py). On or after the day of the case's conference the plan is
recorded as agreed there; before it, only the card's "agreed outside a conference" choice with
a reason agrees it, the case is heard on that date with that reason and its conference place
is released (decision 0015).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.domain.actions import Action, parse_action
from bot.domain.cases import CaseView
from bot.domain.clock import LONDON
from bot.domain.directory import Person
from bot.domain.errors import FieldErrors, IllegalTransition, NotFound
from bot.domain.hearing import Hearing, hearing, outside_reason_of
from bot.domain.lifecycle import AWAITING_CONFERENCE, CaseState, transition
from bot.ports import UnitOfWork
from bot.services.access import audit, records_denials, require
from bot.services.actions import Actions
from bot.services.amendments import Amendments
from bot.services.context import UseCaseContext
from bot.services.outbox import agency_names
from bot.services.plan_view import (
    ADDS_AGREED,
    PLAN_CARD,
    PLAN_REMOVE_CARD,
    PlanBoard,
    PlanChange,
    PlanNeedsAttention,
    PlanView,
)

AGREED = "agreed"


@dataclass(frozen=True)
class PlanAgreed:
    """The agreed plan: at the conference of ``conference``, or (``outside_reason`` set)
    outside a conference on ``agreed_on``, releasing its place at ``released``."""

    case: CaseView
    actions: tuple[Action, ...]
    names: dict[str, str]
    conference: date | None
    agreed_on: date | None = None
    outside_reason: str | None = None
    released: date | None = None


class Plans:
    """Opening, drafting and agreeing a case's action plan (coordinators only)."""

    def __init__(
        self, ctx: UseCaseContext, board: PlanBoard, actions: Actions, amendments: Amendments
    ) -> None:
        self.ctx = ctx
        self.board = board
        self.actions = actions
        self.amendments = amendments

    @records_denials
    async def open_plan(self, aad: str, reference: str) -> PlanView:
        """The plan card of a case, with fresh tokens."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "plan.view")
            case = await self.board.case(uow, person, reference, "plan.view")
            view = await self.board.view(uow, person, case)
            await audit(self.ctx, uow, person, "plan.view", case.id)
            await uow.commit()
        return view

    @records_denials
    async def add_action(self, aad: str, token: str, inputs: Mapping[str, object]) -> PlanChange:
        """Add an action after its SMART checks (each error under its field): a draft before
        the plan is agreed, or, on an agreed plan, an amendment agreed and sent at once."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "plan.add_action")
            click = await PLAN_CARD.open(self.ctx, uow, person, token, "plan.add_action")
            current = await self.board.current(uow, person, click)
            if isinstance(current, PlanNeedsAttention):
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                return current
            case, version, _ = current
            agencies = [a.key for a in await uow.directory.agencies()]
            try:
                draft = parse_action(inputs, agencies, self.ctx.today(), self.ctx.calendar)
            except FieldErrors as invalid:
                view = await self.board.view(uow, person, case)
                await uow.commit()
                return PlanNeedsAttention(
                    view, "Please correct the highlighted fields.", invalid.errors, focus="add"
                )
            notice = None
            if case.state in ADDS_AGREED:
                added = await self.amendments.add_agreed(uow, person, case, draft)
                notice = (
                    f"Action added to the agreed plan and sent to "
                    f"{(await agency_names(uow)).get(added.agency_key, added.agency_key)}."
                )
            else:
                await uow.actions.add(case.id, draft, person.aad_object_id, self.ctx.now())
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, self.ctx.now(), "added")
            await audit(self.ctx, uow, person, "plan.add_action", case.id)
            view = await self.board.view(uow, person, case, notice)
            await uow.commit()
        self.ctx.on_outbox()
        return view

    @records_denials
    async def remove_action(self, aad: str, token: str) -> PlanChange:
        """Remove a draft action (agreed ones are changed or withdrawn instead)."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "plan.remove_action")
            click = await PLAN_REMOVE_CARD.open(self.ctx, uow, person, token, "plan.remove_action")
            current = await self.board.current(uow, person, click)
            if isinstance(current, PlanNeedsAttention):
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                return current
            case, version, action_id = current
            assert action_id is not None
            if not await uow.actions.remove_draft(action_id):
                raise NotFound(
                    "That action is already agreed: change or withdraw it on the plan card."
                )
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, self.ctx.now(), "removed")
            await audit(self.ctx, uow, person, "plan.remove_action", case.id)
            view = await self.board.view(uow, person, case)
            await uow.commit()
        return view

    @records_denials
    async def agree_plan(
        self,
        aad: str,
        token: str,
        confirm_no_perpetrator_action: bool,
        inputs: Mapping[str, object] | None = None,
    ) -> PlanAgreed | PlanNeedsAttention:
        """Agree the plan: heard, then monitoring; agencies get their actions.

        With no perpetrator-focused action the coordinator must confirm that perpetrator risk
        was considered (the card asks, and a second, explicit button agrees). Before the
        case's conference, ``inputs`` must choose "agreed outside a conference" with a reason.
        A second click of the same card answers with the same agreed plan.
        """
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "plan.agree")
            click = await PLAN_CARD.open(ctx, uow, person, token, "plan.agree")
            if click.issued.used and click.issued.outcome == AGREED:
                return await self._agreed(uow, click.subject.case_id)
            current = await self.board.current(uow, person, click)
            if isinstance(current, PlanNeedsAttention):
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                return current
            case, version, _ = current
            if case.state not in AWAITING_CONFERENCE:
                raise IllegalTransition(
                    f"{case.reference} is {case.state.value}: its plan is agreed already. "
                    f"Type plan {case.reference} to amend it."
                )
            where = await self._where(
                uow, person, case, confirm_no_perpetrator_action, inputs or {}
            )
            if isinstance(where, PlanNeedsAttention):
                await uow.commit()
                return where
            now = ctx.now()
            drafts = {a.id for a in await uow.actions.for_case(case.id) if not a.agreed}
            await self._hear(uow, person, case, where)
            await uow.actions.agree(case.id, now)
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, now, AGREED)
            await audit(ctx, uow, person, "plan.agree", case.id)
            names = await agency_names(uow)
            agreed = [a for a in await uow.actions.for_case(case.id) if a.id in drafts]
            for action in agreed:
                await self.actions.send(uow, case, action, names)
                await uow.reminders.schedule(
                    ctx.schedule.action(case.id, action.id, action.due), now
                )
                ctx.fault("mid-plan-agree")
            await uow.commit()
        ctx.on_outbox()
        async with ctx.units() as uow:
            return await self._agreed(uow, case.id, tuple(agreed))

    async def _where(
        self,
        uow: UnitOfWork,
        person: Person,
        case: CaseView,
        confirmed: bool,
        inputs: Mapping[str, object],
    ) -> Hearing | PlanNeedsAttention:
        """Where the plan is agreed (its hearing), or why it cannot be agreed yet."""
        actions = await uow.actions.for_case(case.id)
        if not any(not a.agreed for a in actions):
            return PlanNeedsAttention(
                await self.board.view(uow, person, case),
                "Add at least one action before agreeing the plan.",
            )
        if not any(a.perpetrator_focused for a in actions) and not confirmed:
            return PlanNeedsAttention(
                await self.board.view(uow, person, case),
                "Please confirm: no action addresses the person causing harm.",
                confirm=True,
            )
        try:
            return hearing(case.listing, self.ctx.today(), inputs)
        except FieldErrors as invalid:
            return PlanNeedsAttention(
                await self.board.view(uow, person, case),
                "The conference has not met yet.",
                invalid.errors,
                confirm=not any(a.perpetrator_focused for a in actions),
            )

    async def _agreed(
        self, uow: UnitOfWork, case_id: int, actions: tuple[Action, ...] | None = None
    ) -> PlanAgreed:
        """The agreed plan as it was recorded (for the first click and any later one)."""
        case = await uow.cases.by_id(case_id)
        assert case is not None and case.heard_at is not None
        if actions is None:
            actions = tuple(a for a in await uow.actions.for_case(case_id) if a.agreed)
        heard = [t for t in await uow.cases.transitions(case_id) if t.to_state is CaseState.HEARD]
        reason = outside_reason_of(heard[-1].reason) if heard else None
        return PlanAgreed(
            case,
            actions,
            await agency_names(uow),
            case.heard_meeting_date,
            case.heard_at.astimezone(LONDON).date(),
            reason,
            case.listing.meeting_date if reason is not None else None,
        )

    async def _hear(self, uow: UnitOfWork, person: Person, case: CaseView, record: Hearing) -> None:
        """Heard at its conference or outside one (its place is freed either way), then
        monitored."""
        now = self.ctx.now()
        heard = transition(
            case.reference,
            case.state,
            CaseState.HEARD,
            person.aad_object_id,
            now,
            record.transition_reason,
        )
        await uow.cases.change_state(case.id, heard)
        await uow.cases.set_heard(case.id, record.meeting_id, now)
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
