"""What the bot's proactive messages say: built from the card builders, used by use cases
that must write a message in the same transaction as the change that causes it."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.cases import CaseView
from bot.ports import OutgoingMessage
from cards.information_request import NEUTRAL, answered_card, information_request_card


def information_request(token: str, case: CaseView, agency_name: str, due: date) -> OutgoingMessage:
    card = information_request_card(token, case, agency_name, due)
    return OutgoingMessage(card=card, summary=NEUTRAL)


def information_answered(
    reference: str, agency_name: str, answered_by: str, answered_at: datetime, late: bool
) -> OutgoingMessage:
    card = answered_card(reference, agency_name, answered_by, answered_at, late, mine=False)
    return OutgoingMessage(card=card, summary="A MARAT information request was answered.")


def information_request_key(request_id: int, contact: str) -> str:
    return f"inforeq:{request_id}:{contact}"
