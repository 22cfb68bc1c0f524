"""The day-3 case discussion, recorded by the coordinator (PRODUCT.md sections 2 and 4).

The coordinator records it (held or not, which agencies took part, notes; verb
``discussion.record``) from the card the day-3 reminder brings, or from `/case REF`, whose card
shows the same form while the discussion is not recorded. Held moves the case from referred to
discussed; not held leaves it referred. Only agencies involved in the case can be named; a
second submission has no second effect; agency contacts cannot record it; once recorded, the
day-3 reminder is no longer sent.

The runtime, sweep and in-memory Teams are those of tests/turns/test_reminders.py; turns go
through botbuilder's TestAdapter. The default case (referred Mon 4 Jan 2027, Police, IDVA
service and Housing) has its discussion on Thu 7 Jan 2027. Every name is fictional.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.cases import CaseView, Discussion
from bot.domain.clock import FixedClock
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.reminders import ReminderKind, ReminderState
from bot.settings import Settings
from bot.teams.app import build_runtime
from storage.database import Database
from tests.support.reminder_world import (
    CASEY,
    CONFERENCE,
    PAT,
    REFERENCE,
    World,
    directory,
    london,
    of,
    to,
    walk,
)
from tests.support.turns import CARD, Chat, card_text, error_after, inputs_of

VERB = "discussion.record"
NOTES = "Police and Housing shared recent call-outs; locks to be fitted (synthetic)."


class Discussions:
    """The world of test_reminders plus people typing to the bot and clicking its cards."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.adapter = TestAdapter(world.runtime.bot.on_turn)

    def chat(self, aad: str) -> Chat:
        return Chat(self.adapter, aad=aad)

    async def reminder_card(self) -> dict[str, Any]:
        """The case-discussion card the day-3 reminder brings the coordinator (Thu 09:00)."""
        received = await self.world.at(london(2027, 1, 7, 9))
        (card,) = to(of(received, ReminderKind.DISCUSSION), CASEY)
        return card.card

    async def case_card(self, aad: str = CASEY) -> dict[str, Any]:
        return await self.chat(aad).card(f"case {REFERENCE}")

    async def record(self, aad: str, card: dict[str, Any], **inputs: str) -> dict[str, Any]:
        """Action.Execute on the card's "Record discussion" button with ``inputs``."""
        button = record_button(card)
        body = await self.chat(aad).execute(VERB, {**button["data"], **inputs})
        assert body.type == CARD, body
        shown: dict[str, Any] = body.value
        return shown

    async def stored(self) -> tuple[CaseView, Discussion | None, list[Transition]]:
        async with self.world.units() as uow:
            case = await uow.cases.by_reference(REFERENCE)
            assert case is not None
            return case, await uow.cases.discussion(case.id), await uow.cases.transitions(case.id)


def record_button(card: dict[str, Any]) -> dict[str, Any]:
    buttons = [
        node
        for node in walk({"body": card.get("body", []), "actions": card.get("actions", [])})
        if node.get("type") == "Action.Execute" and node.get("verb") == VERB
    ]
    assert len(buttons) == 1, card_text(card)
    return buttons[0]


def has_form(card: dict[str, Any]) -> bool:
    everything = {"body": card.get("body", []), "actions": card.get("actions", [])}
    return "held" in inputs_of(card) or any(n.get("verb") == VERB for n in walk(everything))


def facts_of(card: dict[str, Any]) -> dict[str, str]:
    """Every fact of the card, title to value (later titles win)."""
    return {
        str(fact["title"]): str(fact["value"])
        for node in walk(card.get("body", []))
        if node.get("type") == "FactSet"
        for fact in node.get("facts", [])
    }


def timeline_of(card: dict[str, Any]) -> list[tuple[str, str]]:
    body = card["body"]
    for index, element in enumerate(body):
        if element.get("type") == "TextBlock" and element.get("text") == "Timeline":
            return [(str(f["title"]), str(f["value"])) for f in body[index + 1]["facts"]]
    raise AssertionError("the case card has no timeline")


@pytest.fixture
async def world(
    sqlite_engine: AsyncEngine, clock: FixedClock, settings: Settings
) -> AsyncIterator[World]:
    world = World(build_runtime(settings, clock, Database(sqlite_engine)), clock)
    await world.setup(directory())
    await world.add_meeting(CONFERENCE)
    case = await world.refer()
    assert case.reference == REFERENCE
    await world.deliver()
    yield world


@pytest.fixture
def discussions(world: World) -> Discussions:
    return Discussions(world)


# -- held, from the day-3 reminder card ----------------------------------------------------------


async def test_held_recorded_from_the_day_three_card_makes_the_case_discussed(
    discussions: Discussions,
) -> None:
    card = await discussions.reminder_card()
    discussions.world.clock.set(london(2027, 1, 7, 10))

    shown = await discussions.record(
        CASEY, card, held="yes", attendees="police,housing", notes=NOTES
    )

    assert card_text(shown) == (
        "MARAT case discussion\n"
        f"The case discussion of {REFERENCE} is recorded as held, with Police, Housing."
    )
    assert not has_form(shown)
    case, discussion, _ = await discussions.stored()
    assert case.state is CaseState.DISCUSSED
    assert discussion is not None
    assert (discussion.held, list(discussion.attendees)) == (True, ["police", "housing"])
    assert discussion.notes == NOTES

    summary = await discussions.case_card()
    assert summary["body"][0]["text"] == f"{REFERENCE} · discussed"
    assert facts_of(summary)["Case discussion"] == "held, with Police, Housing"
    assert timeline_of(summary)[-1] == (
        "Thu 7 Jan 2027 10:00",
        "discussed: case discussion held · Casey Coordinator (coordinator)",
    )
    assert not has_form(summary), "recorded: the form is gone"


