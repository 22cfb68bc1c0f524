"""The case-discussion card (verb ``discussion.record``): held or not, who took part, notes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from cards.common import (
    Card,
    Element,
    day,
    envelope,
    execute,
    heading,
    input_choice,
    input_text,
    with_error,
)
from cards.common import text as text_block

VERB = "discussion.record"
INPUT_IDS = ("held", "attendees", "notes")
NEUTRAL = "A MARAT case discussion is due today"
HELD = {"yes": "Yes, it was held", "no": "No, it was not held"}


def discussion_elements(
    token: str,
    reference: str,
    when: date,
    agencies: Mapping[str, str],
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
) -> tuple[list[Element], list[Element]]:
    """The inputs and button, for the reminder card and for the coordinator's `/case`."""
    v = {k: str(val) for k, val in (values or {}).items() if val is not None}
    errs = dict(errors or {})
    body: list[Element] = [
        text_block(
            f"Record the case discussion of {reference} (due {day(when)}).",
            bold=True,
            spacing="Large",
        ),
    ]
    for element in (
        input_choice(
            "held",
            "Was the case discussion held?",
            HELD,
            v.get("held", ""),
            required=True,
            expanded=True,
        ),
        input_choice(
            "attendees",
            "Agencies that took part",
            dict(agencies),
            v.get("attendees", ""),
            multi=True,
        ),
        input_text(
            "notes",
            "Notes (what was shared, immediate safety steps)",
            v.get("notes", ""),
            multiline=True,
            max_length=4000,
        ),
    ):
        body.extend(with_error(element, errs))
    return body, [execute("Record discussion", VERB, {"token": token}, "positive")]


def discussion_card(
    token: str,
    reference: str,
    when: date,
    agencies: Mapping[str, str],
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Card:
    """The day-3 case-discussion card, as the reminder brings it to the coordinator."""
    body, actions = discussion_elements(token, reference, when, agencies, values, errors)
    return envelope([heading("MARAT case discussion"), *body], actions, NEUTRAL)


def discussion_recorded_card(reference: str, held: bool, attendees: list[str]) -> Card:
    """What replaces the discussion form once it is recorded."""
    if held:
        line = (
            f"The case discussion of {reference} is recorded as held, with "
            f"{', '.join(attendees) or 'no agency named'}."
        )
    else:
        line = f"The case discussion of {reference} is recorded as not held."
    return envelope(
        [heading("MARAT case discussion"), text_block(line)],
        fallback_text="A MARAT case discussion was recorded.",
    )
