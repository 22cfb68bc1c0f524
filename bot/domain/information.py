"""Information requests: what each involved agency is asked, and the rules for its answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.errors import FieldErrors

MAX_ANSWER = 4000


@dataclass(frozen=True)
class InformationRequest:
    id: int
    case_id: int
    agency_key: str
    due: date
    answered_at: datetime | None
    answered_by: str | None
    known: bool | None
    late: bool | None
    information: str | None = None
    concerns: str | None = None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass(frozen=True)
class Answer:
    known: bool
    information: str | None
    concerns: str | None


def parse_answer(raw: Mapping[str, object]) -> Answer:
    """Validate an agency's answer: the information is required when the people are known."""
    errors: dict[str, str] = {}
    known_text = str(raw.get("known") or "").strip()
    information = str(raw.get("information") or "").strip() or None
    concerns = str(raw.get("concerns") or "").strip() or None
    if known_text not in ("yes", "no"):
        errors["known"] = "Please say whether your agency knows the people in this case."
    elif known_text == "yes" and not information:
        errors["information"] = "Please give the information your agency holds."
    for key, value in (("information", information), ("concerns", concerns)):
        if value and len(value) > MAX_ANSWER and key not in errors:
            errors[key] = f"Please use at most {MAX_ANSWER} characters."
    if errors:
        raise FieldErrors(errors)
    return Answer(known_text == "yes", information, concerns)


def is_late(due: date, answered_on: date) -> bool:
    """Returns are due by the end of the due day (London date)."""
    return answered_on > due
