"""Information requests: sent to every contact of every involved agency with the referral,
answered in the card (the first valid answer counts for the agency), late answers marked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.cases import CaseView
from bot.domain.directory import Person
from bot.domain.errors import FieldErrors
from bot.domain.information import InformationRequest, is_late, parse_answer
from bot.domain.reminders import ReminderKind
from bot.ports import ProactiveCards, TokenInfo, UnitOfWork
from bot.services.access import audit, records_denials, require
from bot.services.card_tokens import CardKind
from bot.services.context import UseCaseContext
from bot.services.outbox import (
    agency_names,
    enqueue,
    information_request_key,
    notify_coordinators,
    replace_card,
)


async def _request(uow: UnitOfWork, issued: TokenInfo) -> InformationRequest | None:
    if issued.subject_id is None:
        return None
    return await uow.cases.information_request(issued.subject_id)


INFOREQ_CARD = CardKind(
    "inforeq",
    "This information request card has expired.",
    _request,
    may_act=lambda person, request: request.agency_key in person.agency_keys,
    not_permitted="This request is for another agency's contacts.",
    case_of=lambda request: request.case_id,
)


@dataclass(frozen=True)
class AnswerForm:
    """What an information-request card shows, to render it again or its answered state."""

    case: CaseView
    agency_name: str
    due: date


@dataclass(frozen=True)
class Answered:
    """The agency's return: recorded now by this person, or (``AlreadyAnswered``) earlier."""

    form: AnswerForm
    answered_by: str
    answered_at: datetime
    late: bool
    mine: bool


@dataclass(frozen=True)
class AlreadyAnswered(Answered):
    """The agency had answered already (perhaps a colleague, a moment earlier)."""


@dataclass(frozen=True)
class AnswerInvalid:
    """Nothing was recorded: the form comes back with these errors under its fields."""

    form: AnswerForm
    errors: dict[str, str]


AnswerOutcome = Answered | AnswerInvalid


class _Raced(Exception):
    """A colleague's answer committed first: roll ours back and show theirs."""


class InformationRequests:
    """Sending an agency's requests and recording its answer."""

    def __init__(self, ctx: UseCaseContext, cards: ProactiveCards) -> None:
        self.ctx = ctx
        self.cards = cards

    async def send(self, uow: UnitOfWork, case: CaseView) -> None:
        """Queue each involved agency's request to every contact, with the case (atomically).

        An agency with no contacts is reported to the coordinator: never skipped silently.
        """
        names = await agency_names(uow)
        now = self.ctx.now()
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
                token = await INFOREQ_CARD.issue(uow, request.id, contact.aad_object_id, now)
                await enqueue(
                    uow,
                    information_request_key(request.id, contact.aad_object_id),
                    contact.aad_object_id,
                    self.cards.information_request(token, case, agency_name, request.due),
                    now,
                    case.id,
                )

    @records_denials
    async def answer(self, aad: str, token: str, inputs: Mapping[str, object]) -> AnswerOutcome:
        """Record the first valid answer for the agency; later ones see who answered.

        The agency's other contacts have their copies replaced to show it is answered; the
        coordinator is told when every return of the case is in.
        """
        try:
            return await self._answer(aad, token, inputs)
        except _Raced:
            return await self._answer(aad, token, inputs)

    async def _answer(self, aad: str, token: str, inputs: Mapping[str, object]) -> AnswerOutcome:
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "inforeq.answer", coordinator=False)
            click = await INFOREQ_CARD.open(ctx, uow, person, token, "inforeq.answer")
            request = click.subject
            case = await uow.cases.by_id(request.case_id)
            assert case is not None
            names = await agency_names(uow)
            agency_name = names.get(request.agency_key, request.agency_key)
            form = AnswerForm(case, agency_name, request.due)
            if request.answered:
                return await self._already(uow, person, request, form)
            try:
                answer = parse_answer(inputs)
            except FieldErrors as invalid:
                return AnswerInvalid(form, invalid.errors)
            now = ctx.now()
            late = is_late(request.due, ctx.today())
            # Answers to one case take turns: otherwise the last two, committing together,
            # would each see the other as outstanding and nobody would tell the coordinator.
            await uow.cases.lock(case.id)
            if not await uow.cases.answer_request(
                request.id, person.aad_object_id, now, answer, late
            ):
                raise _Raced
            ctx.fault("mid-information-return")
            await click.claim(uow, person.aad_object_id, now, "answered")
            await uow.reminders.cancel([ReminderKind.INFO_DUE], request.id, "answered", now)
            await audit(ctx, uow, person, "inforeq.answer", case.id)
            await self._tell_the_others(uow, person, request, case, agency_name, now, late)
            await uow.commit()
        ctx.on_outbox()
        return Answered(form, person.name, now, late, True)

    async def _already(
        self, uow: UnitOfWork, person: Person, request: InformationRequest, form: AnswerForm
    ) -> AlreadyAnswered:
        answerer = await uow.directory.person(request.answered_by or "")
        assert request.answered_at is not None
        return AlreadyAnswered(
            form,
            answerer.name if answerer else "Someone",
            request.answered_at,
            bool(request.late),
            request.answered_by == person.aad_object_id,
        )

    async def _tell_the_others(
        self,
        uow: UnitOfWork,
        person: Person,
        request: InformationRequest,
        case: CaseView,
        agency_name: str,
        now: datetime,
        late: bool,
    ) -> None:
        """Colleagues' copies say who answered; the coordinator hears when all are in."""
        for contact in await uow.directory.contacts_of(request.agency_key):
            if contact.aad_object_id == person.aad_object_id:
                continue
            await replace_card(
                uow,
                information_request_key(request.id, contact.aad_object_id),
                contact.aad_object_id,
                self.cards.information_answered(
                    case.reference, agency_name, person.name, now, late
                ),
                now,
                case.id,
            )
        requests = await uow.cases.information_requests(case.id)
        if all(r.answered for r in requests):
            which = (
                "the information return is in"
                if len(requests) == 1
                else f"all {len(requests)} information returns are in"
            )
            await notify_coordinators(
                uow,
                f"returns-complete:{case.id}",
                f"MARAT update: {which} for {case.reference}.",
                now,
                case.id,
                only=case.created_by,
            )
