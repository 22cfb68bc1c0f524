"""`/refer`: the referral card, and its submission (verb ``refer.submit``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.domain.errors import AlreadyDone, FieldErrors, MaratError
from cards.referral import INPUT_IDS, already_submitted_card, referral_card, referral_done_card
from dialogs.base import Dependencies, Reply, TurnInfo

log = logging.getLogger(__name__)


async def start(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    if not turn.is_personal:
        # A referral holds personal data: never in a channel or group chat.
        await deps.service.open_referral(turn.aad_object_id)  # still checks the role
        return Reply(
            text="Referrals are made in a 1:1 chat with me: open the chat with the "
            "MARAT bot and type refer."
        )
    form = await deps.service.open_referral(turn.aad_object_id)
    return Reply(card=referral_card(form.token, form.agencies, form.today.isoformat()))


async def submit(deps: Dependencies, turn: TurnInfo, data: Mapping[str, object]) -> Reply:
    token = str(data.get("token") or "")
    values = {k: data[k] for k in INPUT_IDS if k in data}
    try:
        case = await deps.service.submit_referral(turn.aad_object_id, token, values)
    except FieldErrors as error:
        agencies = await deps.service.referral_agencies()
        today = deps.service.today().isoformat()
        return Reply(card=referral_card(token, agencies, today, values, error.errors), replace=True)
    except AlreadyDone as done:
        reference = done.outcome or await deps.service.already_done_reference(token)
        return Reply(card=already_submitted_card(reference), replace=True)
    except MaratError:
        raise
    except Exception:
        # Keep what the user typed: the same card comes back with a reference to quote.
        log.exception("referral submit failed", extra={"correlation_id": turn.correlation_id})
        agencies = await deps.service.referral_agencies()
        today = deps.service.today().isoformat()
        banner = {
            "_form": (
                f"Sorry, something went wrong and the referral was not saved. "
                f"Your entries are kept; please try again. "
                f"Reference: {turn.correlation_id}"
            )
        }
        return Reply(card=referral_card(token, agencies, today, values, banner), replace=True)
    return Reply(card=referral_done_card(case, deps.calendar), replace=True)
