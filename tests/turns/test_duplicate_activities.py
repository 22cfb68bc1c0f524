"""A redelivered activity (same id) has one effect at the turn level too (issue 12, point 4):
the bot through TestAdapter, each activity given the id Teams would give it."""

from __future__ import annotations

from botbuilder.schema import Activity

from tests.support.builders import referral_inputs
from tests.support.reliability import record
from tests.support.turns import TurnHarness, card_of


async def test_a_typed_command_delivered_twice_is_answered_once(harness: TurnHarness) -> None:
    chat = harness.chat()
    activity = chat._activity(type="message", text="refer", id="teams-activity-7")

    first = await chat._receive(activity)
    again = await chat._receive(Activity().deserialize(activity.serialize()))

    record("inbound duplicate", 1, duplicates=len(again))
    assert len(first) == 1 and card_of(first[0])["actions"][0]["verb"] == "refer.submit"
    assert again == []


async def test_a_card_submit_delivered_twice_records_one_referral(harness: TurnHarness) -> None:
    chat = harness.chat()
    card = await chat.card("refer")
    data = card["actions"][0]["fallback"]["data"]
    submit = chat._activity(
        type="message", value={**data, **referral_inputs()}, reply_to_id="card-1", id="submit-9"
    )

    await chat._receive(submit)
    again = await chat._receive(Activity().deserialize(submit.serialize()))

    async with harness.deps.context.units() as uow:
        second_case = await uow.cases.by_reference("MARAT-2027-0002")
        first_case = await uow.cases.by_reference("MARAT-2027-0001")
    record("inbound duplicate", 1, duplicates=int(second_case is not None) + len(again))
    assert first_case is not None and second_case is None
    assert again == [], "the copy sends nothing: no second summary card"
