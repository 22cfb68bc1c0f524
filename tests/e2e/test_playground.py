"""End to end through the Microsoft 365 Agents Playground: install, refer, agenda, cases.

The bot runs as ``marat serve --demo`` (fresh SQLite); the Playground's user Alex Wilber is a
coordinator, and conferences are seeded every Thursday for 8 weeks. Every name is fictional.
The referral card is driven by its wire contract (PRODUCT.md section 4): verb ``refer.submit``
and the input ids below.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import WorkingDayCalendar
from tests.support.playground import (
    CARD_CONTENT_TYPE,
    CARD_UPDATES,
    JSON,
    REFERENCE,
    PlaygroundClient,
    card_text,
    element_after,
    execute_action,
    facts_of,
    inputs_of,
    message_text,
)

pytestmark = pytest.mark.e2e

VERB = "refer.submit"
INPUT_IDS = (
    "victim_name",
    "victim_dob",
    "victim_gender",
    "victim_ethnicity",
    "victim_disability",
    "victim_lgbt",
    "perpetrator_name",
    "perpetrator_dob",
    "relationship",
    "children_count",
    "referring_agency",
    "criteria",
    "dash_score",
    "incident_date",
    "received_date",
    "agencies",
    "summary",
    "consent",
    "consent_reason",
)
OPEN_CASES = re.compile(r"Open cases \((\d+)\)")


def london_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


def shown(value: date) -> str:
    """A date as the cards show it: 'Thu 1 Apr 2027'."""
    return f"{value:%a} {value.day} {value:%b %Y}"


def is_referral_card(card: JSON) -> bool:
    return "victim_name" in inputs_of(card)


def valid_inputs(card: JSON, **overrides: Any) -> dict[str, Any]:
    """A valid referral for ``card`` (strings, as Teams sends them), with fictional names."""
    agencies = inputs_of(card)["referring_agency"]["choices"]
    values: dict[str, Any] = {
        "victim_name": "Jane Testcase",
        "victim_gender": "female",
        "victim_ethnicity": "not_known",
        "victim_disability": "not_known",
        "victim_lgbt": "not_known",
        "perpetrator_name": "John Testperson",
        "relationship": "ex_partner",
        "children_count": "1",
        "referring_agency": agencies[0]["value"],
        "criteria": "visible_high_risk",
        "dash_score": "16",
        "received_date": london_today().isoformat(),
        "agencies": inputs_of(card)["agencies"]["value"],
        "summary": "Synthetic end-to-end test referral.",
        "consent": "yes",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


async def open_referral(pg: PlaygroundClient) -> tuple[JSON, JSON]:
    """Type /refer and wait for the referral card: (message, card)."""
    k = pg.mark()
    await pg.send_text("/refer")
    return await pg.wait_card(since=k, predicate=is_referral_card)


async def open_cases(pg: PlaygroundClient) -> tuple[int, set[str]]:
    """Type /cases: the number of open cases and the references listed."""
    k = pg.mark()
    await pg.send_text("/cases")
    _, card = await pg.wait_card(since=k, predicate=lambda c: bool(OPEN_CASES.search(card_text(c))))
    text = card_text(card)
    match = OPEN_CASES.search(text)
    assert match is not None
    return int(match.group(1)), set(REFERENCE.findall(text))


async def agenda(pg: PlaygroundClient, args: str) -> str:
    """Type /agenda [args] and return the visible text of the agenda card."""
    k = pg.mark()
    await pg.send_text(f"/agenda {args}".strip())
    _, card = await pg.wait_card(since=k, predicate=lambda c: "MARAC conference" in card_text(c))
    return card_text(card)


def invoked_card(response: Any) -> JSON:
    """The card of an Action.Execute invoke response (Universal Actions)."""
    assert isinstance(response, dict), response
    assert response.get("type") == CARD_CONTENT_TYPE, response
    card = response.get("value")
    assert isinstance(card, dict) and card.get("type") == "AdaptiveCard", response
    return card


class Expected(NamedTuple):
    discussion: date  # working day 3 from day 0
    conference: date  # where the case is listed


def expected_dates(today: date) -> Expected:
    """The dates a referral received today must get, from the project's working-day calendar.

    Case discussion: working day 3 counted from day 0 (today, or the next working day).
    Conference: the demo seeds Thursdays (the next working day on a holiday) from working
    day 4, so the case goes to the first Thursday on or after working day 4.
    """
    calendar = WorkingDayCalendar("ENG")
    day_zero = calendar.next_working_day(today)
    discussion = calendar.add_working_days(day_zero, 3)
    earliest = calendar.add_working_days(day_zero, 4)
    thursday = earliest + timedelta(days=(3 - earliest.weekday()) % 7)
    return Expected(discussion, calendar.next_working_day(thursday))


async def test_install_greets_with_the_help_card(pg: PlaygroundClient) -> None:
    k = pg.mark()
    await pg.install()
    _, card = await pg.wait_card(since=k)
    text = card_text(card)
    assert "refer" in text.lower()
    assert "refer" in facts_of(card), text
    assert "coordinator" in text, text


async def test_refer_execute_creates_a_case_on_the_agenda(pg: PlaygroundClient) -> None:
    message, card = await open_referral(pg)
    inputs = inputs_of(card)
    assert set(INPUT_IDS) <= set(inputs), sorted(set(INPUT_IDS) - set(inputs))
    action = execute_action(card, VERB)
    assert action["data"].get("token")
    assert action["fallback"]["type"] == "Action.Submit"
    assert action["fallback"]["data"] == action["data"]

    today = london_today()
    assert inputs["received_date"]["value"] == today.isoformat()  # defaults to today (London)
    response = await pg.execute(
        message["messageId"], VERB, {**action["data"], **valid_inputs(card)}, action["title"]
    )
    done = invoked_card(response)
    text = card_text(done)
    references = REFERENCE.findall(text)
    assert references, text
    reference = references[0]
    assert re.fullmatch(r"MARAT-\d{4}-\d{4}", reference)
    assert "Jane Testcase" not in text  # initials only

    expected = expected_dates(today)
    facts = facts_of(done)
    discussion_shown = next(v for t, v in facts.items() if "discussion" in t.lower())
    assert discussion_shown == shown(expected.discussion), facts
    assert facts.get("Conference") == shown(expected.conference), facts

    # The agenda of the conference the case is listed at.
    agenda_text = await agenda(pg, expected.conference.isoformat())
    assert f"MARAC conference {shown(expected.conference)}" in agenda_text, agenda_text
    assert reference in agenda_text, agenda_text
    assert "Jane Testcase" not in agenda_text
    # A plain `/agenda` shows the next conference: the one the new case is listed at.
    agenda_text = await agenda(pg, "")
    assert f"MARAC conference {shown(expected.conference)}" in agenda_text, agenda_text
    assert reference in agenda_text, agenda_text


async def test_invalid_referral_comes_back_with_errors_and_creates_nothing(
    pg: PlaygroundClient,
) -> None:
    count_before, references_before = await open_cases(pg)
    message, card = await open_referral(pg)
    action = execute_action(card, VERB)
    bad = valid_inputs(card, victim_name=None, dash_score="30", perpetrator_name="John Keptvalue")

    response = await pg.execute(message["messageId"], VERB, {**action["data"], **bad})
    again = invoked_card(response)
    inputs = inputs_of(again)
    assert set(INPUT_IDS) <= set(inputs), "the referral card did not come back"
    assert inputs["perpetrator_name"]["value"] == "John Keptvalue"
    assert inputs["relationship"]["value"] == "ex_partner"
    assert str(inputs["dash_score"].get("value")) == "30"
    assert inputs["victim_name"]["value"] == ""
    assert execute_action(again, VERB)["data"]["token"] == action["data"]["token"]
    for field in ("victim_name", "dash_score"):
        error = element_after(again, field)
        assert error is not None, f"nothing after {field}"
        assert error.get("type") == "TextBlock", (field, error)
        assert error.get("color") == "Attention", (field, error)
        assert error.get("text"), (field, error)
    following = element_after(again, "perpetrator_name")
    assert following is None or following.get("color") != "Attention", following

    count_after, references_after = await open_cases(pg)
    assert count_after == count_before
    assert references_after == references_before


async def test_refer_action_submit_replaces_the_card(pg: PlaygroundClient) -> None:
    message, card = await open_referral(pg)
    fallback = execute_action(card, VERB)["fallback"]
    assert fallback["type"] == "Action.Submit"
    assert fallback["data"]["verb"] == VERB

    k = pg.mark()
    await pg.submit(message["messageId"], {**fallback["data"], **valid_inputs(card)})
    reply = await pg.wait_for(
        lambda m: bool(REFERENCE.search(message_text(m))),
        since=k,
        actions=CARD_UPDATES,
        what="card update or message with a MARAT reference",
    )
    if reply["_action"] == "updateMessage":
        assert reply["messageId"] == message["messageId"], "another card was updated"
    assert "Referral recorded" in message_text(reply)
