"""Provoking races without sleeping: parties meet at a rendezvous inside the critical section."""

from __future__ import annotations

import asyncio
import contextlib


class Rendezvous:
    """Holds each party until all have arrived (or ``timeout`` passes, if storage serialises
    them so that they cannot all arrive: then there is no race to provoke)."""

    def __init__(self, parties: int, timeout: float = 2.0) -> None:
        self.parties = parties
        self.timeout = timeout
        self.arrived = 0
        self.all_in = asyncio.Event()

    async def meet(self) -> None:
        self.arrived += 1
        if self.arrived >= self.parties:
            self.all_in.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_in.wait(), self.timeout)
