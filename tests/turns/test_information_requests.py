"""The information-request loop, as contacts and the coordinator see it.

A referral opens one request per involved agency; each of the agency's contacts gets the card
in their own 1:1 chat (delivered here by the real ``OutboxSender`` through an in-memory
Messenger). The first valid answer for the agency wins and is recorded with who and when; the
agency's other copies are brought up to date; a late answer is accepted and marked late; the
coordinator is told once when every return is in. Every name below is fictional.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.domain.directory import DirectoryRow, Role
from bot.domain.information import InformationRequest
from bot.services.outbox import NOTICE_HEADLINE
from bot.settings import Settings
from cards.information_request import NEUTRAL
from storage.db import session_factory
from storage.models import AuditRow
from storage.repositories import SqlCases
from storage.unit_of_work import SqlUnitOfWork
from tests.support.builders import (
    COORDINATOR,
    HOUSING_CONTACT,
    POLICE_CONTACT,
    STRANGER,
    seed_directory,
)
from tests.support.loop import (
    ANSWER,
    CONFERENCE,
    DUE,
    INVOLVED,
    PROBATION_CONTACT,
    VERB,
    Loop,
    conversation_of,
    facts_of,
    notices,
)
from tests.support.races import Rendezvous
from tests.support.turns import (
    TurnHarness,
    card_of,
    card_text,
    error_after,
    inputs_of,
)


@pytest.fixture
async def loop(harness: TurnHarness) -> Loop:
    """Police, Housing and Probation contacts and the coordinator have each talked to the bot
    in their own 1:1 chat (so it knows where to reach them); one conference is scheduled."""
    await harness.deps.directory.import_directory(
        [DirectoryRow(1, "Probation", "Pip Probation", None, PROBATION_CONTACT, Role.CONTACT)]
    )
    await harness.add_meeting(CONFERENCE)
    loop = Loop(harness)
    for aad in (COORDINATOR, POLICE_CONTACT, HOUSING_CONTACT, PROBATION_CONTACT):
        replies = await loop.chat(aad).say("help")
        assert replies, f"{aad} got no help"
    return loop


# -- who gets the card, and what it says ------------------------------------------------------


async def test_each_involved_agency_s_contacts_and_only_them_get_the_request(
    loop: Loop,
) -> None:
    reference = await loop.refer()
    await loop.deliver()

    assert set(loop.requests_for(POLICE_CONTACT, reference)) == {"Police"}
    assert set(loop.requests_for(HOUSING_CONTACT, reference)) == {"Housing"}
    # The coordinator is also a contact of every agency: one card per involved agency.
    assert set(loop.requests_for(COORDINATOR, reference)) == INVOLVED
    assert loop.sent_to(PROBATION_CONTACT) == []  # Probation was not asked

    cards = [
        *loop.requests_for(POLICE_CONTACT, reference).values(),
        *loop.requests_for(HOUSING_CONTACT, reference).values(),
        *loop.requests_for(COORDINATOR, reference).values(),
    ]
    assert len({c.token for c in cards}) == len(cards) == 5  # one token per contact
    for request in cards:
        delivered = request.delivered
        # Sent to the person's own 1:1 chat, remembered from their "help".
        assert delivered.address.conversation_id == conversation_of(delivered.recipient)
        assert delivered.address.service_url == "https://smba.example.test/"
        # Notification previews show only neutral words.
        assert delivered.message.summary == NEUTRAL
        assert delivered.message.text is None
        card = request.card
        assert card["version"] == "1.5"
        assert card["fallbackText"] == NEUTRAL
        facts = facts_of(card)
        assert facts["Case"] == reference
        assert facts["Victim"] == "Jane Testcase (born Thu 17 May 1990)"
        assert facts["Person causing harm"] == "John Fictional (born Mon 1 Feb 1988)"
        assert facts["Children in the household"] == "2"
        assert facts["Referral received"] == "Mon 4 Jan 2027"
        assert f"please check your records and answer by the end of {DUE}" in card_text(card)
        assert {"known", "information", "concerns"} <= set(inputs_of(card))
        assert inputs_of(card)["known"]["isRequired"] is True
        action = request.action
        assert action["type"] == "Action.Execute"
        assert action["verb"] == VERB
        assert action["fallback"]["type"] == "Action.Submit"
        assert (
            action["fallback"]["data"] == action["data"] == {"token": request.token, "verb": VERB}
        )


async def test_a_case_that_does_not_involve_an_agency_sends_its_contacts_nothing(
    loop: Loop,
) -> None:
    reference = await loop.refer(agencies="police,idva-service")
    await loop.deliver()
    assert set(loop.requests_for(POLICE_CONTACT, reference)) == {"Police"}
    assert loop.sent_to(HOUSING_CONTACT) == []
    assert set(loop.requests_for(COORDINATOR, reference)) == {"Police", "IDVA service"}


# -- answering ------------------------------------------------------------------------------


async def test_an_answer_with_execute_replaces_the_card_and_is_recorded_with_who_and_when(
    loop: Loop,
) -> None:
    reference = await loop.refer()
    await loop.deliver()
    request = loop.request(POLICE_CONTACT, reference, "Police")

    card = await loop.answer(POLICE_CONTACT, request.token, **ANSWER)

    shown = card_text(card)
    assert f"You answered for Police on Mon 4 Jan 2027 10:00 ({reference})." in shown
    assert "late" not in shown
    assert inputs_of(card) == {} and not card.get("actions")  # nothing left to click
    assert card["fallbackText"] == "A MARAT information request was answered."
    assert "Jane" not in shown and "John" not in shown
    police = (await loop.recorded(reference))["police"]
    assert police.answered_by == POLICE_CONTACT
    assert police.answered_at == loop.harness.clock.now()
    assert police.known is True
    assert police.late is False
    others = [r for key, r in (await loop.recorded(reference)).items() if key != "police"]
    assert others and not any(r.answered for r in others)


async def test_known_yes_without_information_comes_back_with_an_error_and_the_values_kept(
    loop: Loop,
) -> None:
    reference = await loop.refer()
    await loop.deliver()
    request = loop.request(POLICE_CONTACT, reference, "Police")

    card = await loop.answer(
        POLICE_CONTACT, request.token, known="yes", information="   ", concerns="Synthetic worry."
    )

    assert error_after(card, "information") == "Please give the information your agency holds."
    assert error_after(card, "known") is None
    assert error_after(card, "concerns") is None
    fields = inputs_of(card)
    assert fields["known"]["value"] == "yes"
    assert fields["concerns"]["value"] == "Synthetic worry."
    assert card["actions"][0]["data"]["token"] == request.token  # the same card, answerable
    assert facts_of(card)["Case"] == reference
    assert not (await loop.recorded(reference))["police"].answered

    # The corrected card goes through.
    done = await loop.answer(POLICE_CONTACT, request.token, **ANSWER)
    assert "You answered for Police" in card_text(done)
    assert (await loop.recorded(reference))["police"].answered_by == POLICE_CONTACT


async def test_an_answer_that_does_not_say_whether_known_is_refused_under_known(
    loop: Loop,
) -> None:
    reference = await loop.refer()
    await loop.deliver()
    request = loop.request(HOUSING_CONTACT, reference, "Housing")

    card = await loop.answer(HOUSING_CONTACT, request.token, information="Kept text (synthetic).")

    assert error_after(card, "known") == (
        "Please say whether your agency knows the people in this case."
    )
    assert inputs_of(card)["information"]["value"] == "Kept text (synthetic)."
    assert not (await loop.recorded(reference))["housing"].answered


async def test_known_no_needs_no_information(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    request = loop.request(HOUSING_CONTACT, reference, "Housing")

    card = await loop.answer(HOUSING_CONTACT, request.token, known="no")

    assert "You answered for Housing" in card_text(card)
    housing = (await loop.recorded(reference))["housing"]
    assert housing.answered_by == HOUSING_CONTACT and housing.known is False


async def test_a_second_click_of_the_same_card_has_no_second_effect(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    request = loop.request(POLICE_CONTACT, reference, "Police")
    first = await loop.answer(POLICE_CONTACT, request.token, **ANSWER)
    recorded = (await loop.recorded(reference))["police"]
    await loop.deliver()
    updates = len(loop.messenger.updates)

    loop.harness.clock.advance(timedelta(minutes=5))
    again = await loop.answer(POLICE_CONTACT, request.token, known="no")
    await loop.deliver()

    assert again == first  # the same replacement card, with the first answer's time
    assert (await loop.recorded(reference))["police"] == recorded  # still "yes", same time
    assert len(loop.messenger.updates) == updates  # colleagues are not told twice


async def test_a_colleague_answering_afterwards_sees_who_answered_first(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    coordinator_copy = loop.request(COORDINATOR, reference, "Police")
    colleague_copy = loop.request(POLICE_CONTACT, reference, "Police")
    await loop.answer(COORDINATOR, coordinator_copy.token, **ANSWER)

    # The colleague's card had not been refreshed yet; even an invalid answer shows the winner.
    card = await loop.answer(POLICE_CONTACT, colleague_copy.token, known="yes")
    shown = card_text(card)
    assert f"Casey Coordinator answered for Police on Mon 4 Jan 2027 10:00 ({reference})." in shown
    assert "No further answer is needed from your agency." in shown
    assert error_after_any(card) is None

    card = await loop.answer(POLICE_CONTACT, colleague_copy.token, known="no")
    assert "Casey Coordinator answered for Police" in card_text(card)
    police = (await loop.recorded(reference))["police"]
    assert police.answered_by == COORDINATOR
    assert police.known is True


def error_after_any(card: dict[str, Any]) -> str | None:
    """The first error under any input of the card, if any."""
    for input_id in inputs_of(card):
        message = error_after(card, input_id)
        if message:
            return message
    return None


# -- the agency's other copies -----------------------------------------------------------------


async def test_the_other_contacts_delivered_copies_are_updated_in_place(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    coordinator_copy = loop.request(COORDINATOR, reference, "Police")
    sent_before = len(loop.messenger.sent)

    await loop.answer_own(POLICE_CONTACT, reference, "Police", **ANSWER)
    await loop.deliver()

    assert len(loop.messenger.updates) == 1, loop.messenger.updates
    update = loop.messenger.updates[0]
    assert update.activity_id == coordinator_copy.delivered.activity_id
    assert update.address.aad_object_id == COORDINATOR
    assert update.address.conversation_id == conversation_of(COORDINATOR)
    assert update.message.summary == "A MARAT information request was answered."
    assert update.message.card is not None
    shown = card_text(update.message.card)
    assert f"Pat Police answered for Police on Mon 4 Jan 2027 10:00 ({reference})." in shown
    assert "No further answer is needed from your agency." in shown
    assert inputs_of(update.message.card) == {} and not update.message.card.get("actions")
    assert "Jane" not in shown
    # Nothing new was posted (the copy changed in place), and other agencies' cards stay open.
    assert loop.messenger.sent[sent_before:] == []


async def test_a_copy_not_yet_delivered_goes_out_already_answered(loop: Loop) -> None:
    loop.messenger.busy.add(POLICE_CONTACT)  # Teams answers 429 for this person for now
    reference = await loop.refer()
    await loop.deliver()
    assert loop.sent_to(POLICE_CONTACT) == []
    coordinator_copy = loop.request(COORDINATOR, reference, "Police")

    await loop.answer(COORDINATOR, coordinator_copy.token, **ANSWER)
    loop.messenger.busy.clear()
    loop.harness.clock.advance(timedelta(minutes=2))  # past Retry-After
    await loop.deliver()

    received = loop.sent_to(POLICE_CONTACT)
    assert len(received) == 1, [d.message for d in received]
    card = received[0].card
    shown = card_text(card)
    assert f"Casey Coordinator answered for Police on Mon 4 Jan 2027 10:00 ({reference})" in shown
    assert inputs_of(card) == {} and not card.get("actions")
    assert received[0].message.summary == "A MARAT information request was answered."
    assert loop.messenger.updates == []


# -- late answers ----------------------------------------------------------------------------


async def test_an_answer_after_the_due_day_is_recorded_marked_late_and_shown_late(
    loop: Loop,
) -> None:
    reference = await loop.refer()
    await loop.deliver()
    request = loop.request(POLICE_CONTACT, reference, "Police")

    loop.harness.clock.set(datetime(2027, 1, 7, 9, 30, tzinfo=UTC))  # Thu, day 3
    card = await loop.answer(POLICE_CONTACT, request.token, **ANSWER)
    await loop.deliver()

    shown = card_text(card)
    assert f"You answered for Police on Thu 7 Jan 2027 09:30 ({reference})." in shown
    assert "The answer came after the due date and is marked late." in shown
    police = (await loop.recorded(reference))["police"]
    assert police.answered_by == POLICE_CONTACT and police.late is True
    # The colleague's copy says so too.
    update = loop.messenger.updates[-1]
    assert update.message.card is not None
    assert "marked late" in card_text(update.message.card)
    # And the coordinator's case summary.
    facts = facts_of(await loop.case_card(COORDINATOR, reference))
    assert facts["Police"] == "returned Thu 7 Jan 2027 09:30 by Pat Police (late)"
    assert facts["Housing"] == f"awaited (due {DUE})"
    assert facts["Information returns"] == "1/3"


async def test_an_answer_late_on_the_due_day_is_on_time(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    request = loop.request(HOUSING_CONTACT, reference, "Housing")

    loop.harness.clock.set(datetime(2027, 1, 6, 23, 59, tzinfo=UTC))  # Wed 23:59 London (GMT)
    card = await loop.answer(HOUSING_CONTACT, request.token, **ANSWER)

    assert "late" not in card_text(card)
    assert (await loop.recorded(reference))["housing"].late is False
    facts = facts_of(await loop.case_card(COORDINATOR, reference))
    assert facts["Housing"] == "returned Wed 6 Jan 2027 23:59 by Harper Housing"


async def test_lateness_follows_the_london_date_in_summer_time(loop: Loop) -> None:
    # Received Mon 7 Jun 2027 (BST): returns due by the end of Wed 9 Jun, London time.
    loop.harness.clock.set(datetime(2027, 6, 7, 9, 0, tzinfo=UTC))
    reference = await loop.refer(received_date="2027-06-07", incident_date="2027-06-05")
    await loop.deliver()

    loop.harness.clock.set(datetime(2027, 6, 9, 22, 30, tzinfo=UTC))  # Wed 23:30 in London
    on_time = await loop.answer_own(POLICE_CONTACT, reference, "Police", **ANSWER)
    loop.harness.clock.set(datetime(2027, 6, 9, 23, 30, tzinfo=UTC))  # Thu 00:30 in London
    late = await loop.answer_own(HOUSING_CONTACT, reference, "Housing", **ANSWER)

    assert "You answered for Police on Wed 9 Jun 2027 23:30" in card_text(on_time)
    assert "marked late" not in card_text(on_time)
    assert "You answered for Housing on Thu 10 Jun 2027 00:30" in card_text(late)
    assert "marked late" in card_text(late)
    recorded = await loop.recorded(reference)
    assert recorded["police"].late is False
    assert recorded["housing"].late is True


# -- what the coordinator sees -------------------------------------------------------------------


async def test_case_and_agenda_show_the_returns_after_one_answer(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    assert facts_of(await loop.case_card(COORDINATOR, reference))["Information returns"] == "0/3"
    assert "returns 0/3" in card_text(await loop.chat().card("agenda"))

    await loop.answer_own(POLICE_CONTACT, reference, "Police", **ANSWER)

    facts = facts_of(await loop.case_card(COORDINATOR, reference))
    assert facts["Information returns"] == "1/3"
    assert facts["Police"] == "returned Mon 4 Jan 2027 10:00 by Pat Police"
    assert facts["IDVA service"] == f"awaited (due {DUE})"
    assert facts["Housing"] == f"awaited (due {DUE})"
    agenda = card_text(await loop.chat().card("agenda"))
    assert reference in agenda
    assert "returns 1/3" in agenda


async def test_the_coordinator_is_told_once_when_every_return_is_in(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    all_in = f"{NOTICE_HEADLINE}\n\nMARAT update: all 3 information returns are in for {reference}."

    await loop.answer_own(POLICE_CONTACT, reference, "Police", **ANSWER)
    await loop.answer_own(COORDINATOR, reference, "IDVA service", known="no")
    await loop.deliver()
    assert notices(loop, COORDINATOR, "information returns are in") == []

    housing = loop.request(HOUSING_CONTACT, reference, "Housing")
    await loop.answer(HOUSING_CONTACT, housing.token, **ANSWER)
    await loop.deliver()
    assert notices(loop, COORDINATOR, "information returns are in") == [all_in]

    # Clicking again, or on the coordinator's refreshed copy, tells nobody anything new.
    await loop.answer(HOUSING_CONTACT, housing.token, **ANSWER)
    await loop.answer_own(COORDINATOR, reference, "Housing", **ANSWER)
    loop.harness.clock.advance(timedelta(minutes=1))
    await loop.deliver()
    assert notices(loop, COORDINATOR, "information returns are in") == [all_in]
    for contact in (POLICE_CONTACT, HOUSING_CONTACT):
        assert notices(loop, contact, "information returns are in") == []
    assert facts_of(await loop.case_card(COORDINATOR, reference))["Information returns"] == "3/3"


# -- refusals --------------------------------------------------------------------------------


async def test_a_contact_of_another_agency_cannot_answer_with_a_foreign_token(
    loop: Loop,
) -> None:
    reference = await loop.refer()
    await loop.deliver()
    police_token = loop.request(POLICE_CONTACT, reference, "Police").token

    card = await loop.answer(HOUSING_CONTACT, police_token, **ANSWER)

    assert card_text(card) == "This request is for another agency's contacts."
    assert not any(r.answered for r in (await loop.recorded(reference)).values())
    # The police contact can still answer with it.
    done = await loop.answer(POLICE_CONTACT, police_token, **ANSWER)
    assert "You answered for Police" in card_text(done)


async def test_a_forged_token_is_refused_and_nothing_is_recorded(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    housing_token = loop.request(HOUSING_CONTACT, reference, "Housing").token

    for forged in ("made-up", "", housing_token[:-2] + "xx"):
        card = await loop.answer(HOUSING_CONTACT, forged, **ANSWER)
        assert card_text(card) == "This information request card has expired.", forged
    # A token of another kind (the referral card's) names no request either.
    referral_token = (await loop.chat().card("refer"))["actions"][0]["data"]["token"]
    card = await loop.answer(COORDINATOR, referral_token, **ANSWER)
    assert card_text(card) == "This information request card has expired."
    assert not any(r.answered for r in (await loop.recorded(reference)).values())


async def test_anything_but_the_token_and_inputs_in_the_payload_is_ignored(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    housing_token = loop.request(HOUSING_CONTACT, reference, "Housing").token

    body = await loop.chat(HOUSING_CONTACT).execute(
        VERB,
        {
            "token": housing_token,
            **ANSWER,
            "agency": "police",
            "agency_key": "police",
            "case_id": 999,
            "reference": "MARAT-2027-0999",
            "aad_object_id": POLICE_CONTACT,
        },
    )

    assert f"You answered for Housing on Mon 4 Jan 2027 10:00 ({reference})." in card_text(
        body.value
    )
    recorded = await loop.recorded(reference)
    assert recorded["housing"].answered_by == HOUSING_CONTACT
    assert not recorded["police"].answered


async def test_a_stranger_is_refused_and_nothing_is_recorded(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    police_token = loop.request(POLICE_CONTACT, reference, "Police").token

    card = await loop.answer(STRANGER, police_token, **ANSWER)

    assert "You are not registered with the MARAT" in card_text(card)
    assert not any(r.answered for r in (await loop.recorded(reference)).values())
    replies = await loop.chat(STRANGER).say(f"case {reference}")
    assert "You are not registered with the MARAT" in (replies[0].text or "")
    assert not replies[0].attachments


async def test_a_contact_sees_only_cases_their_agency_was_asked_about(loop: Loop) -> None:
    shared = await loop.refer()  # police, IDVA service, housing
    police_only = await loop.refer(agencies="police,idva-service", victim_name="Mia Otherperson")
    await loop.deliver()
    assert set(loop.requests_for(HOUSING_CONTACT, police_only)) == set()
    await loop.answer_own(POLICE_CONTACT, shared, "Police", **ANSWER)

    replies = await loop.chat(HOUSING_CONTACT).say(f"case {police_only}")
    assert replies[0].text == f"No case {police_only} that you can see."
    assert not replies[0].attachments

    card = await loop.case_card(HOUSING_CONTACT, shared)
    facts = facts_of(card)
    assert facts["Housing"] == f"awaited (due {DUE})"
    assert "Police" not in facts and "IDVA service" not in facts  # coordinator only
    assert "Other agencies' returns are shown to the coordinator only." in card_text(card)

    # The police contact, involved in both, sees both.
    assert police_only in card_text(await loop.case_card(POLICE_CONTACT, police_only))
    police = facts_of(await loop.case_card(POLICE_CONTACT, shared))
    assert police["Police"] == "returned Mon 4 Jan 2027 10:00 by Pat Police"


# -- the audit trail and people the bot cannot reach -------------------------------------------


async def audit_trail(loop: Loop, action: str) -> list[tuple[str, str, str, int | None]]:
    """(actor, role, outcome, case id) of the audit records of ``action``, oldest first."""
    async with loop.harness.runtime.database.engine.connect() as connection:
        rows = await connection.execute(
            select(AuditRow.actor, AuditRow.role, AuditRow.outcome, AuditRow.case_id)
            .where(AuditRow.action == action)
            .order_by(AuditRow.id)
        )
        return [(r.actor, r.role, r.outcome, r.case_id) for r in rows]


async def case_id_of(loop: Loop, reference: str) -> int:
    async with loop.harness.deps.context.units() as uow:
        case = await uow.cases.by_reference(reference)
        assert case is not None
        return case.id


async def test_answers_and_refusals_are_audited(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    case_id = await case_id_of(loop, reference)
    police_token = loop.request(POLICE_CONTACT, reference, "Police").token

    await loop.answer(HOUSING_CONTACT, police_token, **ANSWER)  # another agency's card
    await loop.answer(STRANGER, police_token, **ANSWER)
    await loop.answer(POLICE_CONTACT, police_token, **ANSWER)

    assert await audit_trail(loop, "inforeq.answer") == [
        (HOUSING_CONTACT, "contact", "denied", case_id),
        (STRANGER, "unregistered", "denied", None),
        (POLICE_CONTACT, "contact", "ok", case_id),
    ]


async def test_a_contact_the_bot_cannot_reach_is_reported_to_the_coordinator(
    harness: TurnHarness,
) -> None:
    loop = Loop(harness)
    await loop.chat(COORDINATOR).say("help")
    await loop.chat(POLICE_CONTACT).say("help")  # Harper Housing never talked to the bot
    reference = await loop.refer()
    await loop.deliver()

    assert loop.sent_to(HOUSING_CONTACT) == []
    assert notices(loop, COORDINATOR, "Harper Housing") == [
        f"{NOTICE_HEADLINE}\n\n"
        f"MARAT delivery problem: Harper Housing could not be reached about {reference} "
        "(the app is not installed for them). Please contact them another way."
    ]
    card = await loop.case_card(COORDINATOR, reference)
    assert facts_of(card)["Harper Housing"] == "could not be reached"


async def test_an_involved_agency_without_contacts_is_reported_to_the_coordinator(
    loop: Loop,
) -> None:
    await loop.harness.deps.directory.import_directory(
        [
            DirectoryRow(
                1, "Victim Support", "Casey Coordinator", None, COORDINATOR, Role.COORDINATOR
            )
        ]
    )
    reference = await loop.refer(agencies="police,victim-support")
    await loop.deliver()

    assert set(loop.requests_for(COORDINATOR, reference)) == {"Police"}
    assert notices(loop, COORDINATOR, "Victim Support has no contacts") == [
        f"{NOTICE_HEADLINE}\n\n"
        "MARAT delivery problem: Victim Support has no contacts in the directory, so its "
        f"information request for {reference} cannot be sent. Add one (contact add "
        "victim-support …) or contact the agency another way."
    ]


async def test_an_over_long_answer_is_refused_under_its_field(loop: Loop) -> None:
    reference = await loop.refer()
    await loop.deliver()
    request = loop.request(POLICE_CONTACT, reference, "Police")

    card = await loop.answer(
        POLICE_CONTACT, request.token, known="yes", information="x" * 4001, concerns="y" * 4000
    )

    assert error_after(card, "information") == "Please use at most 4000 characters."
    assert error_after(card, "concerns") is None
    assert not (await loop.recorded(reference))["police"].answered


# -- the Action.Submit fallback -----------------------------------------------------------------


async def test_the_action_submit_fallback_answers_and_replaces_the_card_in_place(
    loop: Loop,
) -> None:
    reference = await loop.refer()
    await loop.deliver()
    request = loop.request(HOUSING_CONTACT, reference, "Housing")
    chat = loop.chat(HOUSING_CONTACT)
    fallback = request.action["fallback"]["data"]
    activity_id = request.delivered.activity_id

    # An invalid answer: the same card comes back in place, with the error and values kept.
    replies = await chat.submit({**fallback, "known": "yes", "concerns": "Kept."}, activity_id)
    assert replies == []
    updated = loop.harness.adapter.updated_activities[-1]
    assert updated.id == activity_id
    assert error_after(card_of(updated), "information")
    assert inputs_of(card_of(updated))["concerns"]["value"] == "Kept."
    assert not (await loop.recorded(reference))["housing"].answered

    replies = await chat.submit({**fallback, **ANSWER}, activity_id)
    assert replies == []
    updated = loop.harness.adapter.updated_activities[-1]
    assert updated.id == activity_id
    assert f"You answered for Housing on Mon 4 Jan 2027 10:00 ({reference})." in card_text(
        card_of(updated)
    )
    housing = (await loop.recorded(reference))["housing"]
    assert housing.answered_by == HOUSING_CONTACT and housing.known is True

    # The coordinator's copy of the Housing card is brought up to date as with Execute.
    await loop.deliver()
    update = loop.messenger.updates[-1]
    coordinator_copy = loop.request(COORDINATOR, reference, "Housing")
    assert update.activity_id == coordinator_copy.delivered.activity_id
    assert update.message.card is not None
    assert "Harper Housing answered for Housing" in card_text(update.message.card)


# -- two bot replicas on PostgreSQL ------------------------------------------------------------


def hold(harness: TurnHarness, rendezvous: Rendezvous, *, after_recording: bool) -> None:
    """Make the replica's answer transaction wait for the other replica's: once it has read
    the request (``after_recording=False``: both see it open), or once it has recorded the
    answer and read the case's requests to decide whether every return is in."""
    sessions = session_factory(harness.runtime.database.engine)

    class Cases(SqlCases):
        answering = False

        async def information_request(self, request_id: int) -> InformationRequest | None:
            request = await super().information_request(request_id)
            if not after_recording:
                await rendezvous.meet()
            return request

        async def answer_request(self, *args: Any, **kwargs: Any) -> bool:
            self.answering = True
            return await super().answer_request(*args, **kwargs)

        async def information_requests(self, case_id: int) -> list[InformationRequest]:
            requests = await super().information_requests(case_id)
            if after_recording and self.answering:
                await rendezvous.meet()
            return requests

    class Units(SqlUnitOfWork):
        async def __aenter__(self) -> Units:
            await super().__aenter__()
            self.cases = Cases(self.session)
            return self

    harness.deps.context.units = lambda: Units(sessions)


