"""Who may do what: roles from the directory (by Entra object id), audit records, and
recording refusals after the refused transaction has closed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from bot.domain.directory import Person, Role
from bot.domain.errors import Denial, MaratError, NotPermitted, NotRegistered
from bot.ports import AuditEvent, UnitOfWork
from bot.services.context import UseCaseContext

COORDINATORS_ONLY = "That is for MARAT coordinators. Type help to see what you can do."
NOT_REGISTERED = "You are not registered with the MARAT."

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound="HasContext")


class HasContext(Protocol):
    """A use case: anything built on a ``UseCaseContext``."""

    @property
    def ctx(self) -> UseCaseContext:
        """The context the use case runs in."""
        ...


def role_of(person: Person | None) -> str:
    """The role an audit record names: coordinator, contact or unregistered."""
    if person is None:
        return "unregistered"
    return Role.COORDINATOR.value if person.is_coordinator else Role.CONTACT.value


def denied(
    ctx: UseCaseContext,
    aad: str,
    person: Person | None,
    action: str,
    error: MaratError,
    case_id: int | None = None,
    *,
    outcome: str = "denied",
    correlation_id: str | None = None,
) -> MaratError:
    """The refusal, carrying its audit record (``records_denials`` writes it afterwards)."""
    return error.audited(
        Denial(ctx.now(), aad, role_of(person), action, case_id, correlation_id, outcome)
    )


async def require(
    ctx: UseCaseContext,
    uow: UnitOfWork,
    aad: str,
    action: str,
    *,
    coordinator: bool = True,
    correlation_id: str | None = None,
) -> Person:
    """The registered person asking; refused (and audited) if unregistered, or if the step
    is for coordinators and they are not one."""
    person = await uow.directory.person(aad)
    if person is None:
        raise denied(
            ctx, aad, None, action, NotRegistered(NOT_REGISTERED), correlation_id=correlation_id
        )
    if coordinator and not person.is_coordinator:
        raise denied(
            ctx, aad, person, action, NotPermitted(COORDINATORS_ONLY), correlation_id=correlation_id
        )
    return person


async def audit(
    ctx: UseCaseContext,
    uow: UnitOfWork,
    person: Person,
    action: str,
    case_id: int | None = None,
    outcome: str = "ok",
    correlation_id: str | None = None,
) -> None:
    """Write an audit record in the use case's transaction (who, role, what, which case)."""
    await uow.audit.record(
        AuditEvent(
            ctx.now(),
            person.aad_object_id,
            role_of(person),
            action,
            outcome,
            case_id,
            correlation_id,
        )
    )


def records_denials(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Write a refusal's audit record in its own transaction, after the refused one is gone.

    (The refused transaction rolls back; and SQLite has one connection, so the record cannot
    be written while that transaction still holds it.)
    """

    @functools.wraps(method)
    async def wrapper(use_case: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(use_case, *args, **kwargs)
        except MaratError as error:
            if error.denial is not None:
                d = error.denial
                async with use_case.ctx.units() as uow:
                    await uow.audit.record(
                        AuditEvent(
                            d.at, d.actor, d.role, d.action, d.outcome, d.case_id, d.correlation_id
                        )
                    )
                    await uow.commit()
            raise

    return wrapper
