"""The records the partnership figures read (bot/domain/figure_records.py), loaded in a few
grouped queries: a national year (~120,000 cases with their returns and actions) must report in
under two seconds on PostgreSQL (docs/performance.md).

Identical records are loaded once with their number (``GROUP BY`` and ``count(*)``): the
figures count a record of ``count=n`` as n records, so grouping changes no figure. London dates
of timestamps are computed by PostgreSQL (``timezone('Europe/London', …)``); SQLite, which has
no time zones, sends the timestamps and Python groups them.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Hashable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Date, String, and_, case, cast, exists, func, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.domain.actions import ActionStatus
from bot.domain.clock import LONDON
from bot.domain.figure_records import (
    AgreedActions,
    CaseFacts,
    DueActions,
    HarmLink,
    HearingFacts,
    Period,
    ReturnFacts,
    ReviewFacts,
)
from bot.domain.figure_tallies import FigureFacts, tally
from bot.domain.identities import (
    SerialPerpetrator,
    age_on,
    perpetrator_identity,
    victim_identity,
)
from bot.domain.lifecycle import CaseState
from bot.domain.referral import Criteria
from storage.models import (
    ActionRow,
    AgencyRow,
    CaseDiscussionRow,
    CaseRow,
    HearingRow,
    InformationRequestRow,
    MeetingRow,
    ReferralRow,
    TransitionRow,
)
from storage.repositories._common import is_postgres
from storage.repositories.figure_tallies import Executor, Job, tally_jobs

WORK_MEM = "64MB"
STATUSES = {status.value: status for status in ActionStatus}
CLOSED = [ActionStatus.DONE.value, ActionStatus.NOT_POSSIBLE.value]
K = TypeVar("K", bound=Hashable)


def _day(value: Any) -> date | None:
    """A London date from what the database sent: a date (PostgreSQL did the conversion) or
    a UTC timestamp (SQLite)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(LONDON).date()
    assert isinstance(value, date)
    return value


def _instant(day: date) -> datetime:
    """The start of a London day, in UTC (to bound timestamp ranges by London dates)."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def _merge(rows: Iterable[tuple[K, int]]) -> list[tuple[K, int]]:
    """Add up groups that became equal once their timestamps became London dates."""
    totals: Counter[K] = Counter()
    for key, n in rows:
        totals[key] += n
    return list(totals.items())


def _in_period(start: date, end: date) -> Any:
    """The cases a period's figures can be about: received, discussed or heard in it."""
    return or_(
        CaseRow.received_date.between(start, end),
        CaseRow.discussion_date.between(start, end),
        CaseRow.id.in_(select(HearingRow.case_id).where(HearingRow.heard_on.between(start, end))),
    )