async def two_replicas(
    engine: AsyncEngine, clock: FixedClock, settings: Settings
) -> tuple[Loop, Loop, str]:
    """Two bots on one PostgreSQL database; a case referred, its cards delivered."""
    first, second = TurnHarness(engine, clock, settings), TurnHarness(engine, clock, settings)
    await seed_directory(first.deps)
    await first.add_meeting(CONFERENCE)
    loop, other = Loop(first), Loop(second)
    for aad in (COORDINATOR, POLICE_CONTACT, HOUSING_CONTACT):
        await loop.chat(aad).say("help")
    reference = await loop.refer()
    await loop.deliver()
    return loop, other, reference


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_last_two_returns_arriving_together_on_two_replicas_still_tell_the_coordinator(
    engine: AsyncEngine, clock: FixedClock, settings: Settings
) -> None:
    """Section 8: several replicas on PostgreSQL are safe. Police and Housing answer at the
    same moment through different replicas; the coordinator must still hear, once."""
    loop, other, reference = await two_replicas(engine, clock, settings)
    await loop.answer_own(COORDINATOR, reference, "IDVA service", known="no")
    police = loop.request(POLICE_CONTACT, reference, "Police").token
    housing = loop.request(HOUSING_CONTACT, reference, "Housing").token

    rendezvous = Rendezvous(2)
    hold(loop.harness, rendezvous, after_recording=True)
    hold(other.harness, rendezvous, after_recording=True)
    cards = await asyncio.wait_for(
        asyncio.gather(
            loop.answer(POLICE_CONTACT, police, **ANSWER),
            other.answer(HOUSING_CONTACT, housing, **ANSWER),
        ),
        20,
    )

    assert "You answered for Police" in card_text(cards[0])
    assert "You answered for Housing" in card_text(cards[1])
    assert all(r.answered for r in (await loop.recorded(reference)).values())
    await loop.deliver()
    assert notices(loop, COORDINATOR, "information returns are in") == [
        f"{NOTICE_HEADLINE}\n\nMARAT update: all 3 information returns are in for {reference}."
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_contacts_of_one_agency_answering_together_on_two_replicas_record_one_answer(
    engine: AsyncEngine, clock: FixedClock, settings: Settings
) -> None:
    loop, other, reference = await two_replicas(engine, clock, settings)
    mine = loop.request(POLICE_CONTACT, reference, "Police").token
    theirs = loop.request(COORDINATOR, reference, "Police").token

    rendezvous = Rendezvous(2)
    hold(loop.harness, rendezvous, after_recording=False)
    hold(other.harness, rendezvous, after_recording=False)
    cards = await asyncio.wait_for(
        asyncio.gather(
            loop.answer(POLICE_CONTACT, mine, **ANSWER),
            other.answer(COORDINATOR, theirs, known="no"),
        ),
        20,
    )

    # One answer is recorded; each side's card says who that was.
    police = (await loop.recorded(reference))["police"]
    mine_text, theirs_text = (card_text(card) for card in cards)
    if police.answered_by == POLICE_CONTACT:
        assert police.known is True
        assert "You answered for Police" in mine_text
        assert "Pat Police answered for Police" in theirs_text
    else:
        assert police.answered_by == COORDINATOR
        assert police.known is False
        assert "Casey Coordinator answered for Police" in mine_text
        assert "You answered for Police" in theirs_text
