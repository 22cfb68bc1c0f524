"""Crash injection: a real bot process killed by SIGKILL at named fault points (issue 12,
point 1), then another process on the same PostgreSQL database.

A process started with ``MARAT_FAULT_POINT=<point>`` kills itself the moment it reaches the
point (bot/faults.py), so every crash lands exactly where the test means it to. After each
crash: every answer is there in full or not at all, the person was never told it was saved
unless it was, no reminder is lost, and duplicates are counted. The one place a duplicate is
possible by design (decision 0009: Teams accepted a message, the row was not yet marked sent)
is provoked on purpose, and each duplicate is checked to be the message that was in that
window when the process died.

People click and type over HTTP (tests/support/teams_users.py); the fake connector counts
what reached them. Everything is synthetic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.faults import (
    AFTER_SEND_BEFORE_MARK,
    ENVIRONMENT,
    HOLDING_REMINDER_CLAIMS,
    MID_INFORMATION_RETURN,
    MID_PLAN_AGREE,
    SKIP_ENVIRONMENT,
)
from tests.support.reliability import record
from tests.support.replicas import (
    COORDINATOR,
    SEEDED_AT,
    TODAY,
    Contact,
    CountingConnector,
    Replica,
    Replicas,
    Seeder,
    action_number,
    eventually,
)
from tests.support.teams_users import TeamsUser, cards_to, refer_case, token_for

CONFERENCE = date(2027, 1, 6)  # the replicas' "today": the case is heard at today's meeting
RECEIVED = "2026-12-29"  # day 0 Tue 29 Dec 2026; day 4 (the earliest conference) Tue 5 Jan
KILLED = -9


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


async def outbox_settled(engine: AsyncEngine) -> bool:
    """Nothing waits to be delivered (so an armed process has nothing in its sender)."""
    return not await rows(engine, "SELECT id FROM outbox WHERE status = 'pending'")


def fault(point: str, skip: int = 0) -> dict[str, str]:
    return {ENVIRONMENT: point, SKIP_ENVIRONMENT: str(skip)}


def died_at(replica: Replica, point: str) -> bool:
    """The process logged that it reached the point (and so was killed there, not elsewhere)."""
    return any(
        e.get("message", "").startswith("fault point reached") and e.get("outcome") == point
        for e in replica.log_entries()
    )


@dataclass
class Case:
    """A case referred over HTTP to three agencies, each with one contact."""

    reference: str
    case_id: int
    contacts: list[Contact]


@dataclass
class World:
    seeder: Seeder
    replicas: Replicas
    connector: CountingConnector
    engine: AsyncEngine
    coordinator: TeamsUser

    def user(self, contact: Contact) -> TeamsUser:
        return TeamsUser.of(contact, self.connector.url)

    async def settled(self) -> None:
        await eventually(lambda: outbox_settled(self.engine), 30, "the outbox is delivered")

    async def refer(self, bot: Replica) -> Case:
        contacts = self.seeder.contacts[:3]
        reference = await refer_case(
            self.coordinator,
            bot,
            self.connector.sent,
            [c.agency_key for c in contacts],
            RECEIVED,
        )
        [(case_id,)] = await rows(
            self.engine, "SELECT id FROM cases WHERE reference = :r", r=reference
        )
        await self.settled()
        return Case(reference, case_id, contacts)


@pytest.fixture
async def world(
    seeder: Seeder, replicas: Replicas, connector: CountingConnector, replica_engine: AsyncEngine
) -> AsyncIterator[World]:
    await seeder.directory(agencies=3)
    async with seeder.units() as uow:
        await uow.meetings.add(CONFERENCE, 18, COORDINATOR, SEEDED_AT)
        await uow.commit()
    coordinator = TeamsUser(COORDINATOR, "29:synthetic-user-0", "a:synthetic-chat-0", connector.url)
    yield World(seeder, replicas, connector, replica_engine, coordinator)


async def test_killed_while_saving_an_information_return_it_is_saved_whole_or_not_at_all(
    world: World,
) -> None:
    """Each agency's contact answers on a process that dies in the middle of saving (the
    answer written, not committed). They are told nothing; nothing of it is kept; the same
    click on a healthy process then saves every field, once."""
    [healthy] = await world.replicas.start(1, world.replicas.clock_now())
    case = await world.refer(healthy)
    crashes = 0
    for n, contact in enumerate(case.contacts, start=1):
        user = world.user(contact)
        [card] = cards_to(world.connector.sent, contact.conversation_id, "inforeq.submit")
        inputs = {
            "token": token_for(card, "inforeq.submit"),
            "known": "yes",
            "information": f"Synthetic record {n}: two call-outs this year.",
            "concerns": f"Synthetic concern {n}.",
        }
        await world.settled()
        [doomed] = await world.replicas.start(
            1, world.replicas.clock_now(), extra=fault(MID_INFORMATION_RETURN)
        )

        told = await user.click(doomed, "inforeq.submit", inputs)

        assert told is None, "the process died: the person was told nothing"
        assert await world.replicas.exited(doomed) == KILLED and died_at(
            doomed, MID_INFORMATION_RETURN
        )
        crashes += 1
        [(answered_at, information, concerns, known)] = await rows(
            world.engine,
            "SELECT r.answered_at, r.information, r.concerns, r.known FROM information_requests r "
            "JOIN agencies a ON a.id = r.agency_id WHERE r.case_id = :c AND a.key = :k",
            c=case.case_id,
            k=contact.agency_key,
        )
        assert (answered_at, information, concerns, known) == (None, None, None, None)

        again = await user.click(healthy, "inforeq.submit", inputs)

        assert again is not None and again.status == 200
        assert "You answered" in again.card_text, again.card_text
        [(answered_by, information, concerns, known)] = await rows(
            world.engine,
            "SELECT r.answered_by, r.information, r.concerns, r.known FROM information_requests r"
            " JOIN agencies a ON a.id = r.agency_id WHERE r.case_id = :c AND a.key = :k",
            c=case.case_id,
            k=contact.agency_key,
        )
        assert (answered_by, information, concerns, known) == (
            contact.aad_object_id,
            inputs["information"],
            inputs["concerns"],
            True,
        )

    await world.settled()
    audits = await rows(
        world.engine,
        "SELECT count(*) FROM audit_events WHERE action = 'inforeq.answer'",
    )
    complete = [
        a
        for a in world.connector.sent
        if a["_conversation"] == world.coordinator.conversation_id
        and "information returns are in" in str(a.get("text"))
    ]
    record("crash", crashes, lost=3 - int(audits[0][0]), duplicates=len(complete) - 1)
    assert audits == [(3,)], "one audited answer per agency: no half-saved extra"
    assert len(complete) == 1, "the coordinator hears once that all returns are in"


async def test_killed_while_agreeing_a_plan_nothing_is_agreed_until_it_is_agreed_whole(
    world: World,
) -> None:
    """The plan has three actions; the process dies after the first is agreed and its card
    queued, before the commit. The coordinator is told nothing, the case is still waiting for
    its conference, no action card or reminder exists; the same click on a healthy process
    agrees all three, and each agency gets its action card exactly once."""
    [healthy] = await world.replicas.start(1, world.replicas.clock_now())
    case = await world.refer(healthy)
    coordinator = world.coordinator
    assert await coordinator.say(healthy, f"plan {case.reference}") is not None

    async def plan_card() -> bool:
        return bool(cards_to(world.connector.sent, coordinator.conversation_id, "plan.add_action"))

    await eventually(plan_card, 15, "the plan card arrives")
    card = cards_to(world.connector.sent, coordinator.conversation_id, "plan.add_action")[-1]
    for n, contact in enumerate(case.contacts, start=1):
        added = await coordinator.click(
            healthy,
            "plan.add_action",
            {
                "token": token_for(card, "plan.add_action"),
                "agency": contact.agency_key,
                "description": f"Synthetic action {n}: visit the victim and review safety",
                "due_date": "2027-01-20",
                "perpetrator_focused": "yes" if n == 1 else "no",
            },
        )
        assert added is not None and added.status == 200, added
        card = added.body["value"]
    agree = {"token": token_for(card, "plan.agree")}
    await world.settled()
    cards_before = len(world.connector.sent)
    [doomed] = await world.replicas.start(
        1, world.replicas.clock_now(), extra=fault(MID_PLAN_AGREE)
    )

    told = await coordinator.click(doomed, "plan.agree", agree)

    assert told is None
    assert await world.replicas.exited(doomed) == KILLED and died_at(doomed, MID_PLAN_AGREE)
    [(state,)] = await rows(world.engine, "SELECT state FROM cases WHERE id = :c", c=case.case_id)
    assert state == "referred"
    assert (
        await rows(
            world.engine,
            "SELECT id FROM actions WHERE case_id = :c AND agreed_at IS NOT NULL",
            c=case.case_id,
        )
        == []
    )
    assert await rows(world.engine, "SELECT id FROM outbox WHERE key LIKE 'action:%'") == [], (
        "no action card queued"
    )
    assert await rows(world.engine, "SELECT id FROM reminders WHERE kind LIKE 'action.%'") == [], (
        "no action reminder planned"
    )

    again = await coordinator.click(healthy, "plan.agree", agree)

    assert again is not None and again.status == 200
    [(state,)] = await rows(world.engine, "SELECT state FROM cases WHERE id = :c", c=case.case_id)
    assert state == "monitoring"
    await world.settled()
    action_cards = Counter(
        a["_conversation"]
        for a in world.connector.sent[cards_before:]
        if "action.update" in str(a.get("attachments"))
    )
    reminders = await rows(
        world.engine,
        "SELECT kind, count(*) FROM reminders WHERE kind LIKE 'action.%' GROUP BY kind",
    )
    lost = 3 - len(action_cards)
    duplicates = sum(count - 1 for count in action_cards.values())
    record("crash", 1, lost=lost, duplicates=duplicates)
    assert action_cards == Counter({c.conversation_id: 1 for c in case.contacts})
    assert dict(reminders) == {
        "action.before": 3,
        "action.due": 3,
        "action.overdue": 3,
        "action.escalation": 3,
    }


async def test_killed_while_holding_reminder_claims_every_reminder_goes_once(
    world: World,
) -> None:
    """Two processes in a row die right after claiming the due reminders (before sending
    anything); a third sends each once when the claims' leases have run out."""
    actions = await world.seeder.agreed_actions(60, TODAY)
    await world.seeder.schedule_plans([world.seeder.action_due(a) for a in actions])
    kills = 0
    for _ in range(2):
        doomed = world.replicas.launch(world.replicas.clock_now(), fault(HOLDING_REMINDER_CLAIMS))
        assert await world.replicas.exited(doomed) == KILLED
        assert died_at(doomed, HOLDING_REMINDER_CLAIMS)
        kills += 1
        claimed = await rows(world.engine, "SELECT id FROM reminders WHERE state = 'claimed'")
        assert len(claimed) == 60, "it died holding every claim"
    await world.replicas.start(1, world.replicas.clock_now())

    async def all_sent() -> bool:
        done = await rows(world.engine, "SELECT id FROM reminders WHERE state = 'sent'")
        return len(done) == 60 and await outbox_settled(world.engine)

    await eventually(all_sent, 40, "every reminder sent after the leases ran out")
    await world.replicas.stop_all()
    counts = world.connector.per_action()
    lost = sum(1 for a in actions if counts[a.number] == 0)
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    record("crash", kills, lost=lost, duplicates=duplicates)
    assert lost == 0 and duplicates == 0
    assert sorted(counts) == sorted(a.number for a in actions)


