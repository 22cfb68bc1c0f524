"""How long one reminder sweep takes for 1,000 due reminders among 10k, 100k and 1M pending.

The claim is meant to cost what is *due*, not what is *pending* (the partial index
``ix_reminders_live_due`` on ``due_at`` for live rows): this measures it on PostgreSQL.

* A throwaway database is created on the server (``--pg-url``, default the local trust-auth
  server), migrated, and dropped at the end (unless ``--keep``).
* The 1,000 due reminders are the product's own "action due today" reminders
  (``Schedule.action``) for agreed actions of open cases, seeded through the repositories:
  the sweep runs the realistic path for each one (claim, case and action look-up, contact,
  outbox message, finish in one transaction).
* The pending reminders (not yet due: spread over the next year, every kind) are bulk-inserted
  with ``INSERT ... SELECT generate_series``; the table grows 10k -> 100k -> 1M and is
  ``VACUUM ANALYZE``d after each load, as autovacuum would.
* Each size: one unmeasured warm-up sweep, then ``--reps`` measured sweeps
  (``ReminderSweep.run`` with a ``FixedClock`` at Wed 6 Jan 2027 10:00 London). Before each
  sweep the 1,000 reminders are put back to pending, their outbox rows deleted, and both tables
  vacuumed, so every sweep starts from the same state.
* Also measured: the claim query alone (200 rows, rolled back), and its EXPLAIN at the
  largest size.

Prints a table (size, median, min, max sweep seconds, ...) and the ratio of the median at the
largest size to the median at the smallest; exits 1 if it exceeds ``--max-ratio`` (1.5), or if
the same ratio for the claim query alone exceeds ``--max-claim-ratio`` (3.0: the sweep is
dominated by the work per due reminder, so a claim that scanned every pending row would hide
in the sweep ratio; see bench/README.md).

Run from the project root: ``.venv/bin/python -m bench.reminder_sweep`` (see bench/README.md).
Synthetic data only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.actions import ActionDraft
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.clock import FixedClock
from bot.domain.deadlines import CaseDeadlines, ConferenceChoice
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import Criteria, Referral
from bot.domain.reminders import ReminderKind, ReminderPlan, Schedule
from bot.services.reminders import ReminderSweep
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import ReminderRow
from storage.repositories.reminders import SqlReminders
from storage.unit_of_work import SqlUnitOfWorkFactory

DEFAULT_PG = os.environ.get(
    "MARAT_BENCH_PG_URL",
    os.environ.get("MARAT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
NOW = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)  # Wednesday, 10:00 London (GMT)
TODAY = date(2027, 1, 6)
SEEDED_AT = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
COORDINATOR = "c0000000-0000-4000-8000-0000000bench"
KINDS = [kind.value for kind in ReminderKind]


@dataclass
class SizeResult:
    pending: int
    due: int
    load_seconds: float
    sweeps: list[float] = field(default_factory=list)
    claims_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.sweeps)

    @property
    def claim_median_ms(self) -> float:
        return statistics.median(self.claims_ms)


# -------------------------------------------------------------------------------------------
# Database set-up
# -------------------------------------------------------------------------------------------


async def admin(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def vacuum(engine: AsyncEngine, *tables: str) -> None:
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await connection.execute(text(f"VACUUM ANALYZE {table}"))


async def seed_due(units: SqlUnitOfWorkFactory, due: int, agencies: int = 50) -> list[int]:
    """A directory (a coordinator, ``agencies`` agencies with one contact each), ``due``
    agreed actions due today (4 per open case), and their "due today" reminders; returns the
    reminders' ids."""
    schedule = Schedule(WorkingDayCalendar("ENG"))
    keys: list[str] = []
    async with units() as uow:
        await uow.directory.upsert_person(COORDINATOR, "Coordinator Bench", None, SEEDED_AT)
        await uow.directory.set_coordinator(COORDINATOR, True)
        for n in range(agencies):
            agency, _ = await uow.directory.upsert_agency(f"Bench Agency {n:03d}", SEEDED_AT)
            aad = f"{n:08x}-0000-4000-8000-0000000bench"
            await uow.directory.upsert_person(aad, f"Bench Contact {n:03d}", None, SEEDED_AT)
            await uow.directory.add_membership(aad, agency.key)
            keys.append(agency.key)
        await uow.commit()
    plans: list[ReminderPlan] = []
    per_case = 4
    for first in range(0, due, 400):
        async with units() as uow:
            for number in range(first, min(first + 400, due), per_case):
                key = keys[number % len(keys)]
                case_id = await uow.cases.create(
                    f"BENCH-2027-{number // per_case + 1:04d}",
                    _referral(number, key),
                    _deadlines(),
                    ConferenceChoice(None, None, date(2027, 1, 22), True),
                    Transition(None, CaseState.REFERRED, COORDINATOR, SEEDED_AT, None),
                )
                for offset in range(min(per_case, due - number)):
                    owner = keys[(number + offset) % len(keys)]
                    draft = ActionDraft(owner, f"Bench action {number + offset}", TODAY, False)
                    action_id = await uow.actions.add(case_id, draft, COORDINATOR, SEEDED_AT)
                    plans += [
                        p
                        for p in schedule.action(case_id, action_id, TODAY)
                        if p.kind is ReminderKind.ACTION_DUE
                    ]
                await uow.actions.agree(case_id, SEEDED_AT)
            await uow.commit()
    async with units() as uow:
        assert await uow.reminders.schedule(plans, SEEDED_AT) == due
        await uow.commit()
    async with units() as uow:
        rows = await uow.session.scalars(
            select(ReminderRow.id).where(ReminderRow.key.in_([p.key for p in plans]))
        )
        return list(rows)


