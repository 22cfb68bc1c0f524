"""When each reminder and escalation goes, and until when it is still worth sending.

A reminder of a moment (the discussion or the conference is today, an action is due tomorrow
or today) expires with its moment; a reminder of a standing problem (information missing, an
action overdue, no conference in time) never expires: whether it still applies is judged
against the case when it falls due (issue 12: after an outage such an escalation was dropped).

PRODUCT.md section 5: reminders go on working days only, at the send time (09:00
Europe/London by default), never outside 08:00-18:00; each is unique per (kind, subject,
slot). TEAMS.md: the London clocks change on Sunday 29 March and Sunday 25 October 2026, so
09:00 London is 08:00 UTC in summer and 09:00 UTC in winter.

Dates used below (England): Good Friday 3 Apr 2026 and Easter Monday 6 Apr 2026; summer bank
holiday 31 Aug 2026; Christmas Fri 25 Dec 2026 with Boxing Day substituted to Mon 28 Dec;
New Year Fri 1 Jan 2027; Good Friday 26 Mar 2027 and Easter Monday 29 Mar 2027.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.clock import LONDON
from bot.domain.reminders import NEVER, ReminderKind, ReminderPlan, Schedule, has_lapsed
from bot.settings import Settings, SettingsError, load_settings

CASE = 7
REQUEST = 70
MEETING = 3
ACTION = 9


@cache
def schedule(send_time: time = time(9, 0)) -> Schedule:
    return Schedule(WorkingDayCalendar("ENG"), send_time)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time (only for times that exist exactly once)."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def by_kind(plans: list[ReminderPlan]) -> dict[ReminderKind, ReminderPlan]:
    found = {p.kind: p for p in plans}
    assert len(found) == len(plans), "one plan per kind"
    return found


# -- 09:00 London, winter and summer ---------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2027, 1, 4), utc(2027, 1, 4, 9), id="January-GMT"),
        pytest.param(date(2026, 6, 1), utc(2026, 6, 1, 8), id="June-BST"),
        pytest.param(date(2026, 3, 28), utc(2026, 3, 28, 9), id="Sat-before-spring-change-GMT"),
        pytest.param(date(2026, 3, 29), utc(2026, 3, 29, 8), id="29-March-change-day-BST"),
        pytest.param(date(2026, 3, 30), utc(2026, 3, 30, 8), id="Mon-30-March-BST"),
        pytest.param(date(2026, 10, 24), utc(2026, 10, 24, 8), id="Sat-before-autumn-change-BST"),
        pytest.param(date(2026, 10, 25), utc(2026, 10, 25, 9), id="25-October-change-day-GMT"),
        pytest.param(date(2026, 10, 26), utc(2026, 10, 26, 9), id="Mon-26-October-GMT"),
    ],
)
def test_the_send_time_is_09_00_london_whatever_the_season(day: date, expected: datetime) -> None:
    at = schedule().at(day)
    assert at == expected
    assert at.tzinfo is not None and at.utcoffset() == timedelta(0)
    assert at.astimezone(LONDON).time() == time(9, 0)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 1, 7), utc(2027, 1, 7, 18)),
        (date(2026, 3, 29), utc(2026, 3, 29, 17)),
        (date(2026, 3, 31), utc(2026, 3, 31, 17)),
        (date(2026, 10, 25), utc(2026, 10, 25, 18)),
        (date(2026, 10, 27), utc(2026, 10, 27, 18)),
    ],
)
def test_the_end_of_a_day_is_18_00_london(day: date, expected: datetime) -> None:
    assert schedule().end_of(day) == expected


# -- the send window: 08:00-18:00 London on working days ---------------------------------------


@pytest.mark.parametrize(
    ("instant", "allowed"),
    [
        pytest.param(utc(2027, 1, 4, 7, 59, 59), False, id="Mon-07:59:59-GMT"),
        pytest.param(utc(2027, 1, 4, 8), True, id="Mon-08:00-GMT-opens"),
        pytest.param(utc(2027, 1, 4, 12), True, id="Mon-midday"),
        pytest.param(utc(2027, 1, 4, 17, 59, 59), True, id="Mon-17:59:59-GMT"),
        pytest.param(utc(2027, 1, 4, 18), False, id="Mon-18:00-GMT-closed"),
        pytest.param(utc(2026, 3, 31, 6, 59), False, id="Tue-07:59-BST"),
        pytest.param(utc(2026, 3, 31, 7), True, id="Tue-08:00-BST-opens"),
        pytest.param(utc(2026, 3, 31, 16, 59), True, id="Tue-17:59-BST"),
        pytest.param(utc(2026, 3, 31, 17), False, id="Tue-18:00-BST-closed"),
        pytest.param(utc(2026, 3, 30, 7, 30), True, id="Mon-30-March-08:30-BST"),
        pytest.param(utc(2026, 10, 26, 7, 30), False, id="Mon-26-October-07:30-GMT"),
        pytest.param(utc(2026, 10, 26, 8), True, id="Mon-26-October-08:00-GMT"),
        pytest.param(utc(2026, 3, 29, 10), False, id="Sun-29-March"),
        pytest.param(utc(2026, 10, 25, 10), False, id="Sun-25-October"),
        pytest.param(utc(2027, 1, 9, 10), False, id="Saturday"),
        pytest.param(utc(2027, 1, 10, 10), False, id="Sunday"),
        pytest.param(utc(2026, 4, 3, 10), False, id="Good-Friday"),
        pytest.param(utc(2026, 4, 6, 10), False, id="Easter-Monday"),
        pytest.param(utc(2026, 8, 31, 10), False, id="summer-bank-holiday"),
        pytest.param(utc(2026, 12, 25, 10), False, id="Christmas"),
        pytest.param(utc(2026, 12, 28, 10), False, id="Boxing-Day-substitute"),
        pytest.param(utc(2027, 1, 1, 10), False, id="New-Year"),
    ],
)
def test_reminders_go_only_08_00_to_18_00_london_on_working_days(
    instant: datetime, allowed: bool
) -> None:
    assert schedule().can_send(instant) is allowed


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(utc(2027, 1, 4, 10), utc(2027, 1, 4, 10), id="inside-the-window-now"),
        pytest.param(utc(2027, 1, 4, 6), utc(2027, 1, 4, 8), id="early-morning-same-day"),
        pytest.param(utc(2027, 1, 8, 18), utc(2027, 1, 11, 8), id="Friday-18:00"),
        pytest.param(utc(2027, 1, 8, 23, 30), utc(2027, 1, 11, 8), id="Friday-night"),
        pytest.param(utc(2027, 1, 9, 10), utc(2027, 1, 11, 8), id="Saturday"),
        pytest.param(london(2026, 4, 6, 10), london(2026, 4, 7, 8), id="Easter-Monday"),
        pytest.param(london(2026, 4, 2, 18, 30), london(2026, 4, 7, 8), id="before-Easter"),
        pytest.param(utc(2026, 12, 24, 18), utc(2026, 12, 29, 8), id="Christmas-Eve-evening"),
        pytest.param(utc(2026, 12, 25, 9), utc(2026, 12, 29, 8), id="Christmas-Day"),
        pytest.param(utc(2026, 3, 27, 18, 30), utc(2026, 3, 30, 7), id="into-BST"),
        pytest.param(utc(2026, 10, 23, 17, 30), utc(2026, 10, 26, 8), id="into-GMT"),
    ],
)
def test_the_next_window_opens_at_08_00_london_on_the_next_working_day(
    now: datetime, expected: datetime
) -> None:
    assert schedule().next_window(now) == expected


# -- each rule's slot and expiry ---------------------------------------------------------------


def test_day_two_information_reminder_never_expires_while_the_information_is_missing() -> None:
    s = schedule()
    plan = s.information_request(CASE, REQUEST, date(2027, 1, 6))
    assert (plan.kind, plan.case_id, plan.subject_id) == (ReminderKind.INFO_DUE, CASE, REQUEST)
    assert plan.slot == date(2027, 1, 6)
    assert plan.due_at == utc(2027, 1, 6, 9)
    assert plan.expires_at == NEVER


def test_a_friday_information_reminder_goes_on_friday_at_09_00() -> None:
    plan = schedule().information_request(CASE, REQUEST, date(2027, 1, 8))
    assert plan.due_at == utc(2027, 1, 8, 9)


def test_day_three_escalation_goes_on_day_three_and_never_expires() -> None:
    listed = schedule().missing_returns(CASE, date(2027, 1, 7))
    assert (listed.kind, listed.subject_id) == (ReminderKind.INFO_MISSING, CASE)
    assert (listed.slot, listed.due_at) == (date(2027, 1, 7), utc(2027, 1, 7, 9))
    assert listed.expires_at == NEVER


@pytest.mark.parametrize("kind", list(ReminderKind), ids=[k.value for k in ReminderKind])
def test_only_reminders_of_a_moment_lapse(kind: ReminderKind) -> None:
    """Even a row stored with an expiry (before issue 12) lapses only if its kind does."""
    moments = {
        ReminderKind.DISCUSSION,
        ReminderKind.CONFERENCE_BEFORE,
        ReminderKind.CONFERENCE_DAY,
        ReminderKind.ACTION_BEFORE,
        ReminderKind.ACTION_DUE,
        ReminderKind.CAPACITY_FORECAST,  # this week's look; next week's is planned anyway
    }
    expiry = utc(2027, 1, 7, 18)
    assert kind.lapses is (kind in moments)
    assert has_lapsed(kind, expiry, expiry + timedelta(days=21)) is (kind in moments)
    assert not has_lapsed(kind, expiry, expiry - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("day", "due", "expires"),
    [
        (date(2027, 1, 7), utc(2027, 1, 7, 9), utc(2027, 1, 7, 18)),
        (date(2026, 3, 31), utc(2026, 3, 31, 8), utc(2026, 3, 31, 17)),
    ],
)
def test_the_discussion_reminder_is_for_the_day_itself_only(
    day: date, due: datetime, expires: datetime
) -> None:
    plan = schedule().discussion(CASE, day)
    assert (plan.kind, plan.subject_id, plan.slot) == (ReminderKind.DISCUSSION, CASE, day)
    assert (plan.due_at, plan.expires_at) == (due, expires)


@pytest.mark.parametrize(
    ("conference", "two_days_before"),
    [
        pytest.param(date(2027, 1, 14), date(2027, 1, 12), id="Thursday"),
        pytest.param(date(2027, 1, 12), date(2027, 1, 8), id="Tuesday-across-a-weekend"),
        pytest.param(date(2027, 1, 11), date(2027, 1, 7), id="Monday-across-a-weekend"),
        pytest.param(date(2026, 4, 7), date(2026, 4, 1), id="after-Easter-2026"),
        pytest.param(date(2027, 3, 30), date(2027, 3, 24), id="after-Easter-2027"),
        pytest.param(date(2027, 1, 5), date(2026, 12, 31), id="after-New-Year"),
    ],
)
def test_conference_reminders_two_working_days_before_and_on_the_day(
    conference: date, two_days_before: date
) -> None:
    s = schedule()
    plans = by_kind(s.conference(MEETING, conference))
    before = plans[ReminderKind.CONFERENCE_BEFORE]
    on_the_day = plans[ReminderKind.CONFERENCE_DAY]
    assert s.calendar.working_days_between(before.slot, conference) == 2
    assert before.slot == two_days_before
    assert before.due_at == s.at(two_days_before)
    assert before.expires_at == s.at(conference), "pointless once the conference day begins"
    assert (on_the_day.slot, on_the_day.due_at) == (conference, s.at(conference))
    assert on_the_day.expires_at == s.end_of(conference)
    assert before.case_id is None and on_the_day.case_id is None
    assert before.subject_id == on_the_day.subject_id == MEETING


def test_no_conference_escalation_goes_at_once_in_the_window_and_again_on_day_ten() -> None:
    now = utc(2027, 1, 4, 10)
    at_once, day_ten = schedule().no_conference(CASE, now, date(2027, 1, 18))
    assert at_once.kind is day_ten.kind is ReminderKind.NO_CONFERENCE
    assert (at_once.slot, at_once.due_at) == (date(2027, 1, 4), now)
    assert (day_ten.slot, day_ten.due_at) == (date(2027, 1, 18), utc(2027, 1, 18, 9))
    assert at_once.expires_at == day_ten.expires_at == NEVER
    assert at_once.key != day_ten.key


def test_no_conference_found_on_a_friday_evening_is_told_on_monday_at_08_00() -> None:
    plans = schedule().no_conference(CASE, utc(2027, 1, 8, 19, 30), date(2027, 1, 22))
    assert [(p.slot, p.due_at) for p in plans] == [
        (date(2027, 1, 11), utc(2027, 1, 11, 8)),
        (date(2027, 1, 22), utc(2027, 1, 22, 9)),
    ]


def test_no_second_escalation_when_day_ten_is_already_past() -> None:
    plans = schedule().no_conference(CASE, utc(2027, 1, 20, 10), date(2027, 1, 18))
    assert [p.slot for p in plans] == [date(2027, 1, 20)]


def test_action_reminders_before_on_the_day_overdue_and_escalated() -> None:
    s = schedule()
    plans = by_kind(s.action(CASE, ACTION, date(2027, 1, 20)))  # a Wednesday
    before = plans[ReminderKind.ACTION_BEFORE]
    due = plans[ReminderKind.ACTION_DUE]
    overdue = plans[ReminderKind.ACTION_OVERDUE]
    escalation = plans[ReminderKind.ACTION_ESCALATION]
    assert (before.slot, before.due_at, before.expires_at) == (
        date(2027, 1, 19),
        utc(2027, 1, 19, 9),
        utc(2027, 1, 20, 9),
    )
    assert (due.slot, due.due_at, due.expires_at) == (
        date(2027, 1, 20),
        utc(2027, 1, 20, 9),
        utc(2027, 1, 20, 18),
    )
    assert (overdue.slot, overdue.due_at) == (date(2027, 1, 21), utc(2027, 1, 21, 9))
    assert (escalation.slot, escalation.due_at) == (date(2027, 1, 25), utc(2027, 1, 25, 9))
    assert overdue.expires_at == escalation.expires_at == NEVER, "standing problems"
    assert s.calendar.working_days_between(date(2027, 1, 20), escalation.slot) == 3
    assert all(p.case_id == CASE and p.subject_id == ACTION for p in plans.values())


def test_action_reminders_skip_a_weekend_and_the_easter_bank_holidays() -> None:
    s = schedule()
    monday = by_kind(s.action(CASE, ACTION, date(2027, 1, 11)))
    assert monday[ReminderKind.ACTION_BEFORE].slot == date(2027, 1, 8)
    easter = by_kind(s.action(CASE, ACTION, date(2027, 3, 25)))  # Thursday before Good Friday
    assert easter[ReminderKind.ACTION_BEFORE].slot == date(2027, 3, 24)
    assert easter[ReminderKind.ACTION_DUE].slot == date(2027, 3, 25)
    assert easter[ReminderKind.ACTION_OVERDUE].slot == date(2027, 3, 30)
    assert easter[ReminderKind.ACTION_ESCALATION].slot == date(2027, 4, 1)


def test_overdue_nudges_every_two_working_days() -> None:
    s = schedule()
    nudges = [s.overdue(CASE, ACTION, date(2027, 1, 20), n) for n in (1, 3, 5, 7)]
    assert [n.slot for n in nudges] == [
        date(2027, 1, 21),
        date(2027, 1, 25),
        date(2027, 1, 27),
        date(2027, 1, 29),
    ]
    for nudge, following in itertools.pairwise(nudges):
        assert s.next_nudge(CASE, ACTION, nudge.slot) == following
    assert {n.kind for n in nudges} == {ReminderKind.ACTION_OVERDUE}
    assert len({n.key for n in nudges}) == 4


def test_after_a_late_nudge_the_next_is_two_working_days_later() -> None:
    """Caught up on Tue 26 Jan (an even day overdue): next on Thu 28, not Wed 27."""
    assert schedule().next_nudge(CASE, ACTION, date(2027, 1, 26)).slot == date(2027, 1, 28)


# -- keys: one reminder per (kind, subject, slot) ----------------------------------------------


def test_keys_are_unique_per_kind_subject_and_slot() -> None:
    s = schedule()
    plans = [
        *(s.information_request(CASE, r, date(2027, 1, 6)) for r in (70, 71, 72)),
        s.missing_returns(CASE, date(2027, 1, 7)),
        s.discussion(CASE, date(2027, 1, 7)),
        *s.no_conference(CASE, utc(2027, 1, 4, 10), date(2027, 1, 18)),
        *s.conference(CASE, date(2027, 1, 14)),  # a meeting whose id equals the case's
        *s.action(CASE, CASE, date(2027, 1, 20)),  # an action whose id equals the case's
        *(s.overdue(CASE, CASE, date(2027, 1, 20), n) for n in (3, 5)),
    ]
    keys = [p.key for p in plans]
    assert len(set(keys)) == len(keys)
    assert s.discussion(CASE, date(2027, 1, 7)).key == "discussion.reminder:7:2027-01-07"
    again = s.missing_returns(CASE, date(2027, 1, 7))
    assert again.key == plans[3].key, "the same reminder planned again has the same key"
    assert s.discussion(8, date(2027, 1, 7)).key != plans[4].key


# -- properties --------------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31))
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


def all_plans(s: Schedule, day: date, now: datetime) -> list[ReminderPlan]:
    """Every rule, for working days derived from ``day`` (the dates a case or plan yields)."""
    first = s.calendar.next_working_day(day)
    later = s.calendar.add_working_days(first, 11)
    return [
        s.information_request(CASE, REQUEST, first),
        s.missing_returns(CASE, first),
        s.discussion(CASE, first),
        *s.conference(MEETING, first),
        *s.no_conference(CASE, now, later),
        *s.action(CASE, ACTION, first),
        s.overdue(CASE, ACTION, first, 5),
    ]


@given(day=DAYS, now=INSTANTS)
def test_every_slot_is_a_working_day_and_every_due_instant_is_in_the_window(
    day: date, now: datetime
) -> None:
    s = schedule()
    for plan in all_plans(s, day, now):
        assert s.calendar.is_working_day(plan.slot), plan
        assert s.can_send(plan.due_at), plan
        assert plan.due_at.astimezone(LONDON).date() == plan.slot, plan
        assert plan.due_at < plan.expires_at, plan


@given(day=DAYS)
def test_the_send_time_is_09_00_london_on_every_day(day: date) -> None:
    at = schedule().at(day).astimezone(LONDON)
    assert (at.date(), at.time()) == (day, time(9, 0))


@given(now=INSTANTS)
def test_the_next_window_is_the_first_moment_sending_is_allowed(now: datetime) -> None:
    s = schedule()
    opens = s.next_window(now)
    assert s.can_send(opens)
    if s.can_send(now):
        assert opens == now
    else:
        assert opens > now
        assert opens.astimezone(LONDON).time() == time(8, 0)
        assert not s.can_send(opens - timedelta(minutes=1))
        # No working-day window was skipped between now and then.
        local = now.astimezone(LONDON)
        first_candidate = local.date() + timedelta(days=0 if local.time() < time(8, 0) else 1)
        assert opens.astimezone(LONDON).date() == s.calendar.next_working_day(first_candidate)


def test_a_send_time_at_or_after_18_00_is_refused_at_start_up() -> None:
    """18:00 itself is outside the window (08:00 up to, not including, 18:00)."""
    with pytest.raises(SettingsError, match="MARAT_SEND_TIME"):
        load_settings(send_time=time(18, 0))


@pytest.mark.parametrize("send_time", [time(8, 0), time(9, 0), time(17, 59)])
def test_every_send_time_the_settings_accept_can_actually_be_sent(send_time: time) -> None:
    """The settings validate MARAT_SEND_TIME; any time they accept must fall inside the
    08:00-18:00 window, or every reminder misses its slot and the day-3 discussion reminder
    (which expires at 18:00 that day) can never go."""
    settings = Settings(send_time=send_time)  # type: ignore[call-arg]
    s = Schedule(WorkingDayCalendar("ENG"), settings.send_time)
    plan = s.discussion(CASE, date(2027, 1, 7))
    assert s.can_send(plan.due_at), f"a reminder due at {send_time:%H:%M} can never be sent"
    assert plan.due_at < plan.expires_at
