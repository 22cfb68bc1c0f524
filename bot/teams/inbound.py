"""One effect per activity: Teams redelivers an activity when the bot was slow to answer (and
may deliver it twice at once); the copy must change nothing and send nothing new.

Each activity with an id is recorded (a hash of channel, conversation and id; no content, no
identity) before it is handled, under a short lease. A copy that finds it:

* handled, or being handled in this process: a message copy is ignored; an invoke copy
  gets the first one's response (the replacement card), which it waits for if need be;
* being handled by another replica: answered 503 so that Teams tries again later;
* left "in flight" by a process that died (its lease ran out): handled as the first.

Only after authentication and the tenant check (the handler calls it there): an outsider must
not be able to burn the ids of activities still to come.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.domain.clock import Clock
from bot.ports import DatabaseUnavailable, InboundState, UnitOfWorkFactory
from bot.teams.gateway import invoke_notice_response
from bot.teams.turn_record import note

log = logging.getLogger(__name__)

ALREADY_DONE = "This was already received and done."
KEEP = timedelta(days=1)
PURGE_EVERY = 500  # activities between two purges of what is older than KEEP


@dataclass
class Receipt:
    """The ledger's answer for one activity: ``state`` is "first" unless it is a copy."""

    key: str
    state: InboundState
    here: asyncio.Future[InvokeResponse | None] | None = None  # a first still running here
    response: InvokeResponse | None = field(default=None, repr=False)

    @property
    def duplicate(self) -> bool:
        return self.state != "first"


class InboundLedger:
    """Remembers the activities received (in the database, for every replica) and the invoke
    answers given recently (in memory, for copies that reach this process)."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        clock: Clock,
        lease: timedelta = timedelta(seconds=30),
        wait_seconds: float = 20.0,
        remembered: int = 500,
    ) -> None:
        self.units = units
        self.clock = clock
        self.lease = lease
        self.wait_seconds = wait_seconds
        self.remembered = remembered
        self._running: dict[str, asyncio.Future[InvokeResponse | None]] = {}
        self._answers: OrderedDict[str, InvokeResponse] = OrderedDict()
        self._until_purge = 0

    @staticmethod
    def key_of(activity: Activity) -> str | None:
        if not activity.id:
            return None
        conversation = activity.conversation.id if activity.conversation else ""
        raw = f"{activity.channel_id}|{conversation}|{activity.type}|{activity.id}"
        return hashlib.sha256(raw.encode()).hexdigest()

    async def receive(self, context: TurnContext) -> Receipt | None:
        """Record the activity; None when it cannot be recorded (no id, or the database is
        down: then the turn goes ahead and tells the user to try again)."""
        key = self.key_of(context.activity)
        if key is None:
            return None
        running = self._running.get(key)
        if running is not None:
            return Receipt(key, "in_flight", running)
        # Claimed here before the database is asked, so that a copy arriving meanwhile in
        # this process waits for this one instead of being told to retry.
        here: asyncio.Future[InvokeResponse | None] = asyncio.get_running_loop().create_future()
        self._running[key] = here
        now = self.clock.now()
        try:
            async with self.units() as uow:
                state = await uow.inbound.begin(key, now, now + self.lease)
                self._until_purge -= 1
                if self._until_purge <= 0:
                    self._until_purge = PURGE_EVERY
                    await uow.inbound.purge(now - KEEP)
                await uow.commit()
        except DatabaseUnavailable:
            self._release(key, None)
            return None
        if state != "first":
            self._release(key, self._answers.get(key))
            return Receipt(key, state)
        receipt = Receipt(key, "first", here)
        context.on_send_activities(self._capture(receipt))
        return receipt

    def _release(self, key: str, response: InvokeResponse | None) -> None:
        here = self._running.pop(key, None)
        if here is not None and not here.done():
            here.set_result(response)

    def _capture(
        self, receipt: Receipt
    ) -> Callable[[TurnContext, list[Activity], Callable[[], Awaitable[Any]]], Awaitable[Any]]:
        async def capture(
            _context: TurnContext,
            activities: list[Activity],
            send: Callable[[], Awaitable[Any]],
        ) -> Any:
            for activity in activities:
                if activity.type == ActivityTypes.invoke_response:
                    receipt.response = activity.value
            return await send()

        return capture

    async def finish(self, receipt: Receipt) -> None:
        """The first delivery has been handled: copies from now on change nothing."""
        try:
            async with self.units() as uow:
                await uow.inbound.finish(receipt.key, self.clock.now())
                await uow.commit()
        except DatabaseUnavailable:
            log.warning("could not record an activity as handled; its lease will run out")
        if receipt.response is not None:
            self._answers[receipt.key] = receipt.response
            while len(self._answers) > self.remembered:
                self._answers.popitem(last=False)
        self._release(receipt.key, receipt.response)

    async def answer_copy(self, context: TurnContext, receipt: Receipt) -> None:
        """Answer a redelivered activity without doing anything again."""
        is_invoke = context.activity.type == ActivityTypes.invoke
        log.info("duplicate activity ignored", extra={"activity_type": context.activity.type})
        if receipt.state == "in_flight" and receipt.here is None:
            note(outcome="in_flight")  # another replica has it: Teams is told to retry
            if is_invoke:
                await _respond(context, InvokeResponse(status=503))
            return
        note(outcome="duplicate")
        if not is_invoke:
            return
        response = self._answers.get(receipt.key)
        if response is None and receipt.here is not None:
            with contextlib.suppress(TimeoutError):
                response = await asyncio.wait_for(asyncio.shield(receipt.here), self.wait_seconds)
        await _respond(context, response or invoke_notice_response(ALREADY_DONE))


async def _respond(context: TurnContext, response: InvokeResponse) -> None:
    await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))
