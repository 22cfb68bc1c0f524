"""What the use cases need from the outside world, as protocols.

``storage/`` implements the repositories and the unit of work, ``bot/teams/`` the messenger,
and ``cards/`` the proactive cards; ``bot/teams/app.py`` wires them together.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Literal, Protocol

from bot.domain.actions import Action, ActionDraft, ActionUpdate, Amendment
from bot.domain.cases import CaseView, Discussion, Meeting
from bot.domain.deadlines import CaseDeadlines, ConferenceChoice, ConferenceSlot
from bot.domain.delivery import ConnectorAnswer
from bot.domain.delivery import OutgoingMessage as OutgoingMessage
from bot.domain.directory import Agency, Person
from bot.domain.figure_records import Period
from bot.domain.figure_tallies import FigureFacts
from bot.domain.identities import SerialPerpetrator
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
    """What a card token was issued for (its subject), to whom, and whether it is spent."""

    kind: str
    subject_id: int | None
    issued_to: str
    used: bool
    outcome: str | None
    version: int | None = None


class DirectoryRepository(Protocol):
    """Agencies, people and their roles."""

    async def agencies(self, include_removed: bool = False) -> list[Agency]:
        """Active agencies in directory order (every agency with ``include_removed``)."""
        ...

    async def upsert_agency(self, name: str, at: datetime) -> tuple[Agency, bool]:
        """Create the agency (or restore a removed one); True when it was created."""
        ...

    async def person(self, aad_object_id: str) -> Person | None:
        """The active person with this Entra object id, with their roles."""
        ...

    async def upsert_person(
        self, aad_object_id: str, name: str, email: str | None, at: datetime
    ) -> bool:
        """Add or update a person (reactivating them); True when they were new."""
        ...

    async def set_coordinator(self, aad_object_id: str, is_coordinator: bool) -> None:
        """Give or take away the coordinator role."""
        ...

    async def add_membership(self, aad_object_id: str, agency_key: str) -> bool:
        """Make the person a contact of the agency; True when they were not one already."""
        ...

    async def contacts_of(self, agency_key: str) -> list[Person]:
        """The active contacts of an agency."""
        ...

    async def coordinators(self) -> list[Person]:
        """Every active coordinator."""
        ...

    async def agency_by_key(self, key: str) -> tuple[Agency, bool] | None:
        """The agency with this key, removed ones included, and whether it is active."""
        ...

    async def remove_agency(self, key: str) -> bool:
        """Deactivate an agency; True when it was active."""
        ...

    async def remove_membership(self, aad_object_id: str, agency_key: str) -> bool:
        """Stop a person being a contact of an agency; True when they were one."""
        ...

    async def people_by_email(self, email: str) -> list[Person]:
        """Active people with this e-mail address (case-insensitive)."""
        ...

    async def deactivate_person(self, aad_object_id: str, at: datetime) -> bool:
        """Take someone out of the directory; True when they were active."""
        ...

    async def lock_coordinators(self) -> list[str]:
        """The coordinators' object ids, locked until the transaction ends."""
        ...


class MeetingRepository(Protocol):
    """The conference calendar and its free places."""

    async def add(self, day: date, capacity: int, actor: str, at: datetime) -> Meeting:
        """Add a conference (or change the capacity of the one on that day)."""
        ...

    async def by_date(self, day: date) -> Meeting | None:
        """The conference on that day, if any."""
        ...

    async def by_id(self, meeting_id: int) -> Meeting | None:
        """The conference with this id, if it is still in the calendar."""
        ...

    async def next_on_or_after(self, day: date) -> Meeting | None:
        """The first conference on or after ``day``."""
        ...

    async def list_from(self, day: date, limit: int) -> list[Meeting]:
        """Conferences from ``day`` on, in date order."""
        ...

    async def slots_from(self, day: date) -> list[ConferenceSlot]:
        """Conferences from ``day`` with their free places, locked against double booking."""
        ...


