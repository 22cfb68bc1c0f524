"""What the use cases need from storage, as protocols (storage/ implements them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol

from bot.domain.cases import CaseView, Meeting
from bot.domain.deadlines import CaseDeadlines, ConferenceChoice, ConferenceSlot
from bot.domain.directory import Agency, Person
from bot.domain.lifecycle import Transition
from bot.domain.referral import Referral


@dataclass(frozen=True)
class AuditEvent:
    """One audit record: never the personal data itself."""

    at: datetime
    actor: str
    role: str
    action: str
    outcome: str
    case_id: int | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class TokenInfo:
    kind: str
    subject_id: int | None
    issued_to: str
    used: bool
    outcome: str | None


class DirectoryRepository(Protocol):
    async def agencies(self) -> list[Agency]: ...
    async def upsert_agency(self, name: str, at: datetime) -> tuple[Agency, bool]: ...
    async def person(self, aad_object_id: str) -> Person | None: ...
    async def upsert_person(
        self, aad_object_id: str, name: str, email: str | None, at: datetime
    ) -> bool: ...
    async def set_coordinator(self, aad_object_id: str, is_coordinator: bool) -> None: ...
    async def add_membership(self, aad_object_id: str, agency_key: str) -> bool: ...


class MeetingRepository(Protocol):
    async def add(self, day: date, capacity: int, actor: str, at: datetime) -> Meeting: ...
    async def by_date(self, day: date) -> Meeting | None: ...
    async def next_on_or_after(self, day: date) -> Meeting | None: ...
    async def list_from(self, day: date, limit: int) -> list[Meeting]: ...
    async def slots_from(self, day: date) -> list[ConferenceSlot]: ...


class CaseRepository(Protocol):
    async def next_reference(self, prefix: str, year: int) -> str: ...
    async def create(
        self,
        reference: str,
        referral: Referral,
        deadlines: CaseDeadlines,
        choice: ConferenceChoice,
        transition: Transition,
    ) -> int: ...
    async def by_reference(self, reference: str) -> CaseView | None: ...
    async def by_id(self, case_id: int) -> CaseView | None: ...
    async def on_meeting(self, meeting_id: int) -> list[CaseView]: ...
    async def discussions_on(self, day: date) -> list[CaseView]: ...
    async def open_cases(self) -> list[CaseView]: ...
    async def waiting_for_conference(self) -> list[CaseView]: ...
    async def relist(
        self, case_id: int, choice: ConferenceChoice, at: datetime, reason: str
    ) -> None: ...
    async def transitions(self, case_id: int) -> list[Transition]: ...
    async def answered_agencies(self, case_id: int) -> frozenset[str]: ...


class AuditLog(Protocol):
    async def record(self, event: AuditEvent) -> None: ...


class CardTokens(Protocol):
    async def issue(
        self, kind: str, subject_id: int | None, issued_to: str, at: datetime
    ) -> str: ...
    async def peek(self, token: str) -> TokenInfo | None: ...
    async def claim(self, token: str, used_by: str, at: datetime, outcome: str) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction: everything done through it commits together or not at all."""

    @property
    def directory(self) -> DirectoryRepository: ...
    @property
    def meetings(self) -> MeetingRepository: ...
    @property
    def cases(self) -> CaseRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def tokens(self) -> CardTokens: ...

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


AgencyKeys = Sequence[str]
