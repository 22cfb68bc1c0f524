"""Delivering the outbox: due messages are claimed under a lease and sent through the
``Messenger`` (bot/teams/gateway.py) with Teams' rules: 429 waits for Retry-After, 412/502/504
and no-answer back off with jitter up to a bound, 403/404 are permanent, and one conversation
is never written to faster than Teams allows. Whatever cannot be delivered is reported to the
coordinator once, never dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.delivery import (
    ConnectorAnswer,
    ConnectorUnavailable,
    ConversationPacer,
    Outcome,
    OutgoingMessage,
    RetryPolicy,
)
from bot.faults import AFTER_SEND_BEFORE_MARK, nowhere
from bot.ports import (
    Address,
    DatabaseUnavailable,
    Messenger,
    OutboxItem,
    TeamAddress,
    UnitOfWork,
    UnitOfWorkFactory,
)
from bot.services.outbox import NOTICE_PREFIX, PRIVATE_PREFIX, UPDATE, decode, notify_coordinators

log = logging.getLogger(__name__)

UNREACHABLE = "unreachable"
FAILED = "failed"


def _uncounted(_result: str) -> None:
    return None


@dataclass(frozen=True)
class SenderSettings:
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50
    poll_seconds: float = 2.0


class OutboxSender:
    """Delivers due outbox messages; `deliver_due()` is one sweep (tests call it directly)."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        messenger: Messenger,
        clock: Clock,
        policy: RetryPolicy | None = None,
        settings: SenderSettings | None = None,
        rng: random.Random | None = None,
        fault: Callable[[str], None] = nowhere,
        count: Callable[[str], None] = _uncounted,
    ) -> None:
        """``fault`` marks where the crash tests may kill the process (bot/faults.py);
        ``count`` is told each attempt's result ("sent", "retried", "gave_up")."""
        self.units = units
        self.messenger = messenger
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.settings = settings or SenderSettings()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.pacer = ConversationPacer()
        # Whose lease a claimed row is under (see _still_ours).
        self.owner = secrets.token_hex(8)
        self.fault = fault
        self.count = count
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Delivered while the database could not record it: marked first thing when it can.
        self._unmarked: list[tuple[OutboxItem, Address, ConnectorAnswer, datetime]] = []
        self._database_down = False

    # -- running -------------------------------------------------------------------------

    def wake(self) -> None:
        """Called after a transaction that enqueued messages: deliver without waiting."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                while await self.deliver_due():
                    pass
                if self._database_down:
                    self._database_down = False
                    log.info("outbox delivery resumed: the database answers again")
            except DatabaseUnavailable:
                if not self._database_down:
                    self._database_down = True
                    log.warning("outbox delivery paused: the database cannot be reached")
            except Exception:
                log.exception("outbox sweep failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)
            self._wake.clear()

    # -- one sweep -----------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Claim what is due now (under a lease) and try each; returns how many were tried."""
        await self._mark_unmarked()
        now = self.clock.now()
        async with self.units() as uow:
            items = await uow.outbox.claim_due(
                now, now + self.settings.lease, self.settings.batch, self.owner
            )
            await uow.commit()
        for item in items:
            await self._deliver(item)
        return len(items)

    async def _deliver(self, item: OutboxItem) -> None:
        message = decode(item.payload)
        if item.kind == UPDATE:
            await self._deliver_update(item, message)
            return
        try:
            address = await self._address(item.recipient)
        except ConnectorUnavailable as unavailable:
            # Teams did not answer the roster look-up: try again later, not "unreachable".
            await self._retry(item, unavailable.answer)
            return
        if address is None:
            await self._give_up(item, UNREACHABLE, None, "the app is not installed for them")
            return
        if not await self._paced(item, address) or not await self._still_ours(item):
            return
        answer = await self.messenger.send(address, message)
        if answer.outcome is Outcome.DELIVERED:
            # Decision 0009's window: Teams has it, the row does not say so yet.
            self.fault(AFTER_SEND_BEFORE_MARK)
        await self._record(item, address, answer)

    async def _deliver_update(self, item: OutboxItem, message: OutgoingMessage) -> None:
        async with self.units() as uow:
            original = await uow.outbox.sent(item.replaces_key or "")
            address = await uow.addresses.personal(item.recipient)
        if original is None or address is None:
            # The card it would update never arrived: nothing to correct, nothing to report.
            async with self.units() as uow:
                await uow.outbox.mark_failed(item.id, FAILED, None, self.clock.now())
                await uow.commit()
            return
        conversation_id, activity_id = original
        address = Address(
            address.aad_object_id,
            address.tenant_id,
            address.user_id,
            conversation_id,
            address.service_url,
            address.bot_id,
            address.channel_id,
        )
        if not await self._paced(item, address) or not await self._still_ours(item):
            return
        answer = await self.messenger.update(address, activity_id, message)
        await self._record(item, address, answer, report=False)

    async def _still_ours(self, item: OutboxItem) -> bool:
        """Renew the lease right before the send; False means another sender has the row
        (this sweep outlasted its lease), so sending now could deliver it twice."""
        async with self.units() as uow:
            ours = await uow.outbox.renew(
                item.id, self.owner, self.clock.now() + self.settings.lease
            )
            await uow.commit()
        if not ours:
            log.info("outbox row taken over by another sender; skipped")
        return ours

    async def _paced(self, item: OutboxItem, address: Address) -> bool:
        now = self.clock.now()
        allowed = self.pacer.next_allowed(address.conversation_id, now)
        if allowed > now:
            async with self.units() as uow:
                await uow.outbox.mark_retry(item.id, allowed, None, count_attempt=False)
                await uow.commit()
            return False
        self.pacer.record(address.conversation_id, now)
        return True

    async def _record(
        self, item: OutboxItem, address: Address, answer: ConnectorAnswer, report: bool = True
    ) -> None:
        now = self.clock.now()
        outcome = answer.outcome
        if outcome is Outcome.DELIVERED:
            try:
                await self._mark_delivered(item, address, answer, now)
            except DatabaseUnavailable:
                # Teams has it; only our record of it is missing. Sending it again when the
                # row's lease runs out would deliver it twice: remember it and mark it first
                # thing once the database answers.
                self._unmarked.append((item, address, answer, now))
                raise
            self.count("sent")
            return
        if outcome is Outcome.PERMANENT:
            reason = (
                "they have blocked or removed the app"
                if answer.status in (403, 404)
                else "Teams refused the message"
            )
            await self._give_up(
                item,
                UNREACHABLE if answer.status in (403, 404) else FAILED,
                answer.status,
                reason,
                report,
            )
            return
        if answer.status == 429:
            # Teams throttles the conversation, not the message: hold all of it back.
            wait = timedelta(seconds=self.policy.delay(1, answer, self.rng))
            self.pacer.hold(address.conversation_id, now + wait)
        await self._retry(item, answer, report)

    async def _mark_delivered(
        self, item: OutboxItem, address: Address, answer: ConnectorAnswer, now: datetime
    ) -> None:
        async with self.units() as uow:
            current = await uow.outbox.payload(item.id)
            if item.kind != UPDATE and current is not None and current != item.payload:
                # Rewritten while on the wire (a colleague answered meanwhile): what
                # arrived is out of date, so replace it in place with the new content.
                await uow.outbox.enqueue(
                    f"{item.key}:update:{now.isoformat()}",
                    item.recipient,
                    UPDATE,
                    current,
                    now,
                    item.case_id,
                    item.key,
                )
            await uow.outbox.mark_sent(
                item.id, address.conversation_id, answer.activity_id, answer.status or 200, now
            )
            await uow.commit()

    async def _mark_unmarked(self) -> None:
        """Mark what was delivered while the database was away (oldest first)."""
        while self._unmarked:
            item, address, answer, at = self._unmarked[0]
            await self._mark_delivered(item, address, answer, at)
            self._unmarked.pop(0)
            self.count("sent")

    async def _retry(self, item: OutboxItem, answer: ConnectorAnswer, report: bool = True) -> None:
        now = self.clock.now()
        attempt = item.attempts + 1
        if self.policy.gives_up(attempt):
            await self._give_up(
                item,
                FAILED,
                answer.status,
                f"Teams did not accept it after {attempt} tries",
                report,
            )
            return
        delay = self.policy.delay(attempt, answer, self.rng)
        log.info("delivery will be retried", extra={"status": answer.status})
        async with self.units() as uow:
            await uow.outbox.mark_retry(
                item.id, now + timedelta(seconds=delay), answer.status, count_attempt=True
            )
            await uow.commit()
        self.count("retried")

    async def _give_up(
        self, item: OutboxItem, final: str, status: int | None, reason: str, report: bool = True
    ) -> None:
        now = self.clock.now()
        async with self.units() as uow:
            await uow.outbox.mark_failed(item.id, final, status, now)
            if report and not item.key.startswith((NOTICE_PREFIX, PRIVATE_PREFIX)):
                await self._report(uow, item, reason)
            await uow.commit()
        self.count("gave_up")
        log.warning("message could not be delivered", extra={"outcome": final, "status": status})

    async def _report(self, uow: UnitOfWork, item: OutboxItem, reason: str) -> None:
        """Tell the coordinator, once per person and case, who could not be reached."""
        person = await uow.directory.person(item.recipient)
        who = person.name if person else "A directory member"
        case = await uow.cases.by_id(item.case_id) if item.case_id else None
        about = f" about {case.reference}" if case else ""
        text = (
            f"MARAT delivery problem: {who} could not be reached{about} ({reason}). "
            "Please contact them another way."
        )
        await notify_coordinators(
            uow,
            f"unreachable:{item.recipient}:{item.case_id or '-'}",
            text,
            self.clock.now(),
            item.case_id,
            only=case.created_by if case else None,
        )

    # -- finding someone's 1:1 chat ----------------------------------------------------------

    async def _address(self, aad_object_id: str) -> Address | None:
        """The stored 1:1 chat, or a new one opened through a team the person is in."""
        async with self.units() as uow:
            address = await uow.addresses.personal(aad_object_id)
            teams = [] if address else await uow.addresses.teams(None)
        if address is not None:
            return address
        for team in teams:
            opened = await self._open_through(team, aad_object_id)
            if opened is not None:
                async with self.units() as uow:
                    await uow.addresses.save_personal(opened, self.clock.now())
                    await uow.commit()
                return opened
        return None

    async def _open_through(self, team: TeamAddress, aad_object_id: str) -> Address | None:
        member = await self.messenger.member(team, aad_object_id)
        if member is None:
            return None
        return await self.messenger.open_personal_chat(team, member)
