"""A synthetic history for `marat report --demo` and `marat capacity --demo`: the demo
directory and months of made-up referrals, returns, discussions, plans and action updates, so
that the figures, the SafeLives return and the chart can be seen (and regenerated) without
real data.

It is driven day by day through the bot's own use cases (a referral is made, listed, repeat-
checked and planned as in Teams), on a clock the caller owns; agencies' answers and action
updates are written through the repositories with their made-up times. The random choices are
seeded, so the same period always gives the same history. Nobody in it exists.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.domain.actions import ActionStatus, ActionUpdate
from bot.domain.capacity import poisson
from bot.domain.clock import LONDON, FixedClock
from bot.domain.information import Answer
from bot.domain.lifecycle import AWAITING_CONFERENCE, CaseState
from bot.ops.demo import PLAYGROUND_USER, demo_directory
from bot.services.plan_view import PlanView
from bot.services.plans import PlanAgreed
from bot.services.referrals import ReferralRecorded
from dialogs.base import Dependencies

FIRST = ("Ada", "Bea", "Cara", "Dee", "Eve", "Fay", "Gia", "Hope", "Ivy", "Joy", "Kit", "Lea")
LAST = ("Example", "Sample", "Madeup", "Invented", "Fiction", "Testcase", "Notreal", "Dummy")
HARM = ("Abe", "Ben", "Cal", "Dan", "Eli", "Fin", "Gus", "Hal", "Ike", "Jon", "Ken", "Lou")
ACTIONS = (
    "{agency} to share the safety plan with the victim through the IDVA",
    "{agency} to flag the address for an urgent response to any call",
    "{agency} to offer a referral to a behaviour change programme to the person causing harm",
    "{agency} to arrange a joint visit with children's services this month",
)
Event = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class _Victim:
    name: str
    dob: date
    received: date


class DemoHistory:
    """Builds the history, one working day at a time, from ``start`` to ``end``."""

    def __init__(
        self, deps: Dependencies, clock: FixedClock, cases_per_year: float = 300, seed: int = 11
    ) -> None:
        self.deps, self.clock = deps, clock
        self.calendar = deps.calendar
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
        self.rate = cases_per_year / 253
        self.events: dict[date, list[Event]] = defaultdict(list)
        self.victims: list[_Victim] = []
        self.harm: list[tuple[str, date]] = []
        self.agencies: list[str] = []

    def _at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)

    async def run(self, start: date, end: date) -> None:
        """Conferences on Thursdays (none from 21 December to 3 January, as many areas do,
        so January hears a backlog), then every day's work."""
        self.clock.set(self._at(start, 8))
        await self.deps.directory.import_directory(demo_directory())
        self.agencies = [a.key for a in await self.deps.referrals.referral_agencies()]
        thursday = start + timedelta(days=(3 - start.weekday()) % 7)
        while thursday <= end + timedelta(days=35):
            day = self.calendar.next_working_day(thursday)
            if not ((day.month == 12 and day.day >= 21) or (day.month == 1 and day.day <= 3)):
                await self.deps.conferences.add_meeting(None, day, None)
            thursday += timedelta(weeks=1)
        day = self.calendar.next_working_day(start)
        while day <= end:
            self.clock.set(self._at(day, 10))
            for _ in range(poisson(self.rng, self.rate)):
                await self._refer(day)
            while self.events.get(day):  # a referral's same-day answers included
                for event in self.events.pop(day):
                    await event()
            await self._conference(day)
            day = self.calendar.add_working_days(day, 1)
        self.clock.set(self._at(end, 17))

    # -- referrals ---------------------------------------------------------------------------

    def _person(self, day: date) -> tuple[str, str, bool]:
        """A victim (sometimes one referred in the last year again: a repeat)."""
        rng = self.rng
        recent = [v for v in self.victims if (day - v.received).days < 330]
        if recent and rng.random() < 0.22:
            victim = rng.choice(recent)
            victim.received = day
            return victim.name, victim.dob.isoformat(), True
        age = 16 + rng.randrange(2) if rng.random() < 0.05 else rng.randrange(18, 66)
        dob = day - timedelta(days=365 * age + rng.randrange(1, 360))
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}-{len(self.victims) + 1}"
        self.victims.append(_Victim(name, dob, day))
        return name, dob.isoformat(), False

    def _perpetrator(self, day: date) -> tuple[str, str]:
        rng = self.rng
        if self.harm and rng.random() < 0.04:  # named before, for another victim
            name, dob = rng.choice(self.harm)
            return name, dob.isoformat()
        young = rng.random() < 0.04
        dob = day - timedelta(
            days=365 * (rng.randrange(15, 18) if young else rng.randrange(19, 60))
        )
        name = f"{rng.choice(HARM)} {rng.choice(LAST)}-{len(self.harm) + 1}"
        self.harm.append((name, dob))
        return name, dob.isoformat()

    async def _refer(self, day: date) -> None:
        rng = self.rng
        received = day
        previous = self.calendar.previous_working_day(day - timedelta(days=1))
        if (day - previous).days > 1 and rng.random() < 0.4:  # in over the weekend
            received = previous + timedelta(days=rng.randrange(1, (day - previous).days))
        victim, dob, _repeat = self._person(received)
        harm_name, harm_dob = self._perpetrator(received)
        criteria = rng.choices(
            ["visible_high_risk", "professional_judgement", "potential_escalation"], [70, 20, 10]
        )[0]
        consent = rng.random() < 0.82
        inputs = {
            "victim_name": victim,
            "victim_dob": dob,
            "victim_gender": rng.choices(["female", "male", "not_known"], [92, 6, 2])[0],
            "victim_ethnicity": rng.choices(
                ["white_british", "white_other", "asian", "black", "mixed", "arab", "not_known"],
                [70, 8, 8, 6, 4, 1, 3],
            )[0],
            "victim_disability": rng.choices(["no", "yes", "not_known"], [80, 12, 8])[0],
            "victim_lgbt": rng.choices(["no", "yes", "not_known"], [85, 3, 12])[0],
            "perpetrator_name": harm_name,
            "perpetrator_dob": harm_dob,
            "relationship": rng.choice(["intimate_partner", "ex_partner", "family_member"]),
            "children_count": str(rng.choices([0, 1, 2, 3], [40, 25, 25, 10])[0]),
            "referring_agency": rng.choices(self.agencies, [60] + [4] * (len(self.agencies) - 1))[
                0
            ],
            "criteria": criteria,
            "dash_score": str(rng.randrange(14, 22) if criteria == "visible_high_risk" else 10),
            "received_date": received.isoformat(),
            "agencies": ",".join(rng.sample(self.agencies, 6)),
            "summary": "Synthetic demo referral: nothing here is about a real person.",
            "consent": "yes" if consent else "no",
            "consent_reason": "" if consent else "Sharing is needed to prevent serious harm.",
        }
        form = await self.deps.referrals.open_referral(PLAYGROUND_USER)
        outcome = await self.deps.referrals.submit_referral(PLAYGROUND_USER, form.token, inputs)
        assert isinstance(outcome, ReferralRecorded), outcome
        case = outcome.case
        day_zero = case.deadlines.day_zero
        async with self.deps.context.units() as uow:
            requests = await uow.cases.information_requests(case.id)
        for request in requests:
            roll = rng.random()
            if roll < 0.9:
                offset = rng.randrange(0, 3) if roll < 0.72 else rng.randrange(3, 6)
                when = self.calendar.add_working_days(day_zero, offset)
                self._later(max(when, day), self._answer(request.id, when))
        roll = rng.random()
        if roll < 0.93:
            late = roll > 0.85
            when = self.calendar.add_working_days(case.deadlines.discussion, 1 if late else 0)
            self._later(when, self._discuss(case.reference, held=roll < 0.9))

    def _later(self, day: date, event: Event) -> None:
        self.events[day].append(event)

    def _answer(self, request_id: int, day: date) -> Event:
        minute = self.rng.randrange(0, 420)

        async def answer() -> None:
            async with self.deps.context.units() as uow:
                request = await uow.cases.information_request(request_id)
                if request is None or request.answered:
                    return
                at = self._at(day, 9) + timedelta(minutes=minute)
                known = Answer(True, "Synthetic: known to the agency.", None)
                await uow.cases.answer_request(
                    request_id, PLAYGROUND_USER, at, known, day > request.due
                )
                await uow.commit()

        return answer

    def _discuss(self, reference: str, held: bool) -> Event:
        async def discuss() -> None:
            detail = await self.deps.cases.case_detail(PLAYGROUND_USER, reference)
            if detail.discussion_token is None:
                return
            await self.deps.discussions.record_discussion(
                PLAYGROUND_USER,
                detail.discussion_token,
                {"held": "yes" if held else "no", "attendees": ",".join(detail.case.agencies[:3])},
            )

        return discuss

    # -- conferences -------------------------------------------------------------------------

    async def _conference(self, day: date) -> None:
        async with self.deps.context.units() as uow:
            meeting = await uow.meetings.by_date(day)
            listed = await uow.cases.on_meeting(meeting.id) if meeting else []
        for case in listed:
            if case.state not in AWAITING_CONFERENCE:
                continue
            if self.rng.random() < 0.04:
                await self.deps.lifecycle.change_case(
                    PLAYGROUND_USER, case.reference, CaseState.DEFERRED, "Referrer not ready."
                )
                continue
            await self._plan(case.reference, case.agencies, day)

    async def _plan(self, reference: str, agencies: tuple[str, ...], day: date) -> None:
        rng = self.rng
        plans = self.deps.plans
        view: PlanView = await plans.open_plan(PLAYGROUND_USER, reference)
        for _ in range(rng.randrange(1, 4)):
            agency = rng.choice(agencies)
            due = self.calendar.add_working_days(day, rng.randrange(5, 26))
            inputs = {
                "agency": agency,
                "description": rng.choice(ACTIONS).format(agency=agency.replace("-", " ").title()),
                "due_date": due.isoformat(),
                "perpetrator_focused": "yes" if rng.random() < 0.4 else "no",
            }
            changed = await plans.add_action(PLAYGROUND_USER, view.token, inputs)
            assert isinstance(changed, PlanView), changed
            view = changed
        agreed = await plans.agree_plan(PLAYGROUND_USER, view.token, True)
        assert isinstance(agreed, PlanAgreed), agreed
        for action in agreed.actions:
            roll = rng.random()
            if roll < 0.85:
                status = ActionStatus.NOT_POSSIBLE if roll > 0.8 else ActionStatus.DONE
                shift = rng.randrange(-4, 1) if roll < 0.65 else rng.randrange(1, 6)
                when = self.calendar.add_working_days(
                    self.calendar.next_working_day(action.due), shift
                )
                self._later(
                    max(when, self.calendar.add_working_days(day, 1)),
                    self._update(action.id, status),
                )
        if rng.random() < 0.06:
            self._later(
                self.calendar.add_working_days(day, rng.randrange(10, 20)), self._review(reference)
            )

    def _update(self, action_id: int, status: ActionStatus) -> Event:
        async def update() -> None:
            async with self.deps.context.units() as uow:
                action = await uow.actions.by_id(action_id)
                if action is None or action.status.is_closed:
                    return
                note = "Synthetic: done." if status is ActionStatus.DONE else "Synthetic: refused."
                await uow.actions.record_update(
                    action_id, ActionUpdate(status, note), PLAYGROUND_USER, self.clock.now()
                )
                await uow.commit()

        return update

    def _review(self, reference: str) -> Event:
        async def review() -> None:
            async with self.deps.context.units() as uow:
                case = await uow.cases.by_reference(reference)
            if case is not None and case.state is CaseState.MONITORING:
                await self.deps.lifecycle.change_case(
                    PLAYGROUND_USER, reference, CaseState.REVIEW, "Risk not reduced (synthetic)."
                )

        return review
