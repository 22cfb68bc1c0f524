"""`marat report` and `marat capacity` as an operator runs them, on SQLite and PostgreSQL.

The database holds the builders' directory, conferences on Thursdays 14 and 21 January 2027,
and two referrals with day 0 on Monday 4 January: Jane's (heard on 14 January, one
perpetrator-focused police action due 20 January, not done) and Mary's (received on New Year's
Day, never heard), naming the same fictional person causing harm. The report is made on
Monday 12 April 2027 (MARAT_CLOCK_START).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import struct
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.domain.figure_definitions import DEFINITIONS
from bot.ops.cli import main as cli_main
from bot.services.plans import PlanAgreed, PlanView
from storage.models import AuditRow
from tests.support.builders import COORDINATOR, referral_inputs, seed_directory
from tests.support.services import make_services, refer

Q1 = ["--from", "2027-01-01", "--to", "2027-03-31"]
HEADER = (
    "Meeting date,Cases discussed,Repeat cases,Children in households,Referred by Police,"
    "Referred by Housing,Referred by IDVA service,Referred by Children's Social Care,"
    "Referred by Adult Social Care,Referred by Health (acute),"
    "Referred by Health (community/GP),Referred by Mental Health,Referred by Probation,"
    "Referred by Education,Referred by Substance Misuse,"
    '"Black, Asian or racially minoritised victims",LGBT+ victims,Disabled victims,'
    "Male victims,Victims aged 16-17,Causing harm aged 17 or under"
)


async def marat(argv: list[str]) -> int:
    """Run the CLI in a worker thread: it owns its event loop, as in a separate process."""
    return await asyncio.to_thread(cli_main, argv)


@pytest.fixture
async def quarter(
    engine: AsyncEngine, database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncEngine:
    deps = make_services(engine, clock)
    await seed_directory(deps)
    for day in (date(2027, 1, 14), date(2027, 1, 21)):
        await deps.conferences.add_meeting(None, day, 18)
    jane = await refer(deps, COORDINATOR, referral_inputs())
    await refer(
        deps,
        COORDINATOR,
        referral_inputs(
            victim_name="Mary Example",
            victim_dob="1985-03-03",
            victim_gender="male",
            referring_agency="housing",
            children_count="0",
            received_date="2027-01-01",
            consent="no",
            consent_reason="Sharing is needed to prevent serious harm (synthetic).",
        ),
    )
    clock.set(datetime(2027, 1, 14, 10, 0, tzinfo=UTC))
    view = await deps.plans.open_plan(COORDINATOR, jane.reference)
    added = await deps.plans.add_action(
        COORDINATOR,
        view.token,
        {
            "agency": "police",
            "description": "Police to serve the non-molestation order on the person causing harm",
            "due_date": "2027-01-20",
            "perpetrator_focused": "yes",
        },
    )
    assert isinstance(added, PlanView)
    assert isinstance(await deps.plans.agree_plan(COORDINATOR, added.token, False), PlanAgreed)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MARAT_CLOCK_START", "2027-04-12T10:00:00+00:00")
    return engine


async def test_the_safelives_return_has_one_row_per_conference(
    quarter: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["report", *Q1, "--format", "csv"]) == 0
    output = capsys.readouterr().out
    assert output.splitlines()[0] == HEADER
    rows = list(csv.reader(io.StringIO(output)))[1:]
    # 14 January discussed Jane's case (referred by Police, 2 children); 21 January none.
    assert rows == [
        ["2027-01-14", "1", "0", "2", "1"] + ["0"] * 10 + ["0"] * 6,
        ["2027-01-21", "0", "0", "0"] + ["0"] * 11 + ["0"] * 6,
    ]


async def test_json_has_every_figure_and_its_definition(
    quarter: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["report", *Q1, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == {"start": "2027-01-01", "end": "2027-03-31"}
    assert data["as_of"] == "2027-04-12"
    timeliness = data["timeliness"]
    assert timeliness["within_target"] == {"n": 1, "of": 1, "percent": 100.0}
    assert timeliness["median_days"] == 8  # 5-8 Jan, 11-14 Jan
    assert timeliness["waiting_past_target"] == 1  # Mary's target was Fri 22 January
    assert data["referrals"]["total"] == 2
    assert data["referrals"]["serial_perpetrators"] == 1
    assert data["referrals"]["without_consent"] == {"n": 1, "of": 2, "percent": 50.0}
    assert data["equality"]["male"]["n"] == 1
    police = next(a for a in data["actions"] if a["agency"] == "police")
    assert (police["agreed"], police["due"], police["overdue"]) == (1, 1, 1)
    assert data["returns_total"]["missing"] == 6  # 3 agencies × 2 cases, none answered
    assert set(data["definitions"]) == {d.key for d in DEFINITIONS}


async def test_the_board_paper_footnotes_every_definition(
    quarter: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["report", *Q1, "--format", "md"]) == 0
    paper = capsys.readouterr().out
    assert paper.startswith("# MARAT partnership figures: Fri 1 Jan 2027 to Wed 31 Mar 2027")
    assert "| Heard within 14 working days[^heard_within_target] | 1 of 1 (100%) |" in paper
    for definition in DEFINITIONS:
        assert f"[^{definition.key}]: **{definition.label}.** {definition.text}" in paper
    assert "Jane" not in paper and "Mary" not in paper and "MARAT-2027" not in paper


async def test_the_chart_and_the_report_go_to_files_and_the_export_is_audited(
    quarter: AsyncEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart, out = tmp_path / "chart.png", tmp_path / "return.csv"
    argv = ["report", *Q1, "--format", "csv", "--out", str(out), "--chart", str(chart)]
    assert await marat(argv) == 0
    assert "Wrote the chart to" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").splitlines()[0] == HEADER
    png = chart.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1210, 462)
    async with quarter.connect() as connection:
        audit = (
            await connection.execute(
                select(AuditRow.actor, AuditRow.role, AuditRow.outcome).where(
                    AuditRow.action == "report.export"
                )
            )
        ).all()
    assert [tuple(a) for a in audit] == [("cli", "operator", "ok")]


async def test_bad_periods_are_refused_in_one_line(
    quarter: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["report", "--from", "2027-03-31", "--to", "2027-01-01"]) == 2
    assert capsys.readouterr().err == (
        "marat: The period ends before it starts: give the earlier date first.\n"
    )
    with pytest.raises(SystemExit) as exited:
        cli_main(["report", "--from", "31/03/2027", "--to", "2027-04-01"])
    assert exited.value.code == 2
    assert "expected a date as YYYY-MM-DD" in capsys.readouterr().err


async def test_capacity_from_history_uses_the_conferences_on_record(
    quarter: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["capacity", "--from", "2027-01-04", "--to", "2027-01-08", "--history", "--runs", "20"]
    assert await marat(argv) == 0
    output = capsys.readouterr().out
    # The history starts with Mary's referral on 1 January: 1 in the 3 days before the 4th,
    # so 1 × 365 / 3 = 122 a year.
    assert "Referral rate: 122 a year (1 referral received in the 3 days before)" in output
    assert "Calendar: the 2 conferences on record (their free places)" in output


def test_capacity_of_the_reference_calendars(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    base = ["capacity", "--from", "2027-01-04", "--to", "2027-12-31", "--cases-per-year", "300"]
    assert cli_main([*base, "--every", "week", "--places", "18", "--runs", "40"]) == 0
    weekly = capsys.readouterr().out
    assert "Calendar: weekly conferences (Thursdays) of 18 places" in weekly
    assert "Heard within 14 working days: 100.0%" in weekly
    assert "no change is needed" in weekly
    assert cli_main([*base, "--every", "fortnight", "--places", "16", "--runs", "40"]) == 0
    fortnightly = capsys.readouterr().out
    share = float(fortnightly.split("Heard within 14 working days: ")[1].split("%")[0])
    assert 98.0 <= share < 100.0  # about 99%
    assert "Smallest change that reaches 100%: " in fortnightly
    assert cli_main([*base, "--every", "month", "--places", "18", "--runs", "10"]) == 0
    monthly = capsys.readouterr().out
    assert "No number of places is enough: cases referred on Mon 4 Jan 2027" in monthly


def test_capacity_needs_a_rate(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    argv = ["capacity", "--from", "2027-01-04", "--to", "2027-03-31", "--history"]
    assert cli_main(argv) == 2
    assert "No referrals are on record before the period" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main([*argv, "--cases-per-year", "300"])
