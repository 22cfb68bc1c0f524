"""Tables. Timestamps are stored in UTC; calendar dates are Europe/London dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false as sa_false

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class AgencyRow(Base):
    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PersonRow(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MembershipRow(Base):
    """A person is a contact of an agency (a person may represent several, as in the demo)."""

    __tablename__ = "memberships"
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MeetingRow(Base):
    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date, unique=True)
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class CaseSequenceRow(Base):
    """The last case number issued in a year; bumped atomically so replicas never collide."""

    __tablename__ = "case_sequences"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    received_date: Mapped[date] = mapped_column(Date, index=True)
    day_zero: Mapped[date] = mapped_column(Date)
    information_due: Mapped[date] = mapped_column(Date)
    discussion_date: Mapped[date] = mapped_column(Date, index=True)
    earliest_conference: Mapped[date] = mapped_column(Date)
    conference_target: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped by every change to the draft action plan (optimistic concurrency between
    # coordinators editing the same plan).
    plan_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    heard_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    heard_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    # The victim's previous case, if any; ``repeat`` when it was within 12 months (a repeat),
    # otherwise the agenda lists the case as "12 months since the last MARAC".
    repeat_of: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    repeat: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ReferralRow(Base):
    """Every field of the referral card, kept as submitted (after validation)."""

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    victim_name: Mapped[str] = mapped_column(String(120))
    victim_dob: Mapped[date | None] = mapped_column(Date)
    # The normalised name that repeat detection matches on (bot.domain.repeats).
    victim_key: Mapped[str] = mapped_column(String(200), index=True, server_default="")
    victim_gender: Mapped[str] = mapped_column(String(16))
    victim_ethnicity: Mapped[str] = mapped_column(String(16))
    victim_disability: Mapped[str] = mapped_column(String(16))
    victim_lgbt: Mapped[str] = mapped_column(String(16))
    perpetrator_name: Mapped[str | None] = mapped_column(String(120))
    # The normalised name serial perpetrators are matched on, with the date of birth.
    perpetrator_key: Mapped[str] = mapped_column(String(200), index=True, server_default="")
    perpetrator_dob: Mapped[date | None] = mapped_column(Date)
    relationship: Mapped[str] = mapped_column(String(24))
    children_count: Mapped[int] = mapped_column(Integer)
    referring_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    criteria: Mapped[str] = mapped_column(String(32))
    dash_score: Mapped[int | None] = mapped_column(Integer)
    incident_date: Mapped[date | None] = mapped_column(Date)
    received_date: Mapped[date] = mapped_column(Date)
    summary: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[bool] = mapped_column(Boolean)
    consent_reason: Mapped[str | None] = mapped_column(Text)


class CaseAgencyRow(Base):
    """An agency involved in a case (need to know: only these agencies' contacts see it)."""

    __tablename__ = "case_agencies"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True, index=True)


