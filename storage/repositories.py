"""SQLAlchemy implementations of the repository protocols in ``bot.ports``."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import CaseView, Listing, Meeting
from bot.domain.deadlines import CaseDeadlines, ConferenceChoice, ConferenceSlot
from bot.domain.directory import Agency, Person, agency_key
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import Criteria, Referral
from bot.ports import AuditEvent, TokenInfo
from storage.models import (
    AgencyRow,
    AuditRow,
    CardTokenRow,
    CaseAgencyRow,
    CaseRow,
    CaseSequenceRow,
    InformationRequestRow,
    ListingRow,
    MeetingRow,
    MembershipRow,
    PersonRow,
    ReferralRow,
    TransitionRow,
)

OPEN_STATES = [s.value for s in CaseState if s.is_open]


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class SqlDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def agencies(self) -> list[Agency]:
        rows = await self.session.scalars(
            select(AgencyRow).where(AgencyRow.active.is_(True)).order_by(AgencyRow.id)
        )
        return [Agency(r.id, r.key, r.name) for r in rows]

    async def upsert_agency(self, name: str, at: datetime) -> tuple[Agency, bool]:
        key = agency_key(name)
        row = await self.session.scalar(select(AgencyRow).where(AgencyRow.key == key))
        created = row is None
        if row is None:
            row = AgencyRow(key=key, name=name.strip(), active=True, created_at=at)
            self.session.add(row)
            await self.session.flush()
        else:
            row.active = True
        return Agency(row.id, row.key, row.name), created

    async def person(self, aad_object_id: str) -> Person | None:
        row = await self.session.scalar(
            select(PersonRow).where(
                PersonRow.aad_object_id == aad_object_id.lower(), PersonRow.active.is_(True)
            )
        )
        if row is None:
            return None
        keys = await self.session.scalars(
            select(AgencyRow.key)
            .join(MembershipRow, MembershipRow.agency_id == AgencyRow.id)
            .where(MembershipRow.person_id == row.id, AgencyRow.active.is_(True))
        )
        return Person(row.aad_object_id, row.name, row.email, row.is_coordinator, frozenset(keys))

    async def upsert_person(
        self, aad_object_id: str, name: str, email: str | None, at: datetime
    ) -> bool:
        aad = aad_object_id.lower()
        row = await self.session.scalar(select(PersonRow).where(PersonRow.aad_object_id == aad))
        if row is None:
            self.session.add(
                PersonRow(
                    aad_object_id=aad,
                    name=name,
                    email=email,
                    is_coordinator=False,
                    active=True,
                    created_at=at,
                    updated_at=at,
                )
            )
            await self.session.flush()
            return True
        row.name, row.email, row.active, row.updated_at = name, email, True, at
        return False

    async def set_coordinator(self, aad_object_id: str, is_coordinator: bool) -> None:
        await self.session.execute(
            update(PersonRow)
            .where(PersonRow.aad_object_id == aad_object_id.lower())
            .values(is_coordinator=is_coordinator)
        )

    async def add_membership(self, aad_object_id: str, agency_key_: str) -> bool:
        person_id = await self.session.scalar(
            select(PersonRow.id).where(PersonRow.aad_object_id == aad_object_id.lower())
        )
        agency_id = await self.session.scalar(
            select(AgencyRow.id).where(AgencyRow.key == agency_key_)
        )
        if person_id is None or agency_id is None:
            raise LookupError("unknown person or agency")
        exists = await self.session.get(MembershipRow, (person_id, agency_id))
        if exists is not None:
            return False
        self.session.add(MembershipRow(person_id=person_id, agency_id=agency_id))
        await self.session.flush()
        return True


def _listed_count() -> Select[int | None, int]:
    return (
        select(ListingRow.meeting_id, func.count())
        .where(ListingRow.ended_at.is_(None), ListingRow.meeting_id.is_not(None))
        .group_by(ListingRow.meeting_id)
    )


class SqlMeetings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _with_counts(self, rows: Sequence[MeetingRow]) -> list[Meeting]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        result = await self.session.execute(_listed_count().where(ListingRow.meeting_id.in_(ids)))
        counts: dict[int | None, int] = {meeting: count for meeting, count in result.all()}
        return [Meeting(r.id, r.date, r.capacity, counts.get(r.id, 0)) for r in rows]

    async def add(self, day: date, capacity: int, actor: str, at: datetime) -> Meeting:
        row = await self.session.scalar(select(MeetingRow).where(MeetingRow.date == day))
        if row is None:
            row = MeetingRow(date=day, capacity=capacity, created_at=at, created_by=actor)
            self.session.add(row)
            await self.session.flush()
        else:
            row.capacity = capacity
        return (await self._with_counts([row]))[0]

    async def by_date(self, day: date) -> Meeting | None:
        row = await self.session.scalar(select(MeetingRow).where(MeetingRow.date == day))
        return (await self._with_counts([row]))[0] if row else None

    async def next_on_or_after(self, day: date) -> Meeting | None:
        row = await self.session.scalar(
            select(MeetingRow).where(MeetingRow.date >= day).order_by(MeetingRow.date).limit(1)
        )
        return (await self._with_counts([row]))[0] if row else None

    async def list_from(self, day: date, limit: int) -> list[Meeting]:
        rows = (
            await self.session.scalars(
                select(MeetingRow)
                .where(MeetingRow.date >= day)
                .order_by(MeetingRow.date)
                .limit(limit)
            )
        ).all()
        return await self._with_counts(rows)

    async def slots_from(self, day: date) -> list[ConferenceSlot]:
        """Conferences from ``day`` with free places, locked against concurrent listing.

        On PostgreSQL the meeting rows are locked (FOR UPDATE) until commit, so two replicas
        cannot both take a conference's last place; SQLite serialises writers anyway.
        """
        query = select(MeetingRow).where(MeetingRow.date >= day).order_by(MeetingRow.date)
        if _is_postgres(self.session):
            query = query.with_for_update()
        meetings = await self._with_counts((await self.session.scalars(query)).all())
        return [ConferenceSlot(m.id, m.date, m.free_places) for m in meetings]


class SqlCases:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_reference(self, prefix: str, year: int) -> str:
        """Issue the next number of the year atomically (an upsert that returns the value)."""
        dialect_insert = pg_insert if _is_postgres(self.session) else sqlite_insert
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
                victim_gender=referral.victim_gender,
                victim_ethnicity=referral.victim_ethnicity,
                victim_disability=referral.victim_disability,
                victim_lgbt=referral.victim_lgbt,
                perpetrator_name=referral.perpetrator_name,
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
                select(CaseRow, ReferralRow, ListingRow, MeetingRow.date)
                .join(ReferralRow, ReferralRow.case_id == CaseRow.id)
                .join(
                    ListingRow,
                    (ListingRow.case_id == CaseRow.id) & ListingRow.ended_at.is_(None),
                )
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
        for case, ref, listing, meeting_date in rows:
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
        return await self._views([ListingRow.meeting_id == meeting_id])

    async def discussions_on(self, day: date) -> list[CaseView]:
        return await self._views(
            [CaseRow.discussion_date == day, CaseRow.state == CaseState.REFERRED.value]
        )

    async def open_cases(self) -> list[CaseView]:
        return await self._views([CaseRow.state.in_(OPEN_STATES)])

    async def waiting_for_conference(self) -> list[CaseView]:
        return await self._views([ListingRow.meeting_id.is_(None), CaseRow.state.in_(OPEN_STATES)])

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


class SqlAudit:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, event: AuditEvent) -> None:
        self.session.add(
            AuditRow(
                at=event.at,
                actor=event.actor,
                role=event.role,
                action=event.action,
                case_id=event.case_id,
                outcome=event.outcome,
                correlation_id=event.correlation_id,
            )
        )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SqlCardTokens:
    """Tokens are random and stored only as a hash, so a database copy cannot forge a click."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(self, kind: str, subject_id: int | None, issued_to: str, at: datetime) -> str:
        token = secrets.token_urlsafe(24)
        self.session.add(
            CardTokenRow(
                token_hash=_hash(token),
                kind=kind,
                subject_id=subject_id,
                issued_to=issued_to,
                issued_at=at,
            )
        )
        await self.session.flush()
        return token

    async def peek(self, token: str) -> TokenInfo | None:
        row = await self.session.scalar(
            select(CardTokenRow).where(CardTokenRow.token_hash == _hash(token))
        )
        if row is None:
            return None
        return TokenInfo(
            row.kind, row.subject_id, row.issued_to, row.used_at is not None, row.outcome
        )

    async def claim(self, token: str, used_by: str, at: datetime, outcome: str) -> bool:
        """Mark a token used; False if someone used it first (the row lock decides on PG)."""
        result = await self.session.execute(
            update(CardTokenRow)
            .where(CardTokenRow.token_hash == _hash(token), CardTokenRow.used_at.is_(None))
            .values(used_at=at, used_by=used_by, outcome=outcome)
        )
        return bool(getattr(result, "rowcount", 0) == 1)
