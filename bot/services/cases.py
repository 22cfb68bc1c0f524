"""Reading cases: `/case` (need to know: a contact sees only their agency's part) and
`/cases`, and sending detail asked for in a channel to the asker's 1:1 chat."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from bot.domain.cases import AgencyReturn, CaseDetail, CaseView
from bot.domain.delivery import OutgoingMessage
from bot.domain.directory import Person
from bot.domain.errors import NotFound
from bot.ports import UnitOfWork
from bot.services.access import audit, denied, records_denials, require, role_of
from bot.services.context import UseCaseContext
from bot.services.discussion import DISCUSSION_CARD
from bot.services.outbox import PRIVATE_PREFIX, agency_names, enqueue


def can_see(person: Person, case: CaseView) -> bool:
    """Need to know: coordinators see every case, a contact only their agencies' cases."""
    return person.is_coordinator or bool(person.agency_keys & set(case.agencies))


async def agency_returns(
    uow: UnitOfWork, case_id: int, agencies: Collection[str] | None = None
) -> tuple[AgencyReturn, ...]:
    """The case's information returns in full, with who answered by display name; only
    ``agencies``' returns when given (need to know: a contact reads their own agency's)."""
    found = []
    for request in await uow.cases.information_requests(case_id):
        if agencies is not None and request.agency_key not in agencies:
            continue
        answerer = await uow.directory.person(request.answered_by or "")
        found.append(
            AgencyReturn(
                request.agency_key,
                request.due,
                request.known,
                request.information,
                request.concerns,
                (answerer.name if answerer else "a former contact") if request.answered else None,
                request.answered_at,
                bool(request.late),
            )
        )
    return tuple(found)


async def people_named(uow: UnitOfWork, ids: Iterable[str]) -> dict[str, str]:
    """'Name (role)' of each person, for the timeline and amendments ('cli' is the operator)."""
    found: dict[str, str] = {}
    for aad in set(ids):
        if aad == "cli":
            found[aad] = "an operator (marat CLI)"
            continue
        who = await uow.directory.person(aad)
        found[aad] = f"{who.name} ({role_of(who)})" if who else "a former member of the MARAT"
    return found


class Cases:
    """The case summary, the open-case list and private delivery of case detail."""

    def __init__(self, ctx: UseCaseContext) -> None:
        self.ctx = ctx

    @records_denials
    async def case_detail(self, aad: str, reference: str) -> CaseDetail:
        """The case as this person may see it; the same refusal whether it does not exist or
        is not theirs to see."""
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "case.view", coordinator=False)
            case = await uow.cases.by_reference(reference)
            if case is None or not can_see(person, case):
                raise denied(
                    ctx,
                    aad,
                    person,
                    "case.view",
                    NotFound(f"No case {reference.upper()} that you can see."),
                    case.id if case else None,
                )
            transitions = tuple(await uow.cases.transitions(case.id))
            requests = await uow.cases.information_requests(case.id)
            names = await agency_names(uow)
            not_reached = await self._not_reached(uow, case) if person.is_coordinator else []
            discussion = await uow.cases.discussion(case.id)
            discussion_token = None
            if person.is_coordinator and discussion is None and case.state.is_open:
                discussion_token = await DISCUSSION_CARD.issue(
                    uow, case.id, person.aad_object_id, ctx.now()
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
            shown = {a.id for a in actions}
            amendments = tuple(
                a for a in await uow.actions.amendments(case.id) if a.action_id in shown
            )
            scope = None if person.is_coordinator else person.agency_keys
            returns = await agency_returns(uow, case.id, scope)
            people = await people_named(
                uow, [t.actor_aad_id for t in transitions] + [a.by for a in amendments]
            )
            # Serial perpetrators are flagged to coordinators only, never to contacts.
            serial = (
                await uow.figures.serial_perpetrator(case.id) if person.is_coordinator else None
            )
            await audit(ctx, uow, person, "case.view", case.id)
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
            returns,
            people,
            amendments,
            serial,
        )

    @staticmethod
    async def _not_reached(uow: UnitOfWork, case: CaseView) -> list[tuple[str, str]]:
        """People the case's cards could not reach, and what happened (coordinator view)."""
        found: list[tuple[str, str]] = []
        for recipient, state in (await uow.outbox.delivery_states(case.id)).items():
            if state in ("unreachable", "failed"):
                who = await uow.directory.person(recipient)
                what = "could not be reached" if state == "unreachable" else "delivery failed"
                found.append((who.name if who else "A former contact", what))
        return found

    @records_denials
    async def open_cases(self, aad: str) -> list[CaseView]:
        """Open cases, breaches first, then by their next deadline."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "cases.list")
            cases = await uow.cases.open_cases()
            for case in cases:
                await audit(self.ctx, uow, person, "cases.list", case.id)
            await uow.commit()
        today = self.ctx.today()

        def order(case: CaseView) -> tuple[bool, date, str]:
            step = case.next_deadline(today)
            return (not case.listing.breach, step[1] if step else date.max, case.reference)

        return sorted(cases, key=order)

    async def send_privately(self, aad: str, card: dict[str, Any], reference: str) -> None:
        """Queue a card of case detail for the asker's 1:1 chat (asked for in a channel)."""
        async with self.ctx.units() as uow:
            await enqueue(
                uow,
                f"{PRIVATE_PREFIX}{reference}:{aad}",
                aad,
                OutgoingMessage(card=card, summary=card.get("fallbackText")),
                self.ctx.now(),
            )
            await uow.commit()
        self.ctx.on_outbox()