class CaseRepository(Protocol):
    """Cases with their referral, listings, transitions, discussion and information requests."""

    async def next_reference(self, prefix: str, year: int) -> str:
        """The next case reference of the year, issued atomically across replicas."""
        ...

    async def create(
        self,
        reference: str,
        referral: Referral,
        deadlines: CaseDeadlines,
        choice: ConferenceChoice,
        transition: Transition,
    ) -> int:
        """Store a new case with its referral, listing and information requests."""
        ...

    async def by_reference(self, reference: str) -> CaseView | None:
        """The case with this reference (case-insensitive)."""
        ...

    async def by_id(self, case_id: int) -> CaseView | None:
        """The case with this id."""
        ...

    async def on_meeting(self, meeting_id: int) -> list[CaseView]:
        """The cases listed now at a conference."""
        ...

    async def discussions_on(self, day: date) -> list[CaseView]:
        """Referred cases whose day-3 case discussion falls on ``day``."""
        ...

    async def open_cases(self) -> list[CaseView]:
        """Every case that is not closed or withdrawn."""
        ...

    async def waiting_for_conference(self) -> list[CaseView]:
        """Open cases listed at no conference yet."""
        ...

    async def relist(
        self, case_id: int, choice: ConferenceChoice, at: datetime, reason: str
    ) -> None:
        """End the case's current listing and open a new one."""
        ...

    async def transitions(self, case_id: int) -> list[Transition]:
        """The case's recorded moves, oldest first."""
        ...

    async def answered_agencies(self, case_id: int) -> frozenset[str]:
        """Keys of the agencies that have returned their information."""
        ...

    async def information_requests(self, case_id: int) -> list[InformationRequest]:
        """Every information request of the case, in directory order."""
        ...

    async def lock(self, case_id: int) -> None:
        """Serialise changes to one case until the transaction ends."""
        ...

    async def change_state(self, case_id: int, transition: Transition) -> None:
        """Move the case and record the transition."""
        ...

    async def set_heard(self, case_id: int, meeting_id: int | None, at: datetime) -> None:
        """Record when (and at which conference) the case was heard."""
        ...

    async def end_listing(self, case_id: int, at: datetime) -> None:
        """Free the case's conference place."""
        ...

    async def earlier_referrals(
        self, victim_name: str, exclude_case_id: int | None = None
    ) -> list[tuple[EarlierReferral, str, date | None]]:
        """Earlier cases whose victim has the same normalised name, newest first."""
        ...

    async def set_repeat_of(self, case_id: int, earlier_case_id: int, repeat: bool) -> None:
        """Link the case to the victim's earlier case (a repeat when ``repeat``)."""
        ...

    async def record_discussion(
        self,
        case_id: int,
        held: bool,
        attendees: Sequence[str],
        notes: str | None,
        by: str,
        at: datetime,
    ) -> bool:
        """Record the case discussion once; False if it was recorded already."""
        ...

    async def discussion(self, case_id: int) -> Discussion | None:
        """The recorded case discussion, if any."""
        ...

    async def information_request(self, request_id: int) -> InformationRequest | None:
        """One information request."""
        ...

    async def answer_request(
        self, request_id: int, by: str, at: datetime, answer: Answer, late: bool
    ) -> bool:
        """Record the agency's answer; False if someone answered first."""
        ...