class InformationRequestRow(Base):
    """What one agency was asked about a case; answered once (first valid answer wins)."""

    __tablename__ = "information_requests"
    __table_args__ = (UniqueConstraint("case_id", "agency_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The London date of ``answered_at``, kept so the figures count by day without converting
    # a million timestamps (docs/performance.md).
    answered_on: Mapped[date | None] = mapped_column(Date)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    known: Mapped[bool | None] = mapped_column(Boolean)
    information: Mapped[str | None] = mapped_column(Text)
    concerns: Mapped[str | None] = mapped_column(Text)
    late: Mapped[bool | None] = mapped_column(Boolean)


class ListingRow(Base):
    """A case's place at a conference; a deferral or review ends one listing and opens another.

    ``meeting_id`` is NULL while a case waits for a conference with capacity to be added.
    """

    __tablename__ = "conference_listings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    target_date: Mapped[date] = mapped_column(Date)
    breach: Mapped[bool] = mapped_column(Boolean)
    listed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(String(32))


class TransitionRow(Base):
    __tablename__ = "state_transitions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str | None] = mapped_column(Text)


class AuditRow(Base):
    """Who did what to which case, and the outcome; never the personal data itself."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(16))
    correlation_id: Mapped[str | None] = mapped_column(String(32))


class CardTokenRow(Base):
    """A server-issued token carried by a card's actions (stored hashed)."""

    __tablename__ = "card_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    issued_to: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    used_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    # The version of what the card showed (e.g. the action plan) when it was issued.
    version: Mapped[int | None] = mapped_column(Integer)


class ConversationRefRow(Base):
    """Where a person's 1:1 chat with the bot is: refreshed on every activity from them."""

    __tablename__ = "conversation_refs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str] = mapped_column(String(400))
    service_url: Mapped[str] = mapped_column(String(400))
    bot_id: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TeamInstallationRow(Base):
    """A team the app is installed in: its roster lets the bot open 1:1 chats with members."""

    __tablename__ = "team_installations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(400), unique=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    service_url: Mapped[str] = mapped_column(String(400))
    bot_id: Mapped[str] = mapped_column(String(200))
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OutboxRow(Base):
    """A proactive message, written in the transaction of the change that causes it.

    ``key`` makes enqueueing idempotent; the sender claims due rows with a lease, so a crashed
    sender's rows are picked up again when the lease runs out.
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    replaces_key: Mapped[str | None] = mapped_column(String(200))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None] = mapped_column(Integer)
    conversation_id: Mapped[str | None] = mapped_column(String(400))
    activity_id: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ActionRow(Base):
    """One action of a case's safety plan; ``agreed_at`` is set when the plan is agreed."""

    __tablename__ = "actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    perpetrator_focused: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    agreed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # London dates of agreeing and of being marked done or not possible, for the figures.
    agreed_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)


class ActionUpdateRow(Base):
    """Every update an agency made to an action: who, when, what."""

    __tablename__ = "action_updates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class ActionAmendmentRow(Base):
    """An amendment of an agreed plan between conferences: an action added, its due date or
    agency changed, or the action withdrawn; who, when and why (the audit row has no reason:
    it never holds case detail)."""

    __tablename__ = "action_amendments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    before: Mapped[str | None] = mapped_column(String(80))
    after: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReminderRow(Base):
    """A reminder or escalation, unique per (kind, subject, slot); the sweep claims due rows.

    The partial index holds only live rows, so finding what is due costs the same whether
    ten thousand or a million reminders are waiting.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        Index(
            "ix_reminders_live_due",
            "due_at",
            postgresql_where=text("state IN ('pending', 'claimed')"),
            sqlite_where=text("state IN ('pending', 'claimed')"),
        ),
        # "Is a later one about the same item due too?" (the sweep, after downtime).
        Index("ix_reminders_subject_kind", "subject_id", "kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    subject_id: Mapped[int] = mapped_column(Integer)
    slot: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(String(16))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(64))


class CaseDiscussionRow(Base):
    """The day-3 case discussion as recorded by a coordinator (held or not, who, notes)."""

    __tablename__ = "case_discussions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    held: Mapped[bool] = mapped_column(Boolean)
    attendees: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_on: Mapped[date | None] = mapped_column(Date)  # London date, for the figures


class HearingRow(Base):
    """Each time a case's plan was agreed: at a conference, or outside one (no meeting).

    A case reviewed and heard again has several; the first is the one the day-14 target is
    about. ``heard_on`` is the day it counts as agreed (bot.domain.figure_records.hearing_day).
    """

    __tablename__ = "hearings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    heard_on: Mapped[date] = mapped_column(Date, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class InboundActivityRow(Base):
    """An activity Teams delivered, by a hash of (channel, conversation, activity id): Teams
    redelivers an activity it thinks went unanswered, and the second copy must have no effect.
    No content and no identity is kept; rows are purged after a day."""

    __tablename__ = "inbound_activities"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
