"""The action-plan card (`/plan REF`): verbs ``plan.add_action``, ``plan.remove_action`` and
``plan.agree`` while the plan is drafted; once agreed, ``plan.add_action``,
``plan.change_action`` (inputs ``due_date``, ``agency``, ``reason``) and
``plan.withdraw_action`` (input ``reason``) amend it between conferences.

Input ids must be unique in a card (the official renderer flags duplicates anywhere in it,
Action.ShowCard sub-cards included), and every agreed action's change form would reuse the
contract's ``due_date``, ``agency`` and ``reason``. So the plan card lists the agreed actions
with a "Change or withdraw" button each (verb ``plan.open_amendment``), which brings back the
card with that one action's form and nothing else; after a refused click the same single form
comes back with its errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from bot.domain.actions import STATUS_LABELS, Action, Amendment
from bot.domain.directory import Agency
from bot.domain.hearing import OUTSIDE, OUTSIDE_REASON
from cards.case import amendment_text
from cards.common import (
    Card,
    Element,
    day,
    envelope,
    execute,
    heading,
    input_choice,
    input_date,
    input_text,
    input_toggle,
    text,
    with_error,
)

ADD, REMOVE, AGREE = "plan.add_action", "plan.remove_action", "plan.agree"
OPEN, CHANGE, WITHDRAW = "plan.open_amendment", "plan.change_action", "plan.withdraw_action"
INPUT_IDS = ("agency", "description", "due_date", "perpetrator_focused")
AMEND_IDS = ("due_date", "agency", "reason")
AGREE_IDS = (OUTSIDE, OUTSIDE_REASON)
YES_NO = {"yes": "Yes", "no": "No"}
FALLBACK = "A MARAT action plan is ready."


def _action_line(action: Action, names: Mapping[str, str]) -> str:
    focus = " · perpetrator-focused" if action.perpetrator_focused else ""
    state = f" · {STATUS_LABELS[action.status]}" if action.agreed else ""
    return (
        f"**{names.get(action.agency_key, action.agency_key)}**: {action.description} "
        f"(by {day(action.due)}){focus}{state}"
    )


def _add_inputs(
    agencies: Sequence[Agency], v: Mapping[str, str], errs: Mapping[str, str]
) -> list[Element]:
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
    return [e for element in inputs for e in with_error(element, errs)]


def _amend_form(
    action: Action,
    agencies: Sequence[Agency],
    token: str,
    v: Mapping[str, str],
    errs: Mapping[str, str],
) -> tuple[list[Element], list[Element]]:
    inputs = [
        input_date(
            "due_date", "Due date (a future working day)", v.get("due_date", action.due.isoformat())
        ),
        input_choice(
            "agency",
            "Agency responsible",
            {a.key: a.name for a in agencies},
            v.get("agency", action.agency_key),
        ),
        input_text(
            "reason",
            "Why (required: it is recorded and the agency is told)",
            v.get("reason", ""),
            multiline=True,
            max_length=1000,
        ),
    ]
    body = [e for element in inputs for e in with_error(element, errs)]
    buttons = [
        execute("Save change", CHANGE, {"token": token}, "positive"),
        execute("Withdraw", WITHDRAW, {"token": token}, "destructive"),
    ]
    return body, buttons


def _outside(
    conference: date | None, v: Mapping[str, str], errs: Mapping[str, str]
) -> list[Element]:
    where = (
        f"The conference of {day(conference)} has not met yet."
        if conference
        else "The case is not listed at any conference yet."
    )
    body = [
        text(where, bold=True, spacing="Large"),
        text(
            "A plan is recorded as agreed at the conference from its day on. To agree it now "
            "(for example at an emergency meeting), tick the box and give the reason: the case "
            "is then recorded as heard today, outside a conference, and its place is released.",
            subtle=True,
        ),
    ]
    for element in (
        input_toggle(
            OUTSIDE,
            "Where the plan is agreed",
            "Agreed outside a conference",
            "yes",
            v.get(OUTSIDE, ""),
        ),
        input_text(
            OUTSIDE_REASON,
            "Why outside a conference (required when ticked)",
            v.get(OUTSIDE_REASON, ""),
            multiline=True,
            max_length=1000,
        ),
    ):
        body.extend(with_error(element, errs))
    return body


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
    *,
    agreeable: bool = True,
    amend_tokens: Mapping[int, str] | None = None,
    outside_needed: bool = False,
    conference: date | None = None,
    focus: str | int | None = None,
    amendments: Sequence[Amendment] = (),
    people: Mapping[str, str] | None = None,
    addable: bool = True,
) -> Card:
    """The action-plan card: agreed actions (each with its change/withdraw form), draft
    actions, the add form (with errors under its fields) and, while the plan is to be agreed,
    the Agree button (with the "agreed outside a conference" choice before the conference, or
    the explicit confirmation when no action addresses the person causing harm). A closed
    case's plan (``addable`` False) is shown without any form."""
    v = {k: str(val) for k, val in (values or {}).items() if val is not None}
    errs = dict(errors or {})
    amends = dict(amend_tokens or {})
    body: list[Element] = [
        heading(f"Safety action plan · {reference}"),
        text(f"The case is {state}.", subtle=True),
    ]
    if notice:
        body.append(text(notice, attention=True))
    own = {*INPUT_IDS, *AMEND_IDS, *AGREE_IDS}
    body.extend(text(m, attention=True) for k, m in errs.items() if k not in own)
    agreed = [a for a in actions if a.agreed]
    drafts = [a for a in actions if not a.agreed]
    if agreed:
        body.append(text("Agreed actions", bold=True, spacing="Large"))
    for action in agreed:
        if action.id in amends and focus is None:
            button = execute("Change or withdraw", OPEN, {"token": amends[action.id]})
            body.append(_row(_action_line(action, names), button))
        else:
            body.append(text(_action_line(action, names)))
        body.extend(
            text(amendment_text(a, dict(names), dict(people or {})), subtle=True, spacing="None")
            for a in amendments
            if a.action_id == action.id
        )
        if action.id in amends and focus == action.id:
            form, controls = _amend_form(action, agencies, amends[action.id], v, errs)
            body.extend([*form, {"type": "ActionSet", "actions": controls}])
    buttons: list[Element] = []
    if agreeable:
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
            remove = execute("Remove", REMOVE, {"token": remove_tokens[action.id]})
            body.append(_row(_action_line(action, names), remove))
    if addable and focus in (None, "add"):
        title = "Add an action" if agreeable else "Add an action to the agreed plan"
        add = execute("Add action", ADD, {"token": token})
        inputs = _add_inputs(agencies, v, errs)
        if not agreeable:
            inputs.insert(
                0, text("It is agreed at once and sent to the agency's contacts.", subtle=True)
            )
        body.append(text(title, bold=True, spacing="Large"))
        body.extend(inputs)
        if agreeable:
            buttons.append(add)
        else:
            body.append({"type": "ActionSet", "actions": [add]})
    elif focus is not None:
        body.append(text(f"Type plan {reference} for the whole plan.", subtle=True))
    if agreeable and focus in (None, "add"):
        if outside_needed:
            body.extend(_outside(conference, v, errs))
        buttons.append(_agree_button(token, confirm_without_perpetrator_action, body))
    return envelope(body, buttons, FALLBACK)


def _row(line: str, button: Element) -> Element:
    """An action's line with its button beside it."""
    return {
        "type": "ColumnSet",
        "columns": [
            {"type": "Column", "width": "stretch", "items": [text(line)]},
            {
                "type": "Column",
                "width": "auto",
                "items": [{"type": "ActionSet", "actions": [button]}],
            },
        ],
    }


def _agree_button(token: str, confirm: bool, body: list[Element]) -> Element:
    if not confirm:
        return execute("Agree the plan", AGREE, {"token": token}, "positive")
    body.append(
        text(
            "No action addresses the person causing harm. Perpetrator risk must "
            "be considered explicitly: add such an action, or confirm that the "
            "conference considered it and agreed none.",
            attention=True,
        )
    )
    return execute(
        "Confirm and agree",
        AGREE,
        {"token": token, "confirm": "no_perpetrator_action"},
        "destructive",
    )