class ActionRepository(Protocol):
    """The actions of the safety plans and their update history."""

    async def plan_version(self, case_id: int) -> int:
        """The case's plan version (bumped by every change to the draft plan)."""
        ...

    async def bump_plan_version(self, case_id: int, expected: int) -> bool:
        """Compare-and-set the plan version; False if someone changed it meanwhile."""
        ...

    async def add(
        self, case_id: int, draft: ActionDraft, by: str, at: datetime, agreed: bool = False
    ) -> int:
        """Add a draft action, or with ``agreed`` one agreed at once (an amendment of an agreed
        plan); its agency becomes involved in the case."""
        ...

    async def change(self, action_id: int, due: date, agency_key: str) -> None:
        """Move an agreed action's due date and/or give it to another (now involved) agency."""
        ...

    async def withdraw(self, action_id: int, reason: str, by: str, at: datetime) -> None:
        """Close an agreed action as withdrawn, with the reason as its note."""
        ...

    async def record_amendment(self, case_id: int, amendment: Amendment) -> None:
        """Record who amended an agreed action, when, how and why."""
        ...

    async def amendments(self, case_id: int) -> list[Amendment]:
        """The amendments of a case's agreed actions, oldest first."""
        ...

    async def remove_draft(self, action_id: int) -> bool:
        """Remove an action not yet agreed; False if it is agreed or gone."""
        ...

    async def for_case(self, case_id: int) -> list[Action]:
        """The case's actions, by due date."""
        ...

    async def by_id(self, action_id: int) -> Action | None:
        """One action."""
        ...

    async def agree(self, case_id: int, at: datetime) -> None:
        """Mark every draft action of the case agreed."""
        ...

    async def record_update(
        self, action_id: int, change: ActionUpdate, by: str, at: datetime
    ) -> None:
        """Record an agency's update of its action."""
        ...

    async def open_agreed(
        self, agency_keys: Collection[str] | None = None, due_before: date | None = None
    ) -> list[Action]:
        """Agreed actions still to do, of open cases; optionally of some agencies, or overdue."""
        ...


class AuditLog(Protocol):
    """The append-only audit trail."""

    async def record(self, event: AuditEvent) -> None:
        """Append one audit record."""
        ...


class CardTokens(Protocol):
    """Single-use, server-issued tokens carried by card actions."""

    async def issue(
        self,
        kind: str,
        subject_id: int | None,
        issued_to: str,
        at: datetime,
        version: int | None = None,
    ) -> str:
        """A new random token for a card about ``subject_id``."""
        ...

    async def peek(self, token: str) -> TokenInfo | None:
        """What the token was issued for, without spending it."""
        ...

    async def claim(self, token: str, used_by: str, at: datetime, outcome: str) -> bool:
        """Spend the token; False if it was spent already."""
        ...


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


class Messenger(Protocol):
    """Every proactive Bot Framework call (implemented by bot/teams/gateway.py).

    ``member`` and ``open_personal_chat`` return None when the person is not there, and raise
    ``ConnectorUnavailable`` when Teams gave a retryable answer (429, 5xx, none).
    """

    async def send(self, address: Address, message: OutgoingMessage) -> ConnectorAnswer:
        """Send a new message to a conversation."""
        ...

    async def update(
        self, address: Address, activity_id: str, message: OutgoingMessage
    ) -> ConnectorAnswer:
        """Replace a message the bot sent earlier."""
        ...

    async def member(self, team: TeamAddress, who: str) -> Member | None:
        """A member of a team or chat, by Entra object id or e-mail."""
        ...

    async def open_personal_chat(self, team: TeamAddress, member: Member) -> Address | None:
        """Open (or find) the bot's 1:1 chat with a member of a team."""
        ...


class ProactiveCards(Protocol):
    """The cards use cases send on their own initiative, rendered outside the use cases
    (implemented over ``cards/``) so that no use case builds a card."""

    def information_request(
        self, token: str, case: CaseView, agency_name: str, due: date
    ) -> OutgoingMessage:
        """An agency's information request, with its answer form."""
        ...

    def information_answered(
        self, reference: str, agency_name: str, answered_by: str, answered_at: datetime, late: bool
    ) -> OutgoingMessage:
        """What replaces a colleague's copy once the agency has answered."""
        ...

    def action(
        self,
        action: Action,
        agency_name: str,
        token: str | None,
        updated_by: str | None,
        notice: str | None = None,
    ) -> OutgoingMessage:
        """An agency's action card (without a form once it is closed); ``notice`` says what
        changed (an amendment, the case closed)."""
        ...

    def request_closed(self, reference: str, agency_name: str, why: str) -> OutgoingMessage:
        """What replaces an unanswered information request once it needs no answer."""
        ...

    def discussion(
        self, token: str, reference: str, when: date, agencies: Mapping[str, str]
    ) -> OutgoingMessage:
        """The day-3 case-discussion card for the coordinator."""
        ...


