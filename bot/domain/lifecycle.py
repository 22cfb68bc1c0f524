"""The case state machine: which moves are allowed, and why others are refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import FieldErrors, IllegalTransition


class CaseState(StrEnum):
    REFERRED = "referred"
    DISCUSSED = "discussed"
    HEARD = "heard"
    MONITORING = "monitoring"
    CLOSED = "closed"
    DEFERRED = "deferred"
    REVIEW = "review"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self not in (CaseState.CLOSED, CaseState.WITHDRAWN)


S = CaseState

# A plan is agreed at the conference from referred or discussed (or when a deferred or
# reviewed case is heard again); monitoring follows the plan; review re-lists the case.
ALLOWED: dict[CaseState, frozenset[CaseState]] = {
    S.REFERRED: frozenset({S.DISCUSSED, S.HEARD, S.DEFERRED, S.WITHDRAWN}),
    S.DISCUSSED: frozenset({S.HEARD, S.DEFERRED, S.WITHDRAWN}),
    S.HEARD: frozenset({S.MONITORING, S.REVIEW, S.CLOSED}),
    S.MONITORING: frozenset({S.REVIEW, S.CLOSED}),
    S.DEFERRED: frozenset({S.HEARD, S.DEFERRED, S.WITHDRAWN}),
    S.REVIEW: frozenset({S.HEARD, S.DEFERRED, S.CLOSED}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# States in which a case waits for (or is re-listed at) a conference, and whose plan is open.
AWAITING_CONFERENCE: frozenset[CaseState] = frozenset(
    {S.REFERRED, S.DISCUSSED, S.DEFERRED, S.REVIEW}
)

# Moves that need the coordinator to say why (recorded in the audit trail).
REASON_REQUIRED: frozenset[CaseState] = frozenset({S.DEFERRED, S.REVIEW, S.WITHDRAWN})

_VERB = {
    S.DISCUSSED: "have its case discussion recorded",
    S.HEARD: "have its plan agreed",
    S.MONITORING: "move to monitoring",
    S.CLOSED: "be closed",
    S.DEFERRED: "be deferred",
    S.REVIEW: "be sent for review",
    S.WITHDRAWN: "be withdrawn",
    S.REFERRED: "be referred again",
}


@dataclass(frozen=True)
class Transition:
    """One recorded move of a case: who, when and why."""

    from_state: CaseState | None
    to_state: CaseState
    actor_aad_id: str
    at: datetime
    reason: str | None = None


def check_transition(
    reference: str, current: CaseState, target: CaseState, reason: str | None
) -> None:
    """Refuse an illegal move with a message that says why; require a reason where needed."""
    if target not in ALLOWED[current]:
        if not current.is_open:
            why = f"{reference} is {current.value}; a {current.value} case cannot change"
            raise IllegalTransition(f"{why}. A new referral opens a new case.")
        raise IllegalTransition(
            f"{reference} is {current.value}, so it cannot {_VERB[target]} now."
        )
    if target in REASON_REQUIRED and not (reason and reason.strip()):
        raise FieldErrors({"reason": "Please give a reason; it is recorded with the decision."})


def transition(
    reference: str,
    current: CaseState,
    target: CaseState,
    actor_aad_id: str,
    at: datetime,
    reason: str | None = None,
) -> Transition:
    """Validate a move and return the record to store."""
    check_transition(reference, current, target, reason)
    cleaned = reason.strip() if reason and reason.strip() else None
    return Transition(current, target, actor_aad_id, at, cleaned)
