"""How long the partnership figures of a national year take on PostgreSQL (limit: 2 s).

A national year is about 120,000 cases (SafeLives: 119,985 in the 12 months to September
2024) with their information returns and actions. This seeds one synthetic MARAT with that
volume and times what `/report` and `marat report` do: ``Reports.export`` (load the records
through the figures repository, compute every figure) for the whole year, and for one quarter.

* A throwaway database is created on the server (``--pg-url``), migrated, and dropped at the
  end (unless ``--keep``).
* Rows are bulk-inserted with ``INSERT ... SELECT generate_series`` (no ORM): 120,000 cases and
  referrals received over 2027, 8 information requests each (960,000), plans agreed at one
  of ~250 conferences for 92% of the cases (one hearing each, 5% heard again), 4 or 5 actions
  per plan (~520,000) with their outcomes, day-3 discussions, withdrawals and reviews, and
  three transitions per case. The categories and dates are spread with arithmetic on the row
  number (deterministic, synthetic); then ``VACUUM ANALYZE``.
* Each measured report runs after one warm-up; the median of ``--reps`` runs is compared to
  ``--max-seconds``. The load and the computation are also timed apart, and every query of
  the load is printed with ``EXPLAIN (ANALYZE, BUFFERS)``.

Run from the project root: ``.venv/bin/python -m bench.report_figures`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.reminder_sweep import admin, machine, vacuum
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.clock import FixedClock
from bot.domain.figure_records import Period
from bot.domain.figures import compute_figures
from bot.services.context import ServiceOptions, UseCaseContext
from bot.services.reports import Reports
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory

DEFAULT_PG = os.environ.get(
    "MARAT_BENCH_PG_URL",
    os.environ.get("MARAT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
YEAR = Period(date(2027, 1, 1), date(2027, 12, 31))
QUARTER = Period(date(2027, 4, 1), date(2027, 6, 30))
REPORT_DAY = datetime(2028, 1, 17, 10, 0, tzinfo=UTC)
AGENCIES = (
    "Police", "IDVA service", "Children's Social Care", "Adult Social Care", "Health (acute)",
    "Health (community/GP)", "Mental Health", "Housing", "Probation", "Education",
    "Substance Misuse",
)  # fmt: skip

# Every statement numbers its rows i = 1..cases; "h(i, k)" is a cheap deterministic spread.
SEED = [
    """INSERT INTO agencies (id, key, name, active, created_at)
       SELECT n, lower(regexp_replace(name, '[^A-Za-z]+', '-', 'g')), name, true, now()
       FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS a(name, n)""",
    # One conference a working day of 2027 (and January 2028), 600 places.
    """INSERT INTO meetings (date, capacity, created_at, created_by)
       SELECT d::date, 600, now(), 'bench'
       FROM generate_series('2027-01-04'::date, '2028-01-31'::date, interval '1 day') AS d
       WHERE extract(isodow FROM d) < 6""",
    """CREATE TEMP TABLE spread AS
       SELECT n::int AS i,
              ('2027-01-01'::date + ((n * 7919) % 365)::int) AS received,
              ((n * 2654435761) % 1000)::int AS r1, ((n * 40503) % 1000)::int AS r2,
              ((n * 9973) % 1000)::int AS r3
       FROM generate_series(1::bigint, :cases) AS n""",
    """INSERT INTO cases (id, reference, state, received_date, day_zero, information_due,
           discussion_date, earliest_conference, conference_target, created_at, created_by,
           version, plan_version, heard_at, heard_meeting_id, repeat, closed_at)
       SELECT i, 'BENCH-2027-' || lpad(i::text, 6, '0'),
              CASE WHEN r1 < 30 THEN 'withdrawn' WHEN r1 < 950 THEN 'monitoring'
                   ELSE 'referred' END,
              received, d0, d0 + 2, d0 + 3, d0 + 6, d0 + 18, received + time '10:00', 'bench',
              1, 0, NULL, NULL, r2 < 310, NULL
       FROM (SELECT *, received + CASE extract(isodow FROM received)
                                   WHEN 6 THEN 2 WHEN 7 THEN 1 ELSE 0 END AS d0
             FROM spread) AS s""",
    """INSERT INTO referrals (case_id, victim_name, victim_dob, victim_key, victim_gender,
           victim_ethnicity, victim_disability, victim_lgbt, perpetrator_name, perpetrator_key,
           perpetrator_dob, relationship, children_count, referring_agency_id, criteria,
           dash_score, incident_date, received_date, summary, consent, consent_reason)
       SELECT i, 'Bench Victim ' || (i % 85000), '1980-01-01'::date + (i % 85000) % 9000,
              'bench victim ' || (i % 85000),
              (ARRAY['female','female','female','female','male','not_known'])[1 + r1 % 6],
              (ARRAY['white_british','white_british','white_british','asian','black','mixed',
                     'white_other','not_known'])[1 + r2 % 8],
              (ARRAY['no','no','no','yes','not_known'])[1 + r3 % 5],
              (ARRAY['no','no','no','no','yes','not_known'])[1 + (r1 + r2) % 6],
              'Bench Harm ' || (i % 90000), 'bench harm ' || (i % 90000),
              '1970-01-01'::date + (i % 90000) % 12000,
              'ex_partner', r3 % 4, 1 + (CASE WHEN r2 < 600 THEN 0 ELSE r2 % 11 END),
              (ARRAY['visible_high_risk','visible_high_risk','professional_judgement',
                     'potential_escalation'])[1 + r3 % 4],
              16, NULL, received, NULL, r1 >= 150, CASE WHEN r1 < 150 THEN 'bench' END
       FROM spread""",
    # Eight agencies asked per case; returns on working days 0-6, 8% never.
    """INSERT INTO information_requests (case_id, agency_id, due_date, created_at, answered_at,
           answered_on, answered_by, known, information, concerns, late)
       SELECT c.id, 1 + (c.id + j) % 11, c.information_due, c.created_at,
              CASE WHEN missing THEN NULL ELSE c.day_zero + offset_days + time '11:30' END,
              CASE WHEN missing THEN NULL ELSE c.day_zero + offset_days END,
              'bench', true, NULL, NULL, offset_days > 2
       FROM cases c CROSS JOIN generate_series(1, 8) AS j
       CROSS JOIN LATERAL (SELECT (c.id * j * 31) % 100 < 8 AS missing,
                                  (c.id * j * 17) % 7 AS offset_days) AS o""",
    """INSERT INTO case_discussions (case_id, held, attendees, notes, recorded_by, recorded_at,
           recorded_on)
       SELECT id, (id % 20) <> 0, 'police', NULL, 'bench',
              discussion_date + (id % 9 = 0)::int + time '14:00',
              discussion_date + (id % 9 = 0)::int
       FROM cases WHERE id % 17 <> 0""",
    # Heard at the conference of working day 4-16 (earliest_conference + 0-10 days).
    """INSERT INTO hearings (case_id, meeting_id, heard_on, at)
       SELECT c.id, m.id, m.date, m.date + time '11:00'
       FROM cases c JOIN meetings m ON m.date = (
            SELECT min(date) FROM meetings
            WHERE date >= c.earliest_conference + (c.id % 11))
       WHERE c.state = 'monitoring'""",
    """INSERT INTO hearings (case_id, meeting_id, heard_on, at)
       SELECT h.case_id, m.id, m.date, m.date + time '11:00'
       FROM hearings h JOIN meetings m ON m.date = (
            SELECT min(date) FROM meetings WHERE date >= h.heard_on + 30)
       WHERE h.case_id % 20 = 0""",
    """UPDATE cases c SET heard_at = h.at, heard_meeting_id = h.meeting_id
       FROM hearings h WHERE h.case_id = c.id""",
    """INSERT INTO actions (case_id, agency_id, description, due_date, perpetrator_focused,
           status, note, created_by, created_at, updated_by, updated_at, agreed_at, agreed_on,
           closed_on)
       SELECT h.case_id, 1 + (h.case_id + k) % 11, 'Bench action', due, (h.case_id + k) % 3 = 0,
              CASE WHEN s < 70 THEN 'done' WHEN s < 75 THEN 'not_possible'
                   WHEN s < 85 THEN 'in_progress' ELSE 'open' END,
              NULL, 'bench', h.at,
              CASE WHEN s < 85 THEN 'bench' END,
              CASE WHEN s < 75 THEN due + (s % 9 - 5) + time '16:00'
                   WHEN s < 85 THEN h.at + interval '2 days' END,
              h.at, h.heard_on,
              CASE WHEN s < 75 THEN due + (s % 9 - 5) END
       FROM (SELECT h.*, (h.case_id * k * 13) % 100 AS s, k,
                    h.heard_on + 7 + ((h.case_id * k) % 21) AS due
             FROM (SELECT DISTINCT ON (case_id) * FROM hearings ORDER BY case_id, heard_on) h
             CROSS JOIN generate_series(1, 5) AS k) h
       WHERE k < 5 OR h.case_id % 2 = 0""",
    """INSERT INTO state_transitions (case_id, from_state, to_state, actor, at, reason)
       SELECT id, NULL, 'referred', 'bench', created_at, NULL FROM cases
       UNION ALL
       SELECT id, 'referred', 'discussed', 'bench', discussion_date + time '15:00', NULL
       FROM cases WHERE state <> 'withdrawn'
       UNION ALL
       SELECT id, 'referred', 'withdrawn', 'bench', day_zero + 1 + time '12:00', 'bench'
       FROM cases WHERE state = 'withdrawn'
       UNION ALL
       SELECT case_id, 'monitoring', 'review', 'bench', max(heard_on) - 5 + time '12:00', 'bench'
       FROM hearings GROUP BY case_id HAVING count(*) > 1""",
]


async def seed(engine: AsyncEngine, cases: int) -> float:
    started = time.perf_counter()
    async with engine.begin() as connection:
        for statement in SEED:
            params: dict[str, Any] = {}
            if ":names" in statement:
                params["names"] = list(AGENCIES)
            if ":cases" in statement:
                params["cases"] = cases
            await connection.execute(text(statement), params)
    await vacuum(
        engine, "cases", "referrals", "information_requests", "actions", "hearings",
        "case_discussions", "state_transitions", "meetings", "agencies",
    )  # fmt: skip
    return time.perf_counter() - started


async def counts(engine: AsyncEngine) -> dict[str, int]:
    tables = ("cases", "information_requests", "actions", "hearings", "state_transitions")
    async with engine.connect() as connection:
        return {
            t: int((await connection.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one())
            for t in tables
        }


def reports(engine: AsyncEngine) -> Reports:
    context = UseCaseContext(
        SqlUnitOfWorkFactory(session_factory(engine)),
        FixedClock(REPORT_DAY),
        WorkingDayCalendar("ENG"),
        options=ServiceOptions(adult_female_population=25_500_000),
    )
    return Reports(context)


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


async def server_cpu(engine: AsyncEngine) -> float:
    """CPU seconds used so far by this database's server processes (same machine only)."""
    async with engine.connect() as connection:
        pids = (
            await connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            )
        ).scalars()
        ticks = [await asyncio.to_thread(_ticks, pid) for pid in pids]
    return sum(ticks) / os.sysconf("SC_CLK_TCK")


