"""What the use cases need from storage, as protocols (storage/ implements them)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol

from bot.domain.actions import Action, ActionDraft, ActionUpdate
from bot.domain.cases import CaseView, Discussion, Meeting
from bot.domain.deadlines import CaseDeadlines, ConferenceChoice, ConferenceSlot
from bot.domain.delivery import ConnectorAnswer
from bot.domain.directory import Agency, Person
from bot.domain.information import Answer, InformationRequest
from bot.domain.lifecycle import Transition
from bot.domain.referral import Referral
from bot.domain.reminders import ReminderKind, ReminderPlan, ReminderState
from bot.domain.repeats import EarlierReferral


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
    version: int | None = None


class DirectoryRepository(Protocol):
    async def agencies(self, include_removed: bool = False) -> list[Agency]: ...
    async def upsert_agency(self, name: str, at: datetime) -> tuple[Agency, bool]: ...
    async def person(self, aad_object_id: str) -> Person | None: ...
    async def upsert_person(
        self, aad_object_id: str, name: str, email: str | None, at: datetime
    ) -> bool: ...
    async def set_coordinator(self, aad_object_id: str, is_coordinator: bool) -> None: ...
    async def add_membership(self, aad_object_id: str, agency_key: str) -> bool: ...
    async def contacts_of(self, agency_key: str) -> list[Person]: ...
    async def coordinators(self) -> list[Person]: ...
    async def agency_by_key(self, key: str) -> tuple[Agency, bool] | None: ...
    async def remove_agency(self, key: str) -> bool: ...
    async def remove_membership(self, aad_object_id: str, agency_key: str) -> bool: ...
    async def people_by_email(self, email: str) -> list[Person]: ...
    async def deactivate_person(self, aad_object_id: str, at: datetime) -> bool: ...
    async def lock_coordinators(self) -> list[str]: ...


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
    async def information_requests(self, case_id: int) -> list[InformationRequest]: ...
    async def lock(self, case_id: int) -> None: ...
    async def change_state(self, case_id: int, transition: Transition) -> None: ...
    async def set_heard(self, case_id: int, meeting_id: int | None, at: datetime) -> None: ...
    async def end_listing(self, case_id: int, at: datetime) -> None: ...
    async def earlier_referrals(
        self, victim_name: str, exclude_case_id: int | None = None
    ) -> list[tuple[EarlierReferral, str, date | None]]: ...
    async def set_repeat_of(self, case_id: int, earlier_case_id: int, repeat: bool) -> None: ...
    async def record_discussion(
        self,
        case_id: int,
        held: bool,
        attendees: Sequence[str],
        notes: str | None,
        by: str,
        at: datetime,
    ) -> bool: ...
    async def discussion(self, case_id: int) -> Discussion | None: ...
    async def information_request(self, request_id: int) -> InformationRequest | None: ...
    async def answer_request(
        self, request_id: int, by: str, at: datetime, answer: Answer, late: bool
    ) -> bool: ...


class ActionRepository(Protocol):
    async def plan_version(self, case_id: int) -> int: ...
    async def bump_plan_version(self, case_id: int, expected: int) -> bool: ...
    async def add(self, case_id: int, draft: ActionDraft, by: str, at: datetime) -> int: ...
    async def remove_draft(self, action_id: int) -> bool: ...
    async def for_case(self, case_id: int) -> list[Action]: ...
    async def by_id(self, action_id: int) -> Action | None: ...
    async def agree(self, case_id: int, at: datetime) -> None: ...
    async def record_update(
        self, action_id: int, change: ActionUpdate, by: str, at: datetime
    ) -> None: ...
    async def open_agreed(
        self, agency_keys: Collection[str] | None = None, due_before: date | None = None
    ) -> list[Action]: ...


class AuditLog(Protocol):
    async def record(self, event: AuditEvent) -> None: ...


class CardTokens(Protocol):
    async def issue(
        self,
        kind: str,
        subject_id: int | None,
        issued_to: str,
        at: datetime,
        version: int | None = None,
    ) -> str: ...
    async def peek(self, token: str) -> TokenInfo | None: ...
    async def claim(self, token: str, used_by: str, at: datetime, outcome: str) -> bool: ...


@dataclass(frozen=True)
class Address:
    """Where a person's 1:1 chat with the bot is (a stored conversation reference)."""

    aad_object_id: str
    tenant_id: str | None
    user_id: str
    conversation_id: str
    service_url: str
    bot_id: str
    channel_id: str = "msteams"


