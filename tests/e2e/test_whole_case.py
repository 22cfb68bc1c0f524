"""End to end through the Agents Playground: one case from referral to closure.

``marat serve --demo``: the Playground's user Alex Wilber is the coordinator and a contact of
every agency, so he refers the case, answers an information request and reads the return back
on `/case`, drafts the plan and agrees it outside a conference (the case's conference is still
ahead), receives both agencies' action cards, moves one action's due date (its card is updated
in place), updates them, reviews the case and closes it, and sees nothing left open. Every step
waits on the Playground's websocket (never a fixed sleep). Every name is fictional.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.wording import day
from tests.support.playground import (
    CARD_CONTENT_TYPE,
    CARD_UPDATES,
    JSON,
    REFERENCE,
    PlaygroundClient,
    card_text,
    execute_action,
    facts_of,
    inputs_of,
    message_text,
    walk,
)

pytestmark = pytest.mark.e2e

VICTIM = "Morgan Wholecase"
FIRST_ACTION = "{agency} to serve the non-molestation order on the person causing harm"
SECOND_ACTION = "{agency} to fit additional locks and a doorbell camera at the address"
DONE_NOTE = "Order served in person (synthetic)."
NOT_POSSIBLE_NOTE = "The victim has moved out of the area (synthetic)."
REVIEW_REASON = "Risk not reduced: the victim has moved and a new incident was reported."
RETURNED = "Synthetic: one call-out last year."
EMERGENCY = "Emergency meeting the same day after a new incident (synthetic)."
MOVED = "The locksmith can only come the week after (synthetic)."
BY = " · Alex Wilber (coordinator)"


def london_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


def due_date(days: int) -> str:
    """A working day about ``days`` days ahead (England's calendar, as the demo bot uses)."""
    calendar = WorkingDayCalendar("ENG")
    return calendar.next_working_day(london_today() + timedelta(days=days)).isoformat()


def invoked_card(response: Any) -> JSON:
    """The card of an Action.Execute invoke response (the replacement card)."""
    assert isinstance(response, dict), response
    assert response.get("type") == CARD_CONTENT_TYPE, response
    card = response.get("value")
    assert isinstance(card, dict) and card.get("type") == "AdaptiveCard", response
    return card


def timeline_of(card: JSON) -> list[str]:
    """What happened to the case, oldest first (the values of the timeline's facts)."""
    body = card["body"]
    for index, element in enumerate(body):
        if element.get("type") == "TextBlock" and element.get("text") == "Timeline":
            return [str(fact["value"]) for fact in body[index + 1]["facts"]]
    raise AssertionError(f"no timeline on {card_text(card)!r}")


def returns_of(card: JSON) -> dict[str, dict[str, str]]:
    """The case card's information returns by agency: its state and what it returned."""
    body = card["body"]
    start = next(i for i, e in enumerate(body) if e.get("text") == "Information returns")
    found: dict[str, dict[str, str]] = {}
    for element in body[start + 1 :]:
        if element.get("type") != "Container":
            break
        facts = [f for item in element["items"] for f in item.get("facts", [])]
        agency, *detail = facts
        found[str(agency["title"])] = {"state": str(agency["value"])} | {
            str(f["title"]): str(f["value"]) for f in detail
        }
    return found


async def change_form(pg: PlaygroundClient, message: JSON, card: JSON, description: str) -> JSON:
    """Press "Change or withdraw" on the agreed action's row: the card with its form."""
    for row in card["body"]:
        if row.get("type") == "ColumnSet" and description in card_text({"body": [row]}):
            return await click(pg, message, {"body": [row]}, "plan.open_amendment")
    raise AssertionError(f"no change button for {description!r} on {card_text(card)!r}")


def is_plan_card(reference: str) -> Any:
    return lambda card: f"Safety action plan · {reference}" in card_text(card)


def is_action_card(reference: str, agency: str) -> Any:
    def matches(card: JSON) -> bool:
        return (
            "status" in inputs_of(card)
            and facts_of(card).get("Case") == reference
            and card_text(card).startswith(f"MARAT action for {agency}")
        )

    return matches


async def click(pg: PlaygroundClient, message: JSON, card: JSON, verb: str, **inputs: str) -> JSON:
    """Action.Execute of the card's ``verb`` button with ``inputs``; the replacement card."""
    action = execute_action(card, verb)
    response = await pg.execute(
        message["messageId"], verb, {**action["data"], **inputs}, action["title"]
    )
    return invoked_card(response)


async def command(pg: PlaygroundClient, text: str, expect: str) -> JSON:
    """Type ``text``; the first bot message after it whose text contains ``expect``."""
    k = pg.mark()
    await pg.send_text(text)
    return await pg.wait_text(expect, since=k)


async def test_a_coordinator_runs_a_case_from_referral_to_closure(pg: PlaygroundClient) -> None:
    # -- refer ---------------------------------------------------------------------------
    k = pg.mark()
    await pg.send_text("/refer")
    referral_message, referral = await pg.wait_card(
        since=k, predicate=lambda c: "victim_name" in inputs_of(c)
    )
    choices = inputs_of(referral)["agencies"]["choices"]
    (first_key, first), (second_key, second) = (
        (str(c["value"]), str(c["title"])) for c in choices[:2]
    )
    today = london_today().isoformat()
    k = pg.mark()
    done = await click(
        pg,
        referral_message,
        referral,
        "refer.submit",
        victim_name=VICTIM,
        victim_gender="female",
        victim_ethnicity="not_known",
        victim_disability="not_known",
        victim_lgbt="not_known",
        perpetrator_name="Sam Testperson",
        relationship="ex_partner",
        children_count="1",
        referring_agency=first_key,
        criteria="visible_high_risk",
        dash_score="17",
        received_date=today,
        agencies=f"{first_key},{second_key}",
        summary="Synthetic end-to-end referral for the whole-case walk-through.",
        consent="yes",
    )
    references = REFERENCE.findall(card_text(done))
    assert references, card_text(done)
    reference = references[0]

    # -- an information request arrives and is answered ---------------------------------------
    request_message, request = await pg.wait_card(
        since=k,
        predicate=lambda c: (
            "known" in inputs_of(c)
            and f"For {first}:" in card_text(c)
            and reference in card_text(c)
        ),
    )
    answered = await click(
        pg,
        request_message,
        request,
        "inforeq.submit",
        known="yes",
        information=RETURNED,
    )
    assert f"You answered for {first}" in card_text(answered)

    # -- the coordinator reads the return back on /case -------------------------------------
    k = pg.mark()
    await pg.send_text(f"/case {reference}")
    _, case = await pg.wait_card(
        since=k, predicate=lambda c: card_text(c).startswith(f"{reference} · ")
    )
    returns = returns_of(case)
    assert (
        returns[first]["state"].startswith("returned ")
        and "by Alex Wilber" in (returns[first]["state"])
    )
    assert returns[first]["Known to the agency"] == "yes"
    assert returns[first]["Information"] == RETURNED
    assert returns[second]["state"].startswith("awaited (due ")

    # -- the agenda's "Conference pack" button: the pack arrives under the agenda ------------
    k = pg.mark()
    await pg.send_text("/agenda")
    agenda_message, agenda = await pg.wait_card(
        since=k, predicate=lambda c: card_text(c).startswith("MARAC conference ")
    )
    button = execute_action(agenda, "agenda.pack")
    k = pg.mark()
    response = await pg.execute(
        agenda_message["messageId"], "agenda.pack", button["data"], button["title"]
    )
    assert response["type"] == "application/vnd.microsoft.activity.message", response
    _, pack = await pg.wait_card(
        since=k,
        predicate=lambda c: reference in card_text(c) and "Information returns" in card_text(c),
    )
    assert returns_of(pack)[first]["Information"] == RETURNED

    # -- the plan: two actions (one perpetrator-focused), agreed -------------------------------
    k = pg.mark()
    await pg.send_text(f"/plan {reference}")
    plan_message, plan = await pg.wait_card(since=k, predicate=is_plan_card(reference))
    assert set(inputs_of(plan)) == {
        "agency",
        "description",
        "due_date",
        "perpetrator_focused",
        "outside_conference",
        "outside_reason",
    }
    first_action = FIRST_ACTION.format(agency=first)
    second_action = SECOND_ACTION.format(agency=second)
    plan = await click(
        pg,
        plan_message,
        plan,
        "plan.add_action",
        agency=first_key,
        description=first_action,
        due_date=due_date(7),
        perpetrator_focused="yes",
    )
    assert "New actions (1)" in card_text(plan), card_text(plan)
    plan = await click(
        pg,
        plan_message,
        plan,
        "plan.add_action",
        agency=second_key,
        description=second_action,
        due_date=due_date(14),
        perpetrator_focused="no",
    )
    assert "New actions (2)" in card_text(plan), card_text(plan)
    # The case's conference has not met yet: agreeing now is explicitly outside a conference.
    refused = await click(pg, plan_message, plan, "plan.agree")
    assert "has not met yet" in card_text(refused), card_text(refused)
    assert "Plan agreed" not in card_text(refused)
    k = pg.mark()
    agreed = await click(
        pg,
        plan_message,
        refused,
        "plan.agree",
        outside_conference="yes",
        outside_reason=EMERGENCY,
    )
    assert f"Plan agreed · {reference}" in card_text(agreed), card_text(agreed)
    today_text = day(london_today())
    assert f"agreed outside a conference on {today_text}: {EMERGENCY}" in card_text(agreed)
    shown = facts_of(agreed)
    assert set(shown) == {first, second}, shown
    assert shown[first].startswith(f"{first_action} (by ")
    assert shown[second].startswith(f"{second_action} (by ")

    # -- both action cards arrive proactively --------------------------------------------------
    first_message, first_card = await pg.wait_card(
        since=k, predicate=is_action_card(reference, first)
    )
    second_message, second_card = await pg.wait_card(
        since=k, predicate=is_action_card(reference, second)
    )
    assert facts_of(first_card)["Action"] == first_action
    assert facts_of(second_card)["Action"] == second_action
    assert first_card["fallbackText"] == "A MARAT action needs your update"
    verbs = {
        n.get("verb")
        for n in walk(first_card.get("actions", []))
        if n.get("type") == "Action.Execute"
    }
    assert verbs == {"action.update"}

    # -- the agreed plan is amended: the second action's due date moves ------------------------
    k = pg.mark()
    await pg.send_text(f"/plan {reference}")
    plan_message, plan = await pg.wait_card(since=k, predicate=is_plan_card(reference))
    form = await change_form(pg, plan_message, plan, second_action)
    assert set(inputs_of(form)) == {"due_date", "agency", "reason"}
    new_due = due_date(21)
    k = pg.mark()
    changed = await click(
        pg,
        plan_message,
        form,
        "plan.change_action",
        due_date=new_due,
        agency=second_key,
        reason=MOVED,
    )
    assert "Action changed: Due date moved from " in card_text(changed), card_text(changed)
    second_message, second_card = await pg.wait_card(
        since=k,
        actions=CARD_UPDATES,
        predicate=lambda c: is_action_card(reference, second)(c) and MOVED in card_text(c),
    )
    assert facts_of(second_card)["Due"] == day(date.fromisoformat(new_due))

    # -- one done, one not possible (each with a note) -----------------------------------------
    updated = await click(
        pg, first_message, first_card, "action.update", status="done", note=DONE_NOTE
    )
    assert facts_of(updated)["Status"] == "Done"
    assert DONE_NOTE in facts_of(updated)["Last update"]
    assert not inputs_of(updated)
    k = pg.mark()
    updated = await click(
        pg,
        second_message,
        second_card,
        "action.update",
        status="not_possible",
        note=NOT_POSSIBLE_NOTE,
    )
    assert facts_of(updated)["Status"] == "Not possible"
    # The coordinator is asked to review the case.
    notice = await pg.wait_text(f"review {reference} REASON", since=k)
    assert "not possible" in message_text(notice)

    # -- review, then close ----------------------------------------------------------------------
    await command(pg, f"review {reference} {REVIEW_REASON}", f"{reference} is under review.")
    await command(pg, f"close {reference}", f"{reference} is closed.")

    # -- the case card: closed, with its whole timeline and nothing left open -----------------
    k = pg.mark()
    await pg.send_text(f"/case {reference}")
    _, case = await pg.wait_card(
        since=k, predicate=lambda c: card_text(c).startswith(f"{reference} · ")
    )
    assert card_text(case).startswith(f"{reference} · closed"), card_text(case)
    assert timeline_of(case) == [
        f"referred{BY}",
        f"heard: plan agreed outside a conference: {EMERGENCY}{BY}",
        f"monitoring{BY}",
        f"review: {REVIEW_REASON}{BY}",
        f"closed{BY}",
    ]
    facts = facts_of(case)
    assert facts["Information returns"] == "1/2"
    assert facts["Conference"] == f"plan agreed outside a conference on {today_text}"
    assert returns_of(case)[second] == {"state": "not returned (the case is closed)"}
    assert "awaited" not in card_text(case)
    assert "Due date moved from " in card_text(case) and MOVED in card_text(case)
