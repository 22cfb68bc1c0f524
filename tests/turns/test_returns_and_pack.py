"""What the agencies returned, as the coordinator reads it: in full on `/case`, and in the
conference pack (`/agenda DATE pack`, the agenda card's "Conference pack" button, verb
``agenda.pack``) per listed case in agenda order. An agency contact reads only their own
agency's return, and gets no pack (it holds every agency's returns).

Two fictional cases are listed at the conference of Thu 14 Jan 2027: an adult-only one referred
first, then one with children (which the agenda, and so the pack, puts first).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT, STRANGER
from tests.support.loop import facts_of
from tests.support.plan_world import (
    POLICE_ACTION,
    Plans,
    button,
    plans_world,
    returns_of,
    texts_in_order,
)
from tests.support.turns import TurnHarness, card_of, card_text

POLICE = "Two call-outs to the address in 2026; bail conditions not to contact (synthetic)."
CONCERN = "The person causing harm was released last week (synthetic)."
HOUSING = "Tenancy in the victim's sole name; a management move is possible (synthetic)."
NOTES = "Police shared the bail conditions; Housing will check locks (synthetic)."


@pytest.fixture
async def plans(harness: TurnHarness) -> Plans:
    return await plans_world(harness)


async def answered_case(plans: Plans) -> str:
    """The default case with Police's return in (late) and Housing's in; IDVA's awaited."""
    reference = await plans.refer()
    await plans.deliver()
    plans.harness.clock.set(datetime(2027, 1, 5, 11, 0, tzinfo=UTC))
    await plans.answer_own(HOUSING_CONTACT, reference, "Housing", known="yes", information=HOUSING)
    plans.harness.clock.set(datetime(2027, 1, 7, 9, 30, tzinfo=UTC))
    await plans.answer_own(
        POLICE_CONTACT, reference, "Police", known="yes", information=POLICE, concerns=CONCERN
    )
    return reference


# -- /case ----------------------------------------------------------------------------------------


async def test_the_coordinator_reads_every_agency_s_return_in_full(plans: Plans) -> None:
    reference = await answered_case(plans)

    returns = returns_of(await plans.case_card(COORDINATOR, reference))

    assert returns == {
        "Police": {
            "state": "returned Thu 7 Jan 2027 09:30 by Pat Police (late)",
            "Known to the agency": "yes",
            "Information": POLICE,
            "Concerns": CONCERN,
        },
        "IDVA service": {"state": "awaited (due Wed 6 Jan 2027)"},
        "Housing": {
            "state": "returned Tue 5 Jan 2027 11:00 by Harper Housing",
            "Known to the agency": "yes",
            "Information": HOUSING,
            "Concerns": "none given",
        },
    }


async def test_a_contact_reads_their_own_agency_s_return_and_never_another_s(
    plans: Plans,
) -> None:
    reference = await answered_case(plans)

    card = await plans.case_card(HOUSING_CONTACT, reference)

    assert returns_of(card) == {
        "Housing": {
            "state": "returned Tue 5 Jan 2027 11:00 by Harper Housing",
            "Known to the agency": "yes",
            "Information": HOUSING,
            "Concerns": "none given",
        }
    }
    shown = card_text(card)
    assert POLICE not in shown and CONCERN not in shown
    assert "Other agencies' returns are shown to the coordinator only." in shown


async def test_a_not_returned_agency_that_joined_through_an_action_is_not_awaited(
    plans: Plans,
) -> None:
    """Probation, given an action, becomes involved but was never asked for information."""
    reference = await plans.agreed_case(
        POLICE_ACTION,
        {
            "agency": "probation",
            "description": "Probation to refer the person causing harm to a programme",
            "due_date": "2027-01-27",
            "perpetrator_focused": "yes",
        },
    )
    assert set(returns_of(await plans.case_card(COORDINATOR, reference))) == {
        "Police",
        "IDVA service",
        "Housing",
    }


# -- the conference pack --------------------------------------------------------------------------


