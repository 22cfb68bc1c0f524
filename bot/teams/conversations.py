"""Remembering conversation references from inbound activities: where each person's 1:1
chat is, and which teams the app is installed in (one write per change, not per message)."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.clock import Clock
from bot.ports import Address, TeamAddress, UnitOfWorkFactory


class Conversations:
    """Remembers conversation references from inbound activities (one write per change)."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        clock: Clock,
        on_new_address: Callable[[], None] | None = None,
    ) -> None:
        self.units = units
        self.clock = clock
        self.on_new_address = on_new_address or (lambda: None)
        self._known: dict[str, Address] = {}
        self._teams: dict[str, TeamAddress] = {}

    async def remember_personal(self, address: Address) -> None:
        if self._known.get(address.aad_object_id) == address:
            return
        async with self.units() as uow:
            await uow.addresses.save_personal(address, self.clock.now())
            await uow.commit()
        self._known[address.aad_object_id] = address
        self.on_new_address()

    async def remember_team(self, team: TeamAddress) -> None:
        # Every channel message names its team: write only when something changed.
        if self._teams.get(team.team_id) == team:
            return
        async with self.units() as uow:
            await uow.addresses.save_team(team, self.clock.now())
            await uow.commit()
        self._teams[team.team_id] = team

    async def forget_team(self, team_id: str) -> None:
        async with self.units() as uow:
            await uow.addresses.remove_team(team_id, self.clock.now())
            await uow.commit()
        self._teams.pop(team_id, None)