class AddressBook(Protocol):
    """Stored conversation references: people's 1:1 chats and the teams the app is in."""

    async def save_personal(self, address: Address, at: datetime) -> bool:
        """Insert or refresh a 1:1 chat; True when the person had none on record."""
        ...

    async def personal(self, aad_object_id: str) -> Address | None:
        """Where the person's 1:1 chat is, if the bot has one."""
        ...

    async def save_team(self, team: TeamAddress, at: datetime) -> None:
        """Remember a team the app is installed in."""
        ...

    async def remove_team(self, team_id: str, at: datetime) -> None:
        """Forget a team the app was removed from."""
        ...

    async def teams(self, tenant_id: str | None) -> list[TeamAddress]:
        """The teams the app is installed in (of one tenant, if given)."""
        ...


@dataclass(frozen=True)
class OutboxItem:
    """A claimed outbox message, as the sender delivers it."""

    id: int
    key: str
    recipient: str
    kind: str
    payload: str
    replaces_key: str | None
    case_id: int | None
    attempts: int


class Outbox(Protocol):
    """Proactive messages, written with the change that causes them, delivered later."""

    async def enqueue(
        self,
        key: str,
        recipient: str,
        kind: str,
        payload: str,
        at: datetime,
        case_id: int | None = None,
        replaces_key: str | None = None,
    ) -> bool:
        """Add a message unless one with this key exists (idempotent)."""
        ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int, owner: str = "-"
    ) -> list[OutboxItem]:
        """Claim due messages under a lease."""
        ...

    async def renew(self, item_id: int, owner: str, lease_until: datetime) -> bool:
        """Extend our lease just before sending; False if another sender has the row."""
        ...

    async def payload(self, item_id: int) -> str | None:
        """The message's current content."""
        ...

    async def sent(self, key: str) -> tuple[str, str] | None:
        """(conversation id, activity id) of a delivered message."""
        ...

    async def status(self, key: str) -> str | None:
        """The delivery state of the message with this key."""
        ...

    async def replace_pending_payload(self, key: str, payload: str) -> bool:
        """Rewrite a message that has not gone yet; False if it has."""
        ...

    async def mark_sent(
        self, item_id: int, conversation_id: str, activity_id: str | None, status: int, at: datetime
    ) -> None:
        """Record a delivery (and scrub the content)."""
        ...

    async def mark_retry(
        self, item_id: int, next_attempt_at: datetime, status: int | None, count_attempt: bool
    ) -> None:
        """Put a message back for a later attempt."""
        ...

    async def mark_failed(
        self, item_id: int, final_status: str, status: int | None, at: datetime
    ) -> None:
        """Give up on a message (and scrub the content)."""
        ...

    async def delivery_states(self, case_id: int) -> dict[str, str]:
        """Per recipient, the worst delivery state of the case's cards to them."""
        ...

    async def recipients(self, key_prefix: str) -> dict[str, str]:
        """Recipient -> delivery state of the messages whose key starts with ``key_prefix``."""
        ...


@dataclass(frozen=True)
class ReminderItem:
    """A stored reminder, as the sweep and the CLI see it."""

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
    """Reminders and escalations as rows, unique per (kind, subject, slot)."""

    async def schedule(self, plans: Sequence[ReminderPlan], at: datetime) -> int:
        """Create the reminders that do not exist yet; how many were new."""
        ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, owner: str, limit: int
    ) -> list[ReminderItem]:
        """Claim due reminders under a lease (disjoint across replicas)."""
        ...

    async def finish(
        self, reminder_id: int, owner: str, state: ReminderState, outcome: str, at: datetime
    ) -> bool:
        """Close a claimed reminder; False if our lease was lost."""
        ...

    async def superseded(self, item: ReminderItem, now: datetime) -> bool:
        """Whether a later reminder of the same kind and subject is due by ``now``."""
        ...

    async def cancel(
        self, kinds: Sequence[ReminderKind], subject_id: int, reason: str, at: datetime
    ) -> int:
        """Cancel pending reminders that no longer apply; how many."""
        ...

    async def reschedule(self, plans: Sequence[ReminderPlan], at: datetime) -> int:
        """Plan reminders again (reviving cancelled ones with the same key); how many."""
        ...

    async def cancel_case(self, case_id: int, reason: str, at: datetime) -> int:
        """Cancel every pending reminder of a case; how many."""
        ...

    async def for_case(self, case_id: int) -> list[ReminderItem]:
        """A case's reminders, by due time."""
        ...

    async def for_subject(
        self, kinds: Sequence[ReminderKind], subject_id: int
    ) -> list[ReminderItem]:
        """The reminders of some kinds about one subject."""
        ...

    async def due_at(self, at: datetime, limit: int) -> list[ReminderItem]:
        """What a sweep at ``at`` would consider (no lock, no change)."""
        ...


