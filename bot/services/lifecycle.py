"""The rest of a case's life: review, defer, withdraw and close (coordinators), each recorded
with who, when and why; an impossible move is refused with a message that says why."""

from __future__ import annotations

from bot.domain.cases import CaseView
from bot.domain.deadlines import ConferenceChoice
from bot.domain.errors import IllegalTransition, NotFound
from bot.domain.lifecycle import CaseState, check_transition, transition
from bot.ports import UnitOfWork
from bot.services.access import audit, denied, records_denials, require
from bot.services.context import UseCaseContext

AUDIT_ACTIONS = {
    CaseState.REVIEW: "case.review",
    CaseState.DEFERRED: "case.defer",
    CaseState.WITHDRAWN: "case.withdraw",
    CaseState.CLOSED: "case.close",
}


class Lifecycle:
    """Moving a case on: `review`, `defer`, `withdraw` and `close`."""

    def __init__(self, ctx: UseCaseContext) -> None:
        self.ctx = ctx

    @records_denials
    async def change_case(
        self, aad: str, reference: str, target: CaseState, reason: str | None
    ) -> CaseView:
        """Move the case (re-listing it after a review or deferral, freeing its place after
        a withdrawal or closure), each move audited with who, when and why."""
        ctx = self.ctx
        action = AUDIT_ACTIONS[target]
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, action)
            case = await uow.cases.by_reference(reference)
            if case is None:
                raise denied(
                    ctx,
                    aad,
                    person,
                    action,
                    NotFound(f"No case {reference.upper()} that you can see."),
                )
            await uow.cases.lock(case.id)
            check_transition(case.reference, case.state, target, reason)
            now = ctx.now()
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
                await uow.cases.relist(
                    case.id, await self._next_place(uow, case), now, target.value
                )
            elif target in (CaseState.WITHDRAWN, CaseState.CLOSED):
                await uow.cases.end_listing(case.id, now)
            await audit(ctx, uow, person, action, case.id)
            updated = await uow.cases.by_id(case.id)
            await uow.commit()
        assert updated is not None
        return updated

    async def _next_place(self, uow: UnitOfWork, case: CaseView) -> ConferenceChoice:
        """The next conference with a free place from tomorrow on (not the one it was at).

        The day-14 target belonged to the first hearing: a re-listing is not a breach.
        """
        today = self.ctx.today()
        later = [
            s
            for s in await uow.meetings.slots_from(today)
            if s.date > today and s.free_places > 0 and s.meeting_id != case.listing.meeting_id
        ]
        first = later[0] if later else None
        return ConferenceChoice(
            first.meeting_id if first else None,
            first.date if first else None,
            first.date if first else case.listing.target,
            False,
        )
