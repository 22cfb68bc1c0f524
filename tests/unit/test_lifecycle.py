"""Specification of the case state machine (PRODUCT.md section 2).

``referred → discussed → heard → monitoring → closed``, plus ``deferred`` (listed again at a
later conference), ``review`` (re-listed because risk is not reduced) and ``withdrawn``. The
plan is agreed (``heard``) from referred or discussed, or when a deferred or reviewed case is
heard again. Every move is recorded with who, when and why; impossible moves are refused with a
message naming the case and its state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise, product

import pytest

from bot.domain.errors import FieldErrors, IllegalTransition
from bot.domain.lifecycle import CaseState, Transition, check_transition, transition

S = CaseState
REFERENCE = "MARAT-2026-0042"
COORDINATOR = "0b8f6c2e-4d1a-4f3b-9c7e-2a5d6e8f1a3b"
AT = datetime(2026, 4, 7, 10, 30, tzinfo=UTC)
NEEDS_REASON = {S.DEFERRED, S.REVIEW, S.WITHDRAWN}
FINAL = {S.CLOSED, S.WITHDRAWN}

# The moves the product allows, written out from the specification rather than copied from the
# module, so that a change to ALLOWED shows up here.
ALLOWED_MOVES = [
    (S.REFERRED, S.DISCUSSED),
    (S.REFERRED, S.HEARD),
    (S.REFERRED, S.DEFERRED),
    (S.REFERRED, S.WITHDRAWN),
    (S.DISCUSSED, S.HEARD),
    (S.DISCUSSED, S.DEFERRED),
    (S.DISCUSSED, S.WITHDRAWN),
    (S.HEARD, S.MONITORING),
    (S.HEARD, S.REVIEW),
    (S.HEARD, S.CLOSED),
    (S.MONITORING, S.REVIEW),
    (S.MONITORING, S.CLOSED),
    (S.DEFERRED, S.HEARD),
    (S.DEFERRED, S.DEFERRED),
    (S.DEFERRED, S.WITHDRAWN),
    (S.REVIEW, S.HEARD),
    (S.REVIEW, S.DEFERRED),
    (S.REVIEW, S.CLOSED),
]

# Moves out of an open state that are refused, with the verb the refusal uses.
ILLEGAL_MOVES = [
    (S.REFERRED, S.REFERRED, "be referred again"),
    (S.REFERRED, S.MONITORING, "move to monitoring"),
    (S.REFERRED, S.CLOSED, "be closed"),
    (S.REFERRED, S.REVIEW, "be sent for review"),
    (S.DISCUSSED, S.REFERRED, "be referred again"),
    (S.DISCUSSED, S.DISCUSSED, "have its case discussion recorded"),
    (S.DISCUSSED, S.MONITORING, "move to monitoring"),
    (S.DISCUSSED, S.CLOSED, "be closed"),
    (S.DISCUSSED, S.REVIEW, "be sent for review"),
    (S.HEARD, S.REFERRED, "be referred again"),
    (S.HEARD, S.DISCUSSED, "have its case discussion recorded"),
    (S.HEARD, S.HEARD, "have its plan agreed"),
    (S.HEARD, S.DEFERRED, "be deferred"),
    (S.HEARD, S.WITHDRAWN, "be withdrawn"),
    (S.MONITORING, S.REFERRED, "be referred again"),
    (S.MONITORING, S.DISCUSSED, "have its case discussion recorded"),
    (S.MONITORING, S.HEARD, "have its plan agreed"),
    (S.MONITORING, S.MONITORING, "move to monitoring"),
    (S.MONITORING, S.DEFERRED, "be deferred"),
    (S.MONITORING, S.WITHDRAWN, "be withdrawn"),
    (S.DEFERRED, S.REFERRED, "be referred again"),
    (S.DEFERRED, S.DISCUSSED, "have its case discussion recorded"),
    (S.DEFERRED, S.MONITORING, "move to monitoring"),
    (S.DEFERRED, S.CLOSED, "be closed"),
    (S.DEFERRED, S.REVIEW, "be sent for review"),
    (S.REVIEW, S.REFERRED, "be referred again"),
    (S.REVIEW, S.DISCUSSED, "have its case discussion recorded"),
    (S.REVIEW, S.MONITORING, "move to monitoring"),
    (S.REVIEW, S.REVIEW, "be sent for review"),
    (S.REVIEW, S.WITHDRAWN, "be withdrawn"),
]


def reason_for(target: CaseState) -> str | None:
    """A reason where one is required, none otherwise (the minimum a caller must give)."""
    return f"Synthetic reason for {target.value}" if target in NEEDS_REASON else None


def move_id(current: CaseState, target: CaseState) -> str:
    return f"{current.value}->{target.value}"


def test_the_tables_cover_every_pair_of_states_once() -> None:
    illegal = [(current, target) for current, target, _ in ILLEGAL_MOVES]
    final = [(current, target) for current, target in product(FINAL, S)]
    covered = ALLOWED_MOVES + illegal + final
    assert sorted(covered) == sorted(product(S, S))


@pytest.mark.parametrize(
    ("current", "target"), [pytest.param(c, t, id=move_id(c, t)) for c, t in ALLOWED_MOVES]
)
def test_allowed_move_is_recorded_with_who_when_and_why(
    current: CaseState, target: CaseState
) -> None:
    reason = reason_for(target)
    record = transition(REFERENCE, current, target, COORDINATOR, AT, reason)
    assert record == Transition(
        from_state=current, to_state=target, actor_aad_id=COORDINATOR, at=AT, reason=reason
    )


@pytest.mark.parametrize(
    ("current", "target", "verb"),
    [pytest.param(c, t, v, id=move_id(c, t)) for c, t, v in ILLEGAL_MOVES],
)
def test_illegal_move_names_the_case_and_its_state(
    current: CaseState, target: CaseState, verb: str
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        transition(REFERENCE, current, target, COORDINATOR, AT, "Synthetic reason")
    assert str(refused.value) == f"{REFERENCE} is {current.value}, so it cannot {verb} now."


@pytest.mark.parametrize(
    ("current", "target"),
    [pytest.param(c, t, id=move_id(c, t)) for c, t in product(sorted(FINAL), S)],
)
def test_closed_and_withdrawn_cases_cannot_change(current: CaseState, target: CaseState) -> None:
    with pytest.raises(IllegalTransition) as refused:
        transition(REFERENCE, current, target, COORDINATOR, AT, "Synthetic reason")
    message = str(refused.value)
    assert message.startswith(f"{REFERENCE} is {current.value};")
    assert f"a {current.value} case cannot change" in message
    assert "new referral" in message


def test_only_closed_and_withdrawn_are_final() -> None:
    assert {state for state in S if not state.is_open} == FINAL


@pytest.mark.parametrize("blank", [None, "", "   ", "\n\t"], ids=["none", "empty", "spaces", "ws"])
@pytest.mark.parametrize(
    ("current", "target"),
    [
        pytest.param(S.REFERRED, S.DEFERRED, id="deferred"),
        pytest.param(S.HEARD, S.REVIEW, id="review"),
        pytest.param(S.DISCUSSED, S.WITHDRAWN, id="withdrawn"),
    ],
)
def test_deferral_review_and_withdrawal_need_a_reason(
    current: CaseState, target: CaseState, blank: str | None
) -> None:
    with pytest.raises(FieldErrors) as refused:
        transition(REFERENCE, current, target, COORDINATOR, AT, blank)
    assert set(refused.value.errors) == {"reason"}
    assert refused.value.errors["reason"]


def test_an_illegal_move_is_refused_as_illegal_even_without_a_reason() -> None:
    with pytest.raises(IllegalTransition):
        transition(REFERENCE, S.CLOSED, S.WITHDRAWN, COORDINATOR, AT, None)
    with pytest.raises(IllegalTransition):
        transition(REFERENCE, S.MONITORING, S.DEFERRED, COORDINATOR, AT, "")


def test_reason_is_stored_without_surrounding_whitespace() -> None:
    record = transition(
        REFERENCE, S.REFERRED, S.WITHDRAWN, COORDINATOR, AT, "  Does not meet the threshold \n"
    )
    assert record.reason == "Does not meet the threshold"


def test_reason_is_optional_but_kept_for_other_moves() -> None:
    without = transition(REFERENCE, S.MONITORING, S.CLOSED, COORDINATOR, AT)
    blank = transition(REFERENCE, S.MONITORING, S.CLOSED, COORDINATOR, AT, "   ")
    given = transition(REFERENCE, S.MONITORING, S.CLOSED, COORDINATOR, AT, "Actions complete")
    assert without.reason is None
    assert blank.reason is None
    assert given.reason == "Actions complete"


def test_check_transition_only_validates() -> None:
    assert check_transition(REFERENCE, S.REFERRED, S.DISCUSSED, None) is None
    with pytest.raises(IllegalTransition, match=REFERENCE):
        check_transition(REFERENCE, S.REFERRED, S.CLOSED, None)
    with pytest.raises(FieldErrors):
        check_transition(REFERENCE, S.REFERRED, S.DEFERRED, None)


def test_a_whole_case_history_in_order() -> None:
    path = [S.REFERRED, S.DISCUSSED, S.DEFERRED, S.HEARD, S.MONITORING, S.REVIEW, S.HEARD, S.CLOSED]
    records = [
        transition(REFERENCE, current, target, COORDINATOR, AT, reason_for(target))
        for current, target in pairwise(path)
    ]
    assert [(r.from_state, r.to_state) for r in records] == list(pairwise(path))
    assert [r.reason is not None for r in records] == [
        target in NEEDS_REASON for target in path[1:]
    ]
