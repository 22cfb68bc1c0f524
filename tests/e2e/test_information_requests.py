"""End to end through the Agents Playground: a referral's information requests reach the
coordinator's personal chat proactively, and an answer with Action.Execute counts as a return.

``marat serve --demo``: the Playground's user Alex Wilber is the coordinator and a contact of
every agency, so he receives one request card per involved agency. Every name is fictional.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.playground import (
    CARD_CONTENT_TYPE,
    JSON,
    REFERENCE,
    PlaygroundClient,
    card_text,
    execute_action,
    facts_of,
    inputs_of,
)

pytestmark = pytest.mark.e2e

REFER = "refer.submit"
ANSWER = "inforeq.submit"
NEUTRAL = "A MARAT information request needs your answer"


def referral_values(card: JSON, agencies: str) -> dict[str, Any]:
    """A valid referral for the card (strings, as Teams sends them), involving ``agencies``."""
    referring = inputs_of(card)["referring_agency"]["choices"][0]["value"]
    return {
        "victim_name": "Robin Testvictim",
        "victim_gender": "female",
        "victim_ethnicity": "not_known",
        "victim_disability": "not_known",
        "victim_lgbt": "not_known",
        "perpetrator_name": "Sam Testperson",
        "relationship": "ex_partner",
        "children_count": "0",
        "referring_agency": referring,
        "criteria": "visible_high_risk",
        "dash_score": "15",
        "received_date": datetime.now(ZoneInfo("Europe/London")).date().isoformat(),
        "agencies": agencies,
        "summary": "Synthetic end-to-end referral for the information-request loop.",
        "consent": "yes",
    }


def invoked_card(response: Any) -> JSON:
    assert isinstance(response, dict), response
    assert response.get("type") == CARD_CONTENT_TYPE, response
    card = response.get("value")
    assert isinstance(card, dict) and card.get("type") == "AdaptiveCard", response
    return card


def request_for(reference: str, agency: str) -> Any:
    """Matches the open information-request card of ``agency`` about the case."""

    def matches(card: JSON) -> bool:
        text = card_text(card)
        return "known" in inputs_of(card) and reference in text and f"For {agency}:" in text

    return matches


async def test_requests_arrive_proactively_and_an_execute_answer_counts(
    pg: PlaygroundClient,
) -> None:
    # Any message stores Alex's conversation reference; /refer is one.
    k = pg.mark()
    await pg.send_text("/refer")
    referral_message, referral = await pg.wait_card(
        since=k, predicate=lambda c: "victim_name" in inputs_of(c)
    )
    choices = inputs_of(referral)["agencies"]["choices"]
    assert len(choices) >= 2, choices
    involved = [str(c["title"]) for c in choices[:2]]
    agencies = ",".join(str(c["value"]) for c in choices[:2])

    k = pg.mark()
    action = execute_action(referral, REFER)
    response = await pg.execute(
        referral_message["messageId"],
        REFER,
        {**action["data"], **referral_values(referral, agencies)},
        action["title"],
    )
    done = card_text(invoked_card(response))
    references = REFERENCE.findall(done)
    assert references, done
    reference = references[0]

    # One request per involved agency arrives in Alex's chat without him asking.
    received: dict[str, tuple[JSON, JSON]] = {}
    for agency in involved:
        received[agency] = await pg.wait_card(since=k, predicate=request_for(reference, agency))
    first_message, first_card = received[involved[0]]
    assert first_card["fallbackText"] == NEUTRAL
    assert facts_of(first_card)["Case"] == reference
    assert "Robin Testvictim" in facts_of(first_card)["Victim"]
    assert {"known", "information", "concerns"} <= set(inputs_of(first_card))
    tokens = {execute_action(card, ANSWER)["data"]["token"] for _, card in received.values()}
    assert len(tokens) == len(involved)

    # Alex answers the first agency's request with Action.Execute.
    answer = execute_action(first_card, ANSWER)
    assert answer["fallback"]["type"] == "Action.Submit"
    response = await pg.execute(
        first_message["messageId"],
        ANSWER,
        {**answer["data"], "known": "yes", "information": "Synthetic: one call-out last year."},
        answer["title"],
    )
    answered = invoked_card(response)
    text = card_text(answered)
    assert f"You answered for {involved[0]} on " in text, text
    assert reference in text
    assert not inputs_of(answered) and not answered.get("actions")

    # The case now counts one of its two returns.
    k = pg.mark()
    await pg.send_text(f"/case {reference}")
    _, case = await pg.wait_card(since=k, predicate=lambda c: "Information returns" in facts_of(c))
    facts = facts_of(case)
    assert facts["Information returns"] == "1/2", facts
    assert facts[involved[0]].startswith("returned "), facts
    assert facts[involved[0]].endswith(" by Alex Wilber"), facts
    assert facts[involved[1]].startswith("awaited"), facts
