"""The weekly capacity forecast: coordinators are warned, weeks before a miss, when the next
4 weeks' conferences cannot take the cases the recent referral rate will bring.

28 referrals were received between 12 October 2026 and 1 January 2027 (a rate of about one
every two working days); the calendar has no conference after mid-January until a
coordinator adds one. The clock starts on Monday 4 January 2027.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.domain.reminders import ReminderKind, ReminderState
from storage.models import OutboxRow
from tests.support.builders import COORDINATOR, referral_inputs
from tests.support.services import refer
from tests.support.turns import TurnHarness

MONDAY_11_JAN = datetime(2027, 1, 11, 9, 5, tzinfo=UTC)  # London is on GMT in January


async def seed_history(harness: TurnHarness) -> None:
    for i in range(28):
        received = date(2026, 10, 12) + timedelta(days=3 * i)
        await refer(
            harness.deps,
            COORDINATOR,
            referral_inputs(
                victim_name=f"Person{i} Example",
                received_date=received.isoformat(),
                incident_date=received.isoformat(),
                # Entered late (today is 4 Jan 2027): the card asks to confirm the old date.
                received_date_confirmed=received.isoformat(),
            ),
        )


async def warnings(harness: TurnHarness) -> list[tuple[str, str]]:
    async with harness.runtime.database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(OutboxRow.recipient, OutboxRow.payload).where(
                    OutboxRow.payload.like("%Capacity forecast%")
                )
            )
        ).all()
    return [(r, p) for r, p in rows]


async def test_coordinators_are_warned_weeks_before_the_first_likely_miss(
    harness: TurnHarness,
) -> None:
    await harness.add_meeting(date(2027, 1, 14))
    await seed_history(harness)
    harness.clock.set(MONDAY_11_JAN)
    await harness.runtime.sweep.run()
    sent = await warnings(harness)
    # Only the coordinator (the directory's contacts get nothing), with a neutral first line.
    assert [recipient for recipient, _ in sent] == [COORDINATOR]
    text = sent[0][1]
    assert '"text": "A MARAT update needs your attention.' in text
    assert "the conferences of the next 4 weeks are likely" in text
    first = re.search(r"first by \w{3} (\d+ \w{3} \d{4})", text)
    assert first is not None, text
    breach = datetime.strptime(first.group(1), "%d %b %Y").date()
    # A case referred today has its target 14 working days on: Fri 29 January at the soonest.
    assert breach >= date(2027, 1, 29)
    assert harness.deps.calendar.working_days_between(MONDAY_11_JAN.date(), breach) >= 4
    # One conference in the week of 25 January would take every case referred this week.
    assert "One more conference of 18 places on Thu 28 Jan 2027" in text
    assert "meeting add 2027-01-28" in text
    assert "Person" not in text and "MARAT-" not in text


async def test_the_forecast_runs_every_week_and_is_quiet_when_the_calendar_suffices(
    harness: TurnHarness,
) -> None:
    await harness.add_meeting(date(2027, 1, 14))
    await seed_history(harness)
    for day in (date(2027, 1, 21), date(2027, 1, 28), date(2027, 2, 4), date(2027, 2, 11)):
        await harness.add_meeting(day)
    harness.clock.set(MONDAY_11_JAN)
    await harness.runtime.sweep.run()
    assert await warnings(harness) == []
    async with harness.runtime.context.units() as uow:
        forecasts = await uow.reminders.for_subject([ReminderKind.CAPACITY_FORECAST], 0)
    by_slot = {f.slot: f for f in forecasts}
    assert by_slot[date(2027, 1, 11)].state is ReminderState.SENT
    assert by_slot[date(2027, 1, 11)].outcome == "0 messages"
    # Next Monday's look is planned by this one.
    assert by_slot[date(2027, 1, 18)].state is ReminderState.PENDING


async def test_a_missed_forecast_after_an_outage_is_dropped_and_the_next_week_planned(
    harness: TurnHarness,
) -> None:
    await harness.add_meeting(date(2027, 1, 14))
    await seed_history(harness)
    harness.clock.set(datetime(2027, 1, 12, 9, 5, tzinfo=UTC))  # the bot was down on Monday
    result = await harness.runtime.sweep.run()
    assert result.dropped >= 1
    assert await warnings(harness) == []
    async with harness.runtime.context.units() as uow:
        forecasts = await uow.reminders.for_subject([ReminderKind.CAPACITY_FORECAST], 0)
    states = {f.slot: f.state for f in forecasts}
    assert states[date(2027, 1, 11)] is ReminderState.DROPPED
    assert states[date(2027, 1, 18)] is ReminderState.PENDING