async def measure(engine: AsyncEngine, period: Period, reps: int) -> dict[str, Any]:
    use_case = reports(engine)
    await use_case.export(period)  # warm-up (and every pooled connection opened)
    totals, loads, computes = [], [], []
    server_before, python_before = await server_cpu(engine), time.process_time()
    for _ in range(reps):
        started = time.perf_counter()
        figures = await use_case.export(period)
        totals.append(time.perf_counter() - started)
    cpu = {
        "server_cpu_s": (await server_cpu(engine) - server_before) / reps,
        "python_cpu_s": (time.process_time() - python_before) / reps,
    }
    for _ in range(reps):
        async with use_case.ctx.units() as uow:
            started = time.perf_counter()
            facts = await uow.figures.facts(period)
            loads.append(time.perf_counter() - started)
        started = time.perf_counter()
        compute_figures(facts, period, REPORT_DAY.date(), use_case.ctx.calendar, 25_500_000)
        computes.append(time.perf_counter() - started)
    records = {
        "referral tallies": len(facts.referrals),
        "conference tallies": len(facts.conferences),
        "timelines": len(facts.timelines),
        "discussions": len(facts.discussions),
        "harm links": len(facts.harm_links),
        "returns (grouped)": len(facts.returns),
        "returns (requests)": sum(r.count for r in facts.returns),
        "actions due (grouped)": len(facts.actions_due),
        "actions due": sum(a.count for a in facts.actions_due),
    }
    return {
        "median_s": statistics.median(totals),
        "min_s": min(totals),
        "max_s": max(totals),
        "load_median_s": statistics.median(loads),
        "compute_median_s": statistics.median(computes),
        "records": records,
        **cpu,
        "heard": figures.timeliness.heard,
        "within_target": figures.timeliness.within_target.text(),
        "referrals": figures.referrals.total,
    }


