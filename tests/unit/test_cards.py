"""Every card the builders produce obeys the wire contract and the renderer's rules.

The rules below are the ones the official renderer (adaptivecards 3.0.6) or Teams enforce
silently: a violation does not crash, it loses data or a button.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import Agenda, CaseDetail, CaseView, Listing, Meeting
from bot.domain.deadlines import CaseDeadlines
from bot.domain.directory import DEFAULT_AGENCIES, Agency, Person, agency_key
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import parse_referral
from cards.agenda import agenda_card
from cards.case import case_card, cases_card, meetings_card
from cards.help import help_card
from cards.referral import already_submitted_card, referral_card, referral_done_card
from tests.support.builders import COORDINATOR, referral_inputs

AGENCIES = [Agency(i, agency_key(name), name) for i, name in enumerate(DEFAULT_AGENCIES, 1)]
CALENDAR = WorkingDayCalendar("ENG")
TODAY = date(2027, 1, 4)


def a_case(
    children: int = 2, breach: bool = False, meeting: date | None = date(2027, 1, 14)
) -> CaseView:
    referral = parse_referral(
        referral_inputs(children_count=str(children)), TODAY, [a.key for a in AGENCIES]
    )
    deadlines = CaseDeadlines(
        TODAY, TODAY, date(2027, 1, 6), date(2027, 1, 7), date(2027, 1, 8), date(2027, 1, 22)
    )
    return CaseView(
        1,
        "MARAT-2027-0001",
        CaseState.REFERRED,
        referral,
        deadlines,
        Listing(1 if meeting else None, meeting, date(2027, 1, 22), breach),
        referral.agencies,
        1,
        3,
        datetime(2027, 1, 4, 10, tzinfo=UTC),
        COORDINATOR,
    )


def all_cards() -> Iterator[tuple[str, dict[str, Any]]]:
    yield "referral", referral_card("tok", AGENCIES, TODAY.isoformat())
    yield (
        "referral-errors",
        referral_card(
            "tok",
            AGENCIES,
            TODAY.isoformat(),
            referral_inputs(victim_name="", dash_score="30"),
            {
                "victim_name": "Please enter the victim's name.",
                "dash_score": "0 to 24.",
                "_form": "Something went wrong.",
            },
        ),
    )
    yield "referral-done", referral_done_card(a_case(), CALENDAR)
    yield "referral-done-breach", referral_done_card(a_case(breach=True, meeting=None), CALENDAR)
    yield "already-submitted", already_submitted_card("MARAT-2027-0001")
    meeting = Meeting(1, date(2027, 1, 14), 18, 2)
    yield (
        "agenda",
        agenda_card(
            Agenda(meeting, (a_case(),), (a_case(0),), (a_case(),), TODAY), CALENDAR, TODAY
        ),
    )
    yield "agenda-empty", agenda_card(Agenda(None, (), (), (), TODAY), CALENDAR, TODAY)
    transitions = (
        Transition(None, CaseState.REFERRED, COORDINATOR, datetime(2027, 1, 4, 10, tzinfo=UTC)),
    )
    detail = CaseDetail(
        a_case(), transitions, {a.key: a.name for a in AGENCIES}, frozenset({"police"})
    )
    yield "case", case_card(detail, CALENDAR, TODAY, True)
    yield "cases", cases_card([a_case(), a_case(breach=True)], TODAY)
    yield "meetings", meetings_card([meeting])
    person = Person(COORDINATOR, "Casey", None, True, frozenset({"police"}))
    yield "help", help_card(person, {"police": "Police"})


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


CARDS = dict(all_cards())


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_envelope_is_adaptive_card_1_5_with_a_neutral_fallback(name: str) -> None:
    card = CARDS[name]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    fallback = card["fallbackText"]
    assert fallback.startswith(("A MARAT", "MARAT", "You have a new message"))
    assert "Jane" not in fallback and "MARAT-" not in fallback


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_action_is_execute_with_a_submit_fallback_carrying_the_same_data(
    name: str,
) -> None:
    for action in CARDS[name].get("actions", []):
        assert action["type"] == "Action.Execute" and action["verb"]
        fallback = action["fallback"]
        assert fallback["type"] == "Action.Submit"
        assert fallback["data"] == action["data"]
        assert action["data"]["verb"] == action["verb"] and action["data"]["token"]


@pytest.mark.parametrize("name", sorted(CARDS))
def test_inputs_are_labelled_unique_and_typed(name: str) -> None:
    inputs = [n for n in walk(CARDS[name]["body"]) if str(n.get("type")).startswith("Input.")]
    ids = [i["id"] for i in inputs]
    assert len(ids) == len(set(ids))
    for element in inputs:
        assert element.get("label"), element["id"]
        if element.get("isRequired"):
            assert element.get("errorMessage"), element["id"]
        if element["type"] == "Input.Number" and "value" in element:
            assert isinstance(element["value"], int | float), element["id"]
        if element["type"] != "Input.Number":
            assert isinstance(element.get("value", ""), str), element["id"]
        if element["type"] == "Input.ChoiceSet" and element.get("value"):
            values = {c["value"] for c in element["choices"]}
            chosen = (
                element["value"].split(",") if element.get("isMultiSelect") else [element["value"]]
            )
            assert set(chosen) <= values, element["id"]


def test_the_re_shown_referral_keeps_numbers_the_user_typed() -> None:
    card = CARDS["referral-errors"]
    numbers = {
        n["id"]: n.get("value") for n in walk(card["body"]) if n.get("type") == "Input.Number"
    }
    assert numbers == {"children_count": 2, "dash_score": 30}


def test_a_general_error_is_shown_at_the_top_of_the_form() -> None:
    body = CARDS["referral-errors"]["body"]
    assert body[1]["text"] == "Something went wrong." and body[1]["color"] == "Attention"
