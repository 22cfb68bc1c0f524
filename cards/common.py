"""Building blocks shared by every card: the envelope, actions, inputs with field errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain.wording import day as day
from bot.domain.wording import moment as moment

Card = dict[str, Any]
Element = dict[str, Any]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


NEUTRAL_TEXT = "You have a new message from the MARAT."


def envelope(
    body: Sequence[Element], actions: Sequence[Element] = (), fallback_text: str = NEUTRAL_TEXT
) -> Card:
    """An Adaptive Card 1.5; ``fallback_text`` is neutral because previews show it."""
    card: Card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.5",
        "fallbackText": fallback_text,
        "body": list(body),
    }
    if actions:
        card["actions"] = list(actions)
    return card


def message_card(message: str) -> Card:
    """A card that only says something: the answer to a button that was refused or failed.
    Its fallback text is neutral like every card's (previews may show it)."""
    return envelope([text(message)])


def execute(title: str, verb: str, data: Mapping[str, Any], style: str | None = None) -> Element:
    """Action.Execute with an Action.Submit fallback carrying the same data (and the verb)."""
    payload = {**data, "verb": verb}
    action: Element = {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": payload,
        "fallback": {"type": "Action.Submit", "title": title, "data": payload},
    }
    if style:
        action["style"] = style
    return action


def heading(text: str) -> Element:
    """A card title."""
    return {"type": "TextBlock", "text": text, "weight": "Bolder", "size": "Medium", "wrap": True}


def text(
    value: str,
    *,
    subtle: bool = False,
    attention: bool = False,
    bold: bool = False,
    spacing: str | None = None,
) -> Element:
    """A wrapping TextBlock (subtle, attention or bold as asked)."""
    block: Element = {"type": "TextBlock", "text": value, "wrap": True}
    if subtle:
        block["isSubtle"] = True
    if attention:
        block["color"] = "Attention"
    if bold:
        block["weight"] = "Bolder"
    if spacing:
        block["spacing"] = spacing
    return block


def facts(pairs: Sequence[tuple[str, str]]) -> Element:
    """A FactSet of (title, value) pairs."""
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def field_error(message: str) -> Element:
    """The red message shown directly under an input that failed validation."""
    return {
        "type": "TextBlock",
        "text": message,
        "color": "Attention",
        "size": "Small",
        "wrap": True,
        "spacing": "None",
    }


def with_error(element: Element, errors: Mapping[str, str]) -> list[Element]:
    """The input, followed by its error (if any) directly underneath it."""
    message = errors.get(element["id"])
    return [element, field_error(message)] if message else [element]


def input_text(
    id_: str,
    label: str,
    value: str = "",
    *,
    required: bool = False,
    multiline: bool = False,
    max_length: int | None = None,
    placeholder: str | None = None,
) -> Element:
    """An Input.Text with its label (and, when required, the message Teams shows)."""
    element: Element = {"type": "Input.Text", "id": id_, "label": label, "value": value}
    if required:
        element["isRequired"] = True
        element["errorMessage"] = f"{label} is required."
    if multiline:
        element["isMultiline"] = True
    if max_length:
        element["maxLength"] = max_length
    if placeholder:
        element["placeholder"] = placeholder
    return element


def input_date(id_: str, label: str, value: str = "", *, required: bool = False) -> Element:
    """An Input.Date with its label."""
    element: Element = {"type": "Input.Date", "id": id_, "label": label, "value": value}
    if required:
        element["isRequired"] = True
        element["errorMessage"] = f"{label} is required."
    return element


def input_number(
    id_: str, label: str, value: str = "", *, low: int, high: int, required: bool = False
) -> Element:
    """An Input.Number with its label and range; a value the user typed is kept as a number."""
    element: Element = {"type": "Input.Number", "id": id_, "label": label, "min": low, "max": high}
    # Input.Number takes a JSON number: a string value is silently dropped by the renderer,
    # and the user's entry with it.
    number = _as_number(value)
    if number is not None:
        element["value"] = number
    if required:
        element["isRequired"] = True
        element["errorMessage"] = f"{label} is required (a number from {low} to {high})."
    return element


def _as_number(value: str) -> int | float | None:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def input_choice(
    id_: str,
    label: str,
    choices: Mapping[str, str],
    value: str = "",
    *,
    required: bool = False,
    multi: bool = False,
    expanded: bool = False,
) -> Element:
    """An Input.ChoiceSet (compact, expanded or multi-select) with its label."""
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": id_,
        "label": label,
        "style": "expanded" if expanded else "compact",
        "choices": [{"title": title, "value": key} for key, title in choices.items()],
        "value": value,
    }
    if multi:
        element["isMultiSelect"] = True
    if required:
        element["isRequired"] = True
        element["errorMessage"] = f"Please choose {label.lower()}."
    return element


def input_toggle(id_: str, label: str, title: str, value_on: str, value: str = "") -> Element:
    """An Input.Toggle (a checkbox): ``value_on`` when ticked, "" when not."""
    return {
        "type": "Input.Toggle",
        "id": id_,
        "label": label,
        "title": title,
        "valueOn": value_on,
        "valueOff": "",
        "value": value if value == value_on else "",
    }
