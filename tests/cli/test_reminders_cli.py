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
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.domain.lifecycle import CaseState
from bot.ops.cli import main as cli_main
from bot.services.reminders import ReminderSweep
from cards.proactive import TeamsCards
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


def sent_to(line: str) -> tuple[str, set[str]]:
    """The agency and the display names a preview line names as its recipients."""
    group = line.split(" to [", 1)[1].split("]", 1)[0]
    agency, people = group.split(": ", 1)
    return agency, {name.strip() for name in people.split(",")}


def because(line: str) -> str:
    return line.split(" because ", 1)[1]


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
        assert "Wed 6 Jan 2027 09:00" in line and REFERENCE in line and " send to [" in line
    # Each line names the agency and its contacts by display name, and says why it goes.
    assert sorted(sent_to(line) for line in day_two) == [
        ("Housing", {"Harper Housing", "Casey Coordinator"}),
        ("IDVA service", {"Casey Coordinator"}),
        ("Police", {"Pat Police", "Casey Coordinator"}),
    ]
    assert {because(line) for line in day_two} == {
        f"{agency}'s information is due by the end of Wed 6 Jan 2027 and not in"
        for agency in ("Police", "IDVA service", "Housing")
    }
    assert "Jane" not in output and "Testcase" not in output, "no case detail"
    assert len(output.strip().splitlines()) == 4, "nothing else is due by then"
    assert await snapshot(seeded) == before, "a preview changes nothing"


async def test_preview_of_day_three_shows_the_escalation_and_the_discussion_and_sends_nothing(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await snapshot(seeded)

    assert await marat(["reminders", "preview", "--at", "2027-01-07T09:00"]) == 0

    output = capsys.readouterr().out
    (escalation,) = lines_with(output, "inforeq.escalation")
    assert sent_to(escalation) == ("coordinator", {"Casey Coordinator"})
    assert because(escalation) == (
        "3 information returns of 3 missing: Police, Housing, IDVA service"
    )
    (discussion,) = lines_with(output, "discussion.reminder")
    # The coordinator's card, and a text to each involved agency's contacts.
    assert " to [coordinator (with the discussion card): Casey Coordinator; Police: " in discussion
    assert "Harper Housing" in discussion and "Pat Police" in discussion
    assert because(discussion) == "the case discussion is on Thu 7 Jan 2027 and not recorded"
    assert await snapshot(seeded) == before, "not even the discussion card's token is kept"


async def test_preview_after_an_answer_leaves_that_agency_out(
    seeded: AsyncEngine, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await answer_for_police(seeded, clock)

    assert await marat(["reminders", "preview", "--at", "2027-01-07T09:00"]) == 0

    output = capsys.readouterr().out
    assert len(lines_with(output, "inforeq.reminder")) == 2, "Police's reminder was cancelled"
    (escalation,) = lines_with(output, "inforeq.escalation")
    assert because(escalation) == "2 information returns of 3 missing: Housing, IDVA service"


async def test_a_withdrawn_case_s_reminders_are_cancelled_at_once_and_listed_so(
    seeded: AsyncEngine, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_services(seeded, clock).lifecycle.change_case(
        COORDINATOR, REFERENCE, CaseState.WITHDRAWN, "Does not meet the threshold (synthetic)."
    )

    assert await marat(["reminders", "preview", "--at", "2027-01-06T09:00"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["  nothing is due"]

    assert await marat(["reminders", "list", "--case", REFERENCE]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 5
    for row in rows:
        assert " cancelled  because the case is withdrawn" in row, row


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


async def test_list_shows_the_case_s_reminders_with_their_states_recipients_and_reasons(
    seeded: AsyncEngine, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await answer_for_police(seeded, clock)

    assert await marat(["reminders", "list", "--case", REFERENCE]) == 0

    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == f"Reminders of {REFERENCE}:"
    listed = [row.split() for row in rows[1:]]
    # Each row: Ddd D Mon YYYY HH:MM kind state [to [...]] because why
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
    (cancelled,) = [row for row in rows[1:] if " cancelled " in row]
    assert because(cancelled) == "the agency answered"
    pending = [row for row in rows[1:] if " inforeq.reminder " in row and " pending " in row]
    assert sorted(sent_to(row) for row in pending) == [
        ("Housing", {"Harper Housing", "Casey Coordinator"}),
        ("IDVA service", {"Casey Coordinator"}),
    ]
    assert all(because(row).startswith("would be sent: ") for row in pending)


async def test_list_names_who_a_sent_reminder_went_to(
    seeded: AsyncEngine, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    clock.set(datetime(2027, 1, 6, 9, 0, tzinfo=UTC))
    sweep = ReminderSweep(make_services(seeded, clock).context, TeamsCards())
    assert (await sweep.run()).sent == 3

    assert await marat(["reminders", "list", "--case", REFERENCE]) == 0

    rows = capsys.readouterr().out.splitlines()[1:]
    sent = [row for row in rows if " sent " in row]
    assert len(sent) == 3
    named = sorted(
        sorted(name.strip() for name in row.split(" to [", 1)[1].split("]", 1)[0].split(","))
        for row in sent
    )
    assert named == [
        ["Casey Coordinator"],
        ["Casey Coordinator", "Harper Housing"],
        ["Casey Coordinator", "Pat Police"],
    ]
    assert {because(row) for row in sent} == {"an agency's information return was due and not in"}


async def test_list_of_an_unknown_case_is_reported_plainly(
    seeded: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["reminders", "list", "--case", "MARAT-2027-9999"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "marat: No case MARAT-2027-9999."
