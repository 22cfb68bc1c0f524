"""The safety action plan: drafted by coordinators, agreed at the conference.

Several coordinators may edit one plan: every change bumps the case's plan version, and a
card issued at an older version gets "updated by someone else" with the current plan, so
nobody's action is lost. Agreeing makes the case heard, then monitoring, and sends each
agency's contacts their action cards (bot/services/actions.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from bot.domain.actions import Action, parse_action
from bot.domain.cases import CaseView
from bot.domain.directory import Agency, Person
from bot.domain.errors import FieldErrors, IllegalTransition, NotFound
from bot.domain.lifecycle import AWAITING_CONFERENCE, CaseState, transition
from bot.ports import TokenInfo, UnitOfWork
from bot.services.access import audit, denied, records_denials, require
from bot.services.actions import Actions
from bot.services.card_tokens import CardKind
from bot.services.context import UseCaseContext
from bot.services.outbox import agency_names

EXPIRED = "This plan card has expired. Type plan REF for a fresh one."
STALE = (
    "The plan was updated by someone else; here is the current version. Please check it and "
    "try again."
)


@dataclass(frozen=True)
class _Target:
    """What a plan card's button is about: the case, and for Remove, the action."""

    case_id: int
    action_id: int | None = None


async def _plan(_uow: UnitOfWork, issued: TokenInfo) -> _Target | None:
    return _Target(issued.subject_id) if issued.subject_id is not None else None


async def _draft(uow: UnitOfWork, issued: TokenInfo) -> _Target | None:
    if issued.subject_id is None:
        return None
    action = await uow.actions.by_id(issued.subject_id)
    if action is None:
        raise NotFound("That action has already been removed.")
    return _Target(action.case_id, action.id)


PLAN_CARD = CardKind("plan", EXPIRED, _plan)
PLAN_REMOVE_CARD = CardKind("plan.remove", EXPIRED, _draft)


@dataclass(frozen=True)
class PlanView:
    """Everything the plan card shows, with freshly issued tokens for its buttons."""

    case: CaseView
    actions: tuple[Action, ...]
    agencies: tuple[Agency, ...]
    names: dict[str, str]
    token: str
    remove_tokens: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanNeedsAttention:
    """The plan card comes back as ``plan`` with a message (and field errors), nothing
    changed; ``confirm`` asks the coordinator to confirm agreeing with no action that
    addresses the person causing harm."""

    plan: PlanView
    message: str
    errors: dict[str, str] = field(default_factory=dict)
    confirm: bool = False


@dataclass(frozen=True)
class PlanAgreed:
    """The agreed plan and the conference it was agreed at."""

    case: CaseView
    actions: tuple[Action, ...]
    names: dict[str, str]
    conference: date | None


PlanChange = PlanView | PlanNeedsAttention


