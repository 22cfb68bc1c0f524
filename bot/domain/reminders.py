"""When reminders and escalations fall due, and until when they are still worth sending.

Every reminder goes at the send time (09:00 Europe/London by default) of a working day and
never outside 08:00–18:00. Each has a slot (the working day it belongs to). Two sorts:

* a reminder *of a moment* ("the conference is today", "your action is due tomorrow") has an
  expiry: after an outage it is sent once if the sweep reaches it before it expires, otherwise
  dropped with a log line, because its moment has passed;
* a reminder *of a standing problem* (information still missing, an action still overdue, a
  case still without a conference in time) never expires: it is sent once, late, while the
  problem lasts, which the sweep checks against the database when it is due. A later reminder
  of the same kind about the same subject supersedes a missed earlier one (one nudge, not two).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.clock import LONDON

WINDOW_OPENS: Final = time(8, 0)
WINDOW_CLOSES: Final = time(18, 0)


class ReminderKind(StrEnum):
    INFO_DUE = "inforeq.reminder"  # day 2: to the agency's contacts
    INFO_MISSING = "inforeq.escalation"  # day 3: to the coordinator, naming the agencies
    DISCUSSION = "discussion.reminder"  # day 3: coordinator (card) and involved agencies
    CONFERENCE_BEFORE = "conference.before"  # 2 working days before
    CONFERENCE_DAY = "conference.day"  # on the day
    NO_CONFERENCE = "breach.escalation"  # at once, and on day 10 if still unresolved
    ACTION_BEFORE = "action.before"  # 1 working day before the due date
    ACTION_DUE = "action.due"  # on the due date
    ACTION_OVERDUE = "action.overdue"  # next working day after, then every 2
    ACTION_ESCALATION = "action.escalation"  # 3 working days overdue: coordinator, once
    CAPACITY_FORECAST = "capacity.forecast"  # weekly: the next 4 weeks' calendar, coordinators

    @property
    def lapses(self) -> bool:
        """Whether it is about a moment that passes (then it has an expiry); reminders of a
        standing problem go late, once, for as long as the problem lasts."""
        return self not in LASTING


LASTING: Final = frozenset(
    {
        ReminderKind.INFO_DUE,
        ReminderKind.INFO_MISSING,
        ReminderKind.NO_CONFERENCE,
        ReminderKind.ACTION_OVERDUE,
        ReminderKind.ACTION_ESCALATION,
    }
)
# A reminder of a standing problem has no expiry; stored rows carry this instant instead.
NEVER: Final = datetime(9999, 1, 1, tzinfo=UTC)


def has_lapsed(kind: ReminderKind, expires_at: datetime, now: datetime) -> bool:
    """A missed reminder is dropped only if its moment has passed (whatever an older row's
    expiry says, a reminder of a standing problem never lapses)."""
    return kind.lapses and now >= expires_at


class ReminderState(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    CANCELLED = "cancelled"
    DROPPED = "dropped"


@dataclass(frozen=True)
class ReminderPlan:
    """A reminder to create: unique by (kind, subject, slot)."""

    kind: ReminderKind
    case_id: int | None
    subject_id: int
    slot: date
    due_at: datetime
    expires_at: datetime

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.subject_id}:{self.slot.isoformat()}"


@dataclass(frozen=True)
class Schedule:
    """Turns working days into send instants (UTC), the same way for every rule."""

    calendar: WorkingDayCalendar
    send_time: time = time(9, 0)

    def at(self, day: date) -> datetime:
        """The send time on ``day`` in London, as UTC (right across clock changes)."""
        return datetime.combine(day, self.send_time, tzinfo=LONDON).astimezone(UTC)

    def end_of(self, day: date) -> datetime:
        return datetime.combine(day, WINDOW_CLOSES, tzinfo=LONDON).astimezone(UTC)

    def working_day(self, day: date, offset: int) -> date:
        return self.calendar.add_working_days(self.calendar.next_working_day(day), offset)

    def plan(
        self,
        kind: ReminderKind,
        case_id: int | None,
        subject_id: int,
        slot: date,
        expires_at: datetime | None = None,
    ) -> ReminderPlan:
        """A reminder at the send time of ``slot``. A reminder of a moment may by default still
        go until the end of the next working day; one of a standing problem never expires."""
        if not kind.lapses:
            expires_at = NEVER
        return ReminderPlan(
            kind,
            case_id,
            subject_id,
            slot,
            self.at(slot),
            expires_at or self.end_of(self.working_day(slot, 1)),
        )

    def can_send(self, now: datetime) -> bool:
        """Only on working days, and only between 08:00 and 18:00 London."""
        local = now.astimezone(LONDON)
        return (
            self.calendar.is_working_day(local.date())
            and WINDOW_OPENS <= local.time() < WINDOW_CLOSES
        )

    def next_window(self, now: datetime) -> datetime:
        """The next moment reminders may go (``now`` itself if they may go now)."""
        if self.can_send(now):
            return now
        local = now.astimezone(LONDON)
        day = local.date()
        if local.time() >= WINDOW_CLOSES or not self.calendar.is_working_day(day):
            day = self.calendar.next_working_day(day + timedelta(days=1))
        return datetime.combine(day, WINDOW_OPENS, tzinfo=LONDON).astimezone(UTC)

    # -- the rules of PRODUCT.md section 5 -------------------------------------------------

    def information_request(self, case_id: int, request_id: int, due: date) -> ReminderPlan:
        """Day 2: the agency's contacts, while their information is missing (after an outage,
        late: it then says the information *was* due)."""
        return self.plan(ReminderKind.INFO_DUE, case_id, request_id, due)

    def missing_returns(self, case_id: int, discussion_day: date) -> ReminderPlan:
        """Day 3: the coordinator, naming the agencies still missing, for as long as any is
        missing and the case has not been heard (judged when it is due: listings move)."""
        return self.plan(ReminderKind.INFO_MISSING, case_id, case_id, discussion_day)

    def discussion(self, case_id: int, discussion_day: date) -> ReminderPlan:
        """Day 3, on the day only: a reminder the day after the discussion is no use."""
        return self.plan(
            ReminderKind.DISCUSSION, case_id, case_id, discussion_day, self.end_of(discussion_day)
        )

    def conference(self, meeting_id: int, conference_day: date) -> list[ReminderPlan]:
        before = self.calendar.add_working_days(
            self.calendar.previous_working_day(conference_day), -2
        )
        return [
            self.plan(
                ReminderKind.CONFERENCE_BEFORE, None, meeting_id, before, self.at(conference_day)
            ),
            self.plan(
                ReminderKind.CONFERENCE_DAY,
                None,
                meeting_id,
                conference_day,
                self.end_of(conference_day),
            ),
        ]

    def no_conference(self, case_id: int, now: datetime, day_ten: date) -> list[ReminderPlan]:
        """At once (the next moment the window allows), and again on working day 10."""
        at_once = self.next_window(now)
        first = ReminderPlan(
            ReminderKind.NO_CONFERENCE,
            case_id,
            case_id,
            at_once.astimezone(LONDON).date(),
            at_once,
            NEVER,
        )
        plans = [first]
        if day_ten > first.slot:
            plans.append(self.plan(ReminderKind.NO_CONFERENCE, case_id, case_id, day_ten))
        return plans

    def action(self, case_id: int, action_id: int, due: date) -> list[ReminderPlan]:
        """1 working day before, on the due date, the first overdue nudge, and the
        escalation at 3 working days overdue (later nudges are planned as each one goes)."""
        before = self.calendar.add_working_days(self.calendar.previous_working_day(due), -1)
        due_day = self.calendar.next_working_day(due)
        plans = [
            self.plan(ReminderKind.ACTION_BEFORE, case_id, action_id, before, self.at(due_day)),
            self.plan(ReminderKind.ACTION_DUE, case_id, action_id, due_day, self.end_of(due_day)),
            self.overdue(case_id, action_id, due_day, 1),
            self.plan(
                ReminderKind.ACTION_ESCALATION,
                case_id,
                action_id,
                self.calendar.add_working_days(due_day, 3),
            ),
        ]
        return plans

    def overdue(
        self, case_id: int, action_id: int, due_day: date, days_overdue: int
    ) -> ReminderPlan:
        """The nudge ``days_overdue`` working days after the due date (1, 3, 5, …)."""
        slot = self.calendar.add_working_days(due_day, days_overdue)
        return self.plan(ReminderKind.ACTION_OVERDUE, case_id, action_id, slot)

    def next_nudge(self, case_id: int, action_id: int, sent_on: date) -> ReminderPlan:
        """The overdue nudge after one sent on ``sent_on``: 2 working days later (after a
        late catch-up too, so nobody is nudged on two days running)."""
        slot = self.calendar.add_working_days(sent_on, 2)
        return self.plan(ReminderKind.ACTION_OVERDUE, case_id, action_id, slot)

    def capacity_forecast(self, after: date) -> ReminderPlan:
        """The look at the next 4 weeks' conferences on the first working morning of the week
        after ``after``, worth sending that day only. Weekly is enough: a new case's target is
        at least 14 working days away, so a weekly look still warns weeks before any miss."""
        monday = after - timedelta(days=after.weekday()) + timedelta(days=7)
        slot = self.calendar.next_working_day(monday)
        return self.plan(ReminderKind.CAPACITY_FORECAST, None, 0, slot, self.end_of(slot))
