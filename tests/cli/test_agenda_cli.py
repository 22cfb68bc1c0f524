"""`marat agenda DATE [--pack --format md]`: the conference pack as an offline copy (business
continuity), on SQLite and on PostgreSQL. The same content and order as in Teams, nothing
shortened; every export is audited per case, without the case data itself.

Seeded through the use cases on Mon 4 Jan 2027: an adult-only case, then a case with children
whose Police return is in and whose case discussion is recorded; both listed on Thu 14 Jan.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.ops.cli import main as cli_main
from storage.models import AuditRow, OutboxRow
from tests.support.builders import COORDINATOR, POLICE_CONTACT, referral_inputs, seed_directory
from tests.support.services import make_services, refer

POLICE = "Two call-outs to the address in 2026 (synthetic).\nBail conditions apply."
NOTES = "Police shared the bail conditions (synthetic)."
LONG = "x" * 3900  # a return near the maximum length is printed in full


async def marat(argv: list[str]) -> int:
    return await asyncio.to_thread(cli_main, argv)


@pytest.fixture
async def seeded(
    engine: AsyncEngine, database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncEngine:
    deps = make_services(engine, clock)
    await seed_directory(deps)
    await deps.conferences.add_meeting(None, date(2027, 1, 14), 18)
    await refer(deps, COORDINATOR, referral_inputs(children_count="0", victim_name="Ada Adult"))
    children = await refer(deps, COORDINATOR, referral_inputs())
    async with engine.connect() as connection:
        payload = await connection.scalar(
            select(OutboxRow.payload).where(
                OutboxRow.recipient == POLICE_CONTACT,
                OutboxRow.kind == "card",
                OutboxRow.case_id == children.id,
            )
        )
    assert payload is not None
    token = json.loads(payload)["card"]["actions"][0]["data"]["token"]
    await deps.information_requests.answer(
        POLICE_CONTACT, token, {"known": "yes", "information": POLICE, "concerns": LONG}
    )
    detail = await deps.cases.case_detail(COORDINATOR, children.reference)
    assert detail.discussion_token is not None
    await deps.discussions.record_discussion(
        COORDINATOR, detail.discussion_token, {"held": "yes", "attendees": "police", "notes": NOTES}
    )
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MARAT_CLOCK_START", "2027-01-13T10:00:00+00:00")
    return engine


async def test_the_pack_prints_every_case_in_agenda_order_with_its_returns_in_full(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["agenda", "2027-01-14", "--pack", "--format", "md"]) == 0

    output = capsys.readouterr().out
    lines = output.splitlines()
    assert lines[0] == "# MARAC conference pack: Thu 14 Jan 2027"
    assert lines.index("## Cases with children") < lines.index("## Adult-only cases")
    assert "### 1. MARAT-2027-0002: Jane Testcase" in lines
    assert "### 2. MARAT-2027-0001: Ada Adult" in lines
    assert "- **Police**: returned Mon 4 Jan 2027 10:00 by Pat Police" in lines
    assert "  - Information: Two call-outs to the address in 2026 (synthetic)." in lines
    assert "    Bail conditions apply." in lines  # a second line stays in its item
    assert f"  - Concerns: {LONG}" in lines, "nothing shortened"
    assert "- **Housing**: awaited (due Wed 6 Jan 2027)" in lines
    assert NOTES in lines and "Held, with Police." in lines
    assert "Synthetic test summary." in lines
    async with seeded.connect() as connection:
        audited = (
            await connection.execute(
                select(AuditRow.actor, AuditRow.role, AuditRow.outcome).where(
                    AuditRow.action == "pack.export"
                )
            )
        ).all()
    assert [tuple(r) for r in audited] == [("cli", "operator", "ok")] * 2


async def test_without_pack_it_prints_the_agenda_order_only(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["agenda", "2027-01-14"]) == 0

    output = capsys.readouterr().out
    assert output.splitlines() == [
        "# MARAC conference Thu 14 Jan 2027",
        "",
        "2 cases, in agenda order:",
        "1. MARAT-2027-0002 (Cases with children): JT, Visible high risk (DASH 16), returns 1/3",
        "2. MARAT-2027-0001 (Adult-only cases): AA, Visible high risk (DASH 16), returns 0/3",
    ]
    assert POLICE not in output and "Jane" not in output


async def test_a_day_without_a_conference_is_reported_plainly(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["agenda", "2027-01-15", "--pack"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "marat: There is no MARAC conference on Fri 15 Jan 2027."


def test_a_malformed_date_gets_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(["agenda", "14/01/2027", "--pack"])
    assert exited.value.code == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err
