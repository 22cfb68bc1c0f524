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

    @property
    def is_closed(self) -> bool:
        return self in (ActionStatus.DONE, ActionStatus.NOT_POSSIBLE)


STATUS_LABELS: Final = {
    ActionStatus.OPEN: "Not started",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.DONE: "Done",
    ActionStatus.NOT_POSSIBLE: "Not possible",
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
    elif due is not None:
        if due <= today:
            errors["due_date"] = "The due date must be in the future."
        elif not calendar.is_working_day(due):
            name = calendar.holiday_name(due)
            errors["due_date"] = "The due date must be a working day" + (
                f" ({due:%d %B} is {name})." if name else " (not a weekend)."
            )
        elif (due - today).days > MAX_PLAN_DAYS:
            errors["due_date"] = "The due date must be within a year."
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
