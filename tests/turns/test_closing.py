"""Nothing of a closed case stays open, and a second click never reads like a refusal.

Closing or withdrawing a case closes everything of it at once: the agencies' outstanding
information-request and action cards are updated in place to say the case is closed, their
tokens answer politely that it is, its pending reminders are cancelled, and `/case` shows no
future conference and nothing "awaited". A second click on a card that already worked
(referral, plan agreement, information answer, action update) gets the same success card.
Every name is fictional.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT
from tests.support.loop import ANSWER, facts_of
from tests.support.plan_world import (
    AT_CONFERENCE,
    HOUSING_ACTION,
    POLICE_ACTION,
    Plans,
    has_button,
    plans_world,
    walk,
)
from tests.support.turns import TurnHarness, card_text

AFTER = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
CLOSED = "MARAT-2027-0001 is closed, so this card needs nothing more. Thank you."
WITHDRAWN = "MARAT-2027-0001 is withdrawn, so this card needs nothing more. Thank you."


@pytest.fixture
async def plans(harness: TurnHarness) -> Plans:
    return await plans_world(harness)


def without_tokens(card: dict[str, Any]) -> dict[str, Any]:
    """The card with its (freshly issued) tokens blanked, to compare what a person reads."""
    for node in walk(card):
        data = node.get("data")
        if isinstance(data, dict) and "token" in data:
            data["token"] = "-"
    return card


async def pending_reminders(plans: Plans, reference: str) -> list[str]:
    async with plans.harness.deps.context.units() as uow:
        case = await uow.cases.by_reference(reference)
        assert case is not None
        items = await uow.reminders.for_case(case.id)
    return [i.kind.value for i in items if i.state.value == "pending"]


# -- second clicks ---------------------------------------------------------------------------------


async def test_a_second_click_of_an_answered_information_request_shows_the_same_answer(
    plans: Plans,
) -> None:
    reference = await plans.refer()
    await plans.deliver()
    token = plans.request(POLICE_CONTACT, reference, "Police").token

    first = await plans.answer(POLICE_CONTACT, token, **ANSWER)
    plans.harness.clock.set(AFTER)
    again = await plans.answer(POLICE_CONTACT, token, **ANSWER)

    assert again == first
    assert "You answered for Police on Mon 4 Jan 2027 10:00" in card_text(again)


@pytest.mark.parametrize(
    "update", [{"status": "done", "note": "Served (synthetic)."}, {"status": "in_progress"}]
)
async def test_a_second_click_of_an_action_update_shows_the_same_card(
    plans: Plans, update: dict[str, str]
) -> None:
    reference = await plans.agreed_case()
    token = plans.action_cards(POLICE_CONTACT, reference)["Police"].token

    first = await plans.update(POLICE_CONTACT, token, **update)
    again = await plans.update(POLICE_CONTACT, token, **update)

    assert without_tokens(again) == without_tokens(first)
    assert "Last update" in facts_of(again)


# -- closing ---------------------------------------------------------------------------------


async def test_closing_closes_every_card_token_and_reminder_of_the_case_at_once(
    plans: Plans,
) -> None:
    reference = await plans.refer()
    await plans.deliver()
    housing_request = plans.request(HOUSING_CONTACT, reference, "Housing")
    await plans.answer_own(POLICE_CONTACT, reference, "Police", **ANSWER)
    reference = await _agree(plans, reference)
    police_action = plans.action_cards(POLICE_CONTACT, reference)["Police"]
    assert await pending_reminders(plans, reference), "reminders are waiting"
    plans.harness.clock.set(AFTER)

    replies = await plans.chat().say(f"close {reference} Victim moved abroad (synthetic).")
    assert [r.text for r in replies] == [f"{reference} is closed."]
    assert await pending_reminders(plans, reference) == [], "cancelled at once"
    await plans.deliver()

    # Harper's unanswered request and Pat's open action are updated in place.
    (request_now,) = plans.updates_of(housing_request.delivered)
    assert CLOSED in card_text(request_now) and not has_button(request_now, "inforeq.submit")
    (action_now,) = plans.updates_of(police_action.delivered)
    assert CLOSED in card_text(action_now) and not has_button(action_now, "action.update")
    # Their old tokens answer politely, and change nothing.
    answered = await plans.answer(HOUSING_CONTACT, housing_request.token, **ANSWER)
    assert card_text(answered) == CLOSED
    assert (await plans.recorded(reference))["housing"].answered_at is None
    updated = await plans.update(POLICE_CONTACT, police_action.token, status="done", note="x")
    assert card_text(updated) == CLOSED
    assert (await plans.actions(reference))["police"].status.value == "open"

    case = await plans.chat().card(f"case {reference}")
    facts = facts_of(case)
    assert facts["Conference"] == "heard at the conference of Thu 14 Jan 2027"
    assert facts["IDVA service"] == "not returned (the case is closed)"
    assert "awaited" not in card_text(case)
    assert "Not started (the case is closed)" in card_text(case)


async def _agree(plans: Plans, reference: str) -> str:
    plans.harness.clock.set(AT_CONFERENCE)
    card = await plans.add(await plans.plan(reference), **POLICE_ACTION)
    card = await plans.add(card, **HOUSING_ACTION)
    await plans.agree(card)
    await plans.deliver()
    return reference


async def test_withdrawing_closes_the_requests_and_reminders_at_once(plans: Plans) -> None:
    reference = await plans.refer()
    await plans.deliver()
    harper = plans.request(HOUSING_CONTACT, reference, "Housing")
    coordinator_copy = plans.request(COORDINATOR, reference, "IDVA service")

    await plans.chat().say(f"withdraw {reference} Does not meet the threshold (synthetic).")
    await plans.deliver()

    assert await pending_reminders(plans, reference) == []
    for delivered in (harper.delivered, coordinator_copy.delivered):
        (now,) = plans.updates_of(delivered)
        assert WITHDRAWN in card_text(now)
    again = await plans.answer(HOUSING_CONTACT, harper.token, **ANSWER)
    assert card_text(again) == WITHDRAWN
    case = await plans.chat().card(f"case {reference}")
    assert facts_of(case)["Conference"] == "none (the case is withdrawn)"
    assert "awaited" not in card_text(case)
    assert "Record the case discussion" not in card_text(case)
