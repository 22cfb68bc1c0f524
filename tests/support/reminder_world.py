"""Reminders as people receive them: the real runtime and sweep, an in-memory Teams, and readers
for what arrived when."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.domain.cases import CaseView
from bot.domain.clock import LONDON, FixedClock
from bot.domain.directory import DirectoryRow, Role
from bot.domain.reminders import ReminderKind
from bot.ports import Address, ReminderItem
from bot.services.outbox import NOTICE_HEADLINE
from bot.services.plans import PlanView
from bot.services.reminders import ReminderSweep
from bot.teams.app import Runtime, build_runtime
from bot.teams.outbox_sender import OutboxSender
from storage.database import Database
from storage.models import OutboxRow
from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT, referral_inputs
from tests.support.fakes import Call, FakeMessenger
from tests.support.services import refer

TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
SERVICE_URL = "https://smba.example.test/"
BOT_ID = "28:marat-bot"

CASEY = COORDINATOR  # the coordinator: no agency of their own
PAT = POLICE_CONTACT
PARKER = "55555555-5555-4555-8555-555555555555"  # a second Police contact
HARPER = HOUSING_CONTACT
INDY = "44444444-4444-4444-8444-444444444444"  # IDVA service
PIP = "66666666-6666-4666-8666-666666666666"  # Probation: not involved in the default case
NAMES = {CASEY: "casey", PAT: "pat", PARKER: "parker", HARPER: "harper", INDY: "indy", PIP: "pip"}
POLICE = {PAT, PARKER}
INVOLVED_CONTACTS = {PAT, PARKER, HARPER, INDY}

REFERENCE = "MARAT-2027-0001"
CONFERENCE = date(2027, 1, 14)
ACTION_KINDS = (
    ReminderKind.ACTION_BEFORE,
    ReminderKind.ACTION_DUE,
    ReminderKind.ACTION_OVERDUE,
    ReminderKind.ACTION_ESCALATION,
)
ORDER = "Serve the non-molestation order on the person causing harm (synthetic)"
LOCKS = "Fit additional locks at the victim's address (synthetic)"


def london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def directory() -> list[DirectoryRow]:
    return [
        DirectoryRow(1, None, "Casey Coordinator", None, CASEY, Role.COORDINATOR),
        DirectoryRow(2, "Police", "Pat Police", None, PAT, Role.CONTACT),
        DirectoryRow(3, "Police", "Parker Police", None, PARKER, Role.CONTACT),
        DirectoryRow(4, "Housing", "Harper Housing", None, HARPER, Role.CONTACT),
        DirectoryRow(5, "IDVA service", "Indy Advocate", None, INDY, Role.CONTACT),
        DirectoryRow(6, "Probation", "Pip Probation", None, PIP, Role.CONTACT),
    ]


@dataclass(frozen=True)
class Received:
    """A reminder as one person received it in Teams."""

    kind: ReminderKind
    slot: date
    recipient: str
    call: Call

    @property
    def text(self) -> str:
        return self.call.message.text or ""

    @property
    def details(self) -> str:
        """The text after the neutral first line."""
        head, _, rest = self.text.partition("\n\n")
        assert head == NOTICE_HEADLINE, self.text
        return rest

    @property
    def card(self) -> dict[str, Any]:
        assert self.call.message.card is not None, self.call.message
        return self.call.message.card

    @property
    def at(self) -> datetime:
        assert self.call.at is not None
        return self.call.at


class World:
    """The runtime, an in-memory Teams, and the people above, each with a 1:1 chat."""

    def __init__(self, runtime: Runtime, clock: FixedClock) -> None:
        self.runtime = runtime
        self.deps = runtime.deps
        self.units = runtime.deps.context.units
        self.clock = clock
        self.messenger = FakeMessenger(clock)
        # The sender has its own clock: it catches up with the bot's before each delivery and
        # moves on through Teams' per-chat pacing without moving the bot's time.
        self.sender_clock = FixedClock(clock.now())
        self.sender = OutboxSender(
            self.units, self.messenger, self.sender_clock, rng=random.Random(5)
        )

    @property
    def sweep(self) -> ReminderSweep:
        return self.runtime.sweep

    def restart(self) -> None:
        """The bot process dies and a new one starts on the same database: a new runtime
        (new sweep and sender, with new lease owners); what the old one held is abandoned.
        Teams (the messenger) and the clock carry on."""
        self.runtime = build_runtime(
            self.runtime.settings, self.clock, Database(self.runtime.database.engine)
        )
        self.deps = self.runtime.deps
        self.units = self.runtime.deps.context.units
        self.sender = OutboxSender(
            self.units, self.messenger, self.sender_clock, rng=random.Random(6)
        )

    async def setup(self, people: list[DirectoryRow]) -> None:
        await self.deps.directory.import_directory(people)
        async with self.units() as uow:
            for row in people:
                chat = NAMES.get(row.aad_object_id, row.aad_object_id[:8])
                await uow.addresses.save_personal(
                    Address(
                        row.aad_object_id,
                        TENANT,
                        f"29:{chat}",
                        f"a:chat-{chat}",
                        SERVICE_URL,
                        BOT_ID,
                    ),
                    self.clock.now(),
                )
            await uow.commit()

    # -- the business events ---------------------------------------------------------------

    async def refer(self, **overrides: Any) -> CaseView:
        return await refer(self.deps, CASEY, referral_inputs(**overrides))

    async def add_meeting(self, day: date, capacity: int = 18) -> None:
        await self.deps.conferences.add_meeting(None, day, capacity)

    async def answer_for(self, aad: str, reference: str = REFERENCE) -> None:
        """``aad`` answers the information request card they received for the case."""
        await self.deliver()
        cards = [
            c.message.card
            for c in self.messenger.delivered()
            if c.address.aad_object_id == aad
            and c.message.card is not None
            and reference in str(c.message.card)
            and "known" in str(c.message.card)
        ]
        assert len(cards) == 1, cards
        token = str(cards[0]["actions"][0]["data"]["token"])
        await self.deps.information_requests.answer(aad, token, {"known": "no"})

    async def agree_plan(self, reference: str, *actions: dict[str, str]) -> None:
        view = await self.deps.plans.open_plan(CASEY, reference)
        for inputs in actions:
            changed = await self.deps.plans.add_action(CASEY, view.token, inputs)
            assert isinstance(changed, PlanView), changed
            view = changed
        await self.deps.plans.agree_plan(CASEY, view.token, False)
        await self.deliver()

    async def mark_done(self, aad: str, description: str) -> None:
        """``aad`` reports the action done from the action card they received."""
        cards = [
            c.message.card
            for c in self.messenger.delivered()
            if c.address.aad_object_id == aad
            and c.message.card is not None
            and description in str(c.message.card)
        ]
        assert len(cards) == 1, cards
        (token,) = {
            str(node["data"]["token"])
            for node in walk(cards[0])
            if node.get("type") == "Action.Execute" and node.get("verb") == "action.update"
        }
        await self.deps.actions.update_action(
            aad, token, {"status": "done", "note": "Done (synthetic note)."}
        )

    # -- time passing ------------------------------------------------------------------------

    async def deliver(self) -> None:
        """Deliver everything the outbox holds now, moving the sender through pacing waits."""
        self.sender_clock.set(max(self.sender_clock.now(), self.clock.now()))
        for _ in range(200):
            if await self.sender.deliver_due():
                continue
            async with self.runtime.database.engine.connect() as connection:
                due = await connection.scalar(
                    select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == "pending")
                )
            if due is None or due - self.sender_clock.now() > timedelta(minutes=5):
                return
            self.sender_clock.set(max(due, self.sender_clock.now()))
        raise AssertionError("the outbox never ran dry")

    async def at(self, when: datetime, sweep: ReminderSweep | None = None) -> list[Received]:
        """The clock reads ``when``: one sweep runs and the outbox is delivered. Returns the
        reminders people received as a result."""
        self.clock.set(when)
        start = len(self.messenger.calls)
        await (sweep or self.sweep).run()
        await self.deliver()
        return await self.received(since=start)

    async def every_working_day(
        self, first: date, last: date, hour: int = 9
    ) -> dict[date, list[Received]]:
        """A sweep at ``hour`` London on each working day from ``first`` to ``last``."""
        calendar = self.deps.calendar
        found: dict[date, list[Received]] = {}
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                found[day] = await self.at(london(day.year, day.month, day.day, hour))
            day += timedelta(days=1)
        return found

    # -- what people received ----------------------------------------------------------------

    async def received(self, since: int = 0) -> list[Received]:
        """Reminders delivered to people (from the ``reminder:`` outbox rows)."""
        async with self.runtime.database.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(OutboxRow.key, OutboxRow.activity_id).where(
                        OutboxRow.key.like("reminder:%"), OutboxRow.status == "sent"
                    )
                )
            ).all()
        keys = {row.activity_id: row.key for row in rows}
        found: list[Received] = []
        for call in self.messenger.calls[since:]:
            if call.kind != "send" or not call.delivered:
                continue
            key = keys.get(call.answer.activity_id)
            if key is None:
                continue
            _, kind, _subject, slot, recipient = key.split(":")
            assert recipient == call.address.aad_object_id
            found.append(Received(ReminderKind(kind), date.fromisoformat(slot), recipient, call))
        return found

    async def reminders_of(self, case_id: int) -> list[ReminderItem]:
        async with self.units() as uow:
            return await uow.reminders.for_case(case_id)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def of(received: list[Received], *kinds: ReminderKind) -> list[Received]:
    return [r for r in received if r.kind in kinds]


def to(received: list[Received], aad: str) -> list[Received]:
    return [r for r in received if r.recipient == aad]


def recipients(received: list[Received]) -> list[str]:
    return sorted(r.recipient for r in received)


def names_after(text: str, marker: str) -> set[str]:
    """The comma-separated names after ``marker`` up to the closing full stop."""
    listed = text.split(marker, 1)[1].rsplit(".", 1)[0]
    return {name.strip() for name in listed.split(",")}
