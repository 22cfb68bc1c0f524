"""The conference pack (`/agenda DATE pack`, the agenda card's button, and
`marat agenda DATE --pack`): per listed case in agenda order, the referral summary, the
returns, the case discussion and the outstanding actions — for the coordinator (chair), or the
operator's offline copy for business continuity. Every pack served is audited per case."""

from __future__ import annotations

from datetime import date

from bot.domain.cases import Meeting
from bot.domain.errors import NotFound
from bot.domain.pack import ConferencePack, conference_pack
from bot.domain.wording import day
from bot.ports import AuditEvent, TokenInfo, UnitOfWork
from bot.services.access import audit, records_denials, require
from bot.services.card_tokens import CardKind
from bot.services.cases import agency_returns
from bot.services.context import UseCaseContext
from bot.services.outbox import agency_names


async def _meeting_id(_uow: UnitOfWork, issued: TokenInfo) -> int | None:
    return issued.subject_id


PACK_BUTTON = CardKind(
    "agenda.pack", "This agenda card has expired. Type agenda DATE pack instead.", _meeting_id
)


class ConferencePacks:
    """Building a conference's pack for its chair or for the operator."""

    def __init__(self, ctx: UseCaseContext) -> None:
        self.ctx = ctx

    @records_denials
    async def check_reader(self, aad: str) -> None:
        """Refuse (audited) anyone but a coordinator: a pack holds every agency's returns."""
        async with self.ctx.units() as uow:
            await require(self.ctx, uow, aad, "agenda.pack")

    @records_denials
    async def pack(self, aad: str, day_of: date | None) -> ConferencePack:
        """The pack of the conference on ``day_of`` (None: the next one from today on), for
        coordinators only: it holds every agency's returns."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "agenda.pack")
            if day_of is None:
                meeting = await uow.meetings.next_on_or_after(self.ctx.today())
                if meeting is None:
                    raise NotFound("There is no coming MARAC conference.")
            else:
                meeting = await uow.meetings.by_date(day_of)
            if meeting is None:
                raise NotFound(f"There is no MARAC conference on {day(day_of)}.")
            pack = await self._build(uow, meeting)
            for entry in pack.cases:
                await audit(self.ctx, uow, person, "agenda.pack", entry.case.id)
            await uow.commit()
        return pack

    @records_denials
    async def pack_from_card(self, aad: str, token: str) -> ConferencePack:
        """The pack of the conference an agenda card's button is about."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "agenda.pack")
            click = await PACK_BUTTON.open(self.ctx, uow, person, token, "agenda.pack")
            meeting = await uow.meetings.by_id(click.subject) if click.subject else None
            if meeting is None:
                raise NotFound("That conference is no longer in the calendar.")
            pack = await self._build(uow, meeting)
            for entry in pack.cases:
                await audit(self.ctx, uow, person, "agenda.pack", entry.case.id)
            await uow.commit()
        return pack

    async def export(self, day_of: date, action: str = "pack.export") -> ConferencePack:
        """The operator's offline copy (`marat agenda DATE --pack`), audited as an export."""
        async with self.ctx.units() as uow:
            meeting = await uow.meetings.by_date(day_of)
            if meeting is None:
                raise NotFound(f"There is no MARAC conference on {day(day_of)}.")
            pack = await self._build(uow, meeting)
            for entry in pack.cases:
                await uow.audit.record(
                    AuditEvent(self.ctx.now(), "cli", "operator", action, "ok", entry.case.id)
                )
            await uow.commit()
        return pack

    async def _build(self, uow: UnitOfWork, meeting: Meeting) -> ConferencePack:
        cases = [c for c in await uow.cases.on_meeting(meeting.id) if c.state.is_open]
        returns = {c.id: await agency_returns(uow, c.id) for c in cases}
        discussions = {c.id: await uow.cases.discussion(c.id) for c in cases}
        actions = {c.id: await uow.actions.for_case(c.id) for c in cases}
        return conference_pack(
            meeting, cases, returns, discussions, actions, await agency_names(uow)
        )