@dataclass(frozen=True)
class OperationsSnapshot:
    """What an operator watches (GET /metrics): counts and ages only, no case data."""

    outbox_pending: int
    outbox_oldest: datetime | None  # when the oldest undelivered message was queued
    reminders_live: Mapping[str, int]  # pending / claimed
    reminders_due: int  # due by now and not yet finished
    reminder_oldest_due: datetime | None


@dataclass(frozen=True)
class PoolUse:
    """The database connection pool of this process."""

    size: int
    checked_out: int
    overflow: int


class DatabaseUnavailable(Exception):
    """The database cannot be reached just now (refused, dropped, timed out). Nothing of the
    unit of work was committed; the same request may succeed in a moment."""


InboundState = Literal["first", "in_flight", "done"]


class InboundActivities(Protocol):
    """Activities already received (by a hash of their channel, conversation and id), so that
    Teams delivering one twice has one effect."""

    async def begin(self, key: str, now: datetime, lease_until: datetime) -> InboundState:
        """Record the activity as being handled; "first" if nobody else has it (or whoever
        had it gave up: its lease ran out), otherwise "in_flight" or "done"."""
        ...

    async def finish(self, key: str, now: datetime) -> None:
        """The activity has been handled."""
        ...

    async def purge(self, before: datetime) -> int:
        """Forget activities received before ``before``; how many."""


class FiguresRepository(Protocol):
    """What the partnership figures and the capacity planner read (pseudonymous records)."""

    async def facts(self, period: Period) -> FigureFacts:
        """Every record the figures of ``period`` need (grouped where records are equal)."""
        ...

    async def referrals_received(self, start: date, end: date) -> int:
        """How many referrals were received from ``start`` to ``end`` (both included)."""
        ...

    async def first_referral(self) -> date | None:
        """The date the earliest referral on record was received."""
        ...

    async def serial_perpetrator(self, case_id: int) -> SerialPerpetrator | None:
        """The case's person causing harm, when also named in referrals about other victims."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything done through it commits together or not at all.

    Raises ``DatabaseUnavailable`` (from the block or from ``commit``) when the database
    cannot be reached."""

    @property
    def directory(self) -> DirectoryRepository:
        """Agencies, people and roles."""
        ...

    @property
    def meetings(self) -> MeetingRepository:
        """The conference calendar."""
        ...

    @property
    def cases(self) -> CaseRepository:
        """Cases and what belongs to them."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The audit trail."""
        ...

    @property
    def tokens(self) -> CardTokens:
        """Card action tokens."""
        ...

    @property
    def addresses(self) -> AddressBook:
        """Conversation references."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Proactive messages."""
        ...

    @property
    def actions(self) -> ActionRepository:
        """Safety-plan actions."""
        ...

    @property
    def reminders(self) -> ReminderRepository:
        """Reminders and escalations."""
        ...

    @property
    def inbound(self) -> InboundActivities:
        """Activities already received from Teams."""
        ...

    @property
    def figures(self) -> FiguresRepository:
        """The records of the partnership figures."""
        ...

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None:
        """Make everything done in this unit of work permanent."""
        ...


class UnitOfWorkFactory(Protocol):
    """Opens a new unit of work (one transaction)."""

    def __call__(self) -> UnitOfWork: ...
