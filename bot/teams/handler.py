"""The Teams edge: authenticated activities in, command and verb routing, replies out.

Identity is the sender's Entra object id (``from.aadObjectId``); a card's data is trusted for
nothing but its token and the user's inputs.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import ChannelAccount

from bot.domain.errors import CaseClosed, MaratError, NotRegistered
from bot.logs import correlation_id, new_correlation_id
from bot.ports import Address, DatabaseUnavailable, TeamAddress
from bot.teams.conversations import Conversations
from bot.teams.gateway import (
    TurnGateway,
    invoke_card_response,
    invoke_message_response,
    invoke_notice_response,
    invoke_value,
)
from bot.teams.inbound import InboundLedger
from bot.teams.routing import mentioned_people, parse_command, strip_bot_mention
from bot.teams.turn_record import current as current_turn
from bot.teams.turn_record import note
from cards.common import message_card
from cards.help import not_registered_text
from dialogs import (
    actions,
    agenda,
    case,
    directory,
    discussion,
    information_request,
    lifecycle,
    meeting,
    plan,
    refer,
    report,
)
from dialogs import help as help_dialog
from dialogs.base import Dependencies, Mentioned, Reply, TurnInfo

log = logging.getLogger(__name__)

CommandHandler = Callable[[Dependencies, TurnInfo, str], Awaitable[Reply]]
VerbHandler = Callable[[Dependencies, TurnInfo, Mapping[str, object]], Awaitable[Reply]]

COMMANDS: dict[str, CommandHandler] = {
    "refer": refer.start,
    "agenda": agenda.run,
    "case": case.show,
    "cases": case.list_open,
    "meeting": meeting.run,
    "help": help_dialog.run,
    "agency": directory.agency,
    "contact": directory.contact,
    "coordinator": directory.coordinator,
    "plan": plan.show,
    "actions": actions.show,
    "review": lifecycle.review,
    "defer": lifecycle.defer,
    "withdraw": lifecycle.withdraw,
    "close": lifecycle.close,
    "report": report.run,
}
VERBS: dict[str, VerbHandler] = {
    "refer.submit": refer.submit,
    "inforeq.submit": information_request.submit,
    "plan.add_action": plan.add_action,
    "plan.remove_action": plan.remove_action,
    "plan.agree": plan.agree,
    "plan.open_amendment": plan.open_amendment,
    "plan.change_action": plan.change_action,
    "plan.withdraw_action": plan.withdraw_action,
    "agenda.pack": agenda.pack_button,
    "action.update": actions.update,
    "discussion.record": discussion.record,
}
ERROR_TEXT = "Sorry, something went wrong on my side. If it happens again, quote reference {}."
UNAVAILABLE_TEXT = (
    "Sorry, I cannot reach the MARAT records just now. Please try again in a moment (reference {})."
)


def team_id_of(context: TurnContext) -> str | None:
    channel_data = context.activity.channel_data
    team = (channel_data or {}).get("team") if isinstance(channel_data, dict) else None
    return str(team["id"]) if isinstance(team, dict) and team.get("id") else None


def roster_of(context: TurnContext) -> TeamAddress | None:
    """The team (in a channel) or the chat whose members this turn can look up."""
    activity = context.activity
    conversation_id = team_id_of(context) or (
        activity.conversation.id if activity.conversation else None
    )
    if not conversation_id or not activity.service_url or not activity.recipient:
        return None
    return TeamAddress(
        conversation_id, tenant_of(context), activity.service_url, activity.recipient.id
    )


def tenant_of(context: TurnContext) -> str | None:
    activity = context.activity
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (channel_data.get("tenant") or {}).get("id")
    if not tenant and activity.conversation is not None:
        tenant = activity.conversation.tenant_id
    return str(tenant).lower() if tenant else None


class MaratBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(
        self,
        deps: Dependencies,
        allowed_tenants: frozenset[str],
        conversations: Conversations | None = None,
        inbound: InboundLedger | None = None,
    ) -> None:
        super().__init__()
        self.deps = deps
        self.allowed_tenants = allowed_tenants
        self.conversations = conversations
        self.inbound = inbound

    # -- every turn ------------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        correlation_id.set(new_correlation_id())
        if self.allowed_tenants and tenant_of(turn_context) not in self.allowed_tenants:
            # Fail closed: an activity from another (or no) tenant gets no answer at all.
            log.warning(
                "activity from a tenant that is not allowed was ignored",
                extra={"activity_type": turn_context.activity.type},
            )
            note(outcome="ignored")
            return
        note(kind=str(turn_context.activity.type or "other"))
        # After authentication and the tenant check: only a genuine activity's id counts.
        receipt = await self.inbound.receive(turn_context) if self.inbound else None
        if receipt is not None and receipt.duplicate and self.inbound is not None:
            await self.inbound.answer_copy(turn_context, receipt)
            return
        try:
            await self._remember(turn_context)
            await super().on_turn(turn_context)
        finally:
            if receipt is not None and self.inbound is not None:
                await self.inbound.finish(receipt)

    async def _remember(self, context: TurnContext) -> None:
        """Keep where each person's 1:1 chat is, and which teams the app is in, up to date."""
        if self.conversations is None:
            return
        activity = context.activity
        sender, recipient = activity.from_property, activity.recipient
        conversation = activity.conversation
        if not (conversation and recipient and activity.service_url):
            return
        try:
            team_id = team_id_of(context)
            if team_id:
                bot_left = any(m.id == recipient.id for m in activity.members_removed or [])
                if bot_left or (
                    activity.type == "installationUpdate" and activity.action == "remove"
                ):
                    await self.conversations.forget_team(team_id)
                else:
                    await self.conversations.remember_team(
                        TeamAddress(team_id, tenant_of(context), activity.service_url, recipient.id)
                    )
            if (
                conversation.conversation_type in (None, "personal")
                and sender
                and (sender.aad_object_id)
            ):
                await self.conversations.remember_personal(
                    Address(
                        sender.aad_object_id.lower(),
                        tenant_of(context),
                        sender.id,
                        conversation.id,
                        activity.service_url,
                        recipient.id,
                        activity.channel_id or "msteams",
                    )
                )
        except DatabaseUnavailable:
            log.warning("could not store the conversation reference: database unavailable")
        except Exception:
            # Never lose the user's turn over bookkeeping; the next activity refreshes it.
            log.exception("could not store the conversation reference")

    def _turn(self, context: TurnContext) -> TurnInfo:
        activity = context.activity
        sender = activity.from_property
        conversation_type = (
            activity.conversation.conversation_type if activity.conversation else None
        ) or "personal"
        bot_id = activity.recipient.id if activity.recipient else ""
        return TurnInfo(
            aad_object_id=(sender.aad_object_id or "").lower() if sender else "",
            is_personal=conversation_type == "personal",
            correlation_id=correlation_id.get(),
            mentions=tuple(
                Mentioned(user_id, name)
                for user_id, name in mentioned_people(activity.entities, bot_id)
            ),
            roster=roster_of(context),
            tenant_id=tenant_of(context),
        )

    async def _run(self, turn: TurnInfo, call: Callable[[], Awaitable[Reply]], label: str) -> Reply:
        """Business refusals become polite text; bugs become a reference, never a traceback;
        a database that cannot be reached asks the user to try again in a moment."""
        note(kind=label)
        try:
            return await call()
        except NotRegistered:
            note(outcome="refused")
            return Reply(text=not_registered_text(self.deps.help_contact))
        except CaseClosed as closed:
            # A card of a closed case: replaced by a polite word, whatever was clicked.
            return Reply(card=message_card(str(closed)), replace=True)
        except MaratError as refusal:
            note(outcome="refused")
            return Reply(text=str(refusal))
        except DatabaseUnavailable:
            log.warning("turn could not reach the database", extra={"command": label})
            note(outcome="unavailable")
            return Reply(text=UNAVAILABLE_TEXT.format(turn.correlation_id))
        except Exception:
            log.exception("turn failed", extra={"command": label})
            note(outcome="error")
            return Reply(text=ERROR_TEXT.format(turn.correlation_id))

    # -- messages: typed commands and Action.Submit ----------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        turn = self._turn(turn_context)
        gateway = TurnGateway(turn_context)
        value = activity.value if isinstance(activity.value, dict) else None
        if value and value.get("verb"):
            verb = str(value["verb"])
            reply = await self._verb(turn, verb, value)
            replaced = (
                reply.card is not None
                and reply.replace
                and bool(activity.reply_to_id)
                and await gateway.update_card(activity.reply_to_id, reply.card)
            )
            if replaced:
                await self._deliver_privately(reply, turn)
                return
            await self._deliver(gateway, reply, turn)
            return
        text = strip_bot_mention(
            activity.text, activity.entities, activity.recipient.id if activity.recipient else None
        )
        command = parse_command(text, frozenset(COMMANDS))
        if command is None:
            reply = await self._run(
                turn, lambda: help_dialog.unknown(self.deps, turn, text or ""), "unknown"
            )
        else:
            handler = COMMANDS[command.name]
            log.info("command", extra={"command": command.name})
            reply = await self._run(
                turn, lambda: handler(self.deps, turn, command.args), command.name
            )
        await self._deliver(gateway, reply, turn)

    async def _deliver(self, gateway: TurnGateway, reply: Reply, turn: TurnInfo) -> None:
        if reply.text:
            await gateway.send_text(reply.text)
        if reply.card is not None:
            await gateway.send_card(reply.card)
        for card in reply.more:
            await gateway.send_card(card)
        await self._deliver_privately(reply, turn)

    async def _deliver_privately(self, reply: Reply, turn: TurnInfo) -> None:
        """Case detail asked for in a channel goes to the asker's 1:1 chat, whether the ask
        was a typed command or a card's button."""
        if reply.private is not None and turn.aad_object_id:
            await self.deps.cases.send_privately(
                turn.aad_object_id, reply.private, turn.correlation_id
            )

    async def _verb(self, turn: TurnInfo, verb: str, value: Mapping[str, Any]) -> Reply:
        handler = VERBS.get(verb)
        if handler is None:
            note(kind="unknown verb", outcome="refused")
            return Reply(text="That button is no longer supported. Type help to start again.")
        log.info("card action", extra={"verb": verb})
        return await self._run(turn, lambda: handler(self.deps, turn, value), verb)

    # -- Action.Execute (Universal Actions) ------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        action = invoke_value(activity).get("action") or {}
        verb = str(action.get("verb") or "")
        raw_data = action.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        turn = self._turn(turn_context)
        reply = await self._verb(turn, verb, data)
        if current_turn().outcome == "unavailable":
            # Keep the card as it is (with what they typed) so that they can send it again.
            return invoke_notice_response(
                reply.text or UNAVAILABLE_TEXT.format(turn.correlation_id)
            )
        await self._deliver_privately(reply, turn)
        if reply.card is not None and not reply.replace:
            # New messages under the clicked card, which stays as it is.
            await self._deliver(
                TurnGateway(turn_context), Reply(card=reply.card, more=reply.more), turn
            )
            return invoke_notice_response(reply.text or "Sent below.")
        if reply.card is not None:
            return invoke_card_response(reply.card)
        return invoke_message_response(reply.text or "Done.")

    # -- installation: greet each person with what they may do ------------------------------

    async def on_teams_members_added_dispatch(
        self, members_added: list[ChannelAccount], _team: object, turn_context: TurnContext
    ) -> None:
        # Teams sends each new member's aadObjectId; the SDK's default would first look every
        # member up through the connector, which the greeting does not need.
        await self.on_members_added_activity(members_added, turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        gateway = TurnGateway(turn_context)
        for member in members_added:
            if member.id == bot_id:
                continue
            if not turn_context.activity.conversation or (
                turn_context.activity.conversation.conversation_type not in (None, "personal")
            ):
                continue  # In a team, greet nobody in the channel; 1:1 greetings come later.
            turn = TurnInfo((member.aad_object_id or "").lower(), True, correlation_id.get())
            reply = await self._run(
                turn, functools.partial(help_dialog.greet, self.deps, turn), "greet"
            )
            await self._deliver(gateway, reply, turn)
