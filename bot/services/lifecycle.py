"""The rest of a case's life: review, defer, withdraw and close (coordinators), each recorded
with who, when and why; an impossible move is refused with a message that says why.

Closing or withdrawing closes everything of the case at once: its pending reminders are
cancelled, and the agencies' outstanding information-request and action cards are replaced in
place by a version that says the case is closed (their tokens answer the same, see
bot/services/card_tokens.py).
"""

from __future__ import annotations

from bot.domain.cases import CaseView
from bot.domain.deadlines import ConferenceChoice
from bot.domain.errors import IllegalTransition, NotFound
from bot.domain.lifecycle import CaseState, check_transition, transition
from bot.domain.wording import plural
from bot.ports import ProactiveCards, UnitOfWork
from bot.services.access import audit, denied, records_denials, require
from bot.services.card_tokens import closed_case_message
from bot.services.context import UseCaseContext
from bot.services.outbox import action_key, agency_names, information_request_key, replace_card

AUDIT_ACTIONS = {
    CaseState.REVIEW: "case.review",
    CaseState.DEFERRED: "case.defer",
    CaseState.WITHDRAWN: "case.withdraw",
    CaseState.CLOSED: "case.close",
}


class Lifecycle:
    """Moving a case on: `review`, `defer`, `withdraw` and `close`."""

    def __init__(self, ctx: UseCaseContext, cards: ProactiveCards) -> None:
        self.ctx = ctx
        self.cards = cards

    @records_denials
    async def change_case(
        self, aad: str, reference: str, target: CaseState, reason: str | None
    ) -> CaseView:
        """Move the case (re-listing it after a review or deferral, freeing its place and
        closing everything outstanding after a withdrawal or closure), audited."""
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
                    f"{case.reference} has {plural(len(open_actions), 'open action')}. Close "
                    f"it only with a reason: close {case.reference} REASON."
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
                await self._close_everything(uow, case, target)
            await audit(ctx, uow, person, action, case.id)
            updated = await uow.cases.by_id(case.id)
            await uow.commit()
        ctx.on_outbox()
        assert updated is not None
        return updated

    async def _close_everything(self, uow: UnitOfWork, case: CaseView, target: CaseState) -> None:
        """Nothing of a closed case stays open: reminders, unanswered requests, open actions."""
        now = self.ctx.now()
        await uow.reminders.cancel_case(case.id, f"the case is {target.value}", now)
        why = closed_case_message(case.reference, target)
        names = await agency_names(uow)
        for request in await uow.cases.information_requests(case.id):
            if request.answered:
                continue
            agency = names.get(request.agency_key, request.agency_key)
            for contact in await uow.directory.contacts_of(request.agency_key):
                await replace_card(
                    uow,
                    information_request_key(request.id, contact.aad_object_id),
                    contact.aad_object_id,
                    self.cards.request_closed(case.reference, agency, why),
                    now,
                    case.id,
                )
        for action in await uow.actions.for_case(case.id):
            if not action.agreed or action.status.is_closed:
                continue
            agency = names.get(action.agency_key, action.agency_key)
            for contact in await uow.directory.contacts_of(action.agency_key):
                await replace_card(
                    uow,
                    action_key(action.id, contact.aad_object_id),
                    contact.aad_object_id,
                    self.cards.action(action, agency, None, None, why),
                    now,
                    case.id,
                )

    async def _next_place(self, uow: UnitOfWork, case: CaseView) -> ConferenceChoice:
        """The next conference with a free place from tomorrow on (not the one it was at).

        The day-14 target belongs to the case and never changes; a re-listing is not a breach.
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
            case.deadlines.conference_target,
            False,
        )