async def test_killed_between_teams_accepting_and_marking_sent_only_that_message_goes_twice(
    world: World,
) -> None:
    """Decision 0009's window, measured: 80 reminders, one message each. Three processes in a
    row die right after Teams accepted their 4th, 9th and 6th message (before marking it
    sent); a fourth delivers the rest. Nothing is lost; every message that arrived twice is
    one that was in the window when a process died, and there is exactly one per kill."""
    actions = await world.seeder.agreed_actions(80, TODAY)
    await world.seeder.schedule_plans([world.seeder.action_due(a) for a in actions])
    in_window: list[int] = []
    for skip in (3, 8, 5):
        doomed = world.replicas.launch(
            world.replicas.clock_now(), fault(AFTER_SEND_BEFORE_MARK, skip)
        )
        assert await world.replicas.exited(doomed) == KILLED
        assert died_at(doomed, AFTER_SEND_BEFORE_MARK)
        # One process at a time, and it died the moment its last send was accepted: the last
        # message the connector took is the one in the window.
        in_window.append(action_number(world.connector.sent[-1]))
    await world.replicas.start(1, world.replicas.clock_now())

    async def delivered() -> bool:
        sent = await rows(world.engine, "SELECT id FROM outbox WHERE status = 'sent'")
        return len(sent) == 80

    await eventually(delivered, 60, "every message delivered")
    await world.replicas.stop_all()
    counts = world.connector.per_action()
    twice = sorted(n for n, c in counts.items() if c > 1)
    lost = sum(1 for a in actions if counts[a.number] == 0)
    unexplained = sum(counts[n] - 1 for n in twice) - len(in_window)
    record(
        "crash",
        len(in_window),
        lost=lost,
        duplicates=max(0, unexplained) + len(set(twice) - set(in_window)),
        window_faults=len(in_window),
        window_resent=sum(counts[n] - 1 for n in twice),
    )
    assert lost == 0
    assert set(twice) <= set(in_window), "only messages in the window arrive twice"
    assert sum(counts[n] - 1 for n in twice) == len(in_window), "one resend per kill"
