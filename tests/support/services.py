"""The use cases on a real database, composed exactly as the bot composes them."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import CaseView
from bot.domain.clock import Clock
from bot.domain.deadlines import DeadlinePolicy
from bot.ports import Messenger
from bot.services.context import ServiceOptions, UseCaseContext
from bot.services.referrals import ReferralRecorded
from bot.teams.app import build_dependencies
from cards.proactive import TeamsCards
from dialogs.base import Dependencies
from storage.db import session_factory
from storage.unit_of_work import SqlUnitOfWorkFactory


def make_context(
    engine: AsyncEngine, clock: Clock, calendar: WorkingDayCalendar | None = None
) -> UseCaseContext:
    return UseCaseContext(
        SqlUnitOfWorkFactory(session_factory(engine)),
        clock,
        calendar or WorkingDayCalendar("ENG"),
        DeadlinePolicy(),
        ServiceOptions("MARAT", 18),
    )


def make_services(
    engine: AsyncEngine,
    clock: Clock,
    calendar: WorkingDayCalendar | None = None,
    messenger: Messenger | None = None,
) -> Dependencies:
    """Every use case over ``engine`` with the default area settings."""
    return build_dependencies(make_context(engine, clock, calendar), TeamsCards(), messenger)


async def refer(deps: Dependencies, aad: str, inputs: Mapping[str, object]) -> CaseView:
    """Open a referral card and submit it, as a coordinator would; the created case."""
    form = await deps.referrals.open_referral(aad)
    outcome = await deps.referrals.submit_referral(aad, form.token, inputs)
    assert isinstance(outcome, ReferralRecorded), outcome
    return outcome.case
