"""The multi-agency safety action plan: SMART checks on each action, and action updates.

The review behind the MARAT found that the quality of action planning and follow-up is what
matters, so an action must name its agency, say what will be done, and have a due date.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.errors import FieldErrors
from bot.domain.wording import day

MAX_DESCRIPTION: Final = 1000
MIN_DESCRIPTION_WORDS: Final = 4
MAX_PLAN_DAYS: Final = 366
VAGUE: Final = frozenset(
    {
        "tbc",
        "tba",
        "to be confirmed",
        "n/a",
        "na",
        "none",
        "ongoing",
        "as discussed",
        "see notes",
        "monitor",
        "continue",
        "noted",
        "agreed",
        "follow up",
        "support",
    }
)


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_POSSIBLE = "not_possible"
    WITHDRAWN = "withdrawn"  # by the coordinator, between conferences, with a reason

    @property
    def is_closed(self) -> bool:
        return self in (ActionStatus.DONE, ActionStatus.NOT_POSSIBLE, ActionStatus.WITHDRAWN)


STATUS_LABELS: Final = {
    ActionStatus.OPEN: "Not started",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.DONE: "Done",
    ActionStatus.NOT_POSSIBLE: "Not possible",
    ActionStatus.WITHDRAWN: "Withdrawn",
}
UPDATE_CHOICES: Final = {
    ActionStatus.IN_PROGRESS.value: "In progress",
    ActionStatus.DONE.value: "Done",
    ActionStatus.NOT_POSSIBLE.value: "Not possible",
}


@dataclass(frozen=True)
class ActionDraft:
    agency_key: str
    description: str
    due: date
    perpetrator_focused: bool


@dataclass(frozen=True)
class Action:
    id: int
    case_id: int
    reference: str
    agency_key: str
    description: str
    due: date
    perpetrator_focused: bool
    status: ActionStatus
    note: str | None
    updated_by: str | None
    updated_at: datetime | None
    agreed: bool

    def is_overdue(self, today: date) -> bool:
        return self.agreed and not self.status.is_closed and self.due < today


@dataclass(frozen=True)
class ActionUpdate:
    status: ActionStatus
    note: str | None


class AmendmentKind(StrEnum):
    """How an agreed plan was amended between conferences."""

    ADDED = "added"
    DUE_DATE = "due_date"
    AGENCY = "agency"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Amendment:
    """One recorded amendment of an agreed action: what changed, from what to what, who, when
    and why (``before``/``after`` are ISO dates or agency keys)."""

    action_id: int
    kind: AmendmentKind
    before: str | None
    after: str | None
    reason: str | None
    by: str
    at: datetime


@dataclass(frozen=True)
class ActionChange:
    """A coordinator's change to an agreed action: its (new) due date and agency, and why."""

    due: date
    agency_key: str
    reason: str
    due_changed: bool
    agency_changed: bool


def _due_problem(due: date, today: date, calendar: WorkingDayCalendar) -> str | None:
    """Why ``due`` cannot be an action's due date, or None: a future working day within a year."""
    if due <= today:
        return "The due date must be in the future."
    if not calendar.is_working_day(due):
        name = calendar.holiday_name(due)
        return "The due date must be a working day" + (
            f" ({day(due)} is {name})." if name else " (not a weekend)."
        )
    if (due - today).days > MAX_PLAN_DAYS:
        return "The due date must be within a year."
    return None


def _reason(raw: Mapping[str, object], errors: dict[str, str], why: str) -> str:
    reason = " ".join(str(raw.get("reason") or "").split())
    if not reason:
        errors["reason"] = why
    elif len(reason) > MAX_DESCRIPTION:
        errors["reason"] = f"Please use at most {MAX_DESCRIPTION} characters."
    return reason


