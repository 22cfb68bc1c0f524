"""An agreed plan amended between conferences, as the coordinator and the agencies see it.

After agreement `/plan REF` shows the agreed actions, each with a "Change or withdraw" form
(verbs ``plan.change_action`` with inputs ``due_date``, ``agency``, ``reason``, and
``plan.withdraw_action`` with ``reason``), and a form to add an action (``plan.add_action``),
agreed at once. Every amendment is recorded with who, when and why, the agency's cards are
updated in place (or sent to a newly given agency), and the action's reminders follow.

The default case (tests.support.builders) is agreed at its conference on Thu 14 Jan 2027 with a
Police action due Wed 20 Jan and a Housing action due Wed 27 Jan. Every name is fictional.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.actions import ActionStatus, AmendmentKind
from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT
from tests.support.loop import facts_of
from tests.support.plan_world import (
    ADD,
    AGREE,
    AMEND_INPUTS,
    CHANGE,
    LOCKS,
    ORDER,
    PLAN_INPUTS,
    PROBATION_CONTACT,
    REMOVE,
    UPDATE,
    WITHDRAW,
    Plans,
    button,
    has_button,
    plans_world,
    texts_in_order,
)
from tests.support.turns import TurnHarness, card_text, error_after, inputs_of

NEXT_DAY = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)  # Fri, the day after the conference
MOVED = "The court hearing moved to the next week (synthetic)."
PROGRAMME = "Probation to refer the person causing harm to a perpetrator programme"


@pytest.fixture
async def plans(harness: TurnHarness) -> Plans:
    return await plans_world(harness)


@pytest.fixture
async def agreed(plans: Plans) -> str:
    reference = await plans.agreed_case()
    plans.harness.clock.set(NEXT_DAY)
    return reference


# -- the agreed plan's card ----------------------------------------------------------------------


async def test_the_agreed_plan_shows_each_action_with_its_change_form_and_an_add_form(
    plans: Plans, agreed: str
) -> None:
    card = await plans.plan(agreed)

    shown = card_text(card)
    assert "The case is monitoring." in shown
    assert not has_button(card, AGREE) and not has_button(card, REMOVE)
    # The plan card holds the add form; each agreed action opens its own change form (the
    # forms share the contract's input ids, which must be unique in a card).
    assert set(inputs_of(card)) == PLAN_INPUTS
    assert button(card, ADD)["data"]["token"]
    for description in (ORDER, LOCKS):
        form = await plans.amend_form(card, description)
        assert set(inputs_of(form)) == AMEND_INPUTS
        change, withdraw = button(form, CHANGE), button(form, WITHDRAW)
        assert change["data"]["token"] == withdraw["data"]["token"]
        assert change["fallback"]["data"] == change["data"]
        assert not has_button(form, ADD), "one form per card"
    police = inputs_of(await plans.amend_form(card, ORDER))
    assert police["due_date"]["value"] == "2027-01-20" and police["agency"]["value"] == "police"


# -- changing a due date -------------------------------------------------------------------------


async def test_moving_a_due_date_updates_the_cards_in_place_and_moves_the_reminders(
    plans: Plans, agreed: str
) -> None:
    police_card = plans.action_cards(POLICE_CONTACT, agreed)["Police"]
    action = (await plans.actions(agreed))["police"]
    assert {s for _, s, state in await plans.reminders_of(action.id) if state == "pending"} == {
        date(2027, 1, 19),
        date(2027, 1, 20),
        date(2027, 1, 21),
        date(2027, 1, 25),
    }

    back = await plans.change(await plans.plan(agreed), ORDER, due_date="2027-01-27", reason=MOVED)

    said = (
        "Due date moved from Wed 20 Jan 2027 to Wed 27 Jan 2027 by Casey Coordinator, "
        f"Fri 15 Jan 2027 10:00: {MOVED}"
    )
    assert f"Action changed: {said}." in card_text(back)
    assert f"{ORDER} (by Wed 27 Jan 2027)" in card_text(back)
    assert (await plans.actions(agreed))["police"].due == date(2027, 1, 27)
    # Who, when and why are recorded; the audit row names who and the case, never the reason.
    (amendment,) = await plans.amendments(agreed)
    assert (amendment.kind, amendment.before, amendment.after, amendment.reason) == (
        AmendmentKind.DUE_DATE,
        "2027-01-20",
        "2027-01-27",
        MOVED,
    )
    assert (amendment.by, amendment.at) == (COORDINATOR, NEXT_DAY)
    assert await plans.audit("plan.change_action") == [(COORDINATOR, "coordinator", "ok")]
    # The reminders moved with it.
    reminders = await plans.reminders_of(action.id)
    assert {s for _, s, state in reminders if state == "pending"} == {
        date(2027, 1, 26),
        date(2027, 1, 27),
        date(2027, 1, 28),
        date(2027, 2, 1),
    }
    assert {s for _, s, state in reminders if state == "cancelled"} == {
        date(2027, 1, 19),
        date(2027, 1, 20),
        date(2027, 1, 21),
        date(2027, 1, 25),
    }

    await plans.deliver()
    (updated,) = plans.updates_of(police_card.delivered)  # Pat's card, in place
    assert facts_of(updated)["Due"] == "Wed 27 Jan 2027"
    assert f"{said}." in card_text(updated)
    token = button(updated, UPDATE)["data"]["token"]
    done = await plans.update(POLICE_CONTACT, token, status="in_progress")
    assert facts_of(done)["Status"] == "In progress"
    # The coordinator reads the history on the case.
    case = await plans.chat().card(f"case {agreed}")
    assert (
        "Due date moved from Wed 20 Jan 2027 to Wed 27 Jan 2027 by Casey Coordinator "
        f"(coordinator), Fri 15 Jan 2027 10:00: {MOVED}"
    ) in card_text(case)


async def test_a_change_needs_a_reason_and_a_future_working_day_and_keeps_what_was_typed(
    plans: Plans, agreed: str
) -> None:
    card = await plans.plan(agreed)

    no_reason = await plans.change(card, ORDER, due_date="2027-01-27", reason="")
    assert error_after(no_reason, "reason") == (
        "Please give the reason for the change; it is recorded."
    )
    assert inputs_of(no_reason)["due_date"]["value"] == "2027-01-27"
    assert "Type plan" in card_text(no_reason)  # only the form in question comes back
    fresh = await plans.plan(agreed)
    weekend = await plans.change(fresh, ORDER, due_date="2027-01-23", reason=MOVED)
    assert error_after(weekend, "due_date") == "The due date must be a working day (not a weekend)."
    assert inputs_of(weekend)["reason"]["value"] == MOVED
    past = await plans.change(fresh, ORDER, due_date="2027-01-14", reason=MOVED)
    assert error_after(past, "due_date") == "The due date must be in the future."
    same = await plans.change(await plans.plan(agreed), ORDER, reason=MOVED)
    assert error_after(same, "due_date") == (
        "Nothing would change: give a new due date or choose another agency."
    )

    assert (await plans.actions(agreed))["police"].due == date(2027, 1, 20)
    assert await plans.amendments(agreed) == []
    assert await plans.audit("plan.change_action") == []


# -- giving an action to another agency ------------------------------------------------------------


async def test_reassigning_sends_the_card_to_the_new_agency_and_tells_the_old_one(
    plans: Plans, agreed: str
) -> None:
    police_card = plans.action_cards(POLICE_CONTACT, agreed)["Police"]
    coordinator_card = plans.action_cards(COORDINATOR, agreed)["Police"]
    reason = "Probation now manages the person causing harm (synthetic)."

    back = await plans.change(await plans.plan(agreed), ORDER, agency="probation", reason=reason)
    await plans.deliver()

    assert "Given to Probation (was Police) by Casey Coordinator" in card_text(back)
    assert (await plans.actions(agreed)).keys() == {"probation", "housing"}
    # Pip (Probation) gets the action card, ready to update.
    (pip,) = plans.action_cards(PROBATION_CONTACT, agreed).values()
    assert facts_of(pip.card)["Action"] == ORDER
    assert reason in card_text(pip.card)
    # Pat's card says Police no longer holds it, and has no form any more.
    (pat,) = plans.updates_of(police_card.delivered)
    assert "Your agency no longer holds this action." in card_text(pat)
    assert not has_button(pat, UPDATE)
    # The coordinator, a contact of both, keeps one card, updated and still open.
    (kept,) = plans.updates_of(coordinator_card.delivered)
    assert has_button(kept, UPDATE) and "Given to Probation" in card_text(kept)
    # Probation is now involved: its contact may read the case.
    assert card_text(await plans.chat(PROBATION_CONTACT).card(f"case {agreed}")).startswith(
        f"{agreed} · monitoring"
    )
    await plans.update(PROBATION_CONTACT, pip.token, status="done", note="Referred (synthetic).")
    assert (await plans.actions(agreed))["probation"].status is ActionStatus.DONE


# -- withdrawing an action -----------------------------------------------------------------------


async def test_withdrawing_needs_a_reason_then_closes_the_cards_and_cancels_the_reminders(
    plans: Plans, agreed: str
) -> None:
    housing_card = plans.action_cards(HOUSING_CONTACT, agreed)["Housing"]
    action = (await plans.actions(agreed))["housing"]
    card = await plans.plan(agreed)

    refused = await plans.withdraw(card, LOCKS, reason=" ")
    assert error_after(refused, "reason") == (
        "Please give the reason for withdrawing it; it is recorded."
    )
    assert (await plans.actions(agreed))["housing"].status is ActionStatus.OPEN

    reason = "The victim has moved to a refuge (synthetic)."
    back = await plans.withdraw(await plans.plan(agreed), LOCKS, reason=reason)
    await plans.deliver()

    assert f"Action withdrawn: {reason}." in card_text(back)
    assert f"{LOCKS} (by Wed 27 Jan 2027) · Withdrawn" in card_text(back)
    withdrawn = (await plans.actions(agreed))["housing"]
    assert (withdrawn.status, withdrawn.note) == (ActionStatus.WITHDRAWN, reason)
    assert {state for *_, state in await plans.reminders_of(action.id)} == {"cancelled"}
    (harper,) = plans.updates_of(housing_card.delivered)
    assert facts_of(harper)["Status"] == "Withdrawn"
    assert f"Withdrawn by Casey Coordinator, Fri 15 Jan 2027 10:00: {reason}" in card_text(harper)
    assert not has_button(harper, UPDATE)
    # The old card's token changes nothing now.
    again = await plans.update(HOUSING_CONTACT, housing_card.token, status="done", note="x y z")
    assert facts_of(again)["Status"] == "Withdrawn"
    assert texts_in_order(await plans.chat(HOUSING_CONTACT).card("actions"))[0] == (
        "Open actions (0)"
    )
    assert await plans.audit("plan.withdraw_action") == [(COORDINATOR, "coordinator", "ok")]
    lines = texts_in_order(await plans.chat().card(f"case {agreed}"))
    assert lines[lines.index("Actions") + 1] == "1 open action"
    (amendment,) = await plans.amendments(agreed)
    assert (amendment.kind, amendment.reason, amendment.by) == (
        AmendmentKind.WITHDRAWN,
        reason,
        COORDINATOR,
    )


# -- adding an action ------------------------------------------------------------------------------


async def test_an_action_added_to_an_agreed_plan_is_checked_then_agreed_and_sent_at_once(
    plans: Plans, agreed: str
) -> None:
    card = await plans.plan(agreed)
    vague = {
        "agency": "probation",
        "description": "TBC",
        "due_date": "2027-01-23",
        "perpetrator_focused": "yes",
    }

    back = await plans.add_agreed(card, **vague)

    assert "at least 4 words" in str(error_after(back, "description"))
    assert error_after(back, "due_date") == "The due date must be a working day (not a weekend)."
    assert inputs_of(back)["agency"]["value"] == "probation"
    assert "probation" not in await plans.actions(agreed)

    good = {**vague, "description": PROGRAMME, "due_date": "2027-02-03"}
    added = await plans.add_agreed(await plans.plan(agreed), **good)
    await plans.deliver()

    assert "Action added to the agreed plan and sent to Probation." in card_text(added)
    action = (await plans.actions(agreed))["probation"]
    assert action.agreed and action.status is ActionStatus.OPEN
    (pip,) = plans.action_cards(PROBATION_CONTACT, agreed).values()
    assert facts_of(pip.card)["Action"] == PROGRAMME
    assert {s for _, s, state in await plans.reminders_of(action.id) if state == "pending"} == {
        date(2027, 2, 2),
        date(2027, 2, 3),
        date(2027, 2, 4),
        date(2027, 2, 8),
    }
    assert [a.kind for a in await plans.amendments(agreed)] == [AmendmentKind.ADDED]


async def test_only_coordinators_amend_a_plan(plans: Plans, agreed: str) -> None:
    form = await plans.amend_form(await plans.plan(agreed), ORDER)
    token = button(form, CHANGE)["data"]["token"]

    refused = await plans.click(
        POLICE_CONTACT,
        button(form, CHANGE),
        due_date="2027-01-27",
        agency="police",
        reason=MOVED,
    )

    assert card_text(refused) == "That is for MARAT coordinators. Type help to see what you can do."
    assert token and (await plans.actions(agreed))["police"].due == date(2027, 1, 20)
    assert await plans.audit("plan.change_action") == [(POLICE_CONTACT, "contact", "denied")]