async def test_not_held_is_recorded_and_the_case_stays_referred(
    discussions: Discussions,
) -> None:
    card = await discussions.reminder_card()
    discussions.world.clock.set(london(2027, 1, 7, 11))

    shown = await discussions.record(CASEY, card, held="no", attendees="", notes="")

    assert f"The case discussion of {REFERENCE} is recorded as not held." in card_text(shown)
    case, discussion, transitions = await discussions.stored()
    assert case.state is CaseState.REFERRED
    assert discussion is not None and discussion.held is False
    assert [t.to_state for t in transitions] == [CaseState.REFERRED]
    summary = await discussions.case_card()
    assert summary["body"][0]["text"] == f"{REFERENCE} · referred"
    assert facts_of(summary)["Case discussion"] == "recorded as not held"
    assert [value for _, value in timeline_of(summary)] == [
        "referred · Casey Coordinator (coordinator)"
    ]
    assert not has_form(summary)


# -- from /case, before the day --------------------------------------------------------------


async def test_recorded_from_case_and_the_day_three_reminder_is_no_longer_sent(
    discussions: Discussions,
) -> None:
    world = discussions.world
    world.clock.set(london(2027, 1, 6, 15))  # Wednesday afternoon, the day before
    summary = await discussions.case_card()
    assert has_form(summary), "the coordinator's case card offers the form while not recorded"
    assert set(inputs_of(summary)) >= {"held", "attendees", "notes"}
    assert {c["value"] for c in inputs_of(summary)["attendees"]["choices"]} == {
        "police",
        "idva-service",
        "housing",
    }

    shown = await discussions.record(CASEY, summary, held="yes", attendees="police", notes=NOTES)

    assert "recorded as held, with Police." in card_text(shown)
    assert (await discussions.stored())[0].state is CaseState.DISCUSSED
    day_three = await world.at(london(2027, 1, 7, 9))
    assert of(day_three, ReminderKind.DISCUSSION) == []
    (reminder,) = [
        r
        for r in await world.reminders_of((await discussions.stored())[0].id)
        if r.kind is ReminderKind.DISCUSSION
    ]
    assert (reminder.state, reminder.outcome) == (ReminderState.CANCELLED, "recorded")


# -- invalid input ---------------------------------------------------------------------------


async def test_attendees_must_be_agencies_involved_in_the_case(discussions: Discussions) -> None:
    card = await discussions.reminder_card()

    shown = await discussions.record(
        CASEY, card, held="yes", attendees="police,probation", notes=NOTES
    )

    assert error_after(shown, "attendees") == "Please choose agencies involved in the case."
    assert error_after(shown, "held") is None
    values = {key: field.get("value") for key, field in inputs_of(shown).items()}
    assert values == {"held": "yes", "attendees": "police,probation", "notes": NOTES}
    assert record_button(shown)["data"]["token"] == record_button(card)["data"]["token"]
    case, discussion, _ = await discussions.stored()
    assert (case.state, discussion) == (CaseState.REFERRED, None)

    fixed = await discussions.record(CASEY, shown, held="yes", attendees="police", notes=NOTES)
    assert "recorded as held, with Police." in card_text(fixed)
    assert (await discussions.stored())[0].state is CaseState.DISCUSSED


async def test_held_or_not_must_be_answered(discussions: Discussions) -> None:
    card = await discussions.reminder_card()

    shown = await discussions.record(CASEY, card, held="", attendees="housing", notes="")

    assert error_after(shown, "held") == "Please say whether the case discussion was held."
    assert inputs_of(shown)["attendees"]["value"] == "housing"
    assert (await discussions.stored())[1] is None


# -- once, and only by a coordinator -------------------------------------------------------


async def test_a_second_submission_has_no_second_effect(discussions: Discussions) -> None:
    card = await discussions.reminder_card()
    discussions.world.clock.set(london(2027, 1, 7, 10))
    await discussions.record(CASEY, card, held="yes", attendees="police,housing", notes=NOTES)
    first = await discussions.stored()

    discussions.world.clock.set(london(2027, 1, 7, 10, 5))
    again = await discussions.record(CASEY, card, held="no", attendees="", notes="Changed mind")

    assert "recorded as held, with Police, Housing." in card_text(again)
    assert await discussions.stored() == first, "the first record stands"
    assert [t.to_state for t in first[2]] == [CaseState.REFERRED, CaseState.DISCUSSED]


async def test_an_agency_contact_cannot_record_the_discussion(discussions: Discussions) -> None:
    card = await discussions.reminder_card()  # the coordinator's card, forwarded to Pat

    shown = await discussions.record(PAT, card, held="yes", attendees="police", notes=NOTES)

    assert "That is for MARAT coordinators." in card_text(shown)
    case, discussion, _ = await discussions.stored()
    assert (case.state, discussion) == (CaseState.REFERRED, None)
    pat_sees = await discussions.case_card(PAT)
    assert pat_sees["body"][0]["text"] == f"{REFERENCE} · referred"
    assert not has_form(pat_sees), "a contact's case card offers no discussion form"

    done = await discussions.record(CASEY, card, held="yes", attendees="police", notes=NOTES)
    assert "recorded as held, with Police." in card_text(done), "the card still works for Casey"
