"""What every plan-card verb shares: its card kinds, the plan as the card shows it (with fresh
tokens), and the check that the card is not out of date.

Several coordinators may edit one plan: every change bumps the case's plan version, and a card
issued at an older version gets "updated by someone else" with the current plan, so nobody's
action is lost. Used by bot/services/plans.py (drafting and agreeing) and
bot/services/amendments.py (amending an agreed plan).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.domain.actions import Action, Amendment
from bot.domain.cases import CaseView
from bot.domain.directory import Agency, Person
from bot.domain.errors import NotFound
from bot.domain.hearing import needs_outside_choice
from bot.domain.lifecycle import AWAITING_CONFERENCE, CaseState
from bot.ports import TokenInfo, UnitOfWork
from bot.services.access import denied
from bot.services.card_tokens import CardKind, Click
from bot.services.cases import people_named
from bot.services.context import UseCaseContext
from bot.services.outbox import agency_names

EXPIRED = "This plan card has expired. Type plan REF for a fresh one."
STALE = (
    "The plan was updated by someone else; here is the current version. Please check it and "
    "try again."
)


@dataclass(frozen=True)
class PlanTarget:
    """What a plan card's button is about: the case, and for Remove or an amendment, the
    action."""

    case_id: int
    action_id: int | None = None


async def _plan(_uow: UnitOfWork, issued: TokenInfo) -> PlanTarget | None:
    return PlanTarget(issued.subject_id) if issued.subject_id is not None else None


async def _draft(uow: UnitOfWork, issued: TokenInfo) -> PlanTarget | None:
    if issued.subject_id is None:
        return None
    action = await uow.actions.by_id(issued.subject_id)
    if action is None:
        raise NotFound("That action has already been removed.")
    return PlanTarget(action.case_id, action.id)


def _case_of(target: PlanTarget) -> int:
    return target.case_id


PLAN_CARD = CardKind("plan", EXPIRED, _plan, case_of=_case_of)
PLAN_REMOVE_CARD = CardKind("plan.remove", EXPIRED, _draft, case_of=_case_of)
PLAN_AMEND_CARD = CardKind("plan.amend", EXPIRED, _draft, case_of=_case_of)


@dataclass(frozen=True)
class PlanView:
    """Everything the plan card shows, with freshly issued tokens for its buttons.

    ``outside_needed``: agreeing now would be outside a conference (it has not met yet);
    ``amend_tokens``: per agreed open action, the token of its change/withdraw form;
    ``notice``: what the last click did (an amendment recorded).
    """

    case: CaseView
    actions: tuple[Action, ...]
    agencies: tuple[Agency, ...]
    names: dict[str, str]
    token: str
    remove_tokens: dict[int, str] = field(default_factory=dict)
    amend_tokens: dict[int, str] = field(default_factory=dict)
    outside_needed: bool = False
    amendments: tuple[Amendment, ...] = ()
    people: dict[str, str] = field(default_factory=dict)
    notice: str | None = None

    @property
    def agreeable(self) -> bool:
        """The plan is still to be agreed (at, or outside, a conference)."""
        return self.case.state in AWAITING_CONFERENCE

    @property
    def conference(self) -> date | None:
        """The conference the case is listed at now."""
        return self.case.listing.meeting_date


@dataclass(frozen=True)
class PlanNeedsAttention:
    """The plan card comes back as ``plan`` with a message (and field errors), nothing
    changed; ``confirm`` asks the coordinator to confirm agreeing with no action that
    addresses the person causing harm; ``focus`` is the form the errors belong to ("add", or
    the id of the agreed action being changed or withdrawn)."""

    plan: PlanView
    message: str
    errors: dict[str, str] = field(default_factory=dict)
    confirm: bool = False
    focus: str | int | None = None


PlanChange = PlanView | PlanNeedsAttention


class PlanBoard:
    """The plan card's state: looking the case up, the view with fresh tokens, staleness."""

    def __init__(self, ctx: UseCaseContext) -> None:
        self.ctx = ctx

    async def case(self, uow: UnitOfWork, person: Person, reference: str, action: str) -> CaseView:
        """The case with this reference; refused (and audited) as not found otherwise."""
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

    async def view(
        self, uow: UnitOfWork, person: Person, case: CaseView, notice: str | None = None
    ) -> PlanView:
        """The plan as it stands, with tokens issued at its current version."""
        version = await uow.actions.plan_version(case.id)
        now = self.ctx.now()
        aad = person.aad_object_id
        token = await PLAN_CARD.issue(uow, case.id, aad, now, version)
        actions = tuple(await uow.actions.for_case(case.id))
        removes = {
            a.id: await PLAN_REMOVE_CARD.issue(uow, a.id, aad, now, version)
            for a in actions
            if not a.agreed
        }
        amends = {
            a.id: await PLAN_AMEND_CARD.issue(uow, a.id, aad, now, version)
            for a in actions
            if a.agreed and not a.status.is_closed and case.state.is_open
        }
        amendments = tuple(await uow.actions.amendments(case.id))
        return PlanView(
            case,
            actions,
            tuple(await uow.directory.agencies()),
            await agency_names(uow),
            token,
            removes,
            amends,
            case.state in AWAITING_CONFERENCE
            and needs_outside_choice(case.listing, self.ctx.today()),
            amendments,
            await people_named(uow, [a.by for a in amendments]),
            notice,
        )

    async def current(
        self, uow: UnitOfWork, person: Person, click: Click[PlanTarget]
    ) -> tuple[CaseView, int, int | None] | PlanNeedsAttention:
        """The case a plan card is about (locked), its plan version and the action the button
        is about; or the current plan if the card is out of date."""
        case = await uow.cases.by_id(click.subject.case_id)
        assert case is not None
        await uow.cases.lock(case.id)
        current = await uow.actions.plan_version(case.id)
        if click.issued.version != current:
            return PlanNeedsAttention(await self.view(uow, person, case), STALE)
        return case, current, click.subject.action_id


ADDS_AGREED: frozenset[CaseState] = frozenset({CaseState.HEARD, CaseState.MONITORING})
