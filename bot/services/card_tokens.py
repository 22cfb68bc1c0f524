"""The one sequence every card action goes through: peek at the token, check its kind, load
what it is about, check that the clicking user may act on it, and later claim it.

The server decides from the token alone which case, request or action a click is about;
anything else in the card's data that names one is ignored (PRODUCT.md section 4). A card of a
closed or withdrawn case answers, politely and in this one place, that it needs nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from bot.domain.directory import Person
from bot.domain.errors import CaseClosed, NotFound, NotPermitted
from bot.domain.lifecycle import CaseState
from bot.ports import TokenInfo, UnitOfWork
from bot.services.access import denied
from bot.services.context import UseCaseContext

S = TypeVar("S")


def _no_case(_subject: object) -> int | None:
    return None


@dataclass(frozen=True)
class Click(Generic[S]):
    """A card action resolved: its token, what the token was issued for, and its subject."""

    token: str
    issued: TokenInfo
    subject: S

    async def claim(self, uow: UnitOfWork, by: str, at: datetime, outcome: str) -> bool:
        """Spend the token in this transaction; False if another click spent it first."""
        return await uow.tokens.claim(self.token, by, at, outcome)


@dataclass(frozen=True)
class CardKind(Generic[S]):
    """One kind of card token: how to load its subject and who may act on it.

    ``may_act`` None means any registered person the use case admits; otherwise a refusal is
    audited against the subject's case (``case_of``) with ``not_permitted`` as its message.
    A subject whose case (``case_of``) is closed or withdrawn is answered with ``CaseClosed``.
    """

    name: str
    expired: str
    load: Callable[[UnitOfWork, TokenInfo], Awaitable[S | None]]
    may_act: Callable[[Person, S], bool] | None = None
    not_permitted: str = "That card is not for you."
    case_of: Callable[[S], int | None] = _no_case

    async def issue(
        self,
        uow: UnitOfWork,
        subject_id: int | None,
        issued_to: str,
        at: datetime,
        version: int | None = None,
    ) -> str:
        """A fresh token for a card of this kind about ``subject_id``."""
        return await uow.tokens.issue(self.name, subject_id, issued_to, at, version)

    async def open(
        self, ctx: UseCaseContext, uow: UnitOfWork, person: Person, token: str, action: str
    ) -> Click[S]:
        """Resolve a click: NotFound if the token is unknown, of another kind or its subject
        is gone; NotPermitted (audited) if this person may not act on the subject; CaseClosed
        if the subject's case is closed or withdrawn."""
        issued = await uow.tokens.peek(token)
        subject = await self.load(uow, issued) if issued and issued.kind == self.name else None
        if issued is None or subject is None:
            raise NotFound(self.expired)
        if self.may_act is not None and not self.may_act(person, subject):
            raise denied(
                ctx,
                person.aad_object_id,
                person,
                action,
                NotPermitted(self.not_permitted),
                self.case_of(subject),
            )
        case_id = self.case_of(subject)
        if case_id is not None:
            case = await uow.cases.by_id(case_id)
            if case is not None and not case.state.is_open:
                raise CaseClosed(closed_case_message(case.reference, case.state))
        return Click(token, issued, subject)


def closed_case_message(reference: str, state: CaseState) -> str:
    """What a card of a closed or withdrawn case says when it is used (and after closure)."""
    return f"{reference} is {state.value}, so this card needs nothing more. Thank you."
