"""Shared machinery of the use cases: role checks from the directory, audit records, and
recording refusals after the refused transaction has closed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, time
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.clock import Clock, london_today
from bot.domain.deadlines import DeadlinePolicy
from bot.domain.directory import Person, Role
from bot.domain.errors import MaratError, NotPermitted, NotRegistered
from bot.domain.reminders import Schedule
from bot.domain.repeats import RepeatRule
from bot.ports import AuditEvent, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class ServiceOptions:
    case_prefix: str = "MARAT"
    conference_capacity: int = 18
    repeat_rule: RepeatRule = RepeatRule.NAME_AND_DOB
    send_time: time = time(9, 0)


P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound="HasUnits")


class HasUnits(Protocol):
    """Anything whose use cases run in units of work (the services, the directory admin)."""

    @property
    def units(self) -> UnitOfWorkFactory: ...


def records_denials(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Write a refusal's audit record in its own transaction, after the refused one is gone.

    (The refused transaction rolls back; and SQLite has one connection, so the record cannot
    be written while that transaction still holds it.)
    """

    @functools.wraps(method)
    async def wrapper(service: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(service, *args, **kwargs)
        except MaratError as error:
            denial = getattr(error, "denial", None)
            if isinstance(denial, AuditEvent):
                async with service.units() as uow:
                    await uow.audit.record(denial)
                    await uow.commit()
            raise

    return wrapper


def role_of(person: Person | None) -> str:
    if person is None:
        return "unregistered"
    return Role.COORDINATOR.value if person.is_coordinator else Role.CONTACT.value


class UseCaseBase:
    """What every use case needs: the unit of work, the clock, the calendar, and the
    checks of who may do what (from the directory, by Entra object id)."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        clock: Clock,
        calendar: WorkingDayCalendar,
        policy: DeadlinePolicy,
        options: ServiceOptions | None = None,
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self.units = units
        self.clock = clock
        self.calendar = calendar
        self.policy = policy
        self.options = options or ServiceOptions()
        self.schedule = Schedule(calendar, self.options.send_time)
        # Wakes the outbox sender after a commit that queued messages (no waiting for a poll).
        self.on_outbox = on_outbox or (lambda: None)

    def today(self) -> date:
        return london_today(self.clock)

    # -- who is asking ---------------------------------------------------------------------

    async def person(self, aad_object_id: str) -> Person | None:
        async with self.units() as uow:
            return await uow.directory.person(aad_object_id)

    def _deny(
        self,
        aad: str,
        person: Person | None,
        action: str,
        error: MaratError,
        case_id: int | None = None,
    ) -> MaratError:
        """Attach the audit record of a refusal; ``records_denials`` writes it afterwards."""
        error.denial = AuditEvent(  # type: ignore[attr-defined]
            self.clock.now(), aad, role_of(person), action, "denied", case_id
        )
        return error

    async def _require(
        self, uow: UnitOfWork, aad: str, action: str, coordinator: bool = True
    ) -> Person:
        person = await uow.directory.person(aad)
        if person is None:
            raise self._deny(
                aad, None, action, NotRegistered("You are not registered with the MARAT.")
            )
        if coordinator and not person.is_coordinator:
            raise self._deny(
                aad,
                person,
                action,
                NotPermitted("That is for MARAT coordinators. Type help to see what you can do."),
            )
        return person

    async def _audit(
        self,
        uow: UnitOfWork,
        person: Person,
        action: str,
        case_id: int | None = None,
        outcome: str = "ok",
    ) -> None:
        await uow.audit.record(
            AuditEvent(
                self.clock.now(), person.aad_object_id, role_of(person), action, outcome, case_id
            )
        )

    # -- referral --------------------------------------------------------------------------
