"""The cards the bot sends on its own initiative, for the use cases' ``ProactiveCards`` port
(bot/ports.py): each comes with a neutral summary, because Teams shows it in previews."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from bot.domain.actions import Action
from bot.domain.cases import CaseView
from bot.domain.delivery import OutgoingMessage
from cards.action import NEUTRAL as ACTION_NEUTRAL
from cards.action import action_card
from cards.discussion import NEUTRAL as DISCUSSION_NEUTRAL
from cards.discussion import discussion_card
from cards.information_request import NEUTRAL as INFOREQ_NEUTRAL
from cards.information_request import answered_card, closed_card, information_request_card


class TeamsCards:
    """Adaptive Cards for proactive messages (wired into the use cases in bot/teams/app.py)."""

    def information_request(
        self, token: str, case: CaseView, agency_name: str, due: date
    ) -> OutgoingMessage:
        """An agency's information request, with its answer form."""
        card = information_request_card(token, case, agency_name, due)
        return OutgoingMessage(card=card, summary=INFOREQ_NEUTRAL)

    def information_answered(
        self, reference: str, agency_name: str, answered_by: str, answered_at: datetime, late: bool
    ) -> OutgoingMessage:
        """What replaces a colleague's copy once the agency has answered."""
        card = answered_card(reference, agency_name, answered_by, answered_at, late, mine=False)
        return OutgoingMessage(card=card, summary="A MARAT information request was answered.")

    def action(
        self,
        action: Action,
        agency_name: str,
        token: str | None,
        updated_by: str | None,
        notice: str | None = None,
    ) -> OutgoingMessage:
        """An agency's action card; a new one (no update yet), a colleague's updated copy, or
        one updated by the coordinator (``notice`` says what changed)."""
        card = action_card(action, agency_name, token, updated_by, notice=notice)
        fresh = updated_by is None and notice is None
        summary = ACTION_NEUTRAL if fresh else "A MARAT action was updated."
        return OutgoingMessage(card=card, summary=summary)

    def request_closed(self, reference: str, agency_name: str, why: str) -> OutgoingMessage:
        """What replaces an unanswered information request once it needs no answer."""
        card = closed_card(why, reference, agency_name)
        return OutgoingMessage(card=card, summary="A MARAT information request is closed.")

    def discussion(
        self, token: str, reference: str, when: date, agencies: Mapping[str, str]
    ) -> OutgoingMessage:
        """The day-3 case-discussion card for the coordinator."""
        card = discussion_card(token, reference, when, agencies)
        return OutgoingMessage(card=card, summary=DISCUSSION_NEUTRAL)
