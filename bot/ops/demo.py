"""`marat serve --demo`: a directory and conference calendar to try the whole process alone.

The Agents Playground's default user (Alex Wilber) is a coordinator and a contact of every
agency, so one person can walk the whole process. (The Playground's other mock users are left
out: the bot could never reach them there, and would rightly report each one.) All of it is
synthetic.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.directory import DEFAULT_AGENCIES, DirectoryRow, Role
from bot.services.context import UseCaseContext
from dialogs.base import Dependencies

PLAYGROUND_USER = "00000000-0000-0000-0000-0000000000020"
DEMO_WEEKS = 8


def demo_directory() -> list[DirectoryRow]:
    rows = [
        DirectoryRow(1, None, "Alex Wilber", "alexw@example.com", PLAYGROUND_USER, Role.COORDINATOR)
    ]
    rows += [
        DirectoryRow(
            i + 2, agency, "Alex Wilber", "alexw@example.com", PLAYGROUND_USER, Role.CONTACT
        )
        for i, agency in enumerate(DEFAULT_AGENCIES)
    ]
    return rows


def demo_conference_dates(ctx: UseCaseContext, weeks: int = DEMO_WEEKS) -> list[date]:
    """Weekly conferences on Thursdays (the next working day when a Thursday is a holiday),
    from the earliest day a case referred today could be heard, so that `agenda` right after
    a first referral shows that case."""
    calendar = ctx.calendar
    first = calendar.add_working_days(
        calendar.day_zero(ctx.today()), ctx.policy.earliest_conference_day
    )
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    dates = [calendar.next_working_day(thursday + timedelta(weeks=w)) for w in range(weeks)]
    return sorted(set(dates))


async def seed_demo(deps: Dependencies) -> None:
    """Idempotent: running the demo again updates the same people and dates."""
    await deps.directory.import_directory(demo_directory())
    for day in demo_conference_dates(deps.context):
        existing = await deps.conferences.meeting_on(day)
        if existing is None:
            await deps.conferences.add_meeting(None, day, None)
