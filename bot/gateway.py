"""The one place that calls Bot Framework to send, update or create anything.

The Bot Framework SDK for Python is archived; a move to the Microsoft 365 Agents SDK should
touch only this module (and the adapter set-up in app.py).
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, AdaptiveCardInvokeResponse

from cards.common import CARD_CONTENT_TYPE, Card, envelope, text

log = logging.getLogger(__name__)


def card_activity(card: Card, summary: str | None = None) -> Activity:
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    # Teams shows the summary in notification previews: keep it as neutral as the card's.
    activity.summary = summary or card.get("fallbackText")
    return activity


class TurnGateway:
    """Replies within a turn (send text, send card, update the clicked card)."""

    def __init__(self, context: TurnContext) -> None:
        self.context = context

    async def send_text(self, message: str) -> None:
        await self.context.send_activity(MessageFactory.text(message))

    async def send_card(self, card: Card) -> None:
        await self.context.send_activity(card_activity(card))

    async def update_card(self, activity_id: str, card: Card) -> bool:
        """Replace a card the bot sent earlier; False if the channel refused (then send anew)."""
        activity = card_activity(card)
        activity.id = activity_id
        activity.type = ActivityTypes.message
        try:
            await self.context.update_activity(activity)
        except Exception:
            log.warning("card update refused; sending a new message instead")
            return False
        return True


def invoke_card_response(card: Card) -> InvokeResponse:
    """The Universal Actions response that replaces the card in place.

    The body is the msrest model, not a dict: CloudAdapter 4.17.1 serialises the body again,
    and a dict there fails with "'dict' object has no attribute 'is_xml_model'" (HTTP 500).
    """
    return InvokeResponse(
        status=200,
        body=AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card),
    )


def invoke_message_response(message: str) -> InvokeResponse:
    """Universal Actions answer with a short message card (used for refusals and errors)."""
    return invoke_card_response(envelope([text(message)], fallback_text=message))


def invoke_value(activity: Activity) -> dict[str, Any]:
    value = activity.value if isinstance(activity.value, dict) else {}
    return value
