"""After downtime, every kind of reminder: sent once, late, while what it is about still
stands; dropped (with a log line) only when its moment has passed.

Issue 12 found the defect: the bot down from 12 January to 1 February 2027, an action due 22
January and still open had its coordinator escalation dropped as "expired before it could be
sent". Here each test runs the real runtime on SQLite with a FixedClock, sweeps normally up
to the outage, then *restarts* (a new runtime on the same database, as after a crash:
``World.restart``) and sweeps at the first moment the new process is up. Nothing waits for
time; every name is fictional.

The default referral is received Mon 4 Jan 2027 (day 0) and involves Police, IDVA service and
Housing: returns due Wed 6 Jan (day 2), the case discussion Thu 7 Jan (day 3).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.cases import CaseView
from bot.domain.clock import FixedClock
from bot.domain.reminders import ReminderKind, ReminderState
from bot.settings import Settings
from bot.teams.app import build_runtime
from storage.database import Database
from tests.support.reminder_world import (
    CASEY,
    HARPER,
    INVOLVED_CONTACTS,
    LOCKS,
    ORDER,
    PARKER,
    PAT,
    REFERENCE,
    TENANT,
    Received,
    World,
    directory,
    london,
    of,
    recipients,
    to,
)

LOGGER = "bot.services.reminders"


@pytest.fixture
async def world(sqlite_engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[World]:
    settings = Settings(allowed_tenants=[TENANT])  # type: ignore[call-arg]
    world = World(build_runtime(settings, clock, Database(sqlite_engine)), clock)
    await world.setup(directory())
    yield world


Dropped = Callable[[], list[str]]


@pytest.fixture
def dropped(caplog: pytest.LogCaptureFixture) -> Dropped:
    """Reads the sweep's "dropped" log lines so far: "kind (why)", in order. The weekly
    capacity forecast is the partnership's, not the case's (its own catch-up is tested in
    tests/turns/test_capacity_warning.py), so it is left out."""
    caplog.set_level(logging.INFO, logger=LOGGER)

    def read() -> list[str]:
        return [
            f"{getattr(r, 'outcome', '?')} ({r.getMessage().split(': ', 1)[1]})"
            for r in caplog.records
            if r.name == LOGGER
            and r.getMessage().startswith("reminder dropped")
            and getattr(r, "outcome", None) != ReminderKind.CAPACITY_FORECAST.value
        ]

    return read


def expired(kind: ReminderKind) -> str:
    return f"{kind.value} (expired before it could be sent)"


async def referred(world: World, conference: date = date(2027, 1, 14)) -> CaseView:
    await world.add_meeting(conference)
    case = await world.refer()
    assert case.reference == REFERENCE and case.listing.meeting_date == conference
    await world.deliver()
    return case


async def back_at(world: World, *when: int) -> list[Received]:
    """The bot comes back (a new process) at ``when`` (London) and sweeps at once."""
    world.restart()
    return await world.at(london(*when))


async def states(world: World, case: CaseView, kind: ReminderKind) -> list[ReminderState]:
    return [r.state for r in await world.reminders_of(case.id) if r.kind is kind]


# -- the information returns -------------------------------------------------------------------


async def test_day_two_reminder_missed_goes_late_once_while_the_information_is_missing(
    world: World, dropped: Dropped
) -> None:
    case = await referred(world)
    assert await world.at(london(2027, 1, 5, 17)) == []  # the last sweep: then down until Fri

    back = await back_at(world, 2027, 1, 8, 9, 30)

    late = of(back, ReminderKind.INFO_DUE)
    assert recipients(late) == sorted(INVOLVED_CONTACTS)
    assert {r.details for r in late} == {
        f"Your agency's information for {REFERENCE} was due by the end of Wed 6 Jan 2027. "
        "Please answer the information request card."
    }
    assert await states(world, case, ReminderKind.INFO_DUE) == [ReminderState.SENT] * 3
    assert of(await world.at(london(2027, 1, 11, 9)), ReminderKind.INFO_DUE) == []


async def test_an_answered_request_gets_no_late_reminder(world: World) -> None:
    case = await referred(world)
    world.clock.set(london(2027, 1, 5, 11))
    await world.answer_for(PAT)  # Police answers, then the bot is down until Fri

    back = await back_at(world, 2027, 1, 8, 9, 30)

    assert recipients(of(back, ReminderKind.INFO_DUE)) == sorted(INVOLVED_CONTACTS - {PAT, PARKER})
    assert sorted(await states(world, case, ReminderKind.INFO_DUE)) == sorted(
        [ReminderState.CANCELLED, ReminderState.SENT, ReminderState.SENT]
    )


async def test_missing_information_escalation_goes_late_once_naming_who_is_missing(
    world: World,
) -> None:
    case = await referred(world)
    world.clock.set(london(2027, 1, 5, 11))
    await world.answer_for(HARPER)
    assert await world.at(london(2027, 1, 5, 17)) == []

    back = await back_at(world, 2027, 1, 12, 8, 15)  # Tuesday of the next week

    (escalation,) = of(back, ReminderKind.INFO_MISSING)
    assert escalation.recipient == CASEY
    assert escalation.details == (
        f"Information returns for {REFERENCE} were due by the end of Wed 6 Jan 2027 and 2 are "
        "still missing: Police, IDVA service."
    )
    assert await states(world, case, ReminderKind.INFO_MISSING) == [ReminderState.SENT]
    assert of(await world.at(london(2027, 1, 13, 9)), ReminderKind.INFO_MISSING) == []


async def test_no_missing_information_escalation_once_the_case_was_heard(world: World) -> None:
    """The sweep was stopped (the web process ran on) from day 2: the plan was agreed at the
    conference before the escalation could go. Chasing returns for it is pointless."""
    case = await referred(world, conference=date(2027, 1, 8))
    assert await world.at(london(2027, 1, 5, 17)) == []
    world.clock.set(london(2027, 1, 8, 10))
    await world.agree_plan(REFERENCE, police_action("2027-01-20"))

    back = await back_at(world, 2027, 1, 8, 11)

    assert of(back, ReminderKind.INFO_MISSING, ReminderKind.INFO_DUE) == []
    assert await states(world, case, ReminderKind.INFO_MISSING) == [ReminderState.CANCELLED]


# -- moments that pass -------------------------------------------------------------------------


async def test_the_day_three_discussion_reminder_missed_is_dropped_with_a_log_line(
    world: World, dropped: Dropped
) -> None:
    case = await referred(world)
    await world.every_working_day(date(2027, 1, 5), date(2027, 1, 6))

    back = await back_at(world, 2027, 1, 8, 9)

    assert of(back, ReminderKind.DISCUSSION) == []
    assert dropped() == [expired(ReminderKind.DISCUSSION)]
    assert await states(world, case, ReminderKind.DISCUSSION) == [ReminderState.DROPPED]
    assert len(of(back, ReminderKind.INFO_MISSING)) == 1, "the standing problem still goes"


async def test_conference_reminders_before_dropped_on_the_day_sent_after_the_day_dropped(
    world: World, dropped: Dropped
) -> None:
    await referred(world)
    await world.every_working_day(date(2027, 1, 5), date(2027, 1, 11))

    on_the_day = await back_at(world, 2027, 1, 14, 11)  # down Mon evening to Thu 11:00

    assert of(on_the_day, ReminderKind.CONFERENCE_BEFORE) == []
    assert recipients(of(on_the_day, ReminderKind.CONFERENCE_DAY)) == sorted(INVOLVED_CONTACTS)
    assert dropped() == [expired(ReminderKind.CONFERENCE_BEFORE)]


async def test_a_conference_day_reminder_after_the_conference_is_dropped(
    world: World, dropped: Dropped
) -> None:
    await referred(world)
    await world.every_working_day(date(2027, 1, 5), date(2027, 1, 12))

    after = await back_at(world, 2027, 1, 15, 9)

    assert of(after, ReminderKind.CONFERENCE_DAY, ReminderKind.CONFERENCE_BEFORE) == []
    assert dropped() == [expired(ReminderKind.CONFERENCE_DAY)]


# -- no conference in time ---------------------------------------------------------------------


async def test_no_conference_escalations_missed_twice_are_told_once(
    world: World, dropped: Dropped
) -> None:
    """Referred Mon 4 Jan with no conference at all, and the bot dies before its first sweep;
    back on Tue 19 Jan: the "at once" and the working-day-10 escalations are both due, and the
    coordinator hears once."""
    case = await world.refer()
    assert case.listing.breach and case.listing.meeting_date is None

    back = await back_at(world, 2027, 1, 19, 9, 5)

    (told,) = of(back, ReminderKind.NO_CONFERENCE)
    assert told.recipient == CASEY and "It is not listed at any conference." in told.details
    assert [line for line in dropped() if line.startswith(ReminderKind.NO_CONFERENCE)] == [
        f"{ReminderKind.NO_CONFERENCE.value} (a later one about the same item goes instead)"
    ]
    assert await states(world, case, ReminderKind.NO_CONFERENCE) == [
        ReminderState.DROPPED,
        ReminderState.SENT,
    ]
    days = await world.every_working_day(date(2027, 1, 20), date(2027, 2, 5))
    assert all(of(found, ReminderKind.NO_CONFERENCE) == [] for found in days.values())


async def test_no_conference_escalation_missed_goes_late_while_the_case_is_still_unlisted(
    world: World,
) -> None:
    await world.refer()

    back = await back_at(world, 2027, 1, 7, 9)

    (told,) = of(back, ReminderKind.NO_CONFERENCE)
    assert told.recipient == CASEY


# -- actions -----------------------------------------------------------------------------------


def police_action(due: str) -> dict[str, str]:
    return {"agency": "police", "description": ORDER, "due_date": due, "perpetrator_focused": "yes"}


def housing_action(due: str) -> dict[str, str]:
    return {"agency": "housing", "description": LOCKS, "due_date": due, "perpetrator_focused": "no"}


@pytest.fixture
async def planned(world: World) -> CaseView:
    """Listed at Mon 11 Jan; the plan agreed there at 10:00: Police's action due Fri 22 Jan.
    Everything up to then swept normally."""
    case = await referred(world, conference=date(2027, 1, 11))
    await world.every_working_day(date(2027, 1, 5), date(2027, 1, 8))
    world.clock.set(london(2027, 1, 11, 10))
    await world.agree_plan(REFERENCE, police_action("2027-01-22"))
    assert await world.at(london(2027, 1, 11, 17)) == []
    return case


def police(received: list[Received]) -> set[str]:
    return {r.details for r in to(received, PAT)}


def says(lead: str) -> str:
    return (
        f"Your agency's action on {REFERENCE} {lead} (Fri 22 Jan 2027): {ORDER}. "
        "Please update the action card."
    )


async def test_issue_12_the_escalation_of_an_action_still_overdue_is_sent_after_three_weeks_down(
    world: World, planned: CaseView, dropped: Dropped
) -> None:
    """Down from Tue 12 Jan to Mon 1 Feb 2027: the action due Fri 22 Jan is still open. Its
    escalation (due Wed 27 Jan) reaches the coordinator once, saying how late it really is;
    so does one overdue nudge; "due tomorrow" and "due today" have passed and are dropped."""
    back = await back_at(world, 2027, 2, 1, 9)

    (escalation,) = of(back, ReminderKind.ACTION_ESCALATION)
    assert escalation.recipient == CASEY
    assert escalation.details == (
        f"Police's action on {REFERENCE} is 6 working days overdue (due Fri 22 Jan 2027): "
        f"{ORDER}. It will be on the next agenda as outstanding."
    )
    assert police(of(back, ReminderKind.ACTION_OVERDUE)) == {says("is 6 working days overdue")}
    assert recipients(of(back, ReminderKind.ACTION_OVERDUE)) == sorted([PAT, PARKER])
    assert of(back, ReminderKind.ACTION_BEFORE, ReminderKind.ACTION_DUE) == []
    assert sorted(dropped()) == sorted(
        [
            expired(ReminderKind.ACTION_BEFORE),
            expired(ReminderKind.ACTION_DUE),
        ]
    )
    assert await states(world, planned, ReminderKind.ACTION_ESCALATION) == [ReminderState.SENT]

    days = await world.every_working_day(date(2027, 2, 2), date(2027, 2, 8))
    assert [day for day, found in days.items() if of(found, ReminderKind.ACTION_ESCALATION)] == []
    nudges = {day: police(of(found, ReminderKind.ACTION_OVERDUE)) for day, found in days.items()}
    assert {day: lines for day, lines in nudges.items() if lines} == {
        date(2027, 2, 3): {says("is 8 working days overdue")},
        date(2027, 2, 5): {says("is 10 working days overdue")},
    }


async def test_no_escalation_after_downtime_for_an_action_done_meanwhile(
    world: World, planned: CaseView
) -> None:
    """The sweep was stopped (turns still answered) and Police finished the action on Thu 28
    Jan, after its escalation was due: nothing is sent for it on recovery."""
    world.clock.set(london(2027, 1, 28, 10))
    await world.mark_done(PAT, ORDER)

    back = await back_at(world, 2027, 2, 1, 9)

    assert of(back, ReminderKind.ACTION_ESCALATION, ReminderKind.ACTION_OVERDUE) == []
    assert ReminderState.SENT not in await states(world, planned, ReminderKind.ACTION_ESCALATION)


async def test_a_due_tomorrow_reminder_missed_is_dropped_and_due_today_goes(
    world: World, planned: CaseView, dropped: Dropped
) -> None:
    back = await back_at(world, 2027, 1, 22, 10)

    assert police(back) == {says("is due today")}
    assert dropped() == [expired(ReminderKind.ACTION_BEFORE)]


async def test_a_due_today_reminder_missed_is_dropped_and_the_first_nudge_goes(
    world: World, planned: CaseView, dropped: Dropped
) -> None:
    back = await back_at(world, 2027, 1, 25, 10)

    assert police(back) == {says("is 1 working day overdue")}
    assert sorted(dropped()) == sorted(
        [
            expired(ReminderKind.ACTION_BEFORE),
            expired(ReminderKind.ACTION_DUE),
        ]
    )


async def test_an_overdue_nudge_missed_goes_late_once_then_every_two_working_days(
    world: World, planned: CaseView
) -> None:
    await world.every_working_day(date(2027, 1, 12), date(2027, 1, 22))

    back = await back_at(world, 2027, 1, 26, 9)  # Mon 25 (the first nudge) missed

    assert police(of(back, ReminderKind.ACTION_OVERDUE)) == {says("is 2 working days overdue")}
    days = await world.every_working_day(date(2027, 1, 27), date(2027, 2, 1))
    nudges = {day: police(of(found, ReminderKind.ACTION_OVERDUE)) for day, found in days.items()}
    assert {day: lines for day, lines in nudges.items() if lines} == {
        date(2027, 1, 28): {says("is 4 working days overdue")},
        date(2027, 2, 1): {says("is 6 working days overdue")},
    }, "two working days after the late one, not the next day"
    escalated = [day for day, found in days.items() if of(found, ReminderKind.ACTION_ESCALATION)]
    assert escalated == [date(2027, 1, 27)], "the escalation on its own day, once"


async def test_every_kind_is_either_caught_up_once_or_dropped_after_a_long_outage(
    world: World, dropped: Dropped
) -> None:
    """One case with every kind planned, the bot down from its referral for five weeks: each
    reminder row ends sent or dropped (none pending, none claimed), no slot sends twice."""
    await world.add_meeting(date(2027, 1, 14))
    await world.add_meeting(date(2027, 1, 28))
    case = await world.refer()
    world.clock.set(london(2027, 1, 14, 10))
    await world.agree_plan(REFERENCE, police_action("2027-01-20"), housing_action("2027-01-27"))

    back = await back_at(world, 2027, 2, 8, 9)
    again = await world.at(london(2027, 2, 8, 9) + timedelta(minutes=5))

    assert again == []
    rows = await world.reminders_of(case.id)
    assert {r.state for r in rows if r.slot < date(2027, 2, 8)} <= {
        ReminderState.SENT,
        ReminderState.DROPPED,
        ReminderState.CANCELLED,
    }
    sent_kinds = {r.kind for r in back}
    assert sent_kinds == {ReminderKind.ACTION_OVERDUE, ReminderKind.ACTION_ESCALATION}, (
        "the standing problems; the returns are no longer chased: the case was heard"
    )
    keys = [(r.kind, r.slot, r.recipient) for r in back]
    assert len(keys) == len(set(keys))
    assert len(of(back, ReminderKind.ACTION_ESCALATION)) == 2, "one per open action"
