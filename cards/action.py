"""An agency's action card (verb ``action.update``) and the `/actions` list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from bot.domain.actions import STATUS_LABELS, UPDATE_CHOICES, Action
from cards.common import (
    Card,
    Element,
    day,
    envelope,
    execute,
    facts,
    heading,
    input_choice,
    input_text,
    moment,
    text,
    with_error,
)

VERB = "action.update"
INPUT_IDS = ("status", "note")
NEUTRAL = "A MARAT action needs your update"


def action_card(
    action: Action,
    agency_name: str,
    token: str | None,
    updated_by: str | None,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
) -> Card:
    """The action as the agency sees it; once done or not possible, no more inputs."""
    v = {k: str(val) for k, val in (values or {}).items() if val is not None}
    errs = dict(errors or {})
    body: list[Element] = [
        heading(f"MARAT action for {agency_name}"),
        facts(
            [
                ("Case", action.reference),
                ("Action", action.description),
                ("Due", day(action.due)),
                ("Status", STATUS_LABELS[action.status]),
            ]
            + (
                [
                    (
                        "Last update",
                        f"{updated_by or 'Someone'}, {moment(action.updated_at)}"
                        + (f": {action.note}" if action.note else ""),
                    )
                ]
                if action.updated_at
                else []
            )
        ),
    ]
    if notice:
        body.append(text(notice, attention=True))
    if action.status.is_closed or token is None:
        body.append(text("This action is closed. Thank you.", subtle=True))
        return envelope(body, fallback_text="A MARAT action was updated.")
    for element in (
        input_choice(
            "status", "Progress", UPDATE_CHOICES, v.get("status", ""), required=True, expanded=True
        ),
        input_text(
            "note",
            "Note (required when done or not possible)",
            v.get("note", ""),
            multiline=True,
            max_length=1000,
        ),
    ):
        body.extend(with_error(element, errs))
    return envelope(body, [execute("Send update", VERB, {"token": token}, "positive")], NEUTRAL)


def actions_card(
    title: str, actions: Sequence[Action], names: Mapping[str, str], today: date
) -> Card:
    """The `/actions` list: each open action with its case, agency, due date and status."""
    body: list[Element] = [heading(f"{title} ({len(actions)})")]
    if not actions:
        body.append(text("Nothing outstanding."))
    for action in actions:
        late = " · **overdue**" if action.is_overdue(today) else ""
        body.append(
            text(
                f"**{action.reference}** · {names.get(action.agency_key, '')} · "
                f"{action.description} · due {day(action.due)} · "
                f"{STATUS_LABELS[action.status]}{late}"
            )
        )
    return envelope(body, fallback_text="A MARAT action list is ready.")
