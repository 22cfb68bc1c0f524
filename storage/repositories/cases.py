"""Cases, referrals, listings, transitions and information-request counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.cases import CaseView, Discussion, Listing
from bot.domain.clock import LONDON
from bot.domain.deadlines import CaseDeadlines, ConferenceChoice
from bot.domain.figure_records import hearing_day
from bot.domain.identities import perpetrator_key
from bot.domain.information import Answer, InformationRequest
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import Criteria, Referral
from bot.domain.repeats import EarlierReferral, normalise_name
from storage.models import (
    AgencyRow,
    CaseAgencyRow,
    CaseDiscussionRow,
    CaseRow,
    CaseSequenceRow,
    HearingRow,
    InformationRequestRow,
    ListingRow,
    MeetingRow,
    ReferralRow,
    TransitionRow,
)
from storage.repositories._common import OPEN_STATES, is_postgres

EarlierCase = aliased(CaseRow)
LatestListing = aliased(ListingRow)
HeardMeeting = aliased(MeetingRow)


def _latest_listing_id() -> Any:
    return (
        select(func.max(LatestListing.id))
        .where(LatestListing.case_id == CaseRow.id)
        .correlate(CaseRow)
        .scalar_subquery()
    )


class SqlCases:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_reference(self, prefix: str, year: int) -> str:
        """Issue the next number of the year atomically (an upsert that returns the value)."""
        dialect_insert = pg_insert if is_postgres(self.session) else sqlite_insert
        statement = (
            dialect_insert(CaseSequenceRow)
            .values(year=year, last=1)
            .on_conflict_do_update(
                index_elements=[CaseSequenceRow.year], set_={"last": CaseSequenceRow.last + 1}
            )
            .returning(CaseSequenceRow.last)
        )
        number = (await self.session.execute(statement)).scalar_one()
        return f"{prefix}-{year}-{number:04d}"

    async def create(
        self,
        reference: str,
        referral: Referral,
        deadlines: CaseDeadlines,
        choice: ConferenceChoice,
        transition: Transition,
    ) -> int:
        agencies = {r.key: r.id for r in await self.session.scalars(select(AgencyRow))}
        case = CaseRow(
            reference=reference,
            state=transition.to_state.value,
            received_date=deadlines.received,
            day_zero=deadlines.day_zero,
            information_due=deadlines.information_due,
            discussion_date=deadlines.discussion,
            earliest_conference=deadlines.earliest_conference,
            conference_target=deadlines.conference_target,
            created_at=transition.at,
            created_by=transition.actor_aad_id,
            version=1,
        )
        self.session.add(case)
        await self.session.flush()
        self.session.add(
            ReferralRow(
                case_id=case.id,
                victim_name=referral.victim_name,
                victim_dob=referral.victim_dob,
                victim_key=normalise_name(referral.victim_name),
                victim_gender=referral.victim_gender,
                victim_ethnicity=referral.victim_ethnicity,
                victim_disability=referral.victim_disability,
                victim_lgbt=referral.victim_lgbt,
                perpetrator_name=referral.perpetrator_name,
                perpetrator_key=perpetrator_key(referral.perpetrator_name),
                perpetrator_dob=referral.perpetrator_dob,
                relationship=referral.relationship,
                children_count=referral.children_count,
                referring_agency_id=agencies[referral.referring_agency],
                criteria=referral.criteria.value,
                dash_score=referral.dash_score,
                incident_date=referral.incident_date,
                received_date=referral.received_date,
                summary=referral.summary,
                consent=referral.consent,
                consent_reason=referral.consent_reason,
            )
        )
        for key in referral.agencies:
            self.session.add(CaseAgencyRow(case_id=case.id, agency_id=agencies[key]))
            self.session.add(
                InformationRequestRow(
                    case_id=case.id,
                    agency_id=agencies[key],
                    due_date=deadlines.information_due,
                    created_at=transition.at,
                )
            )
        self.session.add(
            ListingRow(
                case_id=case.id,
                meeting_id=choice.meeting_id,
                target_date=choice.target,
                breach=choice.breach,
                listed_at=transition.at,
                reason="referral",
            )
        )
        self._add_transition(case.id, transition)
        await self.session.flush()
        return case.id

    def _add_transition(self, case_id: int, transition: Transition) -> None:
        self.session.add(
            TransitionRow(
                case_id=case_id,
                from_state=transition.from_state.value if transition.from_state else None,
                to_state=transition.to_state.value,
                actor=transition.actor_aad_id,
                at=transition.at,
                reason=transition.reason,
            )
        )

    async def relist(
        self, case_id: int, choice: ConferenceChoice, at: datetime, reason: str
    ) -> None:
        await self.session.execute(
            update(ListingRow)
            .where(ListingRow.case_id == case_id, ListingRow.ended_at.is_(None))
            .values(ended_at=at)
        )
        self.session.add(
            ListingRow(
                case_id=case_id,
                meeting_id=choice.meeting_id,
                target_date=choice.target,
                breach=choice.breach,
                listed_at=at,
                reason=reason,
            )
        )
        await self.session.flush()

    async def _views(self, where: Sequence[object]) -> list[CaseView]:
        rows = (
            await self.session.execute(
                select(
                    CaseRow,
                    ReferralRow,
                    ListingRow,
                    MeetingRow.date,
                    EarlierCase.reference,
                    HeardMeeting.date,
                )
                .join(ReferralRow, ReferralRow.case_id == CaseRow.id)
                .outerjoin(EarlierCase, EarlierCase.id == CaseRow.repeat_of)
                .outerjoin(HeardMeeting, HeardMeeting.id == CaseRow.heard_meeting_id)
                # The latest listing: the open one, or for a heard, withdrawn or closed case
                # the one it ended on (the case must stay readable after its place is freed).
                .join(ListingRow, ListingRow.id == _latest_listing_id())
                .outerjoin(MeetingRow, MeetingRow.id == ListingRow.meeting_id)
                .where(*where)  # type: ignore[arg-type]
                .order_by(CaseRow.day_zero, CaseRow.reference)
            )
        ).all()
        if not rows:
            return []
        ids = [case.id for case, *_ in rows]
        agency_keys = {r.id: r.key for r in await self.session.scalars(select(AgencyRow))}
        involved: dict[int, list[str]] = defaultdict(list)
        for case_id, agency_id in (
            await self.session.execute(
                select(CaseAgencyRow.case_id, CaseAgencyRow.agency_id)
                .where(CaseAgencyRow.case_id.in_(ids))
                .order_by(CaseAgencyRow.agency_id)
            )
        ).all():
            involved[case_id].append(agency_keys[agency_id])
        returns: dict[int, tuple[int, int]] = {}
        for case_id, total, answered in (
            await self.session.execute(
                select(
                    InformationRequestRow.case_id,
                    func.count(),
                    func.count(InformationRequestRow.answered_at),
                )
                .where(InformationRequestRow.case_id.in_(ids))
                .group_by(InformationRequestRow.case_id)
            )
        ).all():
            returns[case_id] = (answered, total)
        views = []
        for case, ref, listing, meeting_date, repeat_of, heard_date in rows:
            answered, total = returns.get(case.id, (0, 0))
            views.append(
                CaseView(
                    id=case.id,
                    reference=case.reference,
                    state=CaseState(case.state),
                    referral=Referral(
                        victim_name=ref.victim_name,
                        victim_dob=ref.victim_dob,
                        victim_gender=ref.victim_gender,
                        victim_ethnicity=ref.victim_ethnicity,
                        victim_disability=ref.victim_disability,
                        victim_lgbt=ref.victim_lgbt,
                        perpetrator_name=ref.perpetrator_name,
                        perpetrator_dob=ref.perpetrator_dob,
                        relationship=ref.relationship,
                        children_count=ref.children_count,
                        referring_agency=agency_keys[ref.referring_agency_id],
                        criteria=Criteria(ref.criteria),
                        dash_score=ref.dash_score,
                        incident_date=ref.incident_date,
                        received_date=ref.received_date,
                        agencies=tuple(involved[case.id]),
                        summary=ref.summary,
                        consent=ref.consent,
                        consent_reason=ref.consent_reason,
                    ),
                    deadlines=CaseDeadlines(
                        received=case.received_date,
                        day_zero=case.day_zero,
                        information_due=case.information_due,
                        discussion=case.discussion_date,
                        earliest_conference=case.earliest_conference,
                        conference_target=case.conference_target,
                    ),
                    listing=Listing(
                        listing.meeting_id, meeting_date, listing.target_date, listing.breach
                    ),
                    agencies=tuple(involved[case.id]),
                    returns_in=answered,
                    returns_due=total,
                    created_at=case.created_at,
                    created_by=case.created_by,
                    repeat_of=repeat_of if case.repeat else None,
                    previous_case=None if case.repeat else repeat_of,
                    heard_at=case.heard_at,
                    heard_meeting_date=heard_date,
                )
            )
        return views

    async def by_reference(self, reference: str) -> CaseView | None:
        views = await self._views([CaseRow.reference == reference.upper()])
        return views[0] if views else None

    async def by_id(self, case_id: int) -> CaseView | None:
        views = await self._views([CaseRow.id == case_id])
        return views[0] if views else None

    async def on_meeting(self, meeting_id: int) -> list[CaseView]:
        return await self._views(
            [ListingRow.meeting_id == meeting_id, ListingRow.ended_at.is_(None)]
        )

    async def discussions_on(self, day: date) -> list[CaseView]:
        return await self._views(
            [CaseRow.discussion_date == day, CaseRow.state == CaseState.REFERRED.value]
        )

    async def open_cases(self) -> list[CaseView]:
        return await self._views([CaseRow.state.in_(OPEN_STATES)])

    async def waiting_for_conference(self) -> list[CaseView]:
        return await self._views(
            [
                ListingRow.meeting_id.is_(None),
                ListingRow.ended_at.is_(None),
                CaseRow.state.in_(OPEN_STATES),
            ]
        )

    async def transitions(self, case_id: int) -> list[Transition]:
        rows = await self.session.scalars(
            select(TransitionRow)
            .where(TransitionRow.case_id == case_id)
            .order_by(TransitionRow.at, TransitionRow.id)
        )
        return [
            Transition(
                CaseState(r.from_state) if r.from_state else None,
                CaseState(r.to_state),
                r.actor,
                r.at,
                r.reason,
            )
            for r in rows
        ]

    async def answered_agencies(self, case_id: int) -> frozenset[str]:
        keys = await self.session.scalars(
            select(AgencyRow.key)
            .join(InformationRequestRow, InformationRequestRow.agency_id == AgencyRow.id)
            .where(
                InformationRequestRow.case_id == case_id,
                InformationRequestRow.answered_at.is_not(None),
            )
        )
        return frozenset(keys)

    async def _requests(self, *where: Any) -> list[InformationRequest]:
        rows = await self.session.execute(
            select(InformationRequestRow, AgencyRow.key)
            .join(AgencyRow, AgencyRow.id == InformationRequestRow.agency_id)
            .where(*where)
            .order_by(InformationRequestRow.agency_id)
        )
        return [
            InformationRequest(
                r.id,
                r.case_id,
                key,
                r.due_date,
                r.answered_at,
                r.answered_by,
                r.known,
                r.late,
                r.information,
                r.concerns,
            )
            for r, key in rows.all()
        ]

    async def information_requests(self, case_id: int) -> list[InformationRequest]:
        return await self._requests(InformationRequestRow.case_id == case_id)

    async def information_request(self, request_id: int) -> InformationRequest | None:
        found = await self._requests(InformationRequestRow.id == request_id)
        return found[0] if found else None

    async def answer_request(
        self, request_id: int, by: str, at: datetime, answer: Answer, late: bool
    ) -> bool:
        """Record the agency's answer unless someone answered first (the row lock decides)."""
        result = await self.session.execute(
            update(InformationRequestRow)
            .where(
                InformationRequestRow.id == request_id,
                InformationRequestRow.answered_at.is_(None),
            )
            .values(
                answered_at=at,
                answered_on=at.astimezone(LONDON).date(),
                answered_by=by,
                known=answer.known,
                information=answer.information,
                concerns=answer.concerns,
                late=late,
            )
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def lock(self, case_id: int) -> None:
        """Hold the case row until commit (PostgreSQL), serialising changes to one case;
        SQLite serialises every writer anyway."""
        if is_postgres(self.session):
            await self.session.execute(
                select(CaseRow.id).where(CaseRow.id == case_id).with_for_update()
            )

    async def change_state(self, case_id: int, transition: Transition) -> None:
        values: dict[str, Any] = {
            "state": transition.to_state.value,
            "version": CaseRow.version + 1,
        }
        if transition.to_state is CaseState.CLOSED:
            values["closed_at"] = transition.at
        await self.session.execute(update(CaseRow).where(CaseRow.id == case_id).values(**values))
        self._add_transition(case_id, transition)
        await self.session.flush()

    async def set_heard(self, case_id: int, meeting_id: int | None, at: datetime) -> None:
        """Record the hearing (every one is kept: the first is what the target is about)."""
        await self.session.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id)
            .values(heard_at=at, heard_meeting_id=meeting_id)
        )
        meeting_day = (
            await self.session.scalar(select(MeetingRow.date).where(MeetingRow.id == meeting_id))
            if meeting_id is not None
            else None
        )
        self.session.add(
            HearingRow(
                case_id=case_id,
                meeting_id=meeting_id,
                heard_on=hearing_day(meeting_day, at),
                at=at,
            )
        )
        await self.session.flush()

    async def end_listing(self, case_id: int, at: datetime) -> None:
        """The case was heard (or withdrawn/closed): it no longer takes a conference place."""
        await self.session.execute(
            update(ListingRow)
            .where(ListingRow.case_id == case_id, ListingRow.ended_at.is_(None))
            .values(ended_at=at)
        )

    async def earlier_referrals(
        self, victim_name: str, exclude_case_id: int | None = None
    ) -> list[tuple[EarlierReferral, str, date | None]]:
        """Earlier cases whose victim has the same normalised name, newest first, with the
        name and date of birth as referred (the caller applies the matching rule)."""
        query = (
            select(
                CaseRow.id,
                CaseRow.reference,
                CaseRow.received_date,
                CaseRow.heard_at,
                ReferralRow.victim_name,
                ReferralRow.victim_dob,
            )
            .join(ReferralRow, ReferralRow.case_id == CaseRow.id)
            .where(ReferralRow.victim_key == normalise_name(victim_name))
            .order_by(CaseRow.received_date.desc(), CaseRow.id.desc())
        )
        if exclude_case_id is not None:
            query = query.where(CaseRow.id != exclude_case_id)
        found = []
        for case_id, reference, received, heard_at, name, dob in (
            await self.session.execute(query)
        ).all():
            agencies = await self.session.scalars(
                select(AgencyRow.key)
                .join(CaseAgencyRow, CaseAgencyRow.agency_id == AgencyRow.id)
                .where(CaseAgencyRow.case_id == case_id)
                .order_by(AgencyRow.id)
            )
            heard = heard_at.date() if heard_at else None
            found.append(
                (EarlierReferral(case_id, reference, received, tuple(agencies), heard), name, dob)
            )
        return found

    async def set_repeat_of(self, case_id: int, earlier_case_id: int, repeat: bool) -> None:
        await self.session.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id)
            .values(repeat_of=earlier_case_id, repeat=repeat)
        )

    async def record_discussion(
        self,
        case_id: int,
        held: bool,
        attendees: Sequence[str],
        notes: str | None,
        by: str,
        at: datetime,
    ) -> bool:
        """Record the case discussion once (the first record stands)."""
        dialect_insert = pg_insert if is_postgres(self.session) else sqlite_insert
        statement = (
            dialect_insert(CaseDiscussionRow)
            .values(
                case_id=case_id,
                held=held,
                attendees=",".join(attendees),
                notes=notes,
                recorded_by=by,
                recorded_at=at,
                recorded_on=at.astimezone(LONDON).date(),
            )
            .on_conflict_do_nothing(index_elements=[CaseDiscussionRow.case_id])
            .returning(CaseDiscussionRow.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def discussion(self, case_id: int) -> Discussion | None:
        row = await self.session.scalar(
            select(CaseDiscussionRow).where(CaseDiscussionRow.case_id == case_id)
        )
        if row is None:
            return None
        attendees = tuple(a for a in row.attendees.split(",") if a)
        return Discussion(row.held, attendees, row.notes, row.recorded_by, row.recorded_at)
