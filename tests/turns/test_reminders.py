"""Reminders and escalations as the coordinator and the agency contacts receive them.

PRODUCT.md section 5. The real runtime (``build_runtime``: use cases, ``ReminderSweep``) runs on
SQLite with a FixedClock; the real ``OutboxSender`` delivers what the sweep queues through the
in-memory Teams of tests/fakes.py. Nothing waits for time: each test sets the clock, runs one
sweep (``runtime.sweep.run()``) and delivers the outbox.

The default referral (tests.support.builders) is received on Monday 4 January 2027 (day 0) and
involves Police, IDVA service and Housing: returns are due Wed 6 Jan (day 2), the case
discussion is Thu 7 Jan (day 3), working day 10 is Mon 18 Jan and day 14 Fri 22 Jan. Every
name is fictional.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.cases import CaseView
from bot.domain.clock import LONDON, FixedClock
from bot.domain.lifecycle import CaseState
from bot.domain.reminders import ReminderKind, ReminderState
from bot.services.reminders import SweepResult
from bot.settings import Settings
from bot.teams.app import build_runtime
from cards.discussion import NEUTRAL as DISCUSSION_NEUTRAL
from storage.database import Database
from tests.support.reminder_world import (
    ACTION_KINDS,
    CASEY,
    CONFERENCE,
    HARPER,
    INDY,
    INVOLVED_CONTACTS,
    LOCKS,
    ORDER,
    PARKER,
    PAT,
    PIP,
    REFERENCE,
    TENANT,
    Received,
    World,
    directory,
    london,
    names_after,
    of,
    recipients,
    to,
    walk,
)


@pytest.fixture
def settings() -> Settings:
    return Settings(allowed_tenants=[TENANT])  # type: ignore[call-arg]


@pytest.fixture
async def world(
    sqlite_engine: AsyncEngine, clock: FixedClock, settings: Settings
) -> AsyncIterator[World]:
    """Monday 4 January 2027, 10:00: the directory above, nobody referred yet."""
    world = World(build_runtime(settings, clock, Database(sqlite_engine)), clock)
    await world.setup(directory())
    yield world


@pytest.fixture
async def listed(world: World) -> CaseView:
    """The default case, referred Mon 4 Jan 10:00 and listed at the conference of 14 Jan."""
    await world.add_meeting(CONFERENCE)
    case = await world.refer()
    assert case.reference == REFERENCE and case.listing.meeting_date == CONFERENCE
    await world.deliver()
    return case


# -- day 2: the information returns ------------------------------------------------------------


async def test_day_two_reminds_the_contacts_of_each_agency_that_has_not_answered(
    world: World, listed: CaseView
) -> None:
    assert of(await world.at(london(2027, 1, 5, 9)), ReminderKind.INFO_DUE) == []
    world.clock.set(london(2027, 1, 5, 11))
    await world.answer_for(PAT)  # Police answers on day 1

    assert of(await world.at(london(2027, 1, 6, 8, 59)), ReminderKind.INFO_DUE) == []
    day_two = await world.at(london(2027, 1, 6, 9))

    reminders = of(day_two, ReminderKind.INFO_DUE)
    assert recipients(reminders) == sorted([HARPER, INDY]), "Police answered: no reminder"
    for reminder in reminders:
        assert reminder.details == (
            f"Your agency's information for {REFERENCE} is due by the end of today "
            "(Wed 6 Jan 2027). Please answer the information request card."
        )
        assert reminder.at == london(2027, 1, 6, 9)
    assert day_two == reminders, "nothing else is due on day 2"

    assert await world.at(london(2027, 1, 6, 9, 1)) == []
    assert await world.at(london(2027, 1, 6, 15)) == []


async def test_every_contact_of_an_agency_gets_the_day_two_reminder(
    world: World, listed: CaseView
) -> None:
    reminders = of(await world.at(london(2027, 1, 6, 9)), ReminderKind.INFO_DUE)
    assert recipients(reminders) == sorted([PAT, PARKER, HARPER, INDY])


# -- day 3: the escalation and the case discussion ---------------------------------------------


async def test_day_three_escalation_names_exactly_the_missing_agencies(
    world: World, listed: CaseView
) -> None:
    world.clock.set(london(2027, 1, 5, 11))
    await world.answer_for(PAT)
    await world.at(london(2027, 1, 6, 9))
    assert of(await world.at(london(2027, 1, 7, 8, 59)), ReminderKind.INFO_MISSING) == []

    day_three = await world.at(london(2027, 1, 7, 9))

    (escalation,) = of(day_three, ReminderKind.INFO_MISSING)
    assert escalation.recipient == CASEY
    assert (
        f"Information returns for {REFERENCE} were due by the end of Wed 6 Jan 2027"
        in escalation.details
    )
    assert "2 are still missing" in escalation.details
    assert names_after(escalation.details, "still missing: ") == {"IDVA service", "Housing"}
    assert await world.at(london(2027, 1, 7, 9, 30)) == []


async def test_no_escalation_when_every_return_is_in(world: World, listed: CaseView) -> None:
    world.clock.set(london(2027, 1, 5, 11))
    for contact in (PAT, HARPER, INDY):
        await world.answer_for(contact)

    received = [
        *(await world.at(london(2027, 1, 6, 9))),
        *(await world.at(london(2027, 1, 7, 9))),
    ]
    assert of(received, ReminderKind.INFO_DUE, ReminderKind.INFO_MISSING) == []
    states = {
        (r.kind, r.state)
        for r in await world.reminders_of(listed.id)
        if r.kind in (ReminderKind.INFO_DUE, ReminderKind.INFO_MISSING)
    }
    assert states == {
        (ReminderKind.INFO_DUE, ReminderState.CANCELLED),
        (ReminderKind.INFO_MISSING, ReminderState.CANCELLED),
    }


async def test_day_three_brings_the_discussion_card_to_the_coordinator_and_a_text_to_agencies(
    world: World, listed: CaseView
) -> None:
    await world.at(london(2027, 1, 6, 9))
    assert of(await world.at(london(2027, 1, 7, 8, 59)), ReminderKind.DISCUSSION) == []

    discussion = of(await world.at(london(2027, 1, 7, 9)), ReminderKind.DISCUSSION)

    (card,) = to(discussion, CASEY)
    assert card.call.message.summary == DISCUSSION_NEUTRAL == "A MARAT case discussion is due today"
    assert card.card["fallbackText"] == DISCUSSION_NEUTRAL
    inputs = {n["id"]: n for n in walk(card.card["body"]) if "Input." in str(n.get("type"))}
    assert set(inputs) == {"held", "attendees", "notes"}
    assert {c["value"] for c in inputs["attendees"]["choices"]} == {
        "police",
        "idva-service",
        "housing",
    }
    assert f"Record the case discussion of {REFERENCE} (due Thu 7 Jan 2027)." in str(card.card)
    (button,) = [n for n in walk(card.card) if n.get("type") == "Action.Execute"]
    assert button["verb"] == "discussion.record" and button["data"]["token"]

    texts = [r for r in discussion if r.recipient != CASEY]
    assert recipients(texts) == sorted(INVOLVED_CONTACTS), "Probation is not involved"
    for text in texts:
        assert text.details == (
            f"The case discussion for {REFERENCE} is today. Please be ready to share what "
            "your agency knows."
        )
    assert await world.at(london(2027, 1, 7, 12)) == []


# -- no conference with capacity by day 14 -----------------------------------------------------


NO_CONFERENCE = (
    f"No MARAC conference with capacity on or before Fri 22 Jan 2027 for {REFERENCE} "
    "(the day-14 target). It is not listed at any conference. Add a conference on or before "
    "Fri 22 Jan 2027 with meeting add YYYY-MM-DD."
)


async def test_no_conference_by_day_14_is_told_at_once_and_again_on_working_day_10(
    world: World,
) -> None:
    case = await world.refer()  # Monday 10:00: no conference exists at all
    assert case.listing.breach and case.listing.meeting_date is None

    (at_once,) = of(await world.at(london(2027, 1, 4, 10)), ReminderKind.NO_CONFERENCE)
    assert at_once.recipient == CASEY
    assert at_once.details == NO_CONFERENCE
    assert at_once.at == london(2027, 1, 4, 10)

    days = await world.every_working_day(date(2027, 1, 5), date(2027, 1, 20))
    told = {day: of(received, ReminderKind.NO_CONFERENCE) for day, received in days.items()}
    assert {day for day, found in told.items() if found} == {date(2027, 1, 18)}
    (again,) = told[date(2027, 1, 18)]
    assert again.recipient == CASEY and again.details == NO_CONFERENCE


async def test_no_day_ten_escalation_once_a_conference_within_target_was_added(
    world: World,
) -> None:
    case = await world.refer()
    assert len(of(await world.at(london(2027, 1, 4, 10)), ReminderKind.NO_CONFERENCE)) == 1

    world.clock.set(london(2027, 1, 12, 10))
    await world.add_meeting(date(2027, 1, 21))

    days = await world.every_working_day(date(2027, 1, 13), date(2027, 1, 20))
    assert all(of(found, ReminderKind.NO_CONFERENCE) == [] for found in days.values())
    (day_ten,) = [
        r
        for r in await world.reminders_of(case.id)
        if r.kind is ReminderKind.NO_CONFERENCE and r.slot == date(2027, 1, 18)
    ]
    assert day_ten.state is ReminderState.CANCELLED


async def test_day_ten_escalation_says_where_a_late_listing_is(world: World) -> None:
    await world.refer()
    await world.at(london(2027, 1, 4, 10))
    world.clock.set(london(2027, 1, 12, 10))
    await world.add_meeting(date(2027, 1, 28))  # after the day-14 target

    (again,) = of(await world.at(london(2027, 1, 18, 9)), ReminderKind.NO_CONFERENCE)
    assert "It is listed at Thu 28 Jan 2027, after the target." in again.details


async def test_outside_08_00_to_18_00_and_at_weekends_nothing_goes_until_the_next_window(
    world: World,
) -> None:
    world.clock.set(london(2027, 1, 8, 19, 30))  # Friday evening
    await world.refer(received_date="2027-01-08")

    for when in (
        london(2027, 1, 8, 19, 30),
        london(2027, 1, 8, 23, 59),
        london(2027, 1, 9, 10),  # Saturday
        london(2027, 1, 10, 12),  # Sunday
        london(2027, 1, 11, 7, 59),  # Monday, before the window opens
    ):
        world.clock.set(when)
        result = await world.sweep.run()
        assert result == SweepResult(skipped_outside_hours=True), when
        await world.deliver()
    assert await world.received() == []

    (told,) = of(await world.at(london(2027, 1, 11, 8)), ReminderKind.NO_CONFERENCE)
    assert told.recipient == CASEY and told.at == london(2027, 1, 11, 8)


async def test_a_reminder_missed_at_18_00_goes_when_the_window_opens_next_morning(
    world: World, listed: CaseView
) -> None:
    """The bot was down on day 2 until 18:00: the day-2 reminder, still useful until the
    day-3 escalation at 09:00, goes at 08:00 on day 3 (not at 18:00, not at 07:59)."""
    assert await world.at(london(2027, 1, 6, 18)) == []
    assert await world.at(london(2027, 1, 6, 21)) == []
    assert await world.at(london(2027, 1, 7, 7, 59)) == []

    morning = await world.at(london(2027, 1, 7, 8))
    assert recipients(of(morning, ReminderKind.INFO_DUE)) == sorted(INVOLVED_CONTACTS)
    assert of(morning, ReminderKind.INFO_MISSING, ReminderKind.DISCUSSION) == []


# -- conferences -------------------------------------------------------------------------------


async def test_conference_reminders_go_two_working_days_before_and_on_the_day_to_its_agencies(
    world: World,
) -> None:
    await world.add_meeting(CONFERENCE)
    await world.add_meeting(date(2027, 1, 28))
    first = await world.refer()
    assert first.listing.meeting_date == CONFERENCE
    assert of(await world.at(london(2027, 1, 11, 9)), ReminderKind.CONFERENCE_BEFORE) == []
    world.clock.set(london(2027, 1, 11, 10))
    second = await world.refer(
        victim_name="Mary Othername",
        received_date="2027-01-11",
        incident_date="2027-01-09",
        agencies="probation",
    )
    assert second.listing.meeting_date == date(2027, 1, 28)

    conference_kinds = (ReminderKind.CONFERENCE_BEFORE, ReminderKind.CONFERENCE_DAY)
    days = await world.every_working_day(date(2027, 1, 12), date(2027, 1, 28))
    sent = {day: of(found, *conference_kinds) for day, found in days.items()}
    assert {day for day, found in sent.items() if found} == {
        date(2027, 1, 12),
        date(2027, 1, 14),
        date(2027, 1, 26),
        date(2027, 1, 28),
    }

    before = sent[date(2027, 1, 12)]
    assert {r.kind for r in before} == {ReminderKind.CONFERENCE_BEFORE}
    assert recipients(before) == sorted(INVOLVED_CONTACTS), "not Probation, not the coordinator"
    assert {r.details for r in before} == {
        f"MARAC conference on Thu 14 Jan 2027: your agency is involved in 1 case: {REFERENCE}."
    }
    on_the_day = sent[date(2027, 1, 14)]
    assert {r.kind for r in on_the_day} == {ReminderKind.CONFERENCE_DAY}
    assert recipients(on_the_day) == sorted(INVOLVED_CONTACTS)
    assert {r.details for r in on_the_day} == {
        f"MARAC conference today: your agency is involved in 1 case: {REFERENCE}."
    }
    for day in (date(2027, 1, 26), date(2027, 1, 28)):
        assert recipients(sent[day]) == [PIP]
        assert second.reference in sent[day][0].details
        assert REFERENCE not in sent[day][0].details


# -- actions -----------------------------------------------------------------------------------


POLICE_ACTION = {
    "agency": "police",
    "description": ORDER,
    "due_date": "2027-01-20",  # a Wednesday
    "perpetrator_focused": "yes",
}
HOUSING_ACTION = {
    "agency": "housing",
    "description": LOCKS,
    "due_date": "2027-01-27",
    "perpetrator_focused": "no",
}


@pytest.fixture
async def planned(world: World, listed: CaseView) -> CaseView:
    """The plan agreed at the conference of Thu 14 Jan at 10:00, action cards delivered."""
    world.clock.set(london(2027, 1, 14, 10))
    await world.agree_plan(REFERENCE, POLICE_ACTION, HOUSING_ACTION)
    return listed


def action_lines(days: dict[date, list[Received]], *people: str) -> dict[date, set[str]]:
    """Per day, what ``people`` were told about actions (one line per distinct text)."""
    lines: dict[date, set[str]] = {}
    for day, found in days.items():
        texts = {r.details for r in of(found, *ACTION_KINDS) if r.recipient in people}
        if texts:
            lines[day] = texts
    return lines


def police_says(lead: str) -> str:
    return (
        f"Your agency's action on {REFERENCE} {lead} (Wed 20 Jan 2027): {ORDER}. "
        "Please update the action card."
    )


async def test_action_reminders_before_on_the_day_overdue_every_two_days_and_one_escalation(
    world: World, planned: CaseView
) -> None:
    days = await world.every_working_day(date(2027, 1, 15), date(2027, 1, 29))

    assert action_lines(days, PAT) == {
        date(2027, 1, 19): {police_says("is due tomorrow")},
        date(2027, 1, 20): {police_says("is due today")},
        date(2027, 1, 21): {police_says("is 1 working day overdue")},
        date(2027, 1, 25): {police_says("is 3 working days overdue")},
        date(2027, 1, 27): {police_says("is 5 working days overdue")},
        date(2027, 1, 29): {police_says("is 7 working days overdue")},
    }
    assert action_lines(days, PARKER) == action_lines(days, PAT), "every Police contact"
    assert action_lines(days, INDY, PIP) == {}
    escalations = {
        day: of(found, ReminderKind.ACTION_ESCALATION)
        for day, found in days.items()
        if of(found, ReminderKind.ACTION_ESCALATION)
    }
    assert list(escalations) == [date(2027, 1, 25)], "escalated once"
    assert [r.recipient for r in escalations[date(2027, 1, 25)]] == [CASEY]
    assert escalations[date(2027, 1, 25)][0].details == (
        f"Police's action on {REFERENCE} is 3 working days overdue (due Wed 20 Jan 2027): "
        f"{ORDER}. It will be on the next agenda as outstanding."
    )


async def test_no_action_reminder_once_the_action_is_done(world: World, planned: CaseView) -> None:
    before = await world.every_working_day(date(2027, 1, 15), date(2027, 1, 26))
    assert action_lines(before, HARPER) == {
        date(2027, 1, 26): {
            f"Your agency's action on {REFERENCE} is due tomorrow (Wed 27 Jan 2027): {LOCKS}. "
            "Please update the action card."
        }
    }
    world.clock.set(london(2027, 1, 26, 10))
    await world.mark_done(HARPER, LOCKS)

    middle = await world.every_working_day(date(2027, 1, 27), date(2027, 1, 29))
    assert action_lines(middle, HARPER) == {}, "Housing's action is done"
    assert action_lines(middle, PAT) == {
        date(2027, 1, 27): {police_says("is 5 working days overdue")},
        date(2027, 1, 29): {police_says("is 7 working days overdue")},
    }
    world.clock.set(london(2027, 1, 29, 10))
    await world.mark_done(PAT, ORDER)

    after = await world.every_working_day(date(2027, 2, 1), date(2027, 2, 12))
    assert action_lines(after, PAT, PARKER, HARPER, CASEY) == {}
    live = [
        r
        for r in await world.reminders_of(planned.id)
        if r.kind in ACTION_KINDS and r.state in (ReminderState.PENDING, ReminderState.CLAIMED)
    ]
    assert live == []


async def test_overdue_nudges_carry_on_after_an_outage(world: World, planned: CaseView) -> None:
    """The bot is down from Wed 20 Jan evening to Mon 25 Jan: the first nudge (Thu 21) has
    expired by then, but the action is still overdue, so the nudges every 2 working days go
    on (3 working days overdue on Mon 25, 5 on Wed 27)."""
    await world.every_working_day(date(2027, 1, 15), date(2027, 1, 20))

    days = await world.every_working_day(date(2027, 1, 25), date(2027, 1, 29))

    assert of(days[date(2027, 1, 25)], ReminderKind.ACTION_ESCALATION) != []
    assert action_lines(days, PAT) == {
        date(2027, 1, 25): {police_says("is 3 working days overdue")},
        date(2027, 1, 27): {police_says("is 5 working days overdue")},
        date(2027, 1, 29): {police_says("is 7 working days overdue")},
    }


# -- closing and withdrawing -------------------------------------------------------------------


async def test_a_withdrawn_case_gets_no_more_reminders(world: World, listed: CaseView) -> None:
    world.clock.set(london(2027, 1, 5, 10))
    await world.deps.lifecycle.change_case(
        CASEY, REFERENCE, CaseState.WITHDRAWN, "Does not meet the threshold (synthetic)."
    )

    days = await world.every_working_day(date(2027, 1, 6), date(2027, 1, 19))
    assert all(found == [] for found in days.values())
    states = {r.state for r in await world.reminders_of(listed.id)}
    assert states == {ReminderState.CANCELLED}


async def test_a_closed_case_gets_no_more_action_reminders(world: World, planned: CaseView) -> None:
    world.clock.set(london(2027, 1, 18, 10))
    await world.deps.lifecycle.change_case(
        CASEY, REFERENCE, CaseState.CLOSED, "Victim moved away; agencies agree (synthetic)."
    )

    days = await world.every_working_day(date(2027, 1, 19), date(2027, 2, 3))
    assert all(found == [] for found in days.values())
    live = [
        r
        for r in await world.reminders_of(planned.id)
        if r.state in (ReminderState.PENDING, ReminderState.CLAIMED)
    ]
    assert live == []


# -- exactly once --------------------------------------------------------------------------


async def test_running_the_sweep_again_sends_no_second_copy(world: World, listed: CaseView) -> None:
    first = await world.at(london(2027, 1, 6, 9))
    assert len(first) == 4

    world.clock.set(london(2027, 1, 6, 9))
    assert (await world.sweep.run()).sent == 0
    assert await world.at(london(2027, 1, 6, 9, 5)) == []
    assert await world.at(london(2027, 1, 6, 17, 59)) == []
    assert len(await world.received()) == 4


async def test_two_replicas_on_the_same_database_send_each_reminder_once(
    world: World, listed: CaseView, sqlite_url: str
) -> None:
    other = build_runtime(
        Settings(database_url=sqlite_url, allowed_tenants=[TENANT]),  # type: ignore[call-arg]
        world.clock,
    )
    try:
        day_two = await world.at(london(2027, 1, 6, 9))
        assert len(day_two) == 4
        assert await world.at(london(2027, 1, 6, 9), sweep=other.sweep) == []

        day_three = await world.at(london(2027, 1, 7, 9), sweep=other.sweep)
        assert len(of(day_three, ReminderKind.INFO_MISSING)) == 1
        assert len(of(day_three, ReminderKind.DISCUSSION)) == 5
        assert await world.at(london(2027, 1, 7, 9)) == []
    finally:
        await other.database.dispose()
    everything = await world.received()
    keys = [(r.kind, r.slot, r.recipient) for r in everything]
    assert len(keys) == len(set(keys)) == 10


async def test_a_reminder_claimed_by_a_crashed_replica_goes_once_after_its_lease(
    world: World, listed: CaseView
) -> None:
    now = london(2027, 1, 6, 9)
    world.clock.set(now)
    lease = world.sweep.lease
    async with world.units() as uow:  # claim, then "crash": never send, never finish
        claimed = await uow.reminders.claim_due(now, now + lease, "crashed-replica", 200)
        await uow.commit()
    assert {c.kind for c in claimed} == {ReminderKind.INFO_DUE} and len(claimed) == 3

    assert await world.at(now) == []
    assert await world.at(now + lease - timedelta(seconds=1)) == []
    after = await world.at(now + lease)
    assert recipients(after) == sorted(INVOLVED_CONTACTS)
    assert await world.at(now + 2 * lease) == []

    async with world.units() as uow:  # the crashed replica comes back: its lease is gone
        assert not await uow.reminders.finish(
            claimed[0].id, "crashed-replica", ReminderState.SENT, "late", now + 3 * lease
        )
        await uow.commit()
    assert len(await world.received()) == 4


# -- downtime ----------------------------------------------------------------------------------


async def test_a_six_hour_outage_sends_each_relevant_reminder_once_and_drops_expired_ones(
    world: World, listed: CaseView, caplog: pytest.LogCaptureFixture
) -> None:
    await world.at(london(2027, 1, 6, 9))
    assert await world.at(london(2027, 1, 7, 8, 55)) == []  # the last sweep before the outage
    # During the outage the operator adds a conference for today from the command line: its
    # "two working days before" reminder (Tue 5 Jan) is already past its use at 09:00.
    world.clock.set(london(2027, 1, 7, 10))
    await world.add_meeting(date(2027, 1, 7))
    caplog.set_level(logging.INFO, logger="bot.services.reminders")

    world.clock.set(london(2027, 1, 7, 14, 55))
    result = await world.sweep.run()
    await world.deliver()

    received = await world.received()
    day_three = [r for r in received if r.slot == date(2027, 1, 7)]
    assert len(to(of(day_three, ReminderKind.INFO_MISSING), CASEY)) == 1
    assert len(to(of(day_three, ReminderKind.DISCUSSION), CASEY)) == 1
    assert recipients(
        [r for r in of(day_three, ReminderKind.DISCUSSION) if r.recipient != CASEY]
    ) == sorted(INVOLVED_CONTACTS)
    assert all(r.at == london(2027, 1, 7, 14, 55) for r in day_three)
    assert of(received, ReminderKind.CONFERENCE_BEFORE) == []
    assert result.dropped == 1
    dropped = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert [getattr(r, "outcome", None) for r in dropped] == ["conference.before"]
    assert REFERENCE not in caplog.text, "logs never carry case data"

    assert await world.at(london(2027, 1, 7, 14, 56)) == []
    assert await world.at(london(2027, 1, 7, 17)) == []


async def test_a_two_day_outage_sends_the_missed_day_two_reminders_late_and_day_three_once(
    world: World, listed: CaseView, caplog: pytest.LogCaptureFixture
) -> None:
    """Down from Tue 5 Jan to Thu 7 Jan 14:55: the information is still missing, so each
    agency still hears (once, saying it *was* due) as well as the coordinator."""
    assert await world.at(london(2027, 1, 5, 8, 55)) == []
    caplog.set_level(logging.INFO, logger="bot.services.reminders")

    back = await world.at(london(2027, 1, 7, 14, 55))

    late = of(back, ReminderKind.INFO_DUE)
    assert recipients(late) == sorted(INVOLVED_CONTACTS)
    assert {r.details for r in to(late, PAT)} == {
        f"Your agency's information for {REFERENCE} was due by the end of Wed 6 Jan 2027. "
        "Please answer the information request card."
    }
    assert len(of(back, ReminderKind.INFO_MISSING)) == 1
    assert len(of(back, ReminderKind.DISCUSSION)) == 5
    assert [r for r in caplog.records if "dropped" in r.getMessage()] == []
    states = [
        r.state for r in await world.reminders_of(listed.id) if r.kind is ReminderKind.INFO_DUE
    ]
    assert states == [ReminderState.SENT] * 3
    assert await world.at(london(2027, 1, 7, 15)) == []
    assert await world.at(london(2027, 1, 8, 9)) == [], "late once, never again"


# -- the clock changes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("referred", "meeting", "monday_09_00_utc"),
    [
        pytest.param(
            datetime(2026, 3, 26, 10, tzinfo=UTC),
            date(2026, 4, 2),
            datetime(2026, 3, 30, 8, tzinfo=UTC),
            id="Mon-30-March-2026-BST",
        ),
        pytest.param(
            datetime(2026, 10, 22, 9, tzinfo=UTC),
            date(2026, 10, 29),
            datetime(2026, 10, 26, 9, tzinfo=UTC),
            id="Mon-26-October-2026-GMT",
        ),
    ],
)
async def test_after_a_clock_change_a_reminder_goes_once_at_09_00_london(
    world: World, referred: datetime, meeting: date, monday_09_00_utc: datetime
) -> None:
    """Day 0 is the Thursday before the change, so day 2 is the Monday after it."""
    world.clock.set(referred)
    world.sender_clock.set(referred)
    received_on = referred.astimezone(LONDON).date()
    await world.add_meeting(meeting)
    case = await world.refer(
        received_date=received_on.isoformat(),
        incident_date=(received_on - timedelta(days=3)).isoformat(),
    )
    assert case.deadlines.information_due == monday_09_00_utc.date()
    await world.deliver()

    for when in (
        monday_09_00_utc - timedelta(hours=1),  # 08:00 London: the window is open
        monday_09_00_utc - timedelta(minutes=1),
    ):
        assert await world.at(when) == [], f"nothing before 09:00 London (swept at {when})"

    at_nine = await world.at(monday_09_00_utc)
    assert recipients(of(at_nine, ReminderKind.INFO_DUE)) == sorted(INVOLVED_CONTACTS)
    assert {r.at.astimezone(LONDON).strftime("%H:%M") for r in at_nine} == {"09:00"}
    assert await world.at(monday_09_00_utc + timedelta(hours=1)) == []
    assert len(await world.received()) == 4
