"""`/refer`: the referral card, and its submission (verb ``refer.submit``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.domain.errors import MaratError
from bot.services.referrals import ReferralAlreadyRecorded, ReferralInvalid
from cards.referral import CONFIRM_IDS, INPUT_IDS, referral_card
from cards.referral_recorded import already_submitted_card, referral_done_card
from dialogs.base import Dependencies, Reply, TurnInfo

log = logging.getLogger(__name__)


async def start(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """The referral card (only in a 1:1 chat: a referral holds personal data)."""
    if not turn.is_personal:
        # A referral holds personal data: never in a channel or group chat.
        await deps.referrals.open_referral(turn.aad_object_id)  # still checks the role
        return Reply(
            text="Referrals are made in a 1:1 chat with me: open the chat with the "
            "MARAT bot and type refer."
        )
    form = await deps.referrals.open_referral(turn.aad_object_id)
    return Reply(card=referral_card(form.token, form.agencies, form.today.isoformat()))


async def submit(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    """Create the case, or show the card again with an error under each bad field; on an
    unexpected failure the card comes back with everything typed and a reference to quote."""
    token = str(data.get("token") or "")
    values = {k: data[k] for k in (*INPUT_IDS, *CONFIRM_IDS) if k in data}
    try:
        outcome = await deps.referrals.submit_referral(turn.aad_object_id, token, values)
    except MaratError:
        raise
    except Exception:
        # Keep what the user typed: the same card comes back with a reference to quote.
        log.exception("referral submit failed", extra={"correlation_id": turn.correlation_id})
        agencies = await deps.referrals.referral_agencies()
        banner = {
            "_form": (
                f"Sorry, something went wrong and the referral was not saved. "
                f"Your entries are kept; please try again. "
                f"Reference: {turn.correlation_id}"
            )
        }
        card = referral_card(token, agencies, deps.today().isoformat(), values, banner)
        return Reply(card=card, replace=True)
    if isinstance(outcome, ReferralInvalid):
        form = outcome.form
        card = referral_card(token, form.agencies, form.today.isoformat(), values, outcome.errors)
        return Reply(card=card, replace=True)
    if isinstance(outcome, ReferralAlreadyRecorded):
        # A second click gets the same card as the first: the case and its dates.
        if outcome.case is not None:
            return Reply(card=referral_done_card(outcome.case, deps.calendar), replace=True)
        return Reply(card=already_submitted_card(outcome.reference or None), replace=True)
    return Reply(card=referral_done_card(outcome.case, deps.calendar), replace=True)