@dataclass(frozen=True)
class TeamAddress:
    """A team the app is installed in; its roster can open 1:1 chats with members."""

    team_id: str
    tenant_id: str | None
    service_url: str
    bot_id: str


@dataclass(frozen=True)
class Member:
    """A person as the Teams roster knows them."""

    user_id: str
    aad_object_id: str
    name: str
    email: str | None


@dataclass(frozen=True)
class OutgoingMessage:
    """Text and/or a card; ``summary`` is what notification previews show (keep it neutral)."""

    text: str | None = None
    card: dict[str, Any] | None = None
    summary: str | None = None


class Messenger(Protocol):
    """Every proactive Bot Framework call (implemented by bot/gateway.py).

    ``member`` and ``open_personal_chat`` return None when the person is not there, and raise
    ``ConnectorUnavailable`` when Teams gave a retryable answer (429, 5xx, none).
    """

    async def send(self, address: Address, message: OutgoingMessage) -> ConnectorAnswer: ...
    async def update(
        self, address: Address, activity_id: str, message: OutgoingMessage
    ) -> ConnectorAnswer: ...
    async def member(self, team: TeamAddress, who: str) -> Member | None: ...
    async def open_personal_chat(self, team: TeamAddress, member: Member) -> Address | None: ...


class AddressBook(Protocol):
    async def save_personal(self, address: Address, at: datetime) -> bool: ...
    async def personal(self, aad_object_id: str) -> Address | None: ...
    async def save_team(self, team: TeamAddress, at: datetime) -> None: ...
    async def remove_team(self, team_id: str, at: datetime) -> None: ...
    async def teams(self, tenant_id: str | None) -> list[TeamAddress]: ...


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    recipient: str
    kind: str
    payload: str
    replaces_key: str | None
    case_id: int | None
    attempts: int


class Outbox(Protocol):
    async def enqueue(
        self,
        key: str,
        recipient: str,
        kind: str,
        payload: str,
        at: datetime,
        case_id: int | None = None,
        replaces_key: str | None = None,
    ) -> bool: ...
    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int, owner: str = "-"
    ) -> list[OutboxItem]: ...
    async def renew(self, item_id: int, owner: str, lease_until: datetime) -> bool: ...
    async def payload(self, item_id: int) -> str | None: ...
    async def sent(self, key: str) -> tuple[str, str] | None: ...
    async def status(self, key: str) -> str | None: ...
    async def replace_pending_payload(self, key: str, payload: str) -> bool: ...
    async def mark_sent(
        self, item_id: int, conversation_id: str, activity_id: str | None, status: int, at: datetime
    ) -> None: ...
    async def mark_retry(
        self, item_id: int, next_attempt_at: datetime, status: int | None, count_attempt: bool
    ) -> None: ...
    async def mark_failed(
        self, item_id: int, final_status: str, status: int | None, at: datetime
    ) -> None: ...
    async def delivery_states(self, case_id: int) -> dict[str, str]: ...


@dataclass(frozen=True)
class ReminderItem:
    id: int
    key: str
    kind: ReminderKind
    case_id: int | None
    subject_id: int
    slot: date
    due_at: datetime
    expires_at: datetime
    state: ReminderState
    outcome: str | None


class ReminderRepository(Protocol):
    async def schedule(self, plans: Sequence[ReminderPlan], at: datetime) -> int: ...
    async def claim_due(
        self, now: datetime, lease_until: datetime, owner: str, limit: int
    ) -> list[ReminderItem]: ...
    async def finish(
        self, reminder_id: int, owner: str, state: ReminderState, outcome: str, at: datetime
    ) -> bool: ...
    async def cancel(
        self, kinds: Sequence[ReminderKind], subject_id: int, reason: str, at: datetime
    ) -> int: ...
    async def for_case(self, case_id: int) -> list[ReminderItem]: ...
    async def for_subject(
        self, kinds: Sequence[ReminderKind], subject_id: int
    ) -> list[ReminderItem]: ...
    async def due_at(self, at: datetime, limit: int) -> list[ReminderItem]: ...


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
    @property
    def addresses(self) -> AddressBook: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def actions(self) -> ActionRepository: ...
    @property
    def reminders(self) -> ReminderRepository: ...

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