class Plans:
    """Opening, editing and agreeing a case's action plan (coordinators only)."""

    def __init__(self, ctx: UseCaseContext, actions: Actions) -> None:
        self.ctx = ctx
        self.actions = actions

    async def _case(self, uow: UnitOfWork, person: Person, reference: str, action: str) -> CaseView:
        case = await uow.cases.by_reference(reference)
        if case is None:
            raise denied(
                self.ctx,
                person.aad_object_id,
                person,
                action,
                NotFound(f"No case {reference.upper()} that you can see."),
            )
        return case

    async def _view(self, uow: UnitOfWork, person: Person, case: CaseView) -> PlanView:
        version = await uow.actions.plan_version(case.id)
        now = self.ctx.now()
        token = await PLAN_CARD.issue(uow, case.id, person.aad_object_id, now, version)
        actions = tuple(await uow.actions.for_case(case.id))
        removes = {
            a.id: await PLAN_REMOVE_CARD.issue(uow, a.id, person.aad_object_id, now, version)
            for a in actions
            if not a.agreed
        }
        agencies = tuple(await uow.directory.agencies())
        return PlanView(case, actions, agencies, await agency_names(uow), token, removes)

    @records_denials
    async def open_plan(self, aad: str, reference: str) -> PlanView:
        """The plan card of a case, with fresh tokens."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "plan.view")
            case = await self._case(uow, person, reference, "plan.view")
            view = await self._view(uow, person, case)
            await audit(self.ctx, uow, person, "plan.view", case.id)
            await uow.commit()
        return view

    async def _current(
        self,
        uow: UnitOfWork,
        person: Person,
        token: str,
        kind: CardKind[_Target],
        action: str,
    ) -> tuple[CaseView, int, int | None] | PlanNeedsAttention:
        """The case a plan card is about, its plan version and the action a Remove is about;
        or the current plan if the card is out of date."""
        click = await kind.open(self.ctx, uow, person, token, action)
        case = await uow.cases.by_id(click.subject.case_id)
        assert case is not None
        if case.state not in AWAITING_CONFERENCE:
            raise IllegalTransition(
                f"{case.reference} is {case.state.value}: its plan can no longer be changed "
                "here. Updates to agreed actions come from the agencies."
            )
        await uow.cases.lock(case.id)
        current = await uow.actions.plan_version(case.id)
        if click.issued.version != current:
            return PlanNeedsAttention(await self._view(uow, person, case), STALE)
        return case, current, click.subject.action_id

    @records_denials
    async def add_action(self, aad: str, token: str, inputs: Mapping[str, object]) -> PlanChange:
        """Add a draft action after its SMART checks (each error under its field)."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "plan.add_action")
            current = await self._current(uow, person, token, PLAN_CARD, "plan.add_action")
            if isinstance(current, PlanNeedsAttention):
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                return current
            case, version, _ = current
            agencies = [a.key for a in await uow.directory.agencies()]
            try:
                draft = parse_action(inputs, agencies, self.ctx.today(), self.ctx.calendar)
            except FieldErrors as invalid:
                view = await self._view(uow, person, case)
                await uow.commit()
                return PlanNeedsAttention(
                    view, "Please correct the highlighted fields.", invalid.errors
                )
            await uow.actions.add(case.id, draft, person.aad_object_id, self.ctx.now())
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, self.ctx.now(), "added")
            await audit(self.ctx, uow, person, "plan.add_action", case.id)
            view = await self._view(uow, person, case)
            await uow.commit()
        return view

    @records_denials
    async def remove_action(self, aad: str, token: str) -> PlanChange:
        """Remove a draft action (agreed ones are updated by their agency instead)."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "plan.remove_action")
            current = await self._current(
                uow, person, token, PLAN_REMOVE_CARD, "plan.remove_action"
            )
            if isinstance(current, PlanNeedsAttention):
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                return current
            case, version, action_id = current
            assert action_id is not None
            if not await uow.actions.remove_draft(action_id):
                raise NotFound("That action is already agreed; the agency updates it instead.")
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, self.ctx.now(), "removed")
            await audit(self.ctx, uow, person, "plan.remove_action", case.id)
            view = await self._view(uow, person, case)
            await uow.commit()
        return view

    @records_denials
    async def agree_plan(
        self, aad: str, token: str, confirm_no_perpetrator_action: bool
    ) -> PlanAgreed | PlanNeedsAttention:
        """The conference agreed the plan: heard, then monitoring; agencies get their actions.

        With no perpetrator-focused action the coordinator must confirm that perpetrator risk
        was considered (the card asks, and a second, explicit button agrees).
        """
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "plan.agree")
            current = await self._current(uow, person, token, PLAN_CARD, "plan.agree")
            if isinstance(current, PlanNeedsAttention):
                await uow.commit()  # keep the fresh card's tokens, then answer with it
                return current
            case, version, _ = current
            actions = await uow.actions.for_case(case.id)
            drafts = [a for a in actions if not a.agreed]
            problem = None
            if not drafts:
                problem = PlanNeedsAttention(
                    await self._view(uow, person, case),
                    "Add at least one action before agreeing the plan.",
                )
            elif not any(a.perpetrator_focused for a in actions) and (
                not confirm_no_perpetrator_action
            ):
                problem = PlanNeedsAttention(
                    await self._view(uow, person, case),
                    "Please confirm: no action addresses the person causing harm.",
                    confirm=True,
                )
            if problem is not None:
                await uow.commit()
                return problem
            now = ctx.now()
            await self._hear(uow, person, case)
            await uow.actions.agree(case.id, now)
            await uow.actions.bump_plan_version(case.id, version)
            await uow.tokens.claim(token, person.aad_object_id, now, "agreed")
            await audit(ctx, uow, person, "plan.agree", case.id)
            names = await agency_names(uow)
            drafted = {d.id for d in drafts}
            agreed = [a for a in await uow.actions.for_case(case.id) if a.id in drafted]
            for action in agreed:
                await self.actions.send(uow, case, action, names)
                await uow.reminders.schedule(
                    ctx.schedule.action(case.id, action.id, action.due), now
                )
                ctx.fault("mid-plan-agree")
            updated = await uow.cases.by_id(case.id)
            await uow.commit()
        ctx.on_outbox()
        assert updated is not None
        return PlanAgreed(updated, tuple(agreed), names, case.listing.meeting_date)

    async def _hear(self, uow: UnitOfWork, person: Person, case: CaseView) -> None:
        """Heard at the conference it is listed at (its place is freed), then monitored."""
        now = self.ctx.now()
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
