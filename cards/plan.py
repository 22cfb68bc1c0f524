"""The action-plan card (`/plan REF`): verbs ``plan.add_action``, ``plan.remove_action`` and
``plan.agree``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from bot.domain.actions import STATUS_LABELS, Action
from bot.domain.directory import Agency
from cards.common import (
    Card,
    Element,
    day,
    envelope,
    execute,
    facts,
    heading,
    input_choice,
    input_date,
    input_text,
    text,
    with_error,
)

ADD, REMOVE, AGREE = "plan.add_action", "plan.remove_action", "plan.agree"
INPUT_IDS = ("agency", "description", "due_date", "perpetrator_focused")
YES_NO = {"yes": "Yes", "no": "No"}
FALLBACK = "A MARAT action plan is ready."


def _action_line(action: Action, names: Mapping[str, str]) -> str:
    focus = " · perpetrator-focused" if action.perpetrator_focused else ""
    state = f" · {STATUS_LABELS[action.status]}" if action.agreed else ""
    return (
        f"**{names.get(action.agency_key, action.agency_key)}**: {action.description} "
        f"(by {day(action.due)}){focus}{state}"
    )


def plan_card(
    reference: str,
    state: str,
    actions: Sequence[Action],
    agencies: Sequence[Agency],
    names: Mapping[str, str],
    token: str,
    remove_tokens: Mapping[int, str],
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    confirm_without_perpetrator_action: bool = False,
) -> Card:
    """The action-plan card: agreed and draft actions, the add form (with errors under its
    fields) and the Agree button (or the explicit confirmation when no action addresses the
    person causing harm)."""
    v = {k: str(val) for k, val in (values or {}).items() if val is not None}
    errs = dict(errors or {})
    body: list[Element] = [
        heading(f"Safety action plan · {reference}"),
        text(f"The case is {state}.", subtle=True),
    ]
    if notice:
        body.append(text(notice, attention=True))
    body.extend(text(m, attention=True) for k, m in errs.items() if k not in INPUT_IDS)
    agreed = [a for a in actions if a.agreed]
    drafts = [a for a in actions if not a.agreed]
    if agreed:
        body.append(text("Agreed actions", bold=True, spacing="Large"))
        body.extend(text(_action_line(a, names)) for a in agreed)
    body.append(text(f"New actions ({len(drafts)})", bold=True, spacing="Large"))
    if not drafts:
        body.append(
            text(
                "None yet. Add each action below: which agency, what exactly will be "
                "done, and by when.",
                subtle=True,
            )
        )
    for action in drafts:
        body.append(
            {
                "type": "ColumnSet",
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [text(_action_line(action, names))],
                    },
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [
                            {
                                "type": "ActionSet",
                                "actions": [
                                    execute("Remove", REMOVE, {"token": remove_tokens[action.id]})
                                ],
                            }
                        ],
                    },
                ],
            }
        )
    body.append(text("Add an action", bold=True, spacing="Large"))
    inputs = [
        input_choice(
            "agency", "Agency responsible", {a.key: a.name for a in agencies}, v.get("agency", "")
        ),
        input_text(
            "description",
            "What will be done (specific and measurable)",
            v.get("description", ""),
            multiline=True,
            max_length=1000,
        ),
        input_date("due_date", "Due date (a working day)", v.get("due_date", "")),
        input_choice(
            "perpetrator_focused",
            "Does it address the person causing harm?",
            YES_NO,
            v.get("perpetrator_focused", ""),
            expanded=True,
        ),
    ]
    for element in inputs:
        body.extend(with_error(element, errs))
    buttons = [execute("Add action", ADD, {"token": token})]
    if confirm_without_perpetrator_action:
        body.append(
            text(
                "No action addresses the person causing harm. Perpetrator risk must "
                "be considered explicitly: add such an action, or confirm that the "
                "conference considered it and agreed none.",
                attention=True,
            )
        )
        buttons.append(
            execute(
                "Confirm and agree",
                AGREE,
                {"token": token, "confirm": "no_perpetrator_action"},
                "destructive",
            )
        )
    else:
        buttons.append(execute("Agree the plan", AGREE, {"token": token}, "positive"))
    return envelope(body, buttons, FALLBACK)


def plan_agreed_card(
    reference: str, actions: Sequence[Action], names: Mapping[str, str], conference: date | None
) -> Card:
    """What replaces the plan card once the plan is agreed."""
    when = f" at the conference of {day(conference)}" if conference else ""
    body: list[Element] = [
        heading(f"Plan agreed · {reference}"),
        text(
            f"The plan was agreed{when}. Each agency's contacts have been sent their actions; "
            "the case is now monitored."
        ),
        facts(
            [
                (names.get(a.agency_key, a.agency_key), f"{a.description} (by {day(a.due)})")
                for a in actions
            ]
        ),
    ]
    return envelope(body, fallback_text="A MARAT action plan was agreed.")