async def pack_world(plans: Plans) -> tuple[str, str]:
    """An adult-only case (referred first) and a case with children, both on 14 Jan; the second
    with its returns, a recorded discussion and a draft plan."""
    adults = await plans.refer(children_count="0", victim_name="Ada Adultcase")
    plans.harness.clock.set(datetime(2027, 1, 4, 11, 0, tzinfo=UTC))
    children = await answered_case(plans)
    card = await plans.case_card(COORDINATOR, children)
    await plans.click(
        COORDINATOR,
        button(card, "discussion.record"),
        held="yes",
        attendees="police,housing",
        notes=NOTES,
    )
    await plans.add(await plans.plan(children), **POLICE_ACTION)
    return adults, children


async def test_agenda_date_pack_gives_the_chair_each_case_in_agenda_order(plans: Plans) -> None:
    adults, children = await pack_world(plans)

    replies = await plans.chat().say("agenda 2027-01-14 pack")

    cards = [card_of(r) for r in replies]
    assert [c["fallbackText"] for c in cards] == ["A MARAT conference pack is ready."] * 3
    summary, first, second = cards
    lines = texts_in_order(summary)
    assert lines[0] == "Conference pack · MARAC conference Thu 14 Jan 2027"
    assert lines.index("Cases with children") < lines.index("Adult-only cases")
    assert first["body"][0]["text"] == f"1. {children} · Cases with children"
    assert second["body"][0]["text"] == f"2. {adults} · Adult-only cases"
    shown = card_text(first)
    assert "Summary of risk\nSynthetic test summary." in shown
    assert NOTES in shown and "Held, with Police, Housing." in shown
    assert returns_of(first)["Police"]["Information"] == POLICE
    assert returns_of(first)["Police"]["Concerns"] == CONCERN
    assert returns_of(first)["IDVA service"] == {"state": "awaited (due Wed 6 Jan 2027)"}
    assert "Outstanding actions (1)" in shown
    assert "Police to serve the non-molestation order" in shown
    assert "proposed (plan not agreed)" in shown
    assert facts_of(first)["Victim"] == "Jane Testcase"
    assert "Not recorded." in card_text(second)
    assert await plans.audit("agenda.pack") == [(COORDINATOR, "coordinator", "ok")] * 2


async def test_the_agenda_card_s_button_sends_the_pack_under_the_agenda(plans: Plans) -> None:
    _adults, children = await pack_world(plans)
    agenda = await plans.chat().card("agenda 2027-01-14")
    pack = button(agenda, "agenda.pack")
    assert pack["title"] == "Conference pack" and pack["fallback"]["data"] == pack["data"]

    body, messages = await plans.chat().execute_with_messages(pack["verb"], pack["data"])

    assert body.type == "application/vnd.microsoft.activity.message", "the agenda stays"
    cards = [card_of(m) for m in messages]
    assert len(cards) == 3
    assert cards[1]["body"][0]["text"] == f"1. {children} · Cases with children"


async def test_contacts_and_strangers_get_no_pack(plans: Plans) -> None:
    await pack_world(plans)

    for aad, answer in (
        (POLICE_CONTACT, "That is for MARAT coordinators. Type help to see what you can do."),
        (STRANGER, None),
    ):
        replies = await plans.chat(aad).say("agenda 2027-01-14 pack")
        assert len(replies) == 1 and not replies[0].attachments
        if answer:
            assert replies[0].text == answer
        else:
            assert "You are not registered with the MARAT" in (replies[0].text or "")
    # Nor a button on their agenda.
    agenda = await plans.chat(POLICE_CONTACT).card("agenda 2027-01-14")
    assert not agenda.get("actions")
    assert (POLICE_CONTACT, "contact", "denied") in await plans.audit("agenda.pack")


async def test_in_a_channel_the_pack_points_to_the_1_1_chat(plans: Plans) -> None:
    await pack_world(plans)
    channel = plans.harness.chat(conversation_type="channel")

    replies = await channel.say("agenda 2027-01-14 pack", mention_bot=True)

    assert [r.text for r in replies] == [
        "Conference packs hold every agency's returns, so they are read in a 1:1 chat with me: "
        "type agenda 2027-01-14 pack there."
    ]


async def test_a_pack_for_a_day_without_a_conference_says_so(plans: Plans) -> None:
    replies = await plans.chat().say("agenda 2027-01-15 pack")
    assert [r.text for r in replies] == ["There is no MARAC conference on Fri 15 Jan 2027."]
    replies = await plans.chat().say("agenda 2027-01-14 pack extra")
    assert [r.text for r in replies] == ["Usage: agenda [next|today|YYYY-MM-DD] [pack]"]
