"""The one place that calls Bot Framework to send, update or create anything.

The Bot Framework SDK for Python is archived; a move to the Microsoft 365 Agents SDK should
touch only this module (and the adapter set-up in app.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botframework.connector.auth import AuthenticationConstants
from msrest.exceptions import HttpOperationError

from bot.domain.delivery import ConnectorAnswer, ConnectorUnavailable, Outcome
from bot.ports import Address, Member, OutgoingMessage, TeamAddress
from cards.common import CARD_CONTENT_TYPE, Card, message_card

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
    return invoke_card_response(message_card(message))


MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"


class _MessageInvokeResponse(AdaptiveCardInvokeResponse):  # type: ignore[misc]
    """The SDK's model types ``value`` as an object, which its serialiser refuses for the
    message response's plain string (HTTP 500); the same model with a string value."""

    _attribute_map = {  # noqa: RUF012 - msrest's own class-level map
        **AdaptiveCardInvokeResponse._attribute_map,
        "value": {"key": "value", "type": "str"},
    }


def invoke_notice_response(message: str) -> InvokeResponse:
    """Universal Actions answer with a short message shown to the user *without* replacing
    the clicked card: what they typed is still there to send again ("try again"), or the
    answer came as new messages under it (a conference pack under its agenda)."""
    return InvokeResponse(
        status=200,
        body=_MessageInvokeResponse(status_code=200, type=MESSAGE_RESPONSE, value=message),
    )


def invoke_value(activity: Activity) -> dict[str, Any]:
    value = activity.value if isinstance(activity.value, dict) else {}
    return value


class BotFrameworkGateway:
    """Proactive calls (send, update, look up a member, open a 1:1 chat) to the Bot Connector.

    It talks to the connector client directly rather than through ``continue_conversation``
    so that it sees every HTTP status and so that msrest's own retries (three, with sleeps,
    on every 5xx) are off: the outbox decides when to retry, and must know about each try.
    """

    def __init__(self, adapter: CloudAdapter, app_id: str, timeout_seconds: float = 15.0) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.timeout_seconds = timeout_seconds

    async def _client(self, service_url: str) -> Any:
        claims = self.adapter.create_claims_identity(self.app_id)
        claims.claims[AuthenticationConstants.SERVICE_URL_CLAIM] = service_url
        factory = self.adapter.bot_framework_authentication.create_connector_factory(claims)
        client = await factory.create(service_url, None)
        client.config.retry_policy.retries = 0
        client.config.connection.timeout = self.timeout_seconds
        return client

    @staticmethod
    def _activity(address: Address, message: OutgoingMessage) -> Activity:
        if message.card is not None:
            activity = card_activity(message.card, message.summary)
            if message.text:
                activity.text = message.text
        else:
            activity = MessageFactory.text(message.text or "")
            activity.summary = message.summary
        activity.from_property = ChannelAccount(id=address.bot_id)
        activity.recipient = ChannelAccount(id=address.user_id)
        activity.conversation = ConversationAccount(
            id=address.conversation_id, tenant_id=address.tenant_id, conversation_type="personal"
        )
        activity.channel_id = address.channel_id
        activity.service_url = address.service_url
        return activity

    async def _call(
        self, operation: Callable[[Any], Awaitable[Any]], service_url: str
    ) -> tuple[ConnectorAnswer, Any]:
        try:
            client = await self._client(service_url)
            result = await operation(client)
        except HttpOperationError as error:
            response = getattr(error, "response", None)
            status = getattr(response, "status_code", None)
            headers = getattr(response, "headers", None) or {}
            return ConnectorAnswer(status, None, _retry_after(headers.get("Retry-After"))), None
        except Exception as error:
            # No HTTP answer (refused, reset, timed out): it may or may not have arrived.
            log.warning("connector unreachable", extra={"status": type(error).__name__})
            return ConnectorAnswer(None), None
        return ConnectorAnswer(200, getattr(result, "id", None)), result

    async def send(self, address: Address, message: OutgoingMessage) -> ConnectorAnswer:
        activity = self._activity(address, message)
        answer, _ = await self._call(
            lambda client: client.conversations.send_to_conversation(
                address.conversation_id, activity
            ),
            address.service_url,
        )
        return answer

    async def update(
        self, address: Address, activity_id: str, message: OutgoingMessage
    ) -> ConnectorAnswer:
        activity = self._activity(address, message)
        activity.id = activity_id
        answer, _ = await self._call(
            lambda client: client.conversations.update_activity(
                address.conversation_id, activity_id, activity
            ),
            address.service_url,
        )
        return (
            ConnectorAnswer(answer.status, answer.activity_id or activity_id, answer.retry_after)
            if answer.status == 200
            else answer
        )

    async def member(self, team: TeamAddress, who: str) -> Member | None:
        """A team member by Entra object id or e-mail (Teams accepts either as member id)."""
        answer, account = await self._call(
            lambda client: client.conversations.get_conversation_member(team.team_id, who),
            team.service_url,
        )
        if answer.outcome is Outcome.RETRY:
            raise ConnectorUnavailable(answer)
        if answer.status != 200 or account is None:
            return None
        extra = getattr(account, "additional_properties", None) or {}
        aad = getattr(account, "aad_object_id", None) or extra.get("aadObjectId")
        if not aad:
            return None
        email = extra.get("email") or extra.get("userPrincipalName")
        return Member(account.id, str(aad).lower(), account.name or "", email)

    async def open_personal_chat(self, team: TeamAddress, member: Member) -> Address | None:
        """Create (or find) the bot's 1:1 chat with a member of a team the app is in."""
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=team.bot_id),
            members=[ChannelAccount(id=member.user_id)],
            tenant_id=team.tenant_id,
            channel_data={"tenant": {"id": team.tenant_id}},
        )
        answer, created = await self._call(
            lambda client: client.conversations.create_conversation(parameters),
            team.service_url,
        )
        if answer.outcome is Outcome.RETRY:
            raise ConnectorUnavailable(answer)
        if answer.status != 200 or created is None or not getattr(created, "id", None):
            return None
        return Address(
            member.aad_object_id,
            team.tenant_id,
            member.user_id,
            created.id,
            team.service_url,
            team.bot_id,
        )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