async def explain(engine: AsyncEngine, period: Period) -> str:
    """Every query of one load, with its plan as PostgreSQL ran it."""
    captured: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    async with reports(engine).ctx.units() as uow:
        await uow.figures.facts(period)
    event.remove(engine.sync_engine, "before_cursor_execute", listen)
    out = []
    async with engine.connect() as connection:
        await connection.execute(text("SET work_mem = '64MB'"))  # as the repository does
        for statement, parameters in captured:
            plan = await connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
            )
            out.append("-- " + " ".join(statement.split())[:160] + " ...")
            out.extend(row[0] for row in plan)
            out.append("")
    return "\n".join(out)


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


async def load_average() -> str:
    """The machine's load (1, 5, 15 minutes): other work running shows in the timings."""
    return await asyncio.to_thread(_load_average)


async def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        seeded = 0.0 if args.reuse else await seed(engine, args.cases)
        sizes = await counts(engine)
        print(f"seeded in {seeded:.1f} s: {sizes}", flush=True)
        result: dict[str, Any] = {"seed_s": seeded, "rows": sizes}
        for name, period in (("year", YEAR), ("quarter", QUARTER)):
            before = await load_average()
            result[name] = await measure(engine, period, args.reps)
            result[name]["load_average"] = f"{before} -> {await load_average()}"
            print(f"{name}: {result[name]}", flush=True)
        result["explain"] = await explain(engine, YEAR)
        async with engine.connect() as connection:
            result["postgresql"] = (await connection.execute(text("SHOW server_version"))).scalar()
    finally:
        await engine.dispose()
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=120_000, help="cases in the year (120000)")
    parser.add_argument("--reps", type=int, default=5, help="measured reports per period (5)")
    parser.add_argument("--max-seconds", type=float, default=2.0, help="limit for the year (2)")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="server (any existing database)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", metavar="DATABASE", help="measure a database kept by --keep (no seeding)"
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="no parallel query workers, so that every server CPU second is counted",
    )
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument("--explain", type=Path, help="write the query plans here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    name = args.reuse or f"marat_bench_{secrets.token_hex(4)}"
    url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    if not args.reuse:
        asyncio.run(admin(args.pg_url, f'CREATE DATABASE "{name}"'))
    try:
        upgrade(url)
        workers = "0" if args.serial else "DEFAULT"
        asyncio.run(
            admin(
                args.pg_url,
                f'ALTER DATABASE "{name}" SET max_parallel_workers_per_gather = {workers}',
            )
        )
        result = asyncio.run(run(args, url))
    finally:
        if args.keep or args.reuse:
            print(f"kept database {name}")
        else:
            asyncio.run(admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    info = {**machine(), "postgresql": result["postgresql"]}
    print()
    print(f"machine: {info['cpus']} CPUs ({info['cpu_model']}), Python {info['python']}, "
          f"PostgreSQL {info['postgresql']}")  # fmt: skip
    print()
    print(
        "| report | median s | min s | max s | load s | compute s | CPU s: server, Python "
        "| load average | records |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for name_, label in (("year", "a national year (2027)"), ("quarter", "one quarter (Q2)")):
        r = result[name_]
        records = ", ".join(f"{k} {v:,}" for k, v in r["records"].items())
        print(f"| {label} | {r['median_s']:.3f} | {r['min_s']:.3f} | {r['max_s']:.3f} "
              f"| {r['load_median_s']:.3f} | {r['compute_median_s']:.3f} "
              f"| {r['server_cpu_s']:.2f}, {r['python_cpu_s']:.2f} "
              f"| {r['load_average']} | {records} |")  # fmt: skip
    print()
    if args.explain:
        args.explain.write_text(result["explain"], encoding="utf-8")
        print(f"query plans written to {args.explain}")
    else:
        print(result["explain"])
    if args.json:
        args.json.write_text(json.dumps({**info, **result}, indent=2, default=str) + "\n")
    year = result["year"]["median_s"]
    print(f"national year: median {year:.3f} s (limit {args.max_seconds} s)")
    return 0 if year <= args.max_seconds else 1


if __name__ == "__main__":
    sys.exit(main())
