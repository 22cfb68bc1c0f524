"""Read models of cases and conferences, as the use cases and cards see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.domain.actions import Action, Amendment
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.deadlines import CaseDeadlines
from bot.domain.identities import SerialPerpetrator
from bot.domain.lifecycle import AWAITING_CONFERENCE, CaseState, Transition
from bot.domain.referral import Criteria, Referral


@dataclass(frozen=True)
class Meeting:
    """A MARAC conference date and how full it is."""

    id: int
    date: date
    capacity: int
    listed: int

    @property
    def free_places(self) -> int:
        return max(0, self.capacity - self.listed)


@dataclass(frozen=True)
class Listing:
    """Where a case is listed now; ``meeting_date`` is None while it waits for a conference."""

    meeting_id: int | None
    meeting_date: date | None
    target: date
    breach: bool


@dataclass(frozen=True)
class CaseView:
    """A case with its referral, deadlines, current listing and information returns."""

    id: int
    reference: str
    state: CaseState
    referral: Referral
    deadlines: CaseDeadlines
    listing: Listing
    agencies: tuple[str, ...]
    returns_in: int
    returns_due: int
    created_at: datetime
    created_by: str
    repeat_of: str | None = None  # the earlier case's reference, when this is a repeat
    previous_case: str | None = None  # an earlier case more than 12 months before
    heard_at: datetime | None = None
    # The conference the plan was agreed at; None with ``heard_at`` set means it was agreed
    # outside a conference (recorded with its reason in the timeline).
    heard_meeting_date: date | None = None

    @property
    def heard_outside_conference(self) -> bool:
        return self.heard_at is not None and self.heard_meeting_date is None

    @property
    def has_children(self) -> bool:
        return self.referral.children_count > 0

    @property
    def is_repeat(self) -> bool:
        return self.repeat_of is not None or self.referral.criteria is Criteria.REPEAT

    def working_days_since_day_zero(self, calendar: WorkingDayCalendar, today: date) -> int:
        return max(0, calendar.working_days_between(self.deadlines.day_zero, today))

    def next_deadline(self, today: date) -> tuple[str, date] | None:
        """The next thing due for an open case, to sort and show on `/cases`."""
        if not self.state.is_open:
            return None
        steps: list[tuple[str, date]] = []
        if self.returns_in < self.returns_due:
            steps.append(("information returns", self.deadlines.information_due))
        if self.state is CaseState.REFERRED:
            steps.append(("case discussion", self.deadlines.discussion))
        if self.state in AWAITING_CONFERENCE:
            steps.append(("conference", self.listing.meeting_date or self.listing.target))
        # The next one still ahead; if all are past, the most overdue.
        upcoming = [s for s in steps if s[1] >= today] or steps
        return min(upcoming, key=lambda s: s[1]) if upcoming else None


@dataclass(frozen=True)
class Discussion:
    """The day-3 case discussion as the coordinator recorded it."""

    held: bool
    attendees: tuple[str, ...]
    notes: str | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class AgencyReturn:
    """One agency's information return as a reader may see it: known or not, what it holds,
    current concerns, who answered and when (``answered_by`` is a display name)."""

    agency_key: str
    due: date
    known: bool | None = None
    information: str | None = None
    concerns: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    late: bool = False

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass(frozen=True)
class CaseDetail:
    """A case with its timeline, for `/case`."""

    case: CaseView
    transitions: tuple[Transition, ...]
    agency_names: dict[str, str]
    answered_agencies: frozenset[str]
    late_agencies: frozenset[str] = frozenset()
    # People the case's messages could not reach (coordinator view): (name, what happened).
    not_reached: tuple[tuple[str, str], ...] = ()
    # None: the coordinator, who sees every agency's return; else the viewer's agencies.
    viewer_agencies: frozenset[str] | None = None
    discussion: Discussion | None = None
    # For a coordinator while the discussion is not recorded: the token of its form.
    discussion_token: str | None = None
    actions: tuple[Action, ...] = ()
    action_updaters: dict[str, str] = field(default_factory=dict)  # aad id -> name
    # The returns the viewer may read in full (the coordinator: every agency's; a contact:
    # their own agency's), in directory order.
    returns: tuple[AgencyReturn, ...] = ()
    # Who did what, for the timeline and amendments: aad id -> "Name (role)".
    people: dict[str, str] = field(default_factory=dict)
    amendments: tuple[Amendment, ...] = ()
    # The coordinator's view only: the person causing harm is named for other victims too.
    serial_perpetrator: SerialPerpetrator | None = None


@dataclass(frozen=True)
class Agenda:
    """A conference's agenda in the SafeLives order, and today's day-3 case discussions."""

    meeting: Meeting | None
    with_children: tuple[CaseView, ...]
    adult_only: tuple[CaseView, ...]
    discussions_today: tuple[CaseView, ...]
    day: date
    outstanding: tuple[Action, ...] = ()  # open actions from earlier meetings, first
    twelve_months: tuple[CaseView, ...] = ()  # back more than 12 months after a MARAC
    perpetrator_actions: dict[int, int] = field(default_factory=dict)  # per case id
    pack_token: str | None = None  # the coordinator's "Conference pack" button


def agenda_order(
    cases: list[CaseView],
) -> tuple[tuple[CaseView, ...], tuple[CaseView, ...], tuple[CaseView, ...]]:
    """SafeLives order: cases with children first (children's agencies may then leave), then
    adult-only cases, then cases back more than 12 months after their last MARAC; within each,
    the longest-waiting first."""

    def key(c: CaseView) -> tuple[date, str]:
        return (c.deadlines.day_zero, c.reference)

    returning = tuple(sorted((c for c in cases if c.previous_case), key=key))
    rest = [c for c in cases if not c.previous_case]
    with_children = tuple(sorted((c for c in rest if c.has_children), key=key))
    adult_only = tuple(sorted((c for c in rest if not c.has_children), key=key))
    return with_children, adult_only, returning
