"""The partnership figures for a period: `/report` for coordinators and `marat report` for
the operator (each read audited, without the figures themselves), computed by
bot/domain/figures.py from the records the figures repository loads."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.errors import UsageError
from bot.domain.figure_records import Period
from bot.domain.figure_results import Figures
from bot.domain.figures import compute_figures
from bot.ports import AuditEvent, UnitOfWork
from bot.services.access import audit, records_denials, require
from bot.services.context import UseCaseContext

MAX_DAYS = 3 * 366  # a report covers at most three years


def previous_quarter(today: date) -> Period:
    """The last complete calendar quarter before ``today`` (SafeLives reports by quarter)."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    this_quarter = date(today.year, first_month, 1)
    end = this_quarter - timedelta(days=1)
    return Period(date(end.year, end.month - 2, 1), end)


def checked_period(start: date, end: date) -> Period:
    """A period a report can cover, or a refusal that says why not."""
    if end < start:
        raise UsageError("The period ends before it starts: give the earlier date first.")
    if (end - start).days >= MAX_DAYS:
        raise UsageError("A report covers at most three years; please choose a shorter period.")
    return Period(start, end)


class Reports:
    """The figures of a period, as known today."""

    def __init__(self, ctx: UseCaseContext) -> None:
        self.ctx = ctx

    async def _figures(self, uow: UnitOfWork, period: Period) -> Figures:
        facts = await uow.figures.facts(period)
        return compute_figures(
            facts,
            period,
            self.ctx.today(),
            self.ctx.calendar,
            self.ctx.options.adult_female_population,
        )

    @records_denials
    async def report(self, aad: str, period: Period | None) -> Figures:
        """The figures for a coordinator (default: the last complete quarter)."""
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "report.view")
            figures = await self._figures(uow, period or previous_quarter(ctx.today()))
            await audit(ctx, uow, person, "report.view")
            await uow.commit()
        return figures

    async def export(self, period: Period) -> Figures:
        """The figures for the operator's CLI (an export: audited as one)."""
        ctx = self.ctx
        async with ctx.units() as uow:
            figures = await self._figures(uow, period)
            await uow.audit.record(AuditEvent(ctx.now(), "cli", "operator", "report.export", "ok"))
            await uow.commit()
        return figures
