"""Every card the builders produce obeys the wire contract and the renderer's rules.

The rules below are the ones the official renderer (adaptivecards 3.0.6) or Teams enforce
silently: a violation does not crash, it loses data or a button.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.card_catalogue import catalogue


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


CARDS = catalogue()


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
    card = CARDS[name]
    for action in card.get("actions", []):
        assert action["type"] == "Action.Execute" and action["verb"]
    everything = list(walk({"body": card.get("body", []), "actions": card.get("actions", [])}))
    executes = [n for n in everything if n.get("type") == "Action.Execute"]
    for action in executes:  # top-level, in ActionSets, and in the forms ShowCards open
        assert action["verb"], action
        fallback = action["fallback"]
        assert fallback["type"] == "Action.Submit"
        assert fallback["data"] == action["data"]
        assert action["data"]["verb"] == action["verb"] and action["data"]["token"]
    submits = [n for n in everything if n.get("type") == "Action.Submit"]
    assert len(submits) == len(executes), "Action.Submit only as Action.Execute's fallback"


def forms(card: dict[str, Any], parents: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """The input ids a button of each (sub)card gathers: its own and its parents' (a
    ShowCard's buttons gather the card's inputs too, never a sibling ShowCard's)."""
    own: list[str] = []
    nested: list[dict[str, Any]] = []

    def scan(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.ShowCard":
                nested.append(node["card"])
                return
            if str(node.get("type", "")).startswith("Input."):
                own.append(node["id"])
            for value in node.values():
                scan(value)
        elif isinstance(node, list):
            for item in node:
                scan(item)

    scan(card.get("body", []))
    scan(card.get("actions", []))
    gathered = [*parents, *own]
    yield gathered
    for sub in nested:
        yield from forms(sub, tuple(gathered))


@pytest.mark.parametrize("name", sorted(CARDS))
def test_inputs_are_labelled_unique_and_typed(name: str) -> None:
    inputs = [n for n in walk(CARDS[name]["body"]) if str(n.get("type")).startswith("Input.")]
    for ids in forms(CARDS[name]):
        assert len(ids) == len(set(ids)), ids
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
    body = CARDS["referral-failed"]["body"]
    assert body[1]["text"].startswith("Sorry, something went wrong")
    assert body[1]["color"] == "Attention"
