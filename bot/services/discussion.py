"""The day-3 case discussion, recorded by a coordinator: held or not, which agencies took
part, notes. Held moves the case to discussed; one not recorded by the end of day 3 counts as
missed in the figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.domain.cases import CaseView
from bot.domain.lifecycle import CaseState, transition
from bot.domain.reminders import ReminderKind
from bot.ports import TokenInfo, UnitOfWork
from bot.services.access import audit, records_denials, require
from bot.services.card_tokens import CardKind
from bot.services.context import UseCaseContext
from bot.services.outbox import agency_names

MAX_NOTES = 4000


async def _case(uow: UnitOfWork, issued: TokenInfo) -> CaseView | None:
    return await uow.cases.by_id(issued.subject_id) if issued.subject_id else None


DISCUSSION_CARD = CardKind(
    "discussion", "This case discussion card has expired. Open the case with case REF.", _case
)


@dataclass(frozen=True)
class DiscussionRecorded:
    """How the discussion stands; ``recorded_now`` False when it had been recorded before."""

    reference: str
    held: bool
    attendees: list[str]
    recorded_now: bool


@dataclass(frozen=True)
class DiscussionInvalid:
    """Nothing was recorded: the form comes back with these errors under its fields."""

    reference: str
    when: date
    agencies: dict[str, str]
    errors: dict[str, str]


DiscussionOutcome = DiscussionRecorded | DiscussionInvalid


class _Raced(Exception):
    """Another coordinator recorded it a moment earlier: show theirs."""


class Discussions:
    """Recording the day-3 case discussion."""

    def __init__(self, ctx: UseCaseContext) -> None:
        self.ctx = ctx

    @records_denials
    async def record_discussion(
        self, aad: str, token: str, inputs: Mapping[str, object]
    ) -> DiscussionOutcome:
        """Record the discussion once (the first record stands; later clicks see it)."""
        try:
            return await self._record(aad, token, inputs)
        except _Raced:
            return await self._record(aad, token, inputs)

    async def _record(
        self, aad: str, token: str, inputs: Mapping[str, object]
    ) -> DiscussionOutcome:
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "discussion.record")
            click = await DISCUSSION_CARD.open(ctx, uow, person, token, "discussion.record")
            case = click.subject
            names = await agency_names(uow)
            involved = {k: names.get(k, k) for k in case.agencies}
            existing = await uow.cases.discussion(case.id)
            if existing is not None:
                attendees = [names.get(a, a) for a in existing.attendees]
                return DiscussionRecorded(case.reference, existing.held, attendees, False)
            held_text = str(inputs.get("held") or "").strip()
            attendees = [
                a.strip() for a in str(inputs.get("attendees") or "").split(",") if a.strip()
            ]
            notes = " ".join(str(inputs.get("notes") or "").split()) or None
            errors: dict[str, str] = {}
            if held_text not in ("yes", "no"):
                errors["held"] = "Please say whether the case discussion was held."
            if any(a not in involved for a in attendees):
                errors["attendees"] = "Please choose agencies involved in the case."
            if notes and len(notes) > MAX_NOTES:
                errors["notes"] = f"Please use at most {MAX_NOTES} characters."
            if errors:
                return DiscussionInvalid(
                    case.reference, case.deadlines.discussion, involved, errors
                )
            now = ctx.now()
            held = held_text == "yes"
            await uow.cases.lock(case.id)
            if not await uow.cases.record_discussion(
                case.id, held, attendees, notes, person.aad_object_id, now
            ):
                raise _Raced
            if held and case.state is CaseState.REFERRED:
                await uow.cases.change_state(
                    case.id,
                    transition(
                        case.reference,
                        case.state,
                        CaseState.DISCUSSED,
                        person.aad_object_id,
                        now,
                        "case discussion held",
                    ),
                )
            await uow.reminders.cancel([ReminderKind.DISCUSSION], case.id, "recorded", now)
            await click.claim(uow, person.aad_object_id, now, "recorded")
            await audit(ctx, uow, person, "discussion.record", case.id)
            await uow.commit()
        return DiscussionRecorded(case.reference, held, [involved[a] for a in attendees], True)
