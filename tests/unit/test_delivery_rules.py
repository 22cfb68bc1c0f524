"""The delivery rules (bot/domain/delivery.py): what each connector answer means, how long the
sender backs off, and how fast one conversation may be written to (Teams: 7 messages a second,
8 in 2 s, 60 in 30 s, 1,800 an hour, per bot per conversation)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.delivery import (
    TEAMS_CONVERSATION_LIMITS,
    ConnectorAnswer,
    ConversationPacer,
    Outcome,
    RetryPolicy,
)

T0 = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
Limits = tuple[tuple[timedelta, int], ...]


def ms(milliseconds: int) -> timedelta:
    return timedelta(milliseconds=milliseconds)


# -- what a connector answer means -------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201])
def test_a_2xx_answer_is_delivered(status: int) -> None:
    assert ConnectorAnswer(status, "activity-1").outcome is Outcome.DELIVERED


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (429, "throttled: retry after Retry-After"),
        (412, "precondition failed: transient in Teams"),
        (502, "bad gateway"),
        (504, "gateway timeout"),
        (None, "no HTTP answer at all (refused, reset, timed out)"),
    ],
)
def test_transient_answers_are_retried(status: int | None, why: str) -> None:
    assert ConnectorAnswer(status).outcome is Outcome.RETRY, why


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (403, "the user blocked or removed the app"),
        (404, "the conversation is gone"),
        (400, "the message itself is refused"),
    ],
)
def test_permanent_answers_are_not_retried(status: int, why: str) -> None:
    assert ConnectorAnswer(status).outcome is Outcome.PERMANENT, why


# -- how long to back off ----------------------------------------------------------------------


def test_a_429_waits_exactly_as_long_as_retry_after_says() -> None:
    policy = RetryPolicy()
    throttled = ConnectorAnswer(429, retry_after=30)
    for attempt in (1, 2, 5):
        assert policy.delay(attempt, throttled, random.Random(attempt)) == 30.0


def test_a_429_waits_at_least_one_second_even_with_retry_after_zero() -> None:
    """Otherwise "Retry-After: 0" turns the sender into a busy loop against Teams."""
    assert RetryPolicy().delay(1, ConnectorAnswer(429, retry_after=0), random.Random(1)) == 1.0
    assert RetryPolicy().delay(1, ConnectorAnswer(429, retry_after=0.2), random.Random(1)) == 1.0


def test_a_429_retry_after_is_capped() -> None:
    policy = RetryPolicy(cap_seconds=600)
    assert policy.delay(1, ConnectorAnswer(429, retry_after=86_400), random.Random(1)) == 600.0


def test_a_429_without_retry_after_backs_off_exponentially() -> None:
    policy = RetryPolicy(base_seconds=2)
    delay = policy.delay(3, ConnectorAnswer(429), random.Random(7))
    assert 4.0 <= delay <= 8.0


def test_retry_after_is_only_honoured_for_429() -> None:
    policy = RetryPolicy(base_seconds=2)
    delay = policy.delay(1, ConnectorAnswer(502, retry_after=300), random.Random(7))
    assert 1.0 <= delay <= 2.0


def _delays(attempt: int, draws: int = 200, seed: int = 2027) -> list[float]:
    policy = RetryPolicy(base_seconds=2, cap_seconds=600)
    rng = random.Random(seed)
    return [policy.delay(attempt, ConnectorAnswer(502), rng) for _ in range(draws)]


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0), (9, 512.0)]
)
def test_backoff_grows_exponentially_with_jitter_between_half_and_the_ceiling(
    attempt: int, ceiling: float
) -> None:
    delays = _delays(attempt)
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    # Jitter: the draws spread over the range instead of all replicas retrying in step.
    assert min(delays) < ceiling * 0.6
    assert max(delays) > ceiling * 0.9


def test_backoff_never_exceeds_the_cap() -> None:
    delays = _delays(attempt=30)
    assert all(300.0 <= d <= 600.0 for d in delays)


def test_backoff_is_reproducible_with_a_seeded_random() -> None:
    assert _delays(4, draws=5, seed=1) == _delays(4, draws=5, seed=1)
    assert _delays(4, draws=5, seed=1) != _delays(4, draws=5, seed=2)


def test_the_policy_gives_up_at_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=8)
    assert [policy.gives_up(attempt) for attempt in range(1, 10)] == [False] * 7 + [True] * 2


# -- how fast one conversation may be written to -----------------------------------------------


def test_the_pacer_uses_the_teams_limits() -> None:
    teams = (
        (timedelta(seconds=1), 7),
        (timedelta(seconds=2), 8),
        (timedelta(seconds=30), 60),
        (timedelta(hours=1), 1800),
    )
    assert teams == TEAMS_CONVERSATION_LIMITS


def send_all(pacer: ConversationPacer, conversation: str, times: Sequence[datetime]) -> None:
    for at in times:
        assert pacer.next_allowed(conversation, at) == at, f"send at {at} was not allowed"
        pacer.record(conversation, at)


def test_seven_sends_in_one_second_are_allowed_then_the_eighth_waits_for_the_first() -> None:
    pacer = ConversationPacer()
    send_all(pacer, "a:chat", [T0 + ms(100 * i) for i in range(7)])  # 0.0 … 0.6 s
    # The eighth may go when the first send (at 0.0 s) leaves the one-second window.
    assert pacer.next_allowed("a:chat", T0 + ms(650)) == T0 + SECOND
    assert pacer.next_allowed("a:chat", T0 + SECOND) == T0 + SECOND


def test_the_two_second_window_allows_eight() -> None:
    pacer = ConversationPacer()
    send_all(pacer, "a:chat", [T0 + ms(100 * i) for i in range(7)] + [T0 + SECOND])
    # At 1.1 s only six sends are inside the last second, but eight are inside the last two:
    # the ninth waits until the first leaves the two-second window.
    assert pacer.next_allowed("a:chat", T0 + ms(1100)) == T0 + 2 * SECOND


def test_sixty_sends_in_thirty_seconds_then_the_next_waits_for_the_first() -> None:
    pacer = ConversationPacer()
    now = T0
    for _ in range(60):
        now = pacer.next_allowed("a:chat", now)
        pacer.record("a:chat", now)
    assert now < T0 + timedelta(seconds=30), "the shorter windows alone allow 60 in < 30 s"
    assert pacer.next_allowed("a:chat", now) == T0 + timedelta(seconds=30)


def test_the_hourly_window_holds_back_the_next_message() -> None:
    pacer = ConversationPacer(limits=((timedelta(hours=1), 3),))
    send_all(pacer, "a:chat", [T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)])
    assert pacer.next_allowed("a:chat", T0 + timedelta(minutes=30)) == T0 + timedelta(hours=1)


def test_conversations_are_paced_independently() -> None:
    pacer = ConversationPacer()
    send_all(pacer, "a:chat-police", [T0] * 7)
    assert pacer.next_allowed("a:chat-police", T0) == T0 + SECOND
    assert pacer.next_allowed("a:chat-housing", T0) == T0


def test_after_a_quiet_hour_a_conversation_may_be_written_to_at_once() -> None:
    pacer = ConversationPacer()
    send_all(pacer, "a:chat", [T0] * 7)
    later = T0 + timedelta(hours=1, seconds=1)
    assert pacer.next_allowed("a:chat", later) == later


# -- property: a sender that always waits for next_allowed never breaks a window ---------------


def _worst_window(times: list[datetime], window: timedelta) -> int:
    """The most sends inside any window (t - window, t] that ends at a send: what Teams counts."""
    worst, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        worst = max(worst, end - start + 1)
    return worst


def _replay(limits: Limits, sends: list[tuple[int, int]]) -> dict[str, list[datetime]]:
    """Send as soon as allowed: each wanted send waits for ``next_allowed`` and then goes."""
    pacer = ConversationPacer(limits)
    now = T0
    sent: dict[str, list[datetime]] = {}
    for conversation_index, gap_ms in sends:
        conversation = f"a:chat-{conversation_index}"
        now += ms(gap_ms)
        at = pacer.next_allowed(conversation, now)
        assert at >= now
        assert pacer.next_allowed(conversation, at) == at, "the promised instant is allowed"
        pacer.record(conversation, at)
        sent.setdefault(conversation, []).append(at)
        now = at
    return sent


# Bursts (conversation, pause before it in ms, how many messages at once) reach the limits.
bursts = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 2500), st.integers(1, 15)), max_size=60
)


@settings(max_examples=60, deadline=None)
@given(bursts)
def test_no_teams_window_is_ever_exceeded(wanted: list[tuple[int, int, int]]) -> None:
    sends = [
        (conversation, pause if n == 0 else 0)
        for conversation, pause, size in wanted
        for n in range(size)
    ]
    for times in _replay(TEAMS_CONVERSATION_LIMITS, sends).values():
        for window, limit in TEAMS_CONVERSATION_LIMITS:
            assert _worst_window(times, window) <= limit


limit_sets = st.lists(
    st.tuples(st.integers(1, 20).map(lambda s: timedelta(seconds=s)), st.integers(1, 6)),
    min_size=1,
    max_size=4,
    unique_by=lambda limit: limit[0],
).map(tuple)


@settings(max_examples=100, deadline=None)
@given(limit_sets, st.lists(st.tuples(st.integers(0, 1), st.integers(0, 3000)), max_size=80))
def test_no_window_of_any_limit_set_is_ever_exceeded(
    limits: Limits, sends: list[tuple[int, int]]
) -> None:
    for times in _replay(limits, sends).values():
        for window, limit in limits:
            assert _worst_window(times, window) <= limit
