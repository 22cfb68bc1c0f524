"""What the partnership figures come out as: plain numbers, grouped as a report reads them.

``Figures.additive_counts`` names every count that adds up over the parts of a period (the
property the tests check); percentages, medians, rates and distinct people do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.figure_records import Period


@dataclass(frozen=True)
class Share:
    """``n`` of ``of`` (a percentage when ``of`` is not zero)."""

    n: int
    of: int

    @property
    def percent(self) -> float | None:
        return None if self.of == 0 else 100 * self.n / self.of

    def text(self) -> str:
        """'45 of 49 (92%)', or '0 of 0' when there is nothing to count."""
        percent = self.percent
        return f"{self.n} of {self.of}" + ("" if percent is None else f" ({percent:.0f}%)")


@dataclass(frozen=True)
class ReferralFigures:
    """Referrals received in the period (by the date received)."""

    total: int
    withdrawn: int
    by_criteria: tuple[tuple[str, int], ...]
    by_agency: tuple[tuple[str, int], ...]  # referring agency key, referrals
    not_police: Share
    repeats: Share
    children: int
    without_consent: Share
    per_10000: float | None  # a year, per 10,000 adult women (when the population is set)
    serial_perpetrators: int


@dataclass(frozen=True)
class EqualityFigures:
    """Of the referrals received in the period."""

    male: Share
    minoritised: Share
    disabled: Share
    lgbt: Share
    aged_16_17: Share
    harm_by_17_or_under: Share  # the person causing harm was 17 or under


@dataclass(frozen=True)
class TimelinessFigures:
    """First plans agreed in the period, and the day-3 case discussions of the period."""

    heard: int
    within_target: Share
    median_days: float | None  # working days from day 0 to the first plan
    p90_days: int | None
    days: tuple[tuple[int, int], ...]  # (working days, cases) for the distribution chart
    perpetrator_focused_plans: Share
    heard_outside_conference: int
    waiting_past_target: int  # referred in the period, no plan yet, target passed
    discussions_on_day_3: Share
    # Issue 15 (conference mode) adds the victim's voice here, with the same period rules:
    # victims' views recorded (of first plans agreed in the period) and views fed back within
    # 2 working days (by the date the view was recorded).


@dataclass(frozen=True)
class AgencyReturns:
    """One agency's information returns due in the period (by due date)."""

    agency: str
    requested: int
    on_time: int
    late: int  # returned after the due date
    missing: int  # not returned, due date passed
    pending: int  # not returned, not due yet
    median_days: float | None  # working days from day 0 to the return

    @property
    def returned(self) -> Share:
        """Returned (on time or late) of those due by now."""
        return Share(self.on_time + self.late, self.on_time + self.late + self.missing)

    @property
    def in_time(self) -> Share:
        """Returned by the due date, of those due by now."""
        return Share(self.on_time, self.on_time + self.late + self.missing)


@dataclass(frozen=True)
class AgencyActions:
    """One agency's actions: agreed in the period, and due in the period by outcome."""

    agency: str
    agreed: int
    due: int
    on_time: int
    late: int  # done after the due date
    overdue: int  # not done, due date passed
    not_possible: int
    pending: int  # not done, not due yet

    @property
    def in_time(self) -> Share:
        """Done by the due date, of those done or overdue."""
        return Share(self.on_time, self.on_time + self.late + self.overdue)


@dataclass(frozen=True)
class MeetingFigures:
    """One conference held in the period: a row of the SafeLives quarterly return."""

    date: date
    cases: int
    repeats: int
    children: int
    by_agency: tuple[tuple[str, int], ...]  # referring agency key, cases discussed
    male: int
    minoritised: int
    disabled: int
    lgbt: int
    aged_16_17: int
    harm_by_17_or_under: int


@dataclass(frozen=True)
class WeekFigures:
    """A week (from Monday) of the period, for the chart."""

    week: date
    referrals: int
    heard: int
    heard_within_target: int


@dataclass(frozen=True)
class Figures:
    """Every partnership figure of a period, as known on ``as_of``."""

    period: Period
    as_of: date
    agency_names: tuple[tuple[str, str], ...]
    referrals: ReferralFigures
    equality: EqualityFigures
    timeliness: TimelinessFigures
    returns: tuple[AgencyReturns, ...]
    actions: tuple[AgencyActions, ...]
    reviews: int
    meetings: tuple[MeetingFigures, ...]
    weeks: tuple[WeekFigures, ...]

    def agency_name(self, key: str) -> str:
        """The agency's directory name (its key if it is no longer in the directory)."""
        return dict(self.agency_names).get(key, key)

    @property
    def returns_total(self) -> AgencyReturns:
        """Every agency's returns together (the median is not a sum, so it is left out)."""
        r = self.returns
        return AgencyReturns(
            "all",
            sum(a.requested for a in r),
            sum(a.on_time for a in r),
            sum(a.late for a in r),
            sum(a.missing for a in r),
            sum(a.pending for a in r),
            None,
        )

    @property
    def actions_total(self) -> AgencyActions:
        """Every agency's actions together."""
        a = self.actions
        return AgencyActions(
            "all",
            sum(x.agreed for x in a),
            sum(x.due for x in a),
            sum(x.on_time for x in a),
            sum(x.late for x in a),
            sum(x.overdue for x in a),
            sum(x.not_possible for x in a),
            sum(x.pending for x in a),
        )

    def additive_counts(self) -> dict[str, int]:
        """Every count that, for two adjoining periods, adds up to the count of both."""
        r, e, t = self.referrals, self.equality, self.timeliness
        counts: dict[str, int] = {
            "referrals": r.total,
            "referrals.withdrawn": r.withdrawn,
            "referrals.children": r.children,
            "reviews": self.reviews,
            "heard": t.heard,
            "heard.outside_conference": t.heard_outside_conference,
            "waiting_past_target": t.waiting_past_target,
            "meetings": len(self.meetings),
            "meetings.cases": sum(m.cases for m in self.meetings),
        }
        for name, share in (
            ("referrals.not_police", r.not_police),
            ("referrals.repeats", r.repeats),
            ("referrals.without_consent", r.without_consent),
            ("equality.male", e.male),
            ("equality.minoritised", e.minoritised),
            ("equality.disabled", e.disabled),
            ("equality.lgbt", e.lgbt),
            ("equality.aged_16_17", e.aged_16_17),
            ("equality.harm_by_17_or_under", e.harm_by_17_or_under),
            ("heard.within_target", t.within_target),
            ("heard.perpetrator_focused", t.perpetrator_focused_plans),
            ("discussions.on_day_3", t.discussions_on_day_3),
        ):
            counts[f"{name}.n"] = share.n
            counts[f"{name}.of"] = share.of
        counts.update({f"referrals.criteria.{k}": n for k, n in r.by_criteria})
        counts.update({f"referrals.agency.{k}": n for k, n in r.by_agency})
        counts.update({f"heard.days.{d}": n for d, n in t.days})
        for a in self.returns:
            for field in ("requested", "on_time", "late", "missing", "pending"):
                counts[f"returns.{a.agency}.{field}"] = getattr(a, field)
        for x in self.actions:
            for field in ("agreed", "due", "on_time", "late", "overdue", "not_possible", "pending"):
                counts[f"actions.{x.agency}.{field}"] = getattr(x, field)
        return {k: v for k, v in counts.items() if v}
