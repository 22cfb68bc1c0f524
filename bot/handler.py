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

from bot.domain.errors import MaratError, NotRegistered
from bot.gateway import TurnGateway, invoke_card_response, invoke_message_response, invoke_value
from bot.logs import correlation_id, new_correlation_id
from bot.routing import parse_command, strip_bot_mention
from cards.help import not_registered_text
from dialogs import agenda, case, meeting, refer
from dialogs import help as help_dialog
from dialogs.base import Dependencies, Reply, TurnInfo

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
}
VERBS: dict[str, VerbHandler] = {
    "refer.submit": refer.submit,
}
ERROR_TEXT = "Sorry, something went wrong on my side. If it happens again, quote reference {}."


def tenant_of(context: TurnContext) -> str | None:
    activity = context.activity
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (channel_data.get("tenant") or {}).get("id")
    if not tenant and activity.conversation is not None:
        tenant = activity.conversation.tenant_id
    return str(tenant).lower() if tenant else None


class MaratBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(self, deps: Dependencies, allowed_tenants: frozenset[str]) -> None:
        super().__init__()
        self.deps = deps
        self.allowed_tenants = allowed_tenants

    # -- every turn ------------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        correlation_id.set(new_correlation_id())
        if self.allowed_tenants and tenant_of(turn_context) not in self.allowed_tenants:
            # Fail closed: an activity from another (or no) tenant gets no answer at all.
            log.warning(
                "activity from a tenant that is not allowed was ignored",
                extra={"activity_type": turn_context.activity.type},
            )
            return
        await super().on_turn(turn_context)

    def _turn(self, context: TurnContext) -> TurnInfo:
        activity = context.activity
        sender = activity.from_property
        conversation_type = (
            activity.conversation.conversation_type if activity.conversation else None
        ) or "personal"
        return TurnInfo(
            aad_object_id=(sender.aad_object_id or "").lower() if sender else "",
            is_personal=conversation_type == "personal",
            correlation_id=correlation_id.get(),
        )

    async def _run(self, turn: TurnInfo, call: Callable[[], Awaitable[Reply]], label: str) -> Reply:
        """Business refusals become polite text; bugs become a reference, never a traceback."""
        try:
            return await call()
        except NotRegistered:
            return Reply(text=not_registered_text(self.deps.help_contact))
        except MaratError as refusal:
            return Reply(text=str(refusal))
        except Exception:
            log.exception("turn failed", extra={"command": label})
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
                return
            await self._deliver(gateway, reply)
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
        await self._deliver(gateway, reply)

    async def _deliver(self, gateway: TurnGateway, reply: Reply) -> None:
        if reply.text:
            await gateway.send_text(reply.text)
        if reply.card is not None:
            await gateway.send_card(reply.card)

    async def _verb(self, turn: TurnInfo, verb: str, value: Mapping[str, Any]) -> Reply:
        handler = VERBS.get(verb)
        if handler is None:
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
        reply = await self._verb(self._turn(turn_context), verb, data)
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
            await self._deliver(gateway, reply)