class SqlFigures:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _local_date(self, column: Any) -> Any:
        if is_postgres(self.session):
            return cast(func.timezone("Europe/London", column), Date)
        return column

    async def facts(self, period: Period) -> FigureFacts:
        start, end = period.start, period.end
        since, until = _instant(start), _instant(end + timedelta(days=1))
        agencies = (
            await self.session.execute(
                select(AgencyRow.id, AgencyRow.key, AgencyRow.name).order_by(AgencyRow.id)
            )
        ).all()
        keys = {row.id: row.key for row in agencies}
        jobs: dict[str, Job] = {
            "reviews": lambda db: self._reviews(db, since, until),
            "harm_links": lambda db: self._harm_links(db, start, end),
            "returns": lambda db: self._returns(db, start, end, keys),
            "actions_agreed": lambda db: self._agreed(db, start, end, keys),
            "actions_due": lambda db: self._due(db, start, end, keys),
            "meetings": lambda db: self._meetings(db, start, end),
        }
        if is_postgres(self.session):
            jobs.update(tally_jobs(period, keys))
            found = await self._in_parallel(jobs)
        else:  # a single-instance MARAT: count its cases in Python
            found = {name: await job(self.session) for name, job in jobs.items()}
            counted = tally(*await self.case_facts(period)).within(period)
            found.update(
                referrals=counted.referrals,
                conferences=counted.conferences,
                timelines=counted.timelines,
                discussions=counted.discussions,
            )
        return FigureFacts(**found, agency_names=tuple((row.key, row.name) for row in agencies))

    async def _in_parallel(self, jobs: dict[str, Job]) -> dict[str, Any]:
        """Run the queries side by side on connections of their own, all reading the
        snapshot of this unit of work (exported by PostgreSQL), so they add up to one
        consistent picture however many replicas write meanwhile."""
        snapshot = (await self.session.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
        if not re.fullmatch(r"[0-9A-F-]+", str(snapshot)):  # it is inlined below
            raise ValueError("unexpected snapshot id")
        engine = self.session.bind
        assert isinstance(engine, AsyncEngine)

        async def run(job: Job) -> Any:
            async with engine.connect() as plain:
                db = await plain.execution_options(isolation_level="REPEATABLE READ")
                await db.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                # Room to group a national year in memory (the default 4 MB spills to disk).
                await db.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
                return await job(db)

        results = await asyncio.gather(*(run(job) for job in jobs.values()))
        return dict(zip(jobs, results, strict=True))

    async def _meetings(self, db: Executor, start: date, end: date) -> tuple[date, ...]:
        rows = await db.execute(select(MeetingRow.date).where(MeetingRow.date.between(start, end)))
        return tuple(rows.scalars())

    async def case_facts(
        self, period: Period
    ) -> tuple[tuple[CaseFacts, ...], tuple[HearingFacts, ...]]:
        """The cases the period's figures are about, one record each, with their plans."""
        keys = {
            row.id: row.key
            for row in (await self.session.execute(select(AgencyRow.id, AgencyRow.key))).all()
        }
        where = _in_period(period.start, period.end)
        cases = await self._cases(where, keys)
        hearings = (
            await self.session.execute(
                select(HearingRow.case_id, HearingRow.heard_on, MeetingRow.date)
                .outerjoin(MeetingRow, MeetingRow.id == HearingRow.meeting_id)
                .where(HearingRow.case_id.in_(select(CaseRow.id).where(where)))
            )
        ).all()
        return cases, tuple(HearingFacts(c, h, m) for c, h, m in hearings)

    async def _cases(self, where: Any, keys: dict[int, str]) -> tuple[CaseFacts, ...]:
        withdrawn = (
            select(TransitionRow.case_id, func.min(TransitionRow.at).label("at"))
            .where(TransitionRow.to_state == CaseState.WITHDRAWN.value)
            .group_by(TransitionRow.case_id)
            .subquery()
        )
        focused = exists().where(
            ActionRow.case_id == CaseRow.id,
            ActionRow.agreed_at.is_not(None),
            ActionRow.perpetrator_focused.is_(True),
        )
        held_on = case(
            (CaseDiscussionRow.held.is_(True), CaseDiscussionRow.recorded_on), else_=None
        )
        rows = await self.session.execute(
            select(
                CaseRow.id,
                CaseRow.received_date,
                CaseRow.day_zero,
                CaseRow.discussion_date,
                CaseRow.conference_target,
                CaseRow.repeat,
                ReferralRow.criteria,
                ReferralRow.referring_agency_id,
                ReferralRow.children_count,
                ReferralRow.consent,
                ReferralRow.victim_gender,
                ReferralRow.victim_ethnicity,
                ReferralRow.victim_disability,
                ReferralRow.victim_lgbt,
                ReferralRow.victim_dob,
                ReferralRow.perpetrator_dob,
                ReferralRow.victim_key,
                ReferralRow.perpetrator_key,
                held_on,
                self._local_date(withdrawn.c.at),
                focused,
            )
            .join(ReferralRow, ReferralRow.case_id == CaseRow.id)
            .outerjoin(CaseDiscussionRow, CaseDiscussionRow.case_id == CaseRow.id)
            .outerjoin(withdrawn, withdrawn.c.case_id == CaseRow.id)
            .where(where)
        )
        repeat = Criteria.REPEAT.value
        return tuple(
            CaseFacts(
                case_id=r[0],
                received=r[1],
                day_zero=r[2],
                discussion_day=r[3],
                target=r[4],
                repeat=bool(r[5]) or r[6] == repeat,
                criteria=r[6],
                referring_agency=keys[r[7]],
                children=r[8],
                consent=r[9],
                victim_gender=r[10],
                victim_ethnicity=r[11],
                victim_disability=r[12],
                victim_lgbt=r[13],
                victim_age=age_on(r[14], r[1]),
                perpetrator_age=age_on(r[15], r[1]),
                victim=victim_identity(r[16], r[14]),
                perpetrator=perpetrator_identity(r[17], r[15]),
                discussion_held_on=_day(r[18]),
                withdrawn_on=_day(r[19]),
                perpetrator_focused_plan=bool(r[20]),
            )
            for r in rows.all()
        )

    async def _reviews(
        self, db: Executor, since: datetime, until: datetime
    ) -> tuple[ReviewFacts, ...]:
        on = self._local_date(TransitionRow.at)
        rows = await db.execute(
            select(on, func.count())
            .where(
                TransitionRow.to_state == CaseState.REVIEW.value,
                TransitionRow.at >= since,
                TransitionRow.at < until,
            )
            .group_by(on)
        )
        merged = _merge((_day(d), n) for d, n in rows.all())
        return tuple(ReviewFacts(d, n) for d, n in merged if d is not None)

    async def _harm_links(self, db: Executor, start: date, end: date) -> tuple[HarmLink, ...]:
        """Who was named for harm to whom, up to ``end``: for the people causing harm named in
        the period and in more than one referral (one referral cannot name two victims)."""
        person = (ReferralRow.perpetrator_key, ReferralRow.perpetrator_dob)
        known = and_(
            ReferralRow.received_date <= end,
            ReferralRow.perpetrator_key != "",
            ReferralRow.perpetrator_dob.is_not(None),
        )
        in_period = case((ReferralRow.received_date.between(start, end), 1), else_=0)
        again = (
            select(*person)
            .where(known)
            .group_by(*person)
            .having(func.count() > 1, func.max(in_period) == 1)
        )
        # The opaque identities are made where the rows are (as bot.domain.identities makes
        # them): a national year sends some 60,000 of these.
        perpetrator = ReferralRow.perpetrator_key + "|" + cast(ReferralRow.perpetrator_dob, String)
        victim = (
            ReferralRow.victim_key + "|" + func.coalesce(cast(ReferralRow.victim_dob, String), "")
        )
        rows = await db.execute(
            select(perpetrator, victim, ReferralRow.received_date).where(
                known, tuple_(*person).in_(again)
            )
        )
        return tuple(HarmLink(p, v, r) for p, v, r in rows.all())

    async def _returns(
        self, db: Executor, start: date, end: date, keys: dict[int, str]
    ) -> tuple[ReturnFacts, ...]:
        returned = InformationRequestRow.answered_on
        columns = (
            InformationRequestRow.agency_id,
            CaseRow.day_zero,
            InformationRequestRow.due_date,
            returned,
        )
        rows = await db.execute(
            select(*columns, func.count())
            .join(CaseRow, CaseRow.id == InformationRequestRow.case_id)
            .where(InformationRequestRow.due_date.between(start, end))
            .group_by(*columns)
        )
        return tuple(ReturnFacts(keys[a], z, d, r, n) for a, z, d, r, n in rows.all())

    async def _agreed(
        self, db: Executor, start: date, end: date, keys: dict[int, str]
    ) -> tuple[AgreedActions, ...]:
        rows = await db.execute(
            select(ActionRow.agency_id, ActionRow.agreed_on, func.count())
            .where(ActionRow.agreed_on.between(start, end))
            .group_by(ActionRow.agency_id, ActionRow.agreed_on)
        )
        return tuple(AgreedActions(keys[a], d, n) for a, d, n in rows.all() if d is not None)

    async def _due(
        self, db: Executor, start: date, end: date, keys: dict[int, str]
    ) -> tuple[DueActions, ...]:
        columns = (ActionRow.agency_id, ActionRow.due_date, ActionRow.status, ActionRow.closed_on)
        rows = await db.execute(
            select(*columns, func.count())
            .where(ActionRow.agreed_at.is_not(None), ActionRow.due_date.between(start, end))
            .group_by(*columns)
        )
        return tuple(DueActions(keys[a], d, STATUSES[s], c, n) for a, d, s, c, n in rows.all())

    async def referrals_received(self, start: date, end: date) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(CaseRow)
                .where(CaseRow.received_date.between(start, end))
            )
            or 0
        )

    async def first_referral(self) -> date | None:
        value = await self.session.scalar(select(func.min(CaseRow.received_date)))
        return value if isinstance(value, date) else None

    async def serial_perpetrator(self, case_id: int) -> SerialPerpetrator | None:
        this = (
            await self.session.execute(
                select(
                    ReferralRow.perpetrator_key,
                    ReferralRow.perpetrator_dob,
                    ReferralRow.victim_key,
                    ReferralRow.victim_dob,
                ).where(ReferralRow.case_id == case_id)
            )
        ).first()
        if this is None or perpetrator_identity(this[0], this[1]) is None:
            return None
        victim = victim_identity(this[2], this[3])
        rows = await self.session.execute(
            select(CaseRow.reference, ReferralRow.victim_key, ReferralRow.victim_dob)
            .join(CaseRow, CaseRow.id == ReferralRow.case_id)
            .where(
                and_(
                    ReferralRow.perpetrator_key == this[0],
                    ReferralRow.perpetrator_dob == this[1],
                    ReferralRow.case_id != case_id,
                )
            )
            .order_by(CaseRow.received_date, CaseRow.id)
        )
        others: dict[str, list[str]] = {}
        for reference, key, dob in rows.all():
            other = victim_identity(key, dob)
            if other != victim:
                others.setdefault(other, []).append(reference)
        if not others:
            return None
        return SerialPerpetrator(len(others), tuple(r for refs in others.values() for r in refs))
