"""Referral intake: the referral card, the new case, its listing, repeat detection, the
information requests and the referral's reminders (PRODUCT.md section 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.domain.cases import CaseView
from bot.domain.deadlines import case_deadlines, choose_conference
from bot.domain.directory import Agency
from bot.domain.errors import FieldErrors
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import Referral, parse_referral
from bot.domain.reminders import ReminderPlan
from bot.domain.repeats import is_repeat, same_victim
from bot.ports import TokenInfo, UnitOfWork
from bot.services.access import audit, records_denials, require
from bot.services.card_tokens import CardKind
from bot.services.context import UseCaseContext
from bot.services.information_requests import InformationRequests
from bot.services.outbox import notify_contacts


async def _the_token(_uow: UnitOfWork, issued: TokenInfo) -> TokenInfo:
    return issued  # a referral card is about no case yet: the token is its own subject


REFERRAL_CARD = CardKind(
    "referral", "This referral card has expired. Type refer for a new one.", _the_token
)


@dataclass(frozen=True)
class ReferralForm:
    """What the referral card needs: a fresh token, the directory's agencies and today."""

    token: str
    agencies: tuple[Agency, ...]
    today: date


@dataclass(frozen=True)
class ReferralRecorded:
    """The case was created (and listed, and its requests queued)."""

    case: CaseView


@dataclass(frozen=True)
class ReferralAlreadyRecorded:
    """The card had been submitted already; ``reference`` is the case it created and ``case``
    that case now, so a second click shows the same dates as the first."""

    reference: str | None
    case: CaseView | None = None


@dataclass(frozen=True)
class ReferralInvalid:
    """Nothing was created: the card comes back with these errors under its fields."""

    errors: dict[str, str]
    form: ReferralForm


ReferralOutcome = ReferralRecorded | ReferralAlreadyRecorded | ReferralInvalid


class _Raced(Exception):
    """Another submit of the same card won: roll ours back and report theirs."""


