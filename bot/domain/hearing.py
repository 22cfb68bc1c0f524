"""Where a plan is agreed: at the case's conference, or — before it, or with no conference —
explicitly outside a conference, with the reason (an emergency meeting). Records and figures
must never claim a meeting that has not happened (decision 0015)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from bot.domain.cases import Listing
from bot.domain.errors import FieldErrors
from bot.domain.wording import day

OUTSIDE: Final = "outside_conference"  # the card's choice: "yes" to agree outside
OUTSIDE_REASON: Final = "outside_reason"
AT_CONFERENCE_REASON: Final = "plan agreed at the conference"
OUTSIDE_PREFIX: Final = "plan agreed outside a conference: "
MAX_REASON: Final = 1000


@dataclass(frozen=True)
class Hearing:
    """The record of agreeing a plan: the conference it was agreed at, or the reason it was
    agreed outside one (then ``meeting_id`` is None and the listing is released)."""

    meeting_id: int | None
    conference: date | None
    outside_reason: str | None = None

    @property
    def transition_reason(self) -> str:
        """The reason the `heard` transition records."""
        if self.outside_reason is None:
            return AT_CONFERENCE_REASON
        return OUTSIDE_PREFIX + self.outside_reason


def needs_outside_choice(listing: Listing, today: date) -> bool:
    """Before the day of the case's conference (or with none), agreeing is outside one."""
    return listing.meeting_date is None or today < listing.meeting_date


def hearing(listing: Listing, today: date, raw: Mapping[str, object]) -> Hearing:
    """On or after the day of its conference a plan is agreed at that conference; before it
    only with the explicit "agreed outside a conference" choice and a reason."""
    if not needs_outside_choice(listing, today):
        return Hearing(listing.meeting_id, listing.meeting_date)
    chosen = str(raw.get(OUTSIDE) or "").strip() == "yes"
    reason = " ".join(str(raw.get(OUTSIDE_REASON) or "").split())
    errors: dict[str, str] = {}
    if not chosen:
        where = (
            f"The conference of {day(listing.meeting_date)} has not met yet, so the plan "
            "cannot be recorded as agreed there."
            if listing.meeting_date
            else "The case is not listed at any conference yet."
        )
        errors[OUTSIDE] = (
            f"{where} To agree it now (for example at an emergency meeting), choose "
            "'Agreed outside a conference' and give the reason."
        )
    elif not reason:
        errors[OUTSIDE_REASON] = (
            "Please give the reason the plan is agreed outside a conference; it is recorded."
        )
    elif len(reason) > MAX_REASON:
        errors[OUTSIDE_REASON] = f"Please use at most {MAX_REASON} characters."
    if errors:
        raise FieldErrors(errors)
    return Hearing(None, None, reason)


def outside_reason_of(transition_reason: str | None) -> str | None:
    """The reason a plan was agreed outside a conference, from its `heard` transition."""
    if transition_reason and transition_reason.startswith(OUTSIDE_PREFIX):
        return transition_reason.removeprefix(OUTSIDE_PREFIX)
    return None