def _referral(number: int, agency: str) -> Referral:
    return Referral(
        victim_name=f"Bench Person {number:05d}",
        victim_dob=None,
        victim_gender="not_known",
        victim_ethnicity="not_known",
        victim_disability="not_known",
        victim_lgbt="not_known",
        perpetrator_name=None,
        perpetrator_dob=None,
        relationship="other",
        children_count=0,
        referring_agency=agency,
        criteria=Criteria.VISIBLE_HIGH_RISK,
        dash_score=None,
        incident_date=None,
        received_date=date(2027, 1, 4),
        agencies=(agency,),
        summary=None,
        consent=True,
        consent_reason=None,
    )


def _deadlines() -> CaseDeadlines:
    return CaseDeadlines(
        received=date(2027, 1, 4),
        day_zero=date(2027, 1, 4),
        information_due=date(2027, 1, 6),
        discussion=date(2027, 1, 7),
        earliest_conference=date(2027, 1, 8),
        conference_target=date(2027, 1, 22),
    )


# Pending reminders not yet due: every kind, due at a minute over the next year (scattered,
# not in id order), each worth sending for a day after it is due. No case (like conference
# reminders), so no case rows are needed for them.
PENDING_SQL = """
INSERT INTO reminders
    (key, kind, case_id, subject_id, slot, due_at, expires_at, state, created_at)
SELECT
    k.kind || ':' || g || ':' || (d.due_at AT TIME ZONE 'Europe/London')::date,
    k.kind, NULL, g, (d.due_at AT TIME ZONE 'Europe/London')::date,
    d.due_at, d.due_at + interval '1 day', 'pending', CAST(:now AS timestamptz)
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g
CROSS JOIN LATERAL (
    SELECT (CAST(:kinds AS text[]))[1 + g % CAST(:kind_count AS integer)] AS kind
) AS k
CROSS JOIN LATERAL (
    SELECT CAST(:now AS timestamptz)
        + interval '1 minute' * (1 + (g::bigint * 7919) % 525600) AS due_at
) AS d
"""


async def grow_pending(engine: AsyncEngine, have: int, want: int) -> float:
    """Insert pending rows ``have+1 .. want`` and VACUUM ANALYZE; returns the seconds taken."""
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(
            text(PENDING_SQL),
            {
                "first": have + 1,
                "last": want,
                "now": NOW,
                "kinds": KINDS,
                "kind_count": len(KINDS),
            },
        )
    await vacuum(engine, "reminders")
    return time.perf_counter() - started