class Referrals:
    """Opening and submitting referrals (coordinators only)."""

    def __init__(self, ctx: UseCaseContext, requests: InformationRequests) -> None:
        self.ctx = ctx
        self.requests = requests

    @records_denials
    async def open_referral(self, aad: str) -> ReferralForm:
        """A fresh referral card for a coordinator (the role is checked even in a channel)."""
        async with self.ctx.units() as uow:
            person = await require(self.ctx, uow, aad, "referral.open")
            token = await REFERRAL_CARD.issue(uow, None, person.aad_object_id, self.ctx.now())
            agencies = tuple(await uow.directory.agencies())
            await uow.commit()
        return ReferralForm(token, agencies, self.ctx.today())

    async def referral_agencies(self) -> tuple[Agency, ...]:
        """The agencies a referral card offers (to show the card again after a failure)."""
        async with self.ctx.units() as uow:
            return tuple(await uow.directory.agencies())

    @records_denials
    async def submit_referral(
        self, aad: str, token: str, inputs: Mapping[str, object]
    ) -> ReferralOutcome:
        """Validate and create the case, list it at a conference, and open its requests.

        A second submit of the same card (even at the same moment) creates nothing and names
        the first one's case; invalid input creates nothing and lists every bad field.
        """
        try:
            return await self._submit(aad, token, inputs)
        except _Raced:
            return await self._already(await self.already_done_reference(token))

    async def _already(self, reference: str | None) -> ReferralAlreadyRecorded:
        case = None
        if reference:
            async with self.ctx.units() as uow:
                case = await uow.cases.by_reference(reference)
        return ReferralAlreadyRecorded(reference, case)

    async def _submit(self, aad: str, token: str, inputs: Mapping[str, object]) -> ReferralOutcome:
        ctx = self.ctx
        async with ctx.units() as uow:
            person = await require(ctx, uow, aad, "referral.submit")
            click = await REFERRAL_CARD.open(ctx, uow, person, token, "referral.submit")
            if click.issued.used:
                outcome = click.issued.outcome
                case = await uow.cases.by_reference(outcome) if outcome else None
                return ReferralAlreadyRecorded(outcome, case)
            agencies = await uow.directory.agencies()
            today = ctx.today()
            try:
                referral = parse_referral(
                    inputs, today, [a.key for a in agencies], ctx.options.received_max_age_days
                )
            except FieldErrors as invalid:
                return ReferralInvalid(invalid.errors, ReferralForm(token, tuple(agencies), today))
            deadlines = case_deadlines(referral.received_date, ctx.calendar, ctx.policy)
            # A referral entered late is never listed at a conference that has already met.
            slots = await uow.meetings.slots_from(max(deadlines.earliest_conference, today))
            choice = choose_conference(deadlines, slots)
            reference = await uow.cases.next_reference(ctx.options.case_prefix, today.year)
            now = ctx.now()
            case_id = await uow.cases.create(
                reference,
                referral,
                deadlines,
                choice,
                Transition(
                    None,
                    CaseState.REFERRED,
                    person.aad_object_id,
                    now,
                    None if referral.consent else "shared without consent",
                ),
            )
            if not await click.claim(uow, person.aad_object_id, now, reference):
                raise _Raced
            await audit(ctx, uow, person, "case.create", case_id)
            await self._detect_repeat(uow, case_id, referral)
            view = await uow.cases.by_id(case_id)
            assert view is not None
            await self.requests.send(uow, view)
            await uow.reminders.schedule(await self._reminders(uow, view), now)
            await uow.commit()
        ctx.on_outbox()
        return ReferralRecorded(view)

    async def already_done_reference(self, token: str) -> str | None:
        """The case a spent referral card created, if any."""
        async with self.ctx.units() as uow:
            issued = await uow.tokens.peek(token)
            return issued.outcome if issued else None

    async def _detect_repeat(self, uow: UnitOfWork, case_id: int, referral: Referral) -> None:
        """Link the victim's previous case; within 12 months it is a repeat, and the agencies
        of that earlier case are told (they need to know; nothing more than the references)."""
        for earlier, name, dob in await uow.cases.earlier_referrals(referral.victim_name, case_id):
            rule = self.ctx.options.repeat_rule
            if not same_victim(rule, referral.victim_name, referral.victim_dob, name, dob):
                continue
            repeat = is_repeat(referral.received_date, earlier)
            await uow.cases.set_repeat_of(case_id, earlier.case_id, repeat)
            if repeat:
                case = await uow.cases.by_id(case_id)
                assert case is not None
                await notify_contacts(
                    uow,
                    f"repeat:{case_id}",
                    earlier.agencies,
                    f"New referral {case.reference} is a repeat of {earlier.reference}, which "
                    "your agency was involved in.",
                    self.ctx.now(),
                    case_id,
                )
            return

    async def _reminders(self, uow: UnitOfWork, case: CaseView) -> list[ReminderPlan]:
        """Day 2 per agency, day-3 escalation and discussion, and the no-conference alarm;
        for a referral entered late, none whose day has already gone (they would announce
        deadlines as if they were still ahead)."""
        today = self.ctx.today()
        return [p for p in await self._all_reminders(uow, case) if p.slot >= today]

    async def _all_reminders(self, uow: UnitOfWork, case: CaseView) -> list[ReminderPlan]:
        schedule, d = self.ctx.schedule, case.deadlines
        plans = [
            schedule.information_request(case.id, r.id, r.due)
            for r in await uow.cases.information_requests(case.id)
        ]
        plans.append(schedule.missing_returns(case.id, d.discussion))
        plans.append(schedule.discussion(case.id, d.discussion))
        # The weekly capacity forecast plans its own next week once started; this starts it.
        plans.append(schedule.capacity_forecast(self.ctx.today()))
        if case.listing.breach:
            day_ten = self.ctx.calendar.add_working_days(d.day_zero, 10)
            plans.extend(schedule.no_conference(case.id, self.ctx.now(), day_ten))
        return plans
