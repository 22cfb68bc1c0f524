"""`marat report` and `marat capacity`: the partnership figures as a SafeLives return, JSON
or a board paper (with a chart), and the capacity planner. Both record an audit event."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.domain.capacity import WEEKDAYS, Frequency, Pattern
from bot.domain.clock import FixedClock
from bot.domain.wording import day
from bot.ops.charts import chart_png
from bot.ops.demo_history import DemoHistory
from bot.ops.report_formats import board_paper, figures_json, safelives_csv
from bot.services.capacity import CapacityPlan
from bot.services.reports import checked_period
from bot.settings import Settings
from bot.teams.app import Runtime, StartupError, build_runtime
from storage.migrate import upgrade

FORMATS = {"csv": safelives_csv, "json": figures_json, "md": board_paper}
DEMO_LEAD = timedelta(weeks=4)  # the demo history starts this long before the period
DEMO_AFTER = timedelta(days=14)  # and the report is made this long after it


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date as YYYY-MM-DD") from None


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `report` and `capacity` subcommands."""
    report = commands.add_parser("report", help="partnership figures for a period")
    report.add_argument("--from", dest="start", required=True, type=_iso_date, metavar="DATE")
    report.add_argument("--to", dest="end", required=True, type=_iso_date, metavar="DATE")
    report.add_argument("--format", choices=sorted(FORMATS), default="md")
    report.add_argument("--chart", type=Path, metavar="FILE.png", help="also draw the chart")
    report.add_argument("--out", type=Path, metavar="FILE", help="write here, not to stdout")
    report.add_argument(
        "--demo",
        action="store_true",
        help="report on a throwaway database: the demo directory and a synthetic history "
        "(DATABASE_URL is not touched)",
    )
    capacity = commands.add_parser(
        "capacity", help="can the conference calendar hear every case within 14 working days?"
    )
    capacity.add_argument("--from", dest="start", required=True, type=_iso_date, metavar="DATE")
    capacity.add_argument("--to", dest="end", required=True, type=_iso_date, metavar="DATE")
    rate = capacity.add_mutually_exclusive_group(required=True)
    rate.add_argument("--cases-per-year", type=float, metavar="N")
    rate.add_argument(
        "--history", action="store_true", help="the rate of the 365 days before --from"
    )
    capacity.add_argument(
        "--every",
        choices=[f.value for f in Frequency],
        help="simulate a regular calendar instead of the conferences on record",
    )
    capacity.add_argument("--weekday", choices=WEEKDAYS, default="thu")
    capacity.add_argument("--places", type=int, help="places per conference (default 18)")
    capacity.add_argument("--runs", type=int, default=200, help="simulated runs (default 200)")
    capacity.add_argument("--seed", type=int, default=1)


def run(settings: Settings, args: argparse.Namespace) -> str:
    """Run `report` or `capacity`; the text to print."""
    if args.command == "report":
        return _report(settings, args)
    return _capacity(settings, args)


def _current(settings: Settings, work: Callable[[Runtime], Awaitable[str]]) -> str:
    async def go() -> str:
        runtime = build_runtime(settings)
        try:
            if not await runtime.database.schema_is_current():
                raise StartupError(
                    "The database schema is not up to date: run `marat db upgrade` first."
                )
            return await work(runtime)
        finally:
            await runtime.database.dispose()

    return asyncio.run(go())


def _demo(
    settings: Settings, start: date, end: date, work: Callable[[Runtime], Awaitable[str]]
) -> str:
    # In memory where the machine has it: the history commits thousands of times.
    shm = Path("/dev/shm")  # noqa: S108 - a private TemporaryDirectory is made inside it
    where = str(shm) if shm.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="marat-demo-", dir=where) as folder:
        url = f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
        upgrade(url)
        demo_settings = settings.model_copy(update={"database_url": url})
        clock = FixedClock(datetime.combine(start, datetime.min.time(), tzinfo=UTC))

        async def go() -> str:
            runtime = build_runtime(demo_settings, clock)
            try:
                await DemoHistory(runtime.deps, clock).run(start - DEMO_LEAD, end + DEMO_AFTER)
                return await work(runtime)
            finally:
                await runtime.database.dispose()

        return asyncio.run(go())


def _report(settings: Settings, args: argparse.Namespace) -> str:
    period = checked_period(args.start, args.end)

    async def work(runtime: Runtime) -> str:
        figures = await runtime.deps.reports.export(period)
        text = FORMATS[args.format](figures)
        notes = []
        if args.chart is not None:
            args.chart.write_bytes(chart_png(figures, settings.conference_target_day))
            notes.append(f"Wrote the chart to {args.chart}.")
        if args.out is not None:
            args.out.write_text(text, encoding="utf-8")
            notes.append(f"Wrote the {args.format} report to {args.out}.")
        return "\n".join(notes) + "\n" if notes else text

    if args.demo:
        return _demo(settings, period.start, period.end, work)
    return _current(settings, work)


def _capacity(settings: Settings, args: argparse.Namespace) -> str:
    if not 1 <= args.runs <= 5000:
        raise StartupError("--runs must be from 1 to 5000.")
    places = args.places if args.places is not None else settings.conference_capacity
    if not 1 <= places <= 100:
        raise StartupError("--places must be from 1 to 100.")
    if args.cases_per_year is not None and not 0 < args.cases_per_year <= 500_000:
        raise StartupError("--cases-per-year must be more than 0 (and at most 500,000).")
    pattern = (
        Pattern(Frequency(args.every), places, WEEKDAYS.index(args.weekday)) if args.every else None
    )

    async def work(runtime: Runtime) -> str:
        plan = await runtime.deps.capacity.plan(
            args.start, args.end, args.cases_per_year, pattern, args.runs, args.seed
        )
        return capacity_text(plan, settings.conference_target_day)

    return _current(settings, work)


def capacity_text(plan: CapacityPlan, target_day: int = 14) -> str:
    """What `marat capacity` prints."""
    current = plan.current
    lines = [
        f"Capacity, day 0 from {day(plan.start)} to {day(plan.end)} "
        f"({current.runs} simulated runs)",
        f"Referral rate: {plan.cases_per_year:.0f} a year ({plan.rate_source})",
        f"Calendar: {plan.calendar}",
        f"Heard within {target_day} working days: {current.share:.1f}% of "
        f"{current.cases:,} simulated cases",
        "Longest wait: "
        + (
            f"{current.longest_wait} working days from day 0"
            if current.longest_wait is not None
            else "no case could be listed"
        ),
    ]
    if current.unlisted:
        lines.append(f"Not listed at any conference on the calendar: {current.unlisted:,} cases")
    if plan.gap is not None:
        lines.append(
            f"No number of places is enough: cases referred on {day(plan.gap)} have no "
            f"conference between working day 4 and working day {target_day} (a gap of more "
            "than two weeks between conferences)."
        )
    if plan.calendar_ends is not None and plan.calendar_ends < plan.end:
        lines.append(
            f"The calendar ends on {day(plan.calendar_ends)}: add the conferences after it."
        )
    if current.all_within:
        lines.append("Every simulated case is heard within target: no change is needed.")
    elif plan.changes:
        first, *others = plan.changes
        lines.append(
            f"Smallest change that reaches 100%: {first.text} ({first.added_places:+d} places)"
        )
        lines += [f"  also: {c.text} ({c.added_places:+d} places)" for c in others]
    else:
        lines.append(
            "No single change tried reaches 100% (more places, one more conference, "
            "weekly or fortnightly conferences)."
        )
    return "\n".join(lines) + "\n"