async def reset_due(engine: AsyncEngine, due_ids: list[int]) -> None:
    """Put the due reminders back as they were before any sweep, and clear what it caused."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE reminders SET state = 'pending', lease_until = NULL, lease_owner = NULL,"
                " done_at = NULL, outcome = NULL WHERE id = ANY(:ids)"
            ),
            {"ids": due_ids},
        )
        await connection.execute(text("DELETE FROM outbox"))
    await vacuum(engine, "reminders", "outbox")


async def count_live(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT state, count(*) FROM reminders GROUP BY state ORDER BY state")
        )
        return {state: count for state, count in rows.all()}


# -------------------------------------------------------------------------------------------
# Measuring
# -------------------------------------------------------------------------------------------


async def one_sweep(units: SqlUnitOfWorkFactory, expected: int) -> float:
    sweep = ReminderSweep(units, FixedClock(NOW), Schedule(WorkingDayCalendar("ENG")))
    started = time.perf_counter()
    result = await sweep.run()
    elapsed = time.perf_counter() - started
    if result.sent != expected:
        raise RuntimeError(f"the sweep sent {result.sent} reminders, expected {expected}")
    return elapsed


async def claim_only(units: SqlUnitOfWorkFactory, limit: int = 200) -> float:
    """The claim query and update for one batch, rolled back: milliseconds."""
    async with units() as uow:
        started = time.perf_counter()
        items = await uow.reminders.claim_due(NOW, NOW, "bench", limit)
        elapsed = time.perf_counter() - started
        if len(items) != limit:
            raise RuntimeError(f"claimed {len(items)}, expected {limit}")
    return elapsed * 1000


def claim_query(limit: int = 200) -> Any:
    """The product's claim query, as SqlReminders.claim_due builds it on PostgreSQL."""
    return (
        select(ReminderRow)
        .where(*SqlReminders(None)._due(NOW))  # type: ignore[arg-type]
        .order_by(ReminderRow.due_at, ReminderRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def explain(engine: AsyncEngine) -> str:
    """EXPLAIN ANALYZE of the claim query as asyncpg sends it (a prepared statement with bound
    parameters), planned both ways PostgreSQL may plan it: a custom plan for these values, and
    the generic plan a prepared statement can switch to after five executions; rolled back."""
    compiled = claim_query().compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    values = ", ".join(_literal(params[name]) for name in compiled.positiontup or [])
    parts = [str(compiled).strip(), ""]
    for mode in ("force_custom_plan", "force_generic_plan"):
        async with engine.connect() as connection:
            await connection.exec_driver_sql(f"SET plan_cache_mode = {mode}")
            await connection.exec_driver_sql(f"PREPARE claim AS {compiled}")
            result = await connection.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE claim({values})"
            )
            parts += [f"-- plan_cache_mode = {mode}", *[row[0] for row in result.all()], ""]
            await connection.rollback()
            await connection.exec_driver_sql("DEALLOCATE claim")
            await connection.exec_driver_sql("RESET plan_cache_mode")
    return "\n".join(parts)


def _literal(value: object) -> str:
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


async def run(args: argparse.Namespace, url: str) -> tuple[list[SizeResult], str, dict[str, Any]]:
    engine = create_engine(url)
    units = SqlUnitOfWorkFactory(session_factory(engine))
    results: list[SizeResult] = []
    plan_text = ""
    try:
        started = time.perf_counter()
        due_ids = await seed_due(units, args.due)
        seed_seconds = time.perf_counter() - started
        print(f"seeded {len(due_ids)} due reminders (and their cases) in {seed_seconds:.1f} s")
        have = 0
        for size in args.sizes:
            load = await grow_pending(engine, have, size)
            have = size
            print(f"pending {size:>9,}: loaded in {load:.1f} s; states {await count_live(engine)}")
            result = SizeResult(size, len(due_ids), load)
            for rep in range(args.reps + 1):
                await reset_due(engine, due_ids)
                claims = [await claim_only(units) for _ in range(5)]
                seconds = await one_sweep(units, len(due_ids))
                if rep == 0:
                    print(f"  warm-up sweep {seconds:.3f} s")
                    continue
                result.sweeps.append(seconds)
                result.claims_ms.extend(claims)
                print(f"  sweep {rep}: {seconds:.3f} s (claim of 200: {min(claims):.2f} ms)")
            results.append(result)
        await reset_due(engine, due_ids)
        plan_text = await explain(engine)
        async with engine.connect() as connection:
            server = (await connection.execute(text("SHOW server_version"))).scalar_one()
            size_sql = "SELECT pg_size_pretty(pg_relation_size(to_regclass(:name)))"
            sizes = {
                name: (await connection.execute(text(size_sql), {"name": name})).scalar_one()
                for name in ("reminders", "ix_reminders_live_due", "uq_reminders_key")
            }
        meta = {"postgresql": server, "relation_sizes": sizes, "seed_seconds": seed_seconds}
    finally:
        await engine.dispose()
    return results, plan_text, meta


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def table(results: list[SizeResult]) -> str:
    lines = [
        "| pending (not due) | due | median sweep s | min s | max s | per due reminder ms "
        "| claim of 200, median ms |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.pending:,} | {r.due:,} | {r.median:.3f} | {min(r.sweeps):.3f} "
            f"| {max(r.sweeps):.3f} | {r.median / r.due * 1000:.2f} | {r.claim_median_ms:.2f} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=lambda v: sorted(int(s) for s in v.split(",")),
        default=[10_000, 100_000, 1_000_000],
        help="pending reminders, comma-separated (default 10000,100000,1000000)",
    )
    parser.add_argument("--due", type=int, default=1000, help="due reminders (default 1000)")
    parser.add_argument("--reps", type=int, default=5, help="measured sweeps per size (5)")
    parser.add_argument(
        "--max-ratio", type=float, default=1.5, help="fail if the sweep ratio is above (1.5)"
    )
    parser.add_argument(
        "--max-claim-ratio",
        type=float,
        default=3.0,
        help="fail if the claim-query ratio is above (3.0; see bench/README.md)",
    )
    parser.add_argument(
        "--drop-index",
        action="store_true",
        help="experiment: drop ix_reminders_live_due first, to see what it buys",
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="server (any existing database)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args(argv)
    if args.due % 4 or args.due < 200:
        parser.error("--due must be a multiple of 4, at least 200")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    name = f"marat_bench_{secrets.token_hex(4)}"
    url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(admin(args.pg_url, f'CREATE DATABASE "{name}"'))
    try:
        upgrade(url)
        if args.drop_index:
            asyncio.run(admin(url, "DROP INDEX ix_reminders_live_due"))
            print("experiment: ix_reminders_live_due dropped")
        results, plan_text, meta = asyncio.run(run(args, url))
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            asyncio.run(admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    info = {**machine(), **meta}
    print()
    print(
        f"machine: {info['cpus']} CPUs ({info['cpu_model']}), Python {info['python']}, "
        f"PostgreSQL {info['postgresql']}"
    )
    print(f"relation sizes at {results[-1].pending:,} pending: {info['relation_sizes']}")
    print()
    print(table(results))
    ratio = results[-1].median / results[0].median
    claim_ratio = results[-1].claim_median_ms / results[0].claim_median_ms
    print()
    print(
        f"ratio {results[-1].pending:,} / {results[0].pending:,} pending (median sweep): "
        f"{ratio:.3f} (limit {args.max_ratio})"
    )
    print(
        f"ratio {results[-1].pending:,} / {results[0].pending:,} pending (median claim of 200):"
        f" {claim_ratio:.3f} (limit {args.max_claim_ratio})"
    )
    print()
    print(f"EXPLAIN of the claim query at {results[-1].pending:,} pending:")
    print(plan_text)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "ratio": ratio,
                    "claim_ratio": claim_ratio,
                    "index_dropped": args.drop_index,
                    "results": [asdict(r) for r in results],
                    "explain": plan_text,
                },
                indent=2,
            )
        )
    failed = False
    if ratio > args.max_ratio:
        print(f"FAIL: the sweep costs {ratio:.2f}x more at the largest size", file=sys.stderr)
        failed = True
    if claim_ratio > args.max_claim_ratio:
        print(
            f"FAIL: the claim query costs {claim_ratio:.2f}x more at the largest size",
            file=sys.stderr,
        )
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
