"""Dates that tell the truth and words that read right.

- The day-14 target of a case never changes; after a review or deferral the new conference is
  shown as the conference.
- A referral received longer ago than MARAT_RECEIVED_MAX_AGE_DAYS (28 by default) needs its
  date confirmed in the card (a box naming the date); then no reminder whose day has gone is
  planned, and no message suggests an impossible step.
- Counts agree with their nouns; criteria read "Visible high risk (DASH 18)"; the case card
  labels the risk summary and puts the discussion's button under its form; a near-miss
  command gets "Did you mean …?"; a name made only of punctuation is refused.

Today is Mon 4 Jan 2027 (tests/conftest.py). Every name is fictional.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.domain.reminders import ReminderKind
from bot.services.reminders import ReminderSweep
from bot.settings import Settings
from cards.proactive import TeamsCards
from tests.support.builders import COORDINATOR, POLICE_CONTACT, referral_inputs, seed_directory
from tests.support.loop import facts_of, notices
from tests.support.plan_world import Plans, plans_world, texts_in_order
from tests.support.turns import TENANT, TurnHarness, card_of, card_text, error_after, inputs_of

OLD = "2026-11-02"  # 63 days before today


@pytest.fixture
async def plans(harness: TurnHarness) -> Plans:
    return await plans_world(harness)


async def submit(harness: TurnHarness, **inputs: Any) -> dict[str, Any]:
    card = await harness.chat().card("refer")
    token = card["actions"][0]["data"]["token"]
    body = await harness.chat().execute("refer.submit", {"token": token, **inputs})
    result: dict[str, Any] = body.value
    return result


# -- the day-14 target ------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["review", "defer"])
async def test_after_a_review_or_deferral_the_target_stays_and_the_new_conference_shows(
    plans: Plans, step: str
) -> None:
    if step == "review":
        reference = await plans.agreed_case()
    else:
        reference = await plans.refer()
    plans.harness.clock.set(datetime(2027, 1, 28, 10, 0, tzinfo=UTC))

    await plans.chat().say(f"{step} {reference} Risk not reduced (synthetic).")

    facts = facts_of(await plans.chat().card(f"case {reference}"))
    assert facts["Day-14 target"] == "Fri 22 Jan 2027"
    assert facts["Conference"] == "Thu 11 Feb 2027"
    agenda = card_text(await plans.chat().card("agenda 2027-02-11"))
    assert "target Fri 22 Jan 2027" in agenda and "target Thu 11 Feb 2027" not in agenda


# -- a referral received long ago -------------------------------------------------------------


async def test_an_old_received_date_needs_a_confirmation_naming_the_date(
    harness: TurnHarness,
) -> None:
    inputs = referral_inputs(received_date=OLD, incident_date="2026-10-30")

    back = await submit(harness, **inputs)

    confirm = inputs_of(back)["received_date_confirmed"]
    assert confirm["type"] == "Input.Toggle" and confirm["valueOn"] == OLD
    assert confirm["title"] == f"Yes, it was received on {OLD}"
    assert error_after(back, "received_date_confirmed") == (
        "The referral was received on Mon 2 Nov 2026, 63 days ago. If that date is right, tick "
        "the box and submit again; its deadlines have passed and are shown as missed."
    )
    assert inputs_of(back)["victim_name"]["value"] == "Jane Testcase"
    assert await harness.deps.cases.open_cases(COORDINATOR) == []
    # Confirming another date does not confirm this one.
    again = await submit(harness, **inputs, received_date_confirmed="2026-11-03")
    assert "received_date_confirmed" in inputs_of(again)

    done = await submit(harness, **inputs, received_date_confirmed=OLD)

    assert "Referral recorded: MARAT-2027-0001" in card_text(done)


async def test_a_confirmed_old_referral_plans_no_past_reminder_and_suggests_nothing_impossible(
    plans: Plans,
) -> None:
    reference = await plans.refer(
        received_date=OLD, incident_date="2026-10-30", received_date_confirmed=OLD
    )
    await plans.deliver()

    async with plans.harness.deps.context.units() as uow:
        case = await uow.cases.by_reference(reference)
        assert case is not None
        kinds = [(r.kind, r.slot) for r in await uow.reminders.for_case(case.id)]
    # Only the "no conference by the target" alarm, at once: days 2 and 3 are long gone.
    assert kinds == [(ReminderKind.NO_CONFERENCE, date(2027, 1, 4))]
    assert case.listing.meeting_date == date(2027, 1, 14), "never a conference that has met"
    request = plans.request(POLICE_CONTACT, reference, "Police")
    assert "answer as soon as you can (returns were due by the end of Wed 4 Nov 2026" in (
        card_text(request.card)
    )

    sweep = ReminderSweep(plans.harness.deps.context, TeamsCards())
    assert (await sweep.run()).sent == 1
    await plans.deliver()
    (told,) = notices(plans, COORDINATOR, "day-14 target")
    assert "No MARAC conference with capacity on or before Fri 20 Nov 2026" in told
    assert "It is listed at Thu 14 Jan 2027, after the target." in told
    assert "meeting add" not in told and "due yesterday" not in told


async def test_the_age_limit_is_a_setting(sqlite_engine: AsyncEngine, clock: FixedClock) -> None:
    settings = Settings(allowed_tenants=[TENANT], received_max_age_days=90)  # type: ignore[call-arg]
    harness = TurnHarness(sqlite_engine, clock, settings)
    await seed_directory(harness.deps)

    done = await submit(harness, **referral_inputs(received_date=OLD, incident_date="2026-10-30"))

    assert "Referral recorded: MARAT-2027-0001" in card_text(done)


# -- the words --------------------------------------------------------------------------------


async def test_counts_agree_with_their_nouns(plans: Plans) -> None:
    await plans.harness.add_meeting(date(2027, 1, 14))
    done = await submit(plans.harness, **referral_inputs(agencies="police"))
    assert "Information requests are open for 1 agency." in card_text(done)
    reference = "MARAT-2027-0001"
    await plans.deliver()
    await plans.answer_own(POLICE_CONTACT, reference, "Police", known="no")
    await plans.deliver()
    assert notices(plans, COORDINATOR, "information return") == [
        "A MARAT update needs your attention.\n\n"
        f"MARAT update: the information return is in for {reference}."
    ]

    two = await plans.refer(agencies="police,housing", victim_name="Mo Secondcase")
    await plans.deliver()
    sweep = ReminderSweep(plans.harness.deps.context, TeamsCards())
    plans.harness.clock.set(datetime(2027, 1, 7, 9, 0, tzinfo=UTC))
    await plans.answer_own(POLICE_CONTACT, two, "Police", known="no")
    await sweep.run()
    await plans.deliver()
    (missing,) = notices(plans, COORDINATOR, f"Information returns for {two}")
    assert "and 1 is still missing: Housing." in missing


async def test_the_case_card_reads_plainly(plans: Plans) -> None:
    reference = await plans.refer(dash_score="18")

    card = await plans.chat().card(f"case {reference}")

    assert facts_of(card)["Criteria"] == "Visible high risk (DASH 18)"
    lines = texts_in_order(card)
    assert lines[lines.index("Summary of risk") + 1] == "Synthetic test summary."
    # The discussion form's button sits right under its form, not at the foot of the card.
    body = card["body"]
    notes = next(i for i, e in enumerate(body) if e.get("id") == "notes")
    assert body[notes + 1]["type"] == "ActionSet"
    assert body[notes + 1]["actions"][0]["verb"] == "discussion.record"
    assert not card.get("actions")
    agenda = card_text(await plans.chat().card("agenda"))
    assert "Visible high risk (DASH 18)" in agenda and "DASH 14+" not in agenda


@pytest.mark.parametrize("typed", ["agneda", "/agneda 2027-01-14", "AGENDAA"])
async def test_a_near_miss_command_gets_a_suggestion_before_the_help_card(
    harness: TurnHarness, typed: str
) -> None:
    replies = await harness.chat().say(typed)

    assert replies[0].text == "Did you mean agenda?"
    assert "MARAT bot" in card_text(card_of(replies[1]))


@pytest.mark.parametrize(("aad", "typed"), [(COORDINATOR, "frobnicate"), (POLICE_CONTACT, "refr")])
async def test_nothing_close_gets_the_help_card_alone(
    harness: TurnHarness, aad: str, typed: str
) -> None:
    """A contact is never pointed to a coordinator's command."""
    replies = await harness.chat(aad=aad).say(typed)

    assert len(replies) == 1 and replies[0].attachments
    assert "I did not recognise that." in card_text(card_of(replies[0]))


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("victim_name", "-", "Please enter the victim's name in letters."),
        ("victim_name", "...", "Please enter the victim's name in letters."),
        ("victim_name", "   ", "Please enter the victim's name."),
        (
            "perpetrator_name",
            "?",
            "Please enter the name in letters, or leave it empty if it is not known.",
        ),
    ],
)
async def test_a_name_made_only_of_spaces_or_punctuation_is_refused_under_its_field(
    harness: TurnHarness, field: str, value: str, error: str
) -> None:
    back = await submit(harness, **referral_inputs(**{field: value}))

    assert error_after(back, field) == error
    assert await harness.deps.cases.open_cases(COORDINATOR) == []


async def test_the_readme_s_step_4_mistakes_reach_the_bot_and_come_back_under_their_fields(
    harness: TurnHarness,
) -> None:
    """What the walkthrough tells a newcomer to try: the Playground lets both through."""
    back = await submit(harness, **referral_inputs(dash_score="10", incident_date="2027-01-20"))

    assert error_after(back, "dash_score") == (
        "Visible high risk needs a DASH score of 14 or more; choose professional judgement and "
        "give the reason instead."
    )
    assert error_after(back, "incident_date") == "The incident date cannot be in the future."
    assert inputs_of(back)["dash_score"]["value"] == 10
    assert await harness.deps.cases.open_cases(COORDINATOR) == []
