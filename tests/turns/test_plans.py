"""The safety action plan, as coordinators and agency contacts see it in Teams.

`/plan REF` gives a coordinator the plan card (verbs ``plan.add_action``, ``plan.remove_action``
and ``plan.agree``; inputs ``agency``, ``description``, ``due_date``, ``perpetrator_focused``).
Agreeing it at the conference moves the case heard → monitoring and sends each agency's
contacts their action cards (verb ``action.update``; inputs ``status`` and ``note``), delivered
here by the real ``OutboxSender`` through an in-memory Teams. Every name is fictional.

The default referral (tests.support.builders) is received Mon 4 Jan 2027 and involves Police, IDVA
service and Housing; it is listed at the conference of Thu 14 Jan 2027, where the plan is agreed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.actions import ActionStatus
from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT, STRANGER
from tests.support.loop import facts_of
from tests.support.plan_world import (
    ACTION_NEUTRAL,
    ADD,
    AGREE,
    AT_CONFERENCE,
    CONFERENCE,
    HOUSING_ACTION,
    LOCKS,
    ORDER,
    PLAN_INPUTS,
    POLICE_ACTION,
    PROBATION_CONTACT,
    REMOVE,
    SECOND_COORDINATOR,
    STALE,
    UPDATE,
    Plans,
    button,
    drafts_shown,
    has_button,
    plans_world,
    texts_in_order,
    timeline_of,
    told,
)
from tests.support.turns import TurnHarness, card_of, card_text, error_after, inputs_of


@pytest.fixture
async def plans(harness: TurnHarness) -> Plans:
    return await plans_world(harness)


# -- the plan card --------------------------------------------------------------------------------


async def test_the_plan_card_has_the_wire_contract_inputs_and_verbs(plans: Plans) -> None:
    reference = await plans.refer()

    card = await plans.plan(reference)

    assert card["version"] == "1.5"
    assert card["fallbackText"] == "A MARAT action plan is ready."
    shown = card_text(card)
    assert f"Safety action plan · {reference}" in shown
    assert "The case is referred." in shown
    assert "New actions (0)" in shown
    fields = inputs_of(card)
    # Before the conference has met, agreeing needs the "outside a conference" choice too.
    assert set(fields) == PLAN_INPUTS | {"outside_conference", "outside_reason"}
    agencies = {c["value"]: c["title"] for c in fields["agency"]["choices"]}
    assert agencies["police"] == "Police" and agencies["housing"] == "Housing"
    assert agencies["probation"] == "Probation"
    assert fields["due_date"]["type"] == "Input.Date"
    assert [c["value"] for c in fields["perpetrator_focused"]["choices"]] == ["yes", "no"]
    for verb in (ADD, AGREE):
        action = button(card, verb)
        assert action["type"] == "Action.Execute"
        assert action["data"]["token"]
        assert action["fallback"]["type"] == "Action.Submit"
        assert action["fallback"]["data"] == action["data"]
    assert not has_button(card, REMOVE)  # nothing to remove yet
    # No victim detail on the plan card: it is about actions.
    assert "Jane" not in shown and "Testcase" not in shown


async def test_plan_is_for_coordinators_in_a_1_1_chat_with_a_valid_reference(
    plans: Plans,
) -> None:
    reference = await plans.refer()

    for args in ("", "nonsense", f"{reference} extra"):
        replies = await plans.chat().say(f"plan {args}".strip())
        assert [r.text for r in replies] == ["Usage: plan REF (for example: plan MARAT-2026-0042)"]
    replies = await plans.chat().say("plan MARAT-2027-0999")
    assert [r.text for r in replies] == ["No case MARAT-2027-0999 that you can see."]

    replies = await plans.chat(POLICE_CONTACT).say(f"plan {reference}")
    assert [r.text for r in replies] == [
        "That is for MARAT coordinators. Type help to see what you can do."
    ]
    assert not replies[0].attachments
    replies = await plans.chat(STRANGER).say(f"/plan {reference}")
    assert "You are not registered with the MARAT" in (replies[0].text or "")
    assert await plans.audit("plan.view") == [
        (COORDINATOR, "coordinator", "denied"),  # the case that does not exist
        (POLICE_CONTACT, "contact", "denied"),
        (STRANGER, "unregistered", "denied"),
    ]


async def test_plan_in_a_channel_points_to_the_1_1_chat_without_showing_the_plan(
    plans: Plans,
) -> None:
    reference = await plans.refer()
    channel = plans.harness.chat(conversation_type="channel")

    replies = await channel.say(f"plan {reference}", mention_bot=True)

    assert [r.text for r in replies] == [
        f"Action plans are edited in a 1:1 chat with me: type plan {reference} there."
    ]
    assert not any(r.attachments for r in replies)


# -- adding and removing actions --------------------------------------------------------------


async def test_a_bad_action_comes_back_with_an_error_under_each_field_and_the_values_kept(
    plans: Plans,
) -> None:
    reference = await plans.refer()
    card = await plans.plan(reference)

    back = await plans.add(
        card, agency="made-up", description="TBC", due_date="2027-01-09", perpetrator_focused=""
    )

    assert error_after(back, "agency") == (
        "Please choose the agency that will do this, from the directory."
    )
    assert (error_after(back, "description") or "").startswith(
        "Please say specifically what will be done"
    )
    assert error_after(back, "due_date") == "The due date must be a working day (not a weekend)."
    assert error_after(back, "perpetrator_focused") == (
        "Please say whether this action addresses the person causing harm."
    )
    fields = inputs_of(back)
    assert fields["description"]["value"] == "TBC"
    assert fields["due_date"]["value"] == "2027-01-09"
    assert fields["agency"]["value"] == "made-up"
    assert "New actions (0)" in card_text(back)
    assert await plans.actions(reference) == {}

    # Corrected, it is added.
    fixed = await plans.add(back, **POLICE_ACTION)
    assert "New actions (1)" in card_text(fixed)
    assert [error_after(fixed, f) for f in sorted(PLAN_INPUTS)] == [None] * 4


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("due_date", "2027-01-04", "The due date must be in the future."),
        ("due_date", "2026-12-21", "The due date must be in the future."),
        (
            "due_date",
            "2027-03-29",
            "The due date must be a working day (Mon 29 Mar 2027 is Easter Monday).",
        ),
        ("description", "Support victim", None),
        ("agency", "", "Please choose the agency that will do this, from the directory."),
    ],
    ids=["today", "past", "bank-holiday", "too-short", "no-agency"],
)
async def test_only_the_bad_field_gets_an_error_and_the_others_keep_their_values(
    plans: Plans, field: str, value: str, error: str | None
) -> None:
    reference = await plans.refer()
    card = await plans.plan(reference)

    back = await plans.add(card, **{**POLICE_ACTION, field: value})

    message = error_after(back, field)
    assert message is not None
    if error is not None:
        assert message == error
    for other in PLAN_INPUTS - {field}:
        assert error_after(back, other) is None, other
        assert inputs_of(back)[other]["value"] == POLICE_ACTION[other], other
    assert await plans.actions(reference) == {}


async def test_two_actions_added_then_one_removed(plans: Plans) -> None:
    reference = await plans.refer()
    card = await plans.plan(reference)

    card = await plans.add(card, **POLICE_ACTION)
    card = await plans.add(card, **HOUSING_ACTION)

    assert "New actions (2)" in card_text(card)
    lines = drafts_shown(card)
    assert len(lines) == 2
    assert f"**Police**: {ORDER} (by Wed 20 Jan 2027) · perpetrator-focused" in lines[0]
    assert f"**Housing**: {LOCKS} (by Wed 27 Jan 2027)" in lines[1]
    assert "perpetrator-focused" not in lines[1]
    assert all(v["value"] == "" for v in inputs_of(card).values())  # a fresh form to add more
    stored = await plans.actions(reference)
    assert set(stored) == {"police", "housing"}
    assert not any(a.agreed for a in stored.values())
    assert stored["police"].perpetrator_focused and not stored["housing"].perpetrator_focused

    card = await plans.remove(card, LOCKS)

    assert "New actions (1)" in card_text(card)
    assert LOCKS not in card_text(card) and ORDER in card_text(card)
    assert set(await plans.actions(reference)) == {"police"}
    assert await plans.audit("plan.add_action") == [(COORDINATOR, "coordinator", "ok")] * 2
    assert await plans.audit("plan.remove_action") == [(COORDINATOR, "coordinator", "ok")]


async def test_add_action_with_the_action_submit_fallback_replaces_the_card_in_place(
    plans: Plans,
) -> None:
    reference = await plans.refer()
    card = await plans.plan(reference)
    fallback = button(card, ADD)["fallback"]["data"]

    replies = await plans.chat().submit({**fallback, **POLICE_ACTION}, "activity-plan-1")

    assert replies == []
    updated = plans.harness.adapter.updated_activities[-1]
    assert updated.id == "activity-plan-1"
    assert "New actions (1)" in card_text(card_of(updated))
    assert set(await plans.actions(reference)) == {"police"}


# -- several coordinators on one plan ----------------------------------------------------------


async def test_a_second_coordinator_s_stale_card_gets_the_current_plan_and_nothing_is_lost(
    plans: Plans,
) -> None:
    reference = await plans.refer()
    mine = await plans.plan(reference)
    theirs = await plans.plan(reference, SECOND_COORDINATOR)

    mine = await plans.add(mine, **POLICE_ACTION)
    mine = await plans.add(mine, **HOUSING_ACTION)
    probation = {
        **POLICE_ACTION,
        "agency": "probation",
        "description": ("Probation to refer the person causing harm to a perpetrator programme"),
    }
    back = await plans.add(theirs, SECOND_COORDINATOR, **probation)

    shown = card_text(back)
    assert STALE in shown
    assert ORDER in shown and LOCKS in shown  # the current plan, with both of mine
    assert "New actions (2)" in shown
    assert inputs_of(back)["description"]["value"] == probation["description"]  # theirs kept
    assert set(await plans.actions(reference)) == {"police", "housing"}

    # Checked, and sent again from the fresh card: now all three are there.
    again = await plans.add(back, SECOND_COORDINATOR, **probation)
    assert "New actions (3)" in card_text(again)
    assert set(await plans.actions(reference)) == {"police", "housing", "probation"}

    # My old card is stale now in turn: removing from it changes nothing.
    gone = await plans.remove(mine, LOCKS)
    assert STALE in card_text(gone)
    assert set(await plans.actions(reference)) == {"police", "housing", "probation"}

    # ... and agreeing from a stale card agrees nothing.
    refused = await plans.agree(mine)
    assert STALE in card_text(refused)
    assert (await plans.case_state(reference))[0] == "referred"


async def test_the_same_add_button_clicked_twice_adds_one_action(plans: Plans) -> None:
    reference = await plans.refer()
    card = await plans.plan(reference)

    await plans.add(card, **POLICE_ACTION)
    second = await plans.add(card, **POLICE_ACTION)

    assert STALE in card_text(second)
    assert len(drafts_shown(second)) == 1
    assert len(await plans.actions(reference)) == 1


# -- agreeing the plan -------------------------------------------------------------------------


async def test_agreeing_an_empty_plan_is_refused(plans: Plans) -> None:
    reference = await plans.refer()

    back = await plans.agree(await plans.plan(reference))

    assert "Add at least one action before agreeing the plan." in card_text(back)
    assert (await plans.case_state(reference))[0] == "referred"


async def test_with_no_perpetrator_focused_action_only_an_explicit_confirmation_agrees(
    plans: Plans,
) -> None:
    reference = await plans.refer()
    plans.harness.clock.set(AT_CONFERENCE)
    card = await plans.add(await plans.plan(reference), **HOUSING_ACTION)

    asked = await plans.agree(card)

    shown = card_text(asked)
    assert "Please confirm: no action addresses the person causing harm." in shown
    assert "Perpetrator risk must be considered explicitly" in shown
    confirm = button(asked, AGREE)
    assert confirm["title"] == "Confirm and agree"
    assert confirm["data"]["confirm"] == "no_perpetrator_action"
    assert (await plans.case_state(reference))[0] == "referred"
    assert not any(a.agreed for a in (await plans.actions(reference)).values())

    # Clicking the ordinary "Agree the plan" of the earlier card again still only asks.
    again = await plans.agree(card)
    assert "Please confirm" in card_text(again)
    assert (await plans.case_state(reference))[0] == "referred"

    agreed = await plans.click(COORDINATOR, confirm)

    assert f"Plan agreed · {reference}" in card_text(agreed)
    assert (await plans.case_state(reference))[0] == "monitoring"


async def test_adding_a_perpetrator_focused_action_agrees_without_asking(plans: Plans) -> None:
    reference = await plans.refer()
    plans.harness.clock.set(AT_CONFERENCE)
    card = await plans.add(await plans.plan(reference), **HOUSING_ACTION)
    asked = await plans.agree(card)
    card = await plans.add(asked, **POLICE_ACTION)

    agreed = await plans.agree(card)

    assert "Please confirm" not in card_text(agreed)
    assert f"Plan agreed · {reference}" in card_text(agreed)


async def test_agreeing_records_the_conference_and_the_case_is_monitored(plans: Plans) -> None:
    reference = await plans.refer()
    plans.harness.clock.set(AT_CONFERENCE)
    card = await plans.plan(reference)
    card = await plans.add(card, **POLICE_ACTION)
    card = await plans.add(card, **HOUSING_ACTION)

    agreed = await plans.agree(card)

    shown = card_text(agreed)
    assert f"Plan agreed · {reference}" in shown
    assert "The plan was agreed at the conference of Thu 14 Jan 2027." in shown
    assert "the case is now monitored" in shown
    assert agreed["fallbackText"] == "A MARAT action plan was agreed."
    assert facts_of(agreed) == {
        "Police": f"{ORDER} (by Wed 20 Jan 2027)",
        "Housing": f"{LOCKS} (by Wed 27 Jan 2027)",
    }
    async with plans.harness.deps.context.units() as uow:
        meeting = await uow.meetings.by_date(CONFERENCE)
    assert meeting is not None
    assert await plans.case_state(reference) == ("monitoring", AT_CONFERENCE, meeting.id)
    assert all(a.agreed for a in (await plans.actions(reference)).values())
    assert await plans.audit("plan.agree") == [(COORDINATOR, "coordinator", "ok")]

    case = await plans.chat().card(f"case {reference}")
    assert card_text(case).startswith(f"{reference} · monitoring")
    by = " · Casey Coordinator (coordinator)"
    assert timeline_of(case) == [
        ("Mon 4 Jan 2027 10:00", f"referred{by}"),
        ("Thu 14 Jan 2027 10:00", f"heard: plan agreed at the conference{by}"),
        ("Thu 14 Jan 2027 10:00", f"monitoring{by}"),
    ]


async def test_a_second_click_of_agree_sends_nothing_twice(plans: Plans) -> None:
    reference = await plans.refer()
    plans.harness.clock.set(AT_CONFERENCE)
    card = await plans.add(await plans.plan(reference), **POLICE_ACTION)
    first = await plans.agree(card)
    await plans.deliver()

    again = await plans.agree(card)

    # The same success card again, never one that reads like a refusal.
    assert again == first
    assert "The plan was agreed at the conference of Thu 14 Jan 2027." in card_text(again)
    await plans.deliver()
    assert len(plans.action_cards(POLICE_CONTACT, reference)) == 1
    assert [t.to_state for t in await plans.transitions(reference)].count("heard") == 1


async def test_the_old_plan_card_cannot_draft_or_agree_once_the_plan_is_agreed(
    plans: Plans,
) -> None:
    """Amending an agreed plan is tests/turns/test_amendments.py; the card it was agreed from
    is spent, and a fresh one shows the agreed actions and no Agree button."""
    reference = await plans.refer()
    plans.harness.clock.set(AT_CONFERENCE)
    card = await plans.add(await plans.plan(reference), **POLICE_ACTION)
    await plans.agree(card)

    back = await plans.add(card, **HOUSING_ACTION)
    assert STALE in card_text(back)
    fresh = await plans.plan(reference)
    assert "Agreed actions" in card_text(fresh)
    assert f"{ORDER} (by Wed 20 Jan 2027) · perpetrator-focused · Not started" in card_text(fresh)
    assert not has_button(fresh, AGREE) and not has_button(fresh, REMOVE)
    assert set(await plans.actions(reference)) == {"police"}


# -- the agencies' action cards -------------------------------------------------------------------


async def test_each_agency_s_contacts_and_only_them_get_their_action_cards(plans: Plans) -> None:
    reference = await plans.agreed_case()

    assert set(plans.action_cards(POLICE_CONTACT, reference)) == {"Police"}
    assert set(plans.action_cards(HOUSING_CONTACT, reference)) == {"Housing"}
    # The coordinator is a contact of every agency: one card per agency with an action.
    assert set(plans.action_cards(COORDINATOR, reference)) == {"Police", "Housing"}
    assert plans.sent_to(PROBATION_CONTACT) == []
    assert plans.sent_to(SECOND_COORDINATOR) == []

    police = plans.action_cards(POLICE_CONTACT, reference)["Police"]
    assert police.delivered.message.summary == ACTION_NEUTRAL
    assert police.delivered.message.text is None
    assert police.card["fallbackText"] == ACTION_NEUTRAL
    assert facts_of(police.card) == {
        "Case": reference,
        "Action": ORDER,
        "Due": "Wed 20 Jan 2027",
        "Status": "Not started",
    }
    fields = inputs_of(police.card)
    assert set(fields) == {"status", "note"}
    assert [c["value"] for c in fields["status"]["choices"]] == [
        "in_progress",
        "done",
        "not_possible",
    ]
    action = button(police.card, UPDATE)
    assert action["fallback"]["type"] == "Action.Submit"
    assert action["fallback"]["data"] == action["data"] == {"token": police.token, "verb": UPDATE}
    tokens = {
        c.token
        for aad in (POLICE_CONTACT, HOUSING_CONTACT, COORDINATOR)
        for c in plans.action_cards(aad, reference).values()
    }
    assert len(tokens) == 4  # one per card and contact
    assert "Jane" not in card_text(police.card)  # no victim detail in an action card


async def test_a_contact_of_another_agency_cannot_update_it(plans: Plans) -> None:
    reference = await plans.agreed_case()
    police = plans.action_cards(POLICE_CONTACT, reference)["Police"]

    refused = await plans.update(HOUSING_CONTACT, police.token, status="done", note="Not mine.")

    assert card_text(refused) == "This action belongs to another agency."
    assert (await plans.actions(reference))["police"].status is ActionStatus.OPEN
    assert await plans.audit("action.update") == [(HOUSING_CONTACT, "contact", "denied")]

    # A coordinator who is not one of the agency's contacts cannot update it either.
    refused = await plans.update(SECOND_COORDINATOR, police.token, status="in_progress")
    assert card_text(refused) == "This action belongs to another agency."
    assert (await plans.actions(reference))["police"].status is ActionStatus.OPEN


async def test_done_without_a_note_is_refused_under_note_and_keeps_the_choice(
    plans: Plans,
) -> None:
    reference = await plans.agreed_case()
    police = plans.action_cards(POLICE_CONTACT, reference)["Police"]

    back = await plans.update(POLICE_CONTACT, police.token, status="done", note="  ")

    assert error_after(back, "note") == (
        "Please add a note: what was done, or why it is not possible."
    )
    assert error_after(back, "status") is None
    assert inputs_of(back)["status"]["value"] == "done"
    assert button(back, UPDATE)["data"]["token"] == police.token  # the same card, still usable
    assert (await plans.actions(reference))["police"].status is ActionStatus.OPEN


async def test_done_with_a_note_is_recorded_with_who_and_when_and_replaces_the_cards(
    plans: Plans,
) -> None:
    reference = await plans.agreed_case()
    police = plans.action_cards(POLICE_CONTACT, reference)["Police"]
    coordinator_copy = plans.action_cards(COORDINATOR, reference)["Police"]
    when = datetime(2027, 1, 18, 9, 30, tzinfo=UTC)
    plans.harness.clock.set(when)

    done = await plans.update(
        POLICE_CONTACT, police.token, status="done", note="Order served on 15 Jan (synthetic)."
    )

    facts = facts_of(done)
    assert facts["Status"] == "Done"
    assert facts["Last update"] == (
        "Pat Police, Mon 18 Jan 2027 09:30: Order served on 15 Jan (synthetic)."
    )
    assert "This action is closed. Thank you." in card_text(done)
    assert inputs_of(done) == {} and not done.get("actions")
    stored = (await plans.actions(reference))["police"]
    assert stored.status is ActionStatus.DONE
    assert stored.note == "Order served on 15 Jan (synthetic)."
    assert (stored.updated_by, stored.updated_at) == (POLICE_CONTACT, when)
    assert await plans.history(stored.id) == [
        ("done", "Order served on 15 Jan (synthetic).", POLICE_CONTACT)
    ]
    assert await plans.audit("action.update") == [(POLICE_CONTACT, "contact", "ok")]

    # The agency's other copy (the coordinator's) is replaced in place.
    await plans.deliver()
    [update] = [u for u in plans.messenger.updates if u.address.aad_object_id == COORDINATOR]
    assert update.activity_id == coordinator_copy.delivered.activity_id
    assert update.message.card is not None
    assert facts_of(update.message.card)["Status"] == "Done"
    assert "Pat Police" in facts_of(update.message.card)["Last update"]
    assert inputs_of(update.message.card) == {}
    # ... and the coordinator's old card can no longer change it.
    late = await plans.update(COORDINATOR, coordinator_copy.token, status="not_possible", note="x")
    assert facts_of(late)["Status"] == "Done"
    assert (await plans.actions(reference))["police"].status is ActionStatus.DONE


async def test_the_second_click_of_the_same_card_changes_nothing(plans: Plans) -> None:
    reference = await plans.agreed_case()
    police = plans.action_cards(POLICE_CONTACT, reference)["Police"]

    progressing = await plans.update(POLICE_CONTACT, police.token, status="in_progress")
    assert facts_of(progressing)["Status"] == "In progress"
    fresh = button(progressing, UPDATE)["data"]["token"]
    assert fresh != police.token

    again = await plans.update(POLICE_CONTACT, police.token, status="done", note="Twice.")

    assert facts_of(again)["Status"] == "In progress"
    stored = (await plans.actions(reference))["police"]
    assert stored.status is ActionStatus.IN_PROGRESS
    assert await plans.history(stored.id) == [("in_progress", None, POLICE_CONTACT)]

    # The replacement card works once as well.
    done = await plans.update(POLICE_CONTACT, fresh, status="done", note="Served (synthetic).")
    assert facts_of(done)["Status"] == "Done"
    repeat = await plans.update(POLICE_CONTACT, fresh, status="not_possible", note="No.")
    assert facts_of(repeat)["Status"] == "Done"
    assert [h[0] for h in await plans.history(stored.id)] == ["in_progress", "done"]


async def test_not_possible_asks_the_coordinator_to_review_the_case(plans: Plans) -> None:
    reference = await plans.agreed_case()
    housing = plans.action_cards(HOUSING_CONTACT, reference)["Housing"]

    card = await plans.update(
        HOUSING_CONTACT, housing.token, status="not_possible", note="Victim moved away."
    )
    await plans.deliver()

    assert facts_of(card)["Status"] == "Not possible"
    [notice] = told(plans, COORDINATOR, "not possible")
    assert f"Housing says its action on {reference} is not possible (Victim moved away.)" in notice
    assert f"review {reference} REASON" in notice
    assert told(plans, SECOND_COORDINATOR, reference) == []  # the case's own coordinator
    assert told(plans, COORDINATOR, "every action") == []


async def test_when_every_action_is_done_the_coordinator_is_asked_to_close_or_review(
    plans: Plans,
) -> None:
    reference = await plans.agreed_case()
    police = plans.action_cards(POLICE_CONTACT, reference)["Police"]
    housing = plans.action_cards(HOUSING_CONTACT, reference)["Housing"]
    closing = f"every action on {reference} is done"

    await plans.update(POLICE_CONTACT, police.token, status="done", note="Served.")
    await plans.deliver()
    assert told(plans, COORDINATOR, closing) == []  # one is still open

    await plans.update(HOUSING_CONTACT, housing.token, status="done", note="Locks fitted.")
    await plans.deliver()

    [notice] = told(plans, COORDINATOR, closing)
    assert f"close the case (close {reference})" in notice
    assert "review it if risk is not reduced" in notice
    assert told(plans, COORDINATOR, "not possible") == []
    assert told(plans, SECOND_COORDINATOR, closing) == []


async def test_the_coordinator_sees_the_actions_progress_on_case(plans: Plans) -> None:
    reference = await plans.agreed_case()
    police = plans.action_cards(POLICE_CONTACT, reference)["Police"]
    await plans.update(POLICE_CONTACT, police.token, status="done", note="Order served.")

    case = await plans.chat().card(f"case {reference}")

    shown = card_text(case)
    assert ORDER in shown and LOCKS in shown, shown
    assert "Done" in shown and "Not started" in shown
    assert "Pat Police" in shown  # who reported the progress


# -- /actions -------------------------------------------------------------------------------------


def action_lines(card: dict[str, Any]) -> list[str]:
    return [t for t in texts_in_order(card) if t.startswith("**MARAT-")]


async def test_actions_lists_open_actions_for_the_coordinator_and_each_agency(
    plans: Plans,
) -> None:
    reference = await plans.agreed_case()

    everything = await plans.chat().card("actions")
    police = await plans.chat(POLICE_CONTACT).card("actions")
    housing = await plans.chat(HOUSING_CONTACT).card("/actions")
    probation = await plans.chat(PROBATION_CONTACT).card("actions")

    assert texts_in_order(everything)[0] == "Open actions (2)"
    assert action_lines(everything) == [
        f"**{reference}** · Police · {ORDER} · due Wed 20 Jan 2027 · Not started",
        f"**{reference}** · Housing · {LOCKS} · due Wed 27 Jan 2027 · Not started",
    ]
    assert action_lines(police) == [action_lines(everything)[0]]
    assert action_lines(housing) == [action_lines(everything)[1]]
    assert texts_in_order(probation)[:2] == ["Open actions (0)", "Nothing outstanding."]
    assert everything["fallbackText"] == "A MARAT action list is ready."

    # A closed action leaves the list.
    token = plans.action_cards(HOUSING_CONTACT, reference)["Housing"].token
    await plans.update(HOUSING_CONTACT, token, status="done", note="Locks fitted.")
    assert action_lines(await plans.chat().card("actions")) == [action_lines(everything)[0]]


async def test_actions_mine_and_overdue(plans: Plans) -> None:
    reference = await plans.agreed_case()

    mine = await plans.chat().card("actions mine")
    assert texts_in_order(mine)[0] == "My open actions (2)"  # the cases they referred
    others = await plans.chat(SECOND_COORDINATOR).card("actions mine")
    assert texts_in_order(others)[:2] == ["My open actions (0)", "Nothing outstanding."]
    assert texts_in_order(await plans.chat(SECOND_COORDINATOR).card("actions"))[0] == (
        "Open actions (2)"
    )
    police_mine = await plans.chat(POLICE_CONTACT).card("actions mine")
    assert [line.split(" · ")[1] for line in action_lines(police_mine)] == ["Police"]
    assert texts_in_order(await plans.chat().card("actions overdue"))[0] == "Overdue actions (0)"

    # The police action was due Wed 20 Jan; on Thu 21 Jan it is overdue, Housing's is not.
    plans.harness.clock.set(datetime(2027, 1, 21, 9, 0, tzinfo=UTC))

    overdue = await plans.chat().card("actions overdue")
    assert action_lines(overdue) == [
        f"**{reference}** · Police · {ORDER} · due Wed 20 Jan 2027 · Not started · **overdue**"
    ]
    assert action_lines(await plans.chat(POLICE_CONTACT).card("actions overdue")) == (
        action_lines(overdue)
    )
    housing = await plans.chat(HOUSING_CONTACT).card("actions overdue")
    assert texts_in_order(housing)[:2] == ["Overdue actions (0)", "Nothing outstanding."]
    everything = action_lines(await plans.chat().card("actions"))
    assert everything[0].endswith("· **overdue**")
    assert not everything[1].endswith("· **overdue**")


async def test_actions_arguments_are_parsed_strictly(plans: Plans) -> None:
    for text in ("actions all", "actions mine overdue", "actions late"):
        replies = await plans.chat().say(text)
        assert [r.text for r in replies] == ["Usage: actions [mine|overdue]"], text
    replies = await plans.chat(STRANGER).say("actions")
    assert "You are not registered with the MARAT" in (replies[0].text or "")


async def test_actions_in_a_channel_give_counts_only(plans: Plans) -> None:
    reference = await plans.agreed_case()
    plans.harness.clock.set(datetime(2027, 1, 21, 9, 0, tzinfo=UTC))
    channel = plans.harness.chat(conversation_type="channel")

    replies = await channel.say("actions", mention_bot=True)

    assert [r.text for r in replies] == [
        "2 open actions, 1 overdue. I am sending the details to your 1:1 chat with me: case "
        "detail is never shown here."
    ]
    assert not any(r.attachments for r in replies)
    assert reference not in (replies[0].text or "")


# -- the next agenda ---------------------------------------------------------------------------


async def test_outstanding_actions_come_first_on_the_next_agenda(plans: Plans) -> None:
    reference = await plans.agreed_case()
    police = plans.action_cards(POLICE_CONTACT, reference)["Police"]
    await plans.update(POLICE_CONTACT, police.token, status="done", note="Order served.")
    # A new case referred on Thu 28 Jan is listed at the next conference, Thu 11 Feb.
    plans.harness.clock.set(datetime(2027, 1, 28, 10, 0, tzinfo=UTC))
    newer = await plans.refer(
        victim_name="Mia Otherperson", received_date="2027-01-28", incident_date="2027-01-27"
    )

    agenda = await plans.chat().card("agenda")

    lines = texts_in_order(agenda)
    assert lines[0] == "MARAC conference Thu 11 Feb 2027"
    outstanding = lines.index("Outstanding actions from earlier meetings (1)")
    assert lines[outstanding + 1] == (
        f"**{reference}** · {LOCKS} · due Wed 27 Jan 2027 · Not started"
    )
    children = lines.index("Cases with children (1)")
    assert outstanding < children
    assert lines[children + 1].startswith(f"**{newer}**")
    assert ORDER not in "\n".join(lines)  # done: not outstanding

    # A contact sees only their agency's outstanding actions.
    police_lines = texts_in_order(await plans.chat(POLICE_CONTACT).card("agenda"))
    assert "Outstanding actions from earlier meetings (0)" in police_lines
    housing_lines = texts_in_order(await plans.chat(HOUSING_CONTACT).card("agenda"))
    assert "Outstanding actions from earlier meetings (1)" in housing_lines


async def test_the_agenda_counts_each_case_s_perpetrator_focused_actions(plans: Plans) -> None:
    reference = await plans.refer()
    card = await plans.add(await plans.plan(reference), **POLICE_ACTION)
    await plans.add(card, **HOUSING_ACTION)

    agenda = card_text(await plans.chat().card("agenda"))

    assert f"**{reference}**" in agenda
    assert "perpetrator-focused actions: 1" in agenda
