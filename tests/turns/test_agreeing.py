"""Where a plan is agreed: at the case's conference, or explicitly outside one.

On or after the day of the case's conference `plan.agree` records that conference. Before it
the card offers "Agreed outside a conference" (inputs ``outside_conference`` = ``yes`` and
``outside_reason``): without it nothing is agreed; with it the case is heard that day with that
reason, never at the future conference, and its place there is released. Records and figures
must never claim a meeting that has not happened.

The default referral (tests.support.builders) is received Mon 4 Jan 2027 and listed at the
conference of Thu 14 Jan 2027. Every name is fictional.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.support.builders import COORDINATOR
from tests.support.loop import facts_of
from tests.support.plan_world import (
    AGREE,
    CONFERENCE,
    HOUSING_ACTION,
    POLICE_ACTION,
    Plans,
    button,
    plans_world,
    timeline_of,
)
from tests.support.turns import TurnHarness, card_text, error_after, inputs_of

EARLY = datetime(2027, 1, 8, 15, 0, tzinfo=UTC)  # Fri 8 Jan, before the conference
EMERGENCY = "Emergency meeting after a new incident with a weapon (synthetic)."
BY = " · Casey Coordinator (coordinator)"


@pytest.fixture
async def plans(harness: TurnHarness) -> Plans:
    return await plans_world(harness)


async def drafted(plans: Plans) -> tuple[str, dict[str, object]]:
    reference = await plans.refer()
    plans.harness.clock.set(EARLY)
    card = await plans.add(await plans.plan(reference), **POLICE_ACTION)
    card = await plans.add(card, **HOUSING_ACTION)
    return reference, card


async def places_taken(plans: Plans, day: date) -> int:
    async with plans.harness.deps.context.units() as uow:
        meeting = await uow.meetings.by_date(day)
    assert meeting is not None
    return meeting.listed


async def test_before_its_conference_agreeing_needs_the_outside_a_conference_choice(
    plans: Plans,
) -> None:
    reference, card = await drafted(plans)
    fields = inputs_of(card)
    assert fields["outside_conference"]["type"] == "Input.Toggle"
    assert fields["outside_conference"]["valueOn"] == "yes"
    assert "The conference of Thu 14 Jan 2027 has not met yet." in card_text(card)

    back = await plans.agree(card)

    assert error_after(back, "outside_conference") == (
        "The conference of Thu 14 Jan 2027 has not met yet, so the plan cannot be recorded as "
        "agreed there. To agree it now (for example at an emergency meeting), choose 'Agreed "
        "outside a conference' and give the reason."
    )
    assert (await plans.case_state(reference))[0] == "referred"
    assert not any(a.agreed for a in (await plans.actions(reference)).values())

    no_reason = await plans.click(COORDINATOR, button(back, AGREE), outside_conference="yes")
    assert error_after(no_reason, "outside_reason") == (
        "Please give the reason the plan is agreed outside a conference; it is recorded."
    )
    assert inputs_of(no_reason)["outside_conference"]["value"] == "yes"  # kept
    assert (await plans.case_state(reference))[0] == "referred"


async def test_agreed_outside_a_conference_is_heard_that_day_with_the_reason_and_frees_its_place(
    plans: Plans,
) -> None:
    reference, card = await drafted(plans)
    assert await places_taken(plans, CONFERENCE) == 1

    agreed = await plans.click(
        COORDINATOR, button(card, AGREE), outside_conference="yes", outside_reason=EMERGENCY
    )

    shown = card_text(agreed)
    assert f"Plan agreed · {reference}" in shown
    assert (
        f"The plan was agreed outside a conference on Fri 8 Jan 2027: {EMERGENCY} Its place "
        "at the conference of Thu 14 Jan 2027 is released." in shown
    )
    assert "agreed at the conference" not in shown
    state, heard_at, heard_meeting = await plans.case_state(reference)
    assert (state, heard_at, heard_meeting) == ("monitoring", EARLY, None)
    assert await places_taken(plans, CONFERENCE) == 0, "the place can be given to another case"
    agenda = card_text(await plans.chat().card("agenda 2027-01-14"))
    assert reference not in agenda
    case = await plans.chat().card(f"case {reference}")
    assert facts_of(case)["Conference"] == "plan agreed outside a conference on Fri 8 Jan 2027"
    assert timeline_of(case)[1:] == [
        ("Fri 8 Jan 2027 15:00", f"heard: plan agreed outside a conference: {EMERGENCY}{BY}"),
        ("Fri 8 Jan 2027 15:00", f"monitoring{BY}"),
    ]
    await plans.deliver()
    assert plans.action_cards(COORDINATOR, reference).keys() == {"Police", "Housing"}
    # A second click of the same card answers with the same card.
    again = await plans.click(
        COORDINATOR, button(card, AGREE), outside_conference="yes", outside_reason=EMERGENCY
    )
    assert again == agreed


async def test_on_the_day_of_its_conference_the_plan_is_agreed_at_it_without_being_asked(
    plans: Plans,
) -> None:
    reference = await plans.refer()
    plans.harness.clock.set(datetime(2027, 1, 14, 9, 0, tzinfo=UTC))
    card = await plans.add(await plans.plan(reference), **POLICE_ACTION)
    assert "outside_conference" not in inputs_of(card)

    agreed = await plans.agree(card)

    assert "The plan was agreed at the conference of Thu 14 Jan 2027." in card_text(agreed)
    assert (await plans.case_state(reference))[2] is not None


async def test_a_case_waiting_for_a_conference_can_only_be_agreed_outside_one(
    plans: Plans,
) -> None:
    plans.harness.clock.set(datetime(2027, 2, 26, 10, 0, tzinfo=UTC))  # after every conference
    reference = await plans.refer(received_date="2027-02-26", incident_date="2027-02-25")
    card = await plans.add(
        await plans.plan(reference), **{**POLICE_ACTION, "due_date": "2027-03-10"}
    )
    assert "The case is not listed at any conference yet." in card_text(card)

    back = await plans.agree(card)
    assert str(error_after(back, "outside_conference")).startswith(
        "The case is not listed at any conference yet. To agree it now"
    )
    agreed = await plans.click(
        COORDINATOR, button(back, AGREE), outside_conference="yes", outside_reason=EMERGENCY
    )
    assert f"The plan was agreed outside a conference on Fri 26 Feb 2027: {EMERGENCY}" in (
        card_text(agreed)
    )
