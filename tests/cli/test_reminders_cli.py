"""`marat reminders preview` and `marat reminders list`, as an operator uses them, on SQLite
and on PostgreSQL.

The database is seeded through the use cases with a FixedClock: the builders' directory (the
coordinator is also a contact of every agency; Pat is Police, Harper Housing), a conference on
Thu 14 Jan 2027, and the default referral received Mon 4 Jan 2027 (Police, IDVA service,
Housing), so the day-2 reminders fall due on Wed 6 Jan 2027 at 09:00 London.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.domain.lifecycle import CaseState
from bot.ops.cli import main as cli_main
from storage.models import AuditRow, CardTokenRow, OutboxRow, ReminderRow
from tests.support.builders import COORDINATOR, POLICE_CONTACT, referral_inputs, seed_directory
from tests.support.services import make_services, refer

REFERENCE = "MARAT-2027-0001"


async def marat(argv: list[str]) -> int:
    """Run the CLI in a worker thread: it owns its event loop, as in a separate process."""
    return await asyncio.to_thread(cli_main, argv)


@pytest.fixture
async def seeded(
    engine: AsyncEngine, database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncEngine:
    """The referral above, made on Mon 4 Jan 2027 at 10:00; the CLI points at the database."""
    deps = make_services(engine, clock)
    await seed_directory(deps)
    await deps.conferences.add_meeting(None, date(2027, 1, 14), 18)
    case = await refer(deps, COORDINATOR, referral_inputs())
    assert case.reference == REFERENCE
    monkeypatch.setenv("DATABASE_URL", database_url)
    return engine


async def snapshot(engine: AsyncEngine) -> dict[str, Any]:
    """Everything a sweep or a send would change."""
    async with engine.connect() as connection:
        outbox = (
            await connection.execute(
                select(OutboxRow.key, OutboxRow.status, OutboxRow.payload).order_by(OutboxRow.id)
            )
        ).all()
        reminders = (
            await connection.execute(
                select(
                    ReminderRow.key,
                    ReminderRow.state,
                    ReminderRow.lease_owner,
                    ReminderRow.outcome,
                    ReminderRow.done_at,
                ).order_by(ReminderRow.id)
            )
        ).all()
        tokens = await connection.scalar(select(func.count()).select_from(CardTokenRow))
        audit = await connection.scalar(select(func.count()).select_from(AuditRow))
    return {
        "outbox": [tuple(r) for r in outbox],
        "reminders": [tuple(r) for r in reminders],
        "tokens": tokens,
        "audit": audit,
    }


def lines_with(output: str, kind: str) -> list[str]:
    return [line for line in output.splitlines() if f" {kind} " in line]


async def answer_for_police(engine: AsyncEngine, clock: FixedClock) -> None:
    """Pat answers the Police request with the token of the card queued for them."""
    async with engine.connect() as connection:
        payload = await connection.scalar(
            select(OutboxRow.payload).where(
                OutboxRow.recipient == POLICE_CONTACT, OutboxRow.kind == "card"
            )
        )
    assert payload is not None
    token = json.loads(payload)["card"]["actions"][0]["data"]["token"]
    await make_services(engine, clock).information_requests.answer(
        POLICE_CONTACT, token, {"known": "no"}
    )


async def test_preview_lists_the_day_two_reminders_with_their_recipients_and_sends_nothing(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await snapshot(seeded)

    assert await marat(["reminders", "preview", "--at", "2027-01-06T09:00"]) == 0

    output = capsys.readouterr().out
    assert output.splitlines()[0] == "At Wed 6 Jan 2027 09:00 (Europe/London):"
    assert "nothing is sent at this time" not in output
    day_two = lines_with(output, "inforeq.reminder")
    assert len(day_two) == 3, output  # one per involved agency
    for line in day_two:
        assert "Wed 6 Jan 2027 09:00" in line and REFERENCE in line and " send to " in line
    # Police: Pat and the coordinator; IDVA service: the coordinator; Housing: Harper and the
    # coordinator.
    counts = sorted(line.split(" send to ")[1] for line in day_two)
    assert counts == ["1 (1 contacts)", "2 (2 contacts)", "2 (2 contacts)"]
    assert len(output.strip().splitlines()) == 4, "nothing else is due by then"
    assert await snapshot(seeded) == before, "a preview changes nothing"


def summary_of(line: str) -> set[str]:
    """The names in the "(…)" at the end of a preview line."""
    return {name.strip() for name in line.rsplit("(", 1)[1].rstrip(")").split(",")}


async def test_preview_of_day_three_shows_the_escalation_and_the_discussion_and_sends_nothing(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await snapshot(seeded)

    assert await marat(["reminders", "preview", "--at", "2027-01-07T09:00"]) == 0

    output = capsys.readouterr().out
    (escalation,) = lines_with(output, "inforeq.escalation")
    assert " send to 1 (" in escalation
    assert summary_of(escalation) == {"Police", "IDVA service", "Housing"}
    (discussion,) = lines_with(output, "discussion.reminder")
    # The coordinator's card, and a text to Pat and Harper (the coordinator gets one message).
    assert discussion.endswith(" send to 3 (3 people)")
    assert await snapshot(seeded) == before, "not even the discussion card's token is kept"


async def test_preview_after_an_answer_leaves_that_agency_out(
    seeded: AsyncEngine, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await answer_for_police(seeded, clock)

    assert await marat(["reminders", "preview", "--at", "2027-01-07T09:00"]) == 0

    output = capsys.readouterr().out
    assert len(lines_with(output, "inforeq.reminder")) == 2, "Police's reminder was cancelled"
    (escalation,) = lines_with(output, "inforeq.escalation")
    assert summary_of(escalation) == {"IDVA service", "Housing"}


async def test_preview_of_a_withdrawn_case_shows_its_reminders_as_no_longer_relevant(
    seeded: AsyncEngine, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_services(seeded, clock).lifecycle.change_case(
        COORDINATOR, REFERENCE, CaseState.WITHDRAWN, "Does not meet the threshold (synthetic)."
    )

    assert await marat(["reminders", "preview", "--at", "2027-01-06T09:00"]) == 0

    day_two = lines_with(capsys.readouterr().out, "inforeq.reminder")
    assert len(day_two) == 3
    assert all(line.endswith("cancel (no longer relevant)") for line in day_two)


async def test_preview_in_the_evening_says_nothing_is_sent_at_that_time(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await snapshot(seeded)

    assert await marat(["reminders", "preview", "--at", "2027-01-06T20:00"]) == 0

    output = capsys.readouterr().out
    head = output.splitlines()[0]
    assert head.startswith("At Wed 6 Jan 2027 20:00 (Europe/London): nothing is sent at this time")
    assert "08:00-18:00 on working days" in head
    assert await snapshot(seeded) == before


async def test_preview_at_a_weekend_says_nothing_is_sent_at_that_time(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["reminders", "preview", "--at", "2027-01-09T10:00"]) == 0
    assert "nothing is sent at this time" in capsys.readouterr().out


async def test_preview_before_anything_is_due_says_so(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["reminders", "preview", "--at", "2027-01-05T09:00"]) == 0
    output = capsys.readouterr().out
    assert output.splitlines() == ["At Tue 5 Jan 2027 09:00 (Europe/London):", "  nothing is due"]


@pytest.mark.parametrize(
    "when", ["2027-01-06", "2027-01-06 09:00", "06/01/2027T09:00", "2027-13-06T09:00", "tomorrow"]
)
def test_a_malformed_at_gets_a_usage_error(when: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(["reminders", "preview", "--at", when])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("usage: marat reminders preview")
    assert "expected YYYY-MM-DDTHH:MM (Europe/London)" in error
    assert "Traceback" not in error


async def test_list_shows_the_case_s_reminders_with_their_states(
    seeded: AsyncEngine, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await answer_for_police(seeded, clock)

    assert await marat(["reminders", "list", "--case", REFERENCE]) == 0

    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == f"Reminders of {REFERENCE}:"
    listed = [row.split() for row in rows[1:]]
    # Each row: Ddd DD Mon YYYY HH:MM kind state [outcome]
    assert sorted((r[5], r[6]) for r in listed) == [
        ("discussion.reminder", "pending"),
        ("inforeq.escalation", "pending"),
        ("inforeq.reminder", "cancelled"),
        ("inforeq.reminder", "pending"),
        ("inforeq.reminder", "pending"),
    ]
    assert [" ".join(r[:5]) for r in listed] == [
        "Wed 6 Jan 2027 09:00",
        "Wed 6 Jan 2027 09:00",
        "Wed 6 Jan 2027 09:00",
        "Thu 7 Jan 2027 09:00",
        "Thu 7 Jan 2027 09:00",
    ]
    (cancelled,) = [r for r in listed if r[6] == "cancelled"]
    assert cancelled[7:] == ["answered"]


async def test_list_of_an_unknown_case_is_reported_plainly(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["reminders", "list", "--case", "MARAT-2027-9999"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "marat: No case MARAT-2027-9999."