def parse_action(
    raw: Mapping[str, object],
    agency_keys: Sequence[str],
    today: date,
    calendar: WorkingDayCalendar,
) -> ActionDraft:
    """SMART checks, every problem at once, each under its field."""
    errors: dict[str, str] = {}
    agency = str(raw.get("agency") or "").strip()
    if agency not in agency_keys:
        errors["agency"] = "Please choose the agency that will do this, from the directory."
    description = " ".join(str(raw.get("description") or "").split())
    words = re.findall(r"[A-Za-z0-9']+", description)
    if not description:
        errors["description"] = "Please say what will be done."
    elif description.lower().strip(" .") in VAGUE or len(words) < MIN_DESCRIPTION_WORDS:
        errors["description"] = (
            "Please say specifically what will be done, by whom and how (at least "
            f"{MIN_DESCRIPTION_WORDS} words), e.g. 'Housing to fit additional locks at the "
            "victim's address'."
        )
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Please use at most {MAX_DESCRIPTION} characters."
    due_text = str(raw.get("due_date") or "").strip()
    due: date | None = None
    try:
        due = date.fromisoformat(due_text) if due_text else None
    except ValueError:
        errors["due_date"] = "Please enter a date as YYYY-MM-DD."
    if due is None and "due_date" not in errors:
        errors["due_date"] = "Please give a due date: actions must be timed."
    elif due is not None and (problem := _due_problem(due, today, calendar)):
        errors["due_date"] = problem
    focused = str(raw.get("perpetrator_focused") or "").strip()
    if focused not in ("yes", "no"):
        errors["perpetrator_focused"] = (
            "Please say whether this action addresses the person causing harm."
        )
    if errors:
        raise FieldErrors(errors)
    assert due is not None
    return ActionDraft(agency, description, due, focused == "yes")


def parse_update(raw: Mapping[str, object]) -> ActionUpdate:
    """An agency's update: a note is required unless the action is simply in progress."""
    errors: dict[str, str] = {}
    status_text = str(raw.get("status") or "").strip()
    note = " ".join(str(raw.get("note") or "").split()) or None
    try:
        status = ActionStatus(status_text)
        if status is ActionStatus.OPEN:
            raise ValueError
    except ValueError:
        errors["status"] = "Please choose in progress, done or not possible."
        status = ActionStatus.IN_PROGRESS
    if status is not ActionStatus.IN_PROGRESS and not note and "status" not in errors:
        errors["note"] = "Please add a note: what was done, or why it is not possible."
    if note and len(note) > MAX_DESCRIPTION:
        errors["note"] = f"Please use at most {MAX_DESCRIPTION} characters."
    if errors:
        raise FieldErrors(errors)
    return ActionUpdate(status, note)


def parse_change(
    raw: Mapping[str, object],
    action: Action,
    agency_keys: Sequence[str],
    today: date,
    calendar: WorkingDayCalendar,
) -> ActionChange:
    """A change of an agreed action's due date and/or agency: a reason is required, a new due
    date must be a future working day, and something must actually change."""
    errors: dict[str, str] = {}
    agency = str(raw.get("agency") or "").strip() or action.agency_key
    if agency not in agency_keys:
        errors["agency"] = "Please choose the agency that will do this, from the directory."
    due_text = str(raw.get("due_date") or "").strip()
    due = action.due
    if due_text:
        try:
            due = date.fromisoformat(due_text)
        except ValueError:
            errors["due_date"] = "Please enter a date as YYYY-MM-DD."
    problem = _due_problem(due, today, calendar) if due != action.due else None
    if problem and "due_date" not in errors:
        errors["due_date"] = problem
    changed = due != action.due or agency != action.agency_key
    if not changed and not errors:
        errors["due_date"] = "Nothing would change: give a new due date or choose another agency."
    reason = _reason(raw, errors, "Please give the reason for the change; it is recorded.")
    if errors:
        raise FieldErrors(errors)
    return ActionChange(due, agency, reason, due != action.due, agency != action.agency_key)


def parse_withdrawal(raw: Mapping[str, object]) -> str:
    """Withdrawing an agreed action needs the reason, which is recorded."""
    errors: dict[str, str] = {}
    reason = _reason(raw, errors, "Please give the reason for withdrawing it; it is recorded.")
    if errors:
        raise FieldErrors(errors)
    return reason
