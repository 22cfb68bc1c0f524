"""`/refer`: the card, validation field by field, one case per card, and no leaks on errors."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.domain.errors import MaratError
from bot.logs import JsonFormatter
from cards.referral import INPUT_IDS
from tests.support.builders import HOUSING_CONTACT, referral_inputs
from tests.support.turns import TurnHarness, card_of, card_text, error_after, inputs_of

REFERENCE = re.compile(r"MARAT-2027-\d{4}")


async def open_card(harness: TurnHarness) -> tuple[dict[str, Any], str]:
    card = await harness.chat().card("refer")
    action = card["actions"][0]
    return card, action["data"]["token"]


async def test_the_referral_card_has_every_input_of_the_wire_contract(
    harness: TurnHarness,
) -> None:
    card, token = await open_card(harness)
    assert set(INPUT_IDS) <= set(inputs_of(card))
    action = card["actions"][0]
    assert action["type"] == "Action.Execute"
    assert action["verb"] == "refer.submit"
    assert action["fallback"]["type"] == "Action.Submit"
    assert action["fallback"]["data"] == {"token": token, "verb": "refer.submit"}
    assert card["version"] == "1.5"
    assert inputs_of(card)["received_date"]["value"] == "2027-01-04"


async def test_a_valid_referral_creates_a_case_with_its_working_day_dates(
    harness: TurnHarness,
) -> None:
    await harness.add_meeting(__import__("datetime").date(2027, 1, 14))
    _card, token = await open_card(harness)
    body = await harness.chat().execute("refer.submit", {"token": token, **referral_inputs()})
    shown = card_text(body.value)
    assert "Referral recorded: MARAT-2027-0001" in shown
    # Received Monday 4 January 2027: day 3 is Thursday 7th, day 14 is Friday 22nd.
    assert "Thu 7 Jan 2027" in shown
    assert "Thu 14 Jan 2027" in shown
    assert "Fri 22 Jan 2027" in shown
    assert "Jane" not in shown  # initials only
    assert body.value["fallbackText"] == "A MARAT referral was recorded."


async def test_the_issue_example_is_refused_field_by_field_with_values_kept(
    harness: TurnHarness,
) -> None:
    _card, token = await open_card(harness)
    inputs = referral_inputs(victim_name="", dash_score="30")
    body = await harness.chat().execute("refer.submit", {"token": token, **inputs})
    card = body.value
    assert error_after(card, "victim_name") == "Please enter the victim's name."
    assert "0 to 24" in (error_after(card, "dash_score") or "")
    assert error_after(card, "perpetrator_name") is None
    fields = inputs_of(card)
    assert fields["perpetrator_name"]["value"] == "John Fictional"
    assert fields["summary"]["value"] == "Synthetic test summary."
    assert fields["dash_score"]["value"] == 30  # a JSON number, or Teams drops it
    assert fields["children_count"]["value"] == 2
    assert card["actions"][0]["data"]["token"] == token
    cases = await harness.deps.cases.open_cases(harness.chat().aad)
    assert cases == []


async def test_the_corrected_card_then_goes_through(harness: TurnHarness) -> None:
    _card, token = await open_card(harness)
    chat = harness.chat()
    await chat.execute("refer.submit", {"token": token, **referral_inputs(victim_name="")})
    body = await chat.execute("refer.submit", {"token": token, **referral_inputs()})
    assert REFERENCE.search(card_text(body.value))


async def test_a_second_click_of_the_same_card_has_no_second_effect(
    harness: TurnHarness,
) -> None:
    _card, token = await open_card(harness)
    chat = harness.chat()
    first = await chat.execute("refer.submit", {"token": token, **referral_inputs()})
    again = await chat.execute("refer.submit", {"token": token, **referral_inputs()})
    # The same success card, with the reference and every date, never a refusal.
    assert again.value == first.value
    assert "Referral recorded: MARAT-2027-0001" in card_text(again.value)
    assert "Case discussion (day 3)\nThu 7 Jan 2027" in card_text(again.value)
    assert len(await harness.deps.cases.open_cases(chat.aad)) == 1


async def test_anything_in_the_payload_but_the_token_and_inputs_is_ignored(
    harness: TurnHarness,
) -> None:
    _card, token = await open_card(harness)
    data = {
        "token": token,
        **referral_inputs(),
        "case_id": 999,
        "role": "coordinator",
        "aad_object_id": HOUSING_CONTACT,
    }
    body = await harness.chat().execute("refer.submit", data)
    assert "MARAT-2027-0001" in card_text(body.value)


async def test_a_forged_token_is_refused(harness: TurnHarness) -> None:
    body = await harness.chat().execute("refer.submit", {"token": "made-up", **referral_inputs()})
    assert "expired" in card_text(body.value)
    assert await harness.deps.cases.open_cases(harness.chat().aad) == []


async def test_a_contact_cannot_submit_a_coordinator_s_card(harness: TurnHarness) -> None:
    _card, token = await open_card(harness)
    body = await harness.chat(aad=HOUSING_CONTACT).execute(
        "refer.submit", {"token": token, **referral_inputs()}
    )
    assert "for MARAT coordinators" in card_text(body.value)
    assert await harness.deps.cases.open_cases(harness.chat().aad) == []


async def test_action_submit_replaces_the_card_in_place(harness: TurnHarness) -> None:
    _card, token = await open_card(harness)
    replies = await harness.chat().submit(
        {"token": token, "verb": "refer.submit", **referral_inputs()}, reply_to="card-7"
    )
    assert replies == []
    updated = harness.adapter.updated_activities[-1]
    assert updated.id == "card-7"
    assert "MARAT-2027-0001" in card_text(card_of(updated))


async def test_referrals_are_not_taken_in_a_channel(harness: TurnHarness) -> None:
    replies = await harness.chat(conversation_type="channel").say("refer", mention_bot=True)
    assert "1:1 chat" in replies[0].text
    assert not replies[0].attachments


async def test_an_internal_error_shows_a_reference_keeps_the_input_and_leaks_nothing(
    harness: TurnHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _card, token = await open_card(harness)

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom while saving Jane Testcase")

    monkeypatch.setattr(harness.deps.referrals, "submit_referral", broken)
    body = await harness.chat().execute("refer.submit", {"token": token, **referral_inputs()})
    card = body.value
    shown = card_text(card)
    assert re.search(r"Reference: [0-9a-f]{8}", shown)
    assert "boom" not in shown and "RuntimeError" not in shown
    assert inputs_of(card)["victim_name"]["value"] == "Jane Testcase"
    reference = re.search(r"Reference: ([0-9a-f]{8})", shown)
    assert reference
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert reference.group(1) in logged  # the operator can find it...
    assert "Jane" not in logged and "boom" not in logged  # ...and no case data is logged


async def test_a_business_refusal_is_shown_politely(
    harness: TurnHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise MaratError("The MARAT is closed for maintenance.")

    monkeypatch.setattr(harness.deps.referrals, "open_referral", refused)
    replies = await harness.chat().say("refer")
    assert replies[0].text == "The MARAT is closed for maintenance."
