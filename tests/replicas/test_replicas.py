"""Reminders with several real bot processes: each reminder has its effect exactly once.

PRODUCT.md section 5: every reminder is sent once per item, kind and slot, "even with several
bot replicas, after crashes, or after downtime (missed reminders are caught up once, if still
relevant, and otherwise dropped with a log line)". These tests run real ``marat serve``
processes (three, or one killed and one replacing it, or one started after an outage) on one
PostgreSQL database, with their clocks at a working day in London, and count what reaches the
fake Bot Connector per reminder.

The reminders are the product's own "action due today" reminders (``Schedule.action``): each
goes to the one contact of the action's agency, so every reminder is exactly one message whose
text names its action. Waits are on observable events (connector counts, table states) with
deadlines; the processes are stopped before the final counts so that nothing is in flight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.clock import LONDON, FixedClock
from bot.domain.reminders import WINDOW_CLOSES, ReminderKind, ReminderPlan
from bot.ports import ReminderItem, UnitOfWork
from bot.services.context import UseCaseContext
from bot.services.reminder_messages import Effect
from bot.services.reminders import ReminderSweep
from cards.proactive import TeamsCards
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.replicas import (
    REMINDER_LEASE_SECONDS,
    START,
    TODAY,
    CountingConnector,
    Replicas,
    SeededAction,
    Seeder,
    action_number,
    eventually,
)

DROPPED_LOG_LINE = "reminder dropped: expired before it could be sent"


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


async def reminder_states(engine: AsyncEngine) -> Counter[str]:
    rows = await _rows(engine, "SELECT state, count(*) FROM reminders GROUP BY state")
    return Counter({state: count for state, count in rows})


async def outbox_states(engine: AsyncEngine) -> Counter[str]:
    rows = await _rows(engine, "SELECT status, count(*) FROM outbox GROUP BY status")
    return Counter({status: count for status, count in rows})


async def owners(engine: AsyncEngine, table: str, where: str) -> Counter[str]:
    """Whose lease each finished row was under (one owner token per process: reminders keep
    the sweep's, outbox rows the sender's)."""
    rows = await _rows(
        engine, f"SELECT lease_owner, count(*) FROM {table} WHERE {where} GROUP BY lease_owner"
    )
    return Counter({owner: count for owner, count in rows})


def assert_each_once(connector: CountingConnector, actions: Sequence[SeededAction]) -> None:
    """Every action's reminder reached its contact's chat exactly once; nothing else arrived."""
    counts = connector.per_action()
    expected = {a.number for a in actions}
    duplicates = {n: c for n, c in counts.items() if c > 1}
    missing = sorted(expected - set(counts))
    unexpected = sorted(set(counts) - expected)
    assert not duplicates, f"{len(duplicates)} reminders delivered more than once: {duplicates}"
    assert not missing, f"{len(missing)} reminders never delivered, e.g. {missing[:10]}"
    assert not unexpected, f"messages nobody expected (action numbers): {unexpected[:10]}"
    assert len(connector.sent) == len(actions)
    by_number = {a.number: a for a in actions}
    for activity in connector.sent:
        action = by_number[action_number(activity)]
        assert activity["_conversation"] == action.contact.conversation_id
        assert activity["recipient"]["id"] == action.contact.user_id
        assert activity["text"].startswith("A MARAT update needs your attention.")
        assert "is due today" in activity["text"]


def delivered(
    engine: AsyncEngine, connector: CountingConnector, expected: int, final: Counter[str]
) -> Callable[[], Awaitable[bool]]:
    """The check "everything is done": the reminders are in their final states, every outbox
    row is sent, and the connector has accepted as many messages as there are rows."""

    async def check() -> bool:
        if await reminder_states(engine) != final:
            return False
        outbox = await outbox_states(engine)
        return outbox == Counter({"sent": expected}) and len(connector.sent) >= expected

    return check


def progress(engine: AsyncEngine, connector: CountingConnector) -> Callable[[], Awaitable[str]]:
    async def describe() -> str:
        return (
            f"reminders {dict(await reminder_states(engine))}, outbox "
            f"{dict(await outbox_states(engine))}, connector accepted {len(connector.sent)} "
            f"and refused {connector.refused}"
        )

    return describe


async def test_three_replicas_send_a_thousand_due_reminders_each_exactly_once(
    seeder: Seeder,
    replicas: Replicas,
    connector: CountingConnector,
    replica_engine: AsyncEngine,
) -> None:
    await seeder.directory(agencies=250)
    actions = await seeder.agreed_actions(1000, TODAY)
    await replicas.start(3, START)
    plans = [seeder.action_due(action) for action in actions]
    assert all(p.due_at < START < p.expires_at for p in plans)

    # All three are running and sweeping every second when 1,000 reminders fall due at once.
    assert await seeder.schedule_plans(plans) == 1000
    await eventually(
        delivered(replica_engine, connector, 1000, Counter({"sent": 1000})),
        timeout=60,
        what="1,000 reminders sent and delivered",
        progress=progress(replica_engine, connector),
    )
    await replicas.stop_all()

    assert_each_once(connector, actions)
    sweeps = await owners(replica_engine, "reminders", "state = 'sent'")
    senders = await owners(replica_engine, "outbox", "status = 'sent'")
    assert sum(sweeps.values()) == 1000
    # The work was shared: more than one process swept reminders and delivered messages.
    assert len(sweeps) >= 2, f"reminders finished per process: {sorted(sweeps.values())}"
    assert len(senders) >= 2, f"messages delivered per process: {sorted(senders.values())}"
    for replica in replicas.started:
        errors = [e for e in replica.log_entries() if e.get("level") == "ERROR"]
        assert not errors, f"{replica.name} logged errors: {errors[:3]}"


async def test_reminders_claimed_by_a_killed_process_are_sent_once_after_the_lease(
    seeder: Seeder,
    replicas: Replicas,
    connector: CountingConnector,
    replica_engine: AsyncEngine,
) -> None:
    await seeder.directory(agencies=100)
    actions = await seeder.agreed_actions(400, TODAY)
    # Teams is down (503) while the first process lives, so nothing it queued before dying
    # reached anyone: every delivery counted below is the replacement's.
    connector.accepting = False
    [doomed] = await replicas.start(1, START)
    assert await seeder.schedule_plans([seeder.action_due(a) for a in actions]) == 400

    async def claimed() -> bool:
        return (await reminder_states(replica_engine))["claimed"] > 0

    await eventually(claimed, timeout=15, what="the first process claims reminders")
    replicas.kill(doomed)

    orphans = await _rows(
        replica_engine,
        "SELECT id, lease_owner, lease_until FROM reminders WHERE state = 'claimed'",
    )
    assert orphans, "the process died holding no claims: nothing to take over"
    dead_owner = {owner for _, owner, _ in orphans}
    assert len(dead_owner) == 1
    lease_until = {row_id: until for row_id, _, until in orphans}

    connector.accepting = True
    await replicas.start(1, replicas.clock_now())
    await eventually(
        delivered(replica_engine, connector, 400, Counter({"sent": 400})),
        timeout=40,
        what="every reminder sent by the replacement",
        progress=progress(replica_engine, connector),
    )
    await replicas.stop_all()

    assert_each_once(connector, actions)
    taken_over = await _rows(
        replica_engine,
        "SELECT id, lease_owner, done_at FROM reminders WHERE id = ANY(:ids)",
        ids=list(lease_until),
    )
    for row_id, owner, done_at in taken_over:
        assert owner not in dead_owner, "a dead process cannot have finished its claim"
        # Not taken over before the dead process's lease had run out.
        assert done_at >= lease_until[row_id]


async def test_after_a_six_hour_outage_relevant_reminders_go_once_and_expired_are_dropped(
    seeder: Seeder,
    replicas: Replicas,
    connector: CountingConnector,
    replica_engine: AsyncEngine,
) -> None:
    """No process runs from 10:00 to 16:00 London while 200 reminders fall due; then one
    starts at 16:00. The sweep treats every kind alike (due, expiry, effect), so the expiries
    are chosen to straddle the restart: half ran out during the outage."""
    await seeder.directory(agencies=50)
    actions = await seeder.agreed_actions(200, TODAY)
    restart = START + timedelta(hours=6)
    end_of_day = seeder.schedule.end_of(TODAY)
    assert restart.astimezone(LONDON).time() < WINDOW_CLOSES
    outage = timedelta(hours=6)

    def plan(
        action: SeededAction, index: int, count: int, expires_in: timedelta | None
    ) -> ReminderPlan:
        due_at = START + outage * index / count
        base = seeder.action_due(action)
        return ReminderPlan(
            base.kind,
            base.case_id,
            base.subject_id,
            base.slot,
            due_at,
            due_at + expires_in if expires_in else end_of_day,
        )

    relevant, expired = actions[:100], actions[100:]
    plans = [plan(a, i, 100, None) for i, a in enumerate(relevant)]
    # Due between 10:00 and 13:00, each worth sending for an hour: all gone by 16:00.
    plans += [plan(a, i, 200, timedelta(hours=1)) for i, a in enumerate(expired)]
    # Tomorrow's nudges must stay where they are.
    later = [
        ReminderPlan(
            ReminderKind.ACTION_OVERDUE,
            a.case_id,
            a.action_id,
            TODAY + timedelta(days=1),
            seeder.schedule.at(TODAY + timedelta(days=1)),
            seeder.schedule.end_of(TODAY + timedelta(days=1)),
        )
        for a in actions[:20]
    ]
    assert all(START <= p.due_at < restart for p in plans)
    assert sum(p.expires_at <= restart for p in plans) == 100
    assert await seeder.schedule_plans([*plans, *later], at=START) == 220

    [bot] = await replicas.start(1, restart)
    final = Counter({"sent": 100, "dropped": 100, "pending": 20})
    await eventually(
        delivered(replica_engine, connector, 100, final),
        timeout=40,
        what="the missed reminders caught up or dropped",
        progress=progress(replica_engine, connector),
    )
    await replicas.stop_all()

    assert_each_once(connector, relevant)
    expired_ids = [a.action_id for a in expired]
    dropped = await _rows(
        replica_engine,
        "SELECT state, outcome FROM reminders WHERE subject_id = ANY(:ids) AND kind = :kind",
        ids=expired_ids,
        kind=ReminderKind.ACTION_DUE.value,
    )
    assert Counter(dropped) == Counter({("dropped", "expired"): 100})
    pending = await _rows(replica_engine, "SELECT kind FROM reminders WHERE state = 'pending'")
    assert Counter(k for (k,) in pending) == Counter({ReminderKind.ACTION_OVERDUE.value: 20})
    # "dropped with a log line": one per dropped reminder, none naming a case or a person.
    lines = [e for e in bot.log_entries() if e.get("message") == DROPPED_LOG_LINE]
    assert len(lines) == 100
    assert all("MARAT-" not in str(e) and "Synthetic" not in str(e) for e in lines)


async def test_a_batch_claimed_late_in_a_long_sweep_keeps_its_full_lease(
    seeder: Seeder, replica_units: SqlUnitOfWorkFactory, replica_engine: AsyncEngine
) -> None:
    """Two replicas' sweeps in this process, so that time is under control: the first sweep
    works through 120 due reminders in batches of 40, each reminder taking 50 ms (a batch: 2
    s, well inside the 3 s lease). 3.05 s in, while the first sweep is on its second batch
    (claimed at 2 s), the second replica sweeps. It must not take over rows the first claimed
    1.05 s ago: a lease runs from the claim, not from the start of the sweep."""
    await seeder.directory(agencies=10)
    actions = await seeder.agreed_actions(120, TODAY)
    assert await seeder.schedule_plans([seeder.action_due(a) for a in actions]) == 120
    clock = FixedClock(START)
    lease = timedelta(seconds=REMINDER_LEASE_SECONDS)
    context = UseCaseContext(replica_units, clock, WorkingDayCalendar("ENG"))
    first = ReminderSweep(context, TeamsCards(), lease=lease, batch=40)
    other_owner = "second-replica"
    taken_over: set[int] = set()
    held_by_first: set[int] = set()
    real_effect = first.effect

    async def slow_effect(uow: UnitOfWork, item: ReminderItem) -> Effect | None:
        clock.advance(timedelta(milliseconds=50))
        if not held_by_first and clock.now() >= START + timedelta(seconds=3.05):
            rows = await _rows(
                replica_engine,
                "SELECT id FROM reminders WHERE state = 'claimed' AND lease_owner = :owner",
                owner=first.owner,
            )
            held_by_first.update(row_id for (row_id,) in rows)
            async with replica_units() as other:
                now = clock.now()
                claimed = await other.reminders.claim_due(now, now + lease, other_owner, 200)
                await other.commit()
            taken_over.update(c.id for c in claimed if c.id in held_by_first)
        return await real_effect(uow, item)

    first.effect = slow_effect  # type: ignore[method-assign]
    await first.run()

    assert held_by_first, "the first sweep held no claims when the second one swept"
    assert not taken_over, (
        f"the second replica took over {len(taken_over)} of the {len(held_by_first)} "
        "reminders the first had claimed 1.05 s earlier under a 3 s lease: ReminderSweep.run "
        "claims every batch with lease_until = (start of the sweep) + lease, so a batch "
        "claimed after the sweep has run for a lease's length is claimed already expired"
    )
