"""The rest of a case's life, as a coordinator and the agencies see it in Teams.

`review REF REASON` (risk not reduced: re-listed at the next conference with capacity),
`defer REF REASON`, `withdraw REF REASON` and `close REF [REASON]` (a reason is needed while
actions are open). Every move is audited with who, when and why; impossible moves are refused
with a message that says why. Repeat referrals (the same victim within 12 months of the last
referral) are flagged and the agencies of the earlier case are told. Every name is fictional.

Conferences: Thu 14 Jan, Thu 11 Feb and Thu 25 Feb 2027 (see tests/turns/test_plans.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FixedClock
from bot.domain.repeats import RepeatRule
from bot.settings import Settings
from storage.models import AuditRow, CaseRow
from tests.support.builders import (
    COORDINATOR,
    HOUSING_CONTACT,
    POLICE_CONTACT,
    referral_inputs,
    seed_directory,
)
from tests.support.loop import facts_of
from tests.support.plan_world import (
    AT_CONFERENCE,
    HOUSING_ACTION,
    LOCKS,
    ORDER,
    POLICE_ACTION,
    PROBATION_CONTACT,
    Plans,
    StateChange,
    plans_world,
    texts_in_order,
    timeline_of,
    told,
)
from tests.support.turns import TENANT, TurnHarness, card_text, inputs_of

REASON = "Referrer has not briefed anyone yet (synthetic)."
NOT_REDUCED = "Risk not reduced: a new incident on 25 Jan (synthetic)."
REPEAT_NOTICE = "is a repeat of"


@pytest.fixture
async def world(harness: TurnHarness) -> Plans:
    return await plans_world(harness)


async def say(world: Plans, text: str, aad: str = COORDINATOR) -> list[str]:
    return [r.text or "" for r in await world.chat(aad).say(text)]


async def case_card(world: Plans, reference: str, aad: str = COORDINATOR) -> dict[str, Any]:
    return await world.chat(aad).card(f"case {reference}")


async def audit_of(world: Plans, reference: str) -> list[tuple[str, str, str, str, datetime]]:
    """(action, actor, role, outcome, at) of the case's audit records, oldest first; reads and
    lists left out."""
    async with world.harness.runtime.database.engine.connect() as connection:
        case_id = await connection.scalar(select(CaseRow.id).where(CaseRow.reference == reference))
        rows = await connection.execute(
            select(AuditRow.action, AuditRow.actor, AuditRow.role, AuditRow.outcome, AuditRow.at)
            .where(AuditRow.case_id == case_id)
            .order_by(AuditRow.id)
        )
        return [
            (r.action, r.actor, r.role, r.outcome, r.at)
            for r in rows
            if not r.action.endswith((".view", ".list"))
        ]


def agenda_rows(card: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each case on an agenda card: reference -> (section title, flags line)."""
    found: dict[str, tuple[str, str]] = {}
    section = ""
    for element in card["body"]:
        if element.get("type") == "TextBlock" and element.get("weight") == "Bolder":
            section = str(element["text"])
        if element.get("type") == "Container":
            line, flags = (str(item["text"]) for item in element["items"])
            reference = line.split("**")[1]
            found[reference] = (section, flags)
    return found


async def agenda(world: Plans, day: date, aad: str = COORDINATOR) -> dict[str, tuple[str, str]]:
    return agenda_rows(await world.chat(aad).card(f"agenda {day.isoformat()}"))


async def fill(world: Plans, day: date) -> str:
    """Make the conference on ``day`` full: capacity 1, taken by a new case referred today."""
    await world.harness.add_meeting(day, capacity=1)
    today = world.harness.deps.today().isoformat()
    reference = await world.refer(
        victim_name="Mia Otherperson", received_date=today, incident_date=today
    )
    assert reference in await agenda(world, day)
    return reference


# -- reasons and usage ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("review", "Usage: review REF REASON (risk not reduced: re-list the case)"),
        ("defer", "Usage: defer REF REASON"),
        ("withdraw", "Usage: withdraw REF REASON (does not meet the threshold)"),
        ("close", "Usage: close REF [REASON] (a reason is needed while actions are open)"),
    ],
)
async def test_a_lifecycle_command_without_a_reference_gets_its_usage_line(
    world: Plans, command: str, usage: str
) -> None:
    for text in (command, f"/{command}", f"{command} not-a-reference some reason"):
        assert await say(world, text) == [usage], text


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("defer", "Usage: defer REF REASON"),
        ("withdraw", "Usage: withdraw REF REASON (does not meet the threshold)"),
    ],
)
async def test_defer_and_withdraw_need_a_reason(world: Plans, command: str, usage: str) -> None:
    reference = await world.refer()

    for text in (f"{command} {reference}", f"{command} {reference}    "):
        assert await say(world, text) == [
            f"Please give a reason; it is recorded with the decision. {usage}"
        ]
    assert [t.to_state for t in await world.transitions(reference)] == ["referred"]


async def test_review_needs_a_reason(world: Plans) -> None:
    reference = await world.agreed_case()

    assert await say(world, f"review {reference}") == [
        "Please give a reason; it is recorded with the decision. Usage: review REF REASON "
        "(risk not reduced: re-list the case)"
    ]
    assert (await world.case_state(reference))[0] == "monitoring"


async def test_only_coordinators_change_a_case(world: Plans) -> None:
    reference = await world.refer()

    for text in (f"defer {reference} {REASON}", f"withdraw {reference} x", f"close {reference}"):
        assert await say(world, text, POLICE_CONTACT) == [
            "That is for MARAT coordinators. Type help to see what you can do."
        ]
    assert [t.to_state for t in await world.transitions(reference)] == ["referred"]
    assert await say(world, "defer MARAT-2027-0999 some reason") == [
        "No case MARAT-2027-0999 that you can see."
    ]


async def test_in_a_channel_the_answer_names_only_the_case_reference(world: Plans) -> None:
    reference = await world.refer()
    channel = world.harness.chat(conversation_type="channel")

    replies = await channel.say(f"defer {reference} {REASON}", mention_bot=True)

    assert [r.text for r in replies] == [
        f"{reference} is deferred. It is listed at the conference of Thu 11 Feb 2027."
    ]
    assert not any(r.attachments for r in replies)
    assert "Jane" not in (replies[0].text or "") and REASON not in (replies[0].text or "")


# -- impossible moves are refused with a reason --------------------------------------------------


async def test_a_referred_case_cannot_be_reviewed_or_closed_and_says_why(world: Plans) -> None:
    reference = await world.refer()

    assert await say(world, f"review {reference} {NOT_REDUCED}") == [
        f"{reference} is referred, so it cannot be sent for review now."
    ]
    assert await say(world, f"close {reference} Nothing to do (synthetic).") == [
        f"{reference} is referred, so it cannot be closed now."
    ]
    assert [t.to_state for t in await world.transitions(reference)] == ["referred"]


async def test_a_monitored_case_cannot_be_deferred_or_withdrawn(world: Plans) -> None:
    reference = await world.agreed_case()

    assert await say(world, f"defer {reference} {REASON}") == [
        f"{reference} is monitoring, so it cannot be deferred now."
    ]
    assert await say(world, f"withdraw {reference} Below threshold.") == [
        f"{reference} is monitoring, so it cannot be withdrawn now."
    ]
    assert (await world.case_state(reference))[0] == "monitoring"


async def test_a_withdrawn_case_cannot_change_and_the_message_says_why(world: Plans) -> None:
    reference = await world.refer()
    card = await world.plan(reference)  # opened before the withdrawal

    assert await say(world, f"withdraw {reference} Does not meet the threshold (synthetic).") == [
        f"{reference} is withdrawn."
    ]

    refusal = (
        f"{reference} is withdrawn; a withdrawn case cannot change. A new referral opens a "
        "new case."
    )
    assert await say(world, f"defer {reference} {REASON}") == [refusal]
    assert await say(world, f"close {reference} Tidy up.") == [refusal]
    assert await say(world, f"withdraw {reference} Again.") == [refusal]
    back = await world.add(card, **POLICE_ACTION)
    assert (
        card_text(back) == f"{reference} is withdrawn, so this card needs nothing more. Thank you."
    )
    fresh = await world.plan(reference)
    assert inputs_of(fresh) == {} and not fresh.get("actions"), "nothing to fill in any more"
    assert [t.to_state for t in await world.transitions(reference)] == ["referred", "withdrawn"]
    assert card_text(await case_card(world, reference)).startswith(f"{reference} · withdrawn")


async def test_a_closed_case_cannot_change_and_the_message_says_why(world: Plans) -> None:
    reference = await world.agreed_case()
    for agency, aad in (("Police", POLICE_CONTACT), ("Housing", HOUSING_CONTACT)):
        token = world.action_cards(aad, reference)[agency].token
        await world.update(aad, token, status="done", note="Done (synthetic).")

    assert await say(world, f"close {reference}") == [f"{reference} is closed."]

    refusal = (
        f"{reference} is closed; a closed case cannot change. A new referral opens a new case."
    )
    assert await say(world, f"review {reference} {NOT_REDUCED}") == [refusal]
    assert await say(world, f"close {reference} Twice.") == [refusal]
    states = [t.to_state for t in await world.transitions(reference)]
    assert states == ["referred", "heard", "monitoring", "closed"]


# -- closing ------------------------------------------------------------------------------------


async def test_close_is_refused_while_actions_are_open_unless_a_reason_is_given(
    world: Plans,
) -> None:
    reference = await world.agreed_case()
    police = world.action_cards(POLICE_CONTACT, reference)["Police"]
    await world.update(POLICE_CONTACT, police.token, status="done", note="Order served.")

    assert await say(world, f"close {reference}") == [
        f"{reference} has 1 open action. Close it only with a reason: close {reference} REASON."
    ]
    assert (await world.case_state(reference))[0] == "monitoring"

    world.harness.clock.set(datetime(2027, 2, 1, 11, 0, tzinfo=UTC))
    reason = "Victim moved out of the area; risk managed there (synthetic)."
    assert await say(world, f"close {reference} {reason}") == [f"{reference} is closed."]

    card = await case_card(world, reference)
    assert card_text(card).startswith(f"{reference} · closed")
    assert timeline_of(card)[-1] == (
        "Mon 1 Feb 2027 11:00",
        f"closed: {reason} · Casey Coordinator (coordinator)",
    )


async def test_close_needs_no_reason_once_no_action_is_open(world: Plans) -> None:
    reference = await world.agreed_case()
    police = world.action_cards(POLICE_CONTACT, reference)["Police"]
    housing = world.action_cards(HOUSING_CONTACT, reference)["Housing"]
    await world.update(POLICE_CONTACT, police.token, status="done", note="Order served.")
    await world.update(HOUSING_CONTACT, housing.token, status="not_possible", note="Moved away.")

    assert await say(world, f"close {reference}") == [f"{reference} is closed."]
    assert (await world.case_state(reference))[0] == "closed"
    assert (await world.transitions(reference))[-1].reason is None


async def test_a_closed_case_s_actions_no_longer_show_as_open(world: Plans) -> None:
    """Closed with a reason while actions were still open: nobody is asked about them any more
    (neither on `/actions` nor as outstanding on the next agenda)."""
    reference = await world.agreed_case()
    await say(world, f"close {reference} Victim moved abroad; case passed on (synthetic).")
    world.harness.clock.set(datetime(2027, 2, 1, 10, 0, tzinfo=UTC))

    assert texts_in_order(await world.chat().card("actions"))[0] == "Open actions (0)"
    assert texts_in_order(await world.chat(POLICE_CONTACT).card("actions"))[0] == (
        "Open actions (0)"
    )
    lines = texts_in_order(await world.chat().card("agenda"))
    assert "Outstanding actions from earlier meetings (0)" in lines


# -- re-listing: review and defer ---------------------------------------------------------------


async def test_defer_relists_the_case_at_the_next_conference(world: Plans) -> None:
    reference = await world.refer()
    assert reference in await agenda(world, date(2027, 1, 14))
    world.harness.clock.set(AT_CONFERENCE)

    assert await say(world, f"defer {reference} {REASON}") == [
        f"{reference} is deferred. It is listed at the conference of Thu 11 Feb 2027."
    ]

    assert reference not in await agenda(world, date(2027, 1, 14))
    assert reference in await agenda(world, date(2027, 2, 11))
    card = await case_card(world, reference)
    assert card_text(card).startswith(f"{reference} · deferred")
    assert facts_of(card)["Conference"] == "Thu 11 Feb 2027"
    assert timeline_of(card)[-1] == (
        "Thu 14 Jan 2027 10:00",
        f"deferred: {REASON} · Casey Coordinator (coordinator)",
    )


async def test_review_relists_at_the_next_conference_with_capacity(world: Plans) -> None:
    reference = await world.agreed_case()
    world.harness.clock.set(datetime(2027, 1, 28, 10, 0, tzinfo=UTC))
    other = await fill(world, date(2027, 2, 11))

    assert await say(world, f"review {reference} {NOT_REDUCED}") == [
        f"{reference} is under review. It is listed at the conference of Thu 25 Feb 2027."
    ]

    assert list(await agenda(world, date(2027, 2, 11))) == [other]  # full: not there
    assert reference in await agenda(world, date(2027, 2, 25))
    card = await case_card(world, reference)
    assert card_text(card).startswith(f"{reference} · review")
    assert facts_of(card)["Conference"] == "Thu 25 Feb 2027"
    assert [state for _, state in timeline_of(card)] == [
        "referred · Casey Coordinator (coordinator)",
        "heard: plan agreed at the conference · Casey Coordinator (coordinator)",
        "monitoring · Casey Coordinator (coordinator)",
        f"review: {NOT_REDUCED} · Casey Coordinator (coordinator)",
    ]


async def test_a_reviewed_case_gets_a_new_plan_and_only_the_new_action_is_sent(
    world: Plans,
) -> None:
    reference = await world.agreed_case()
    world.harness.clock.set(datetime(2027, 2, 11, 10, 0, tzinfo=UTC))
    assert (await say(world, f"review {reference} {NOT_REDUCED}"))[0].startswith(
        f"{reference} is under review."
    )
    sent_before = len(world.messenger.sent)
    world.harness.clock.set(datetime(2027, 2, 25, 10, 0, tzinfo=UTC))  # its new conference

    card = await world.plan(reference)
    assert "Agreed actions" in card_text(card) and "New actions (0)" in card_text(card)
    probation = {
        "agency": "probation",
        "description": "Probation to refer the person causing harm to a perpetrator programme",
        "due_date": "2027-03-03",
        "perpetrator_focused": "yes",
    }
    agreed = await world.agree(await world.add(card, **probation))
    assert f"Plan agreed · {reference}" in card_text(agreed)
    await world.deliver()

    assert (await world.case_state(reference))[0] == "monitoring"
    new_cards = [
        d for d in world.messenger.sent[sent_before:] if d.message.card and d.message.text is None
    ]
    assert sorted(d.recipient for d in new_cards) == sorted([PROBATION_CONTACT, COORDINATOR])
    assert all(facts_of(d.card)["Action"] == probation["description"] for d in new_cards)
    states = [t.to_state for t in await world.transitions(reference)]
    assert states == ["referred", "heard", "monitoring", "review", "heard", "monitoring"]


async def test_with_no_later_conference_free_the_case_waits_and_is_listed_when_one_is_added(
    world: Plans,
) -> None:
    reference = await world.refer()
    world.harness.clock.set(datetime(2027, 2, 25, 10, 0, tzinfo=UTC))  # the last conference

    assert await say(world, f"defer {reference} {REASON}") == [
        f"{reference} is deferred. No later conference has a free place yet: add one with "
        "meeting add."
    ]
    assert facts_of(await case_card(world, reference))["Conference"] == (
        "waiting for a conference with capacity"
    )

    await world.harness.add_meeting(date(2027, 3, 11))
    assert facts_of(await case_card(world, reference))["Conference"] == "Thu 11 Mar 2027"


# -- the audit trail ---------------------------------------------------------------------------


async def test_every_transition_is_audited_with_who_when_and_why(world: Plans) -> None:
    deferred = await world.refer()
    at_defer = datetime(2027, 1, 12, 9, 15, tzinfo=UTC)
    world.harness.clock.set(at_defer)
    await say(world, f"defer {deferred} {REASON}")
    at_withdraw = datetime(2027, 1, 13, 16, 40, tzinfo=UTC)
    world.harness.clock.set(at_withdraw)
    await say(world, f"withdraw {deferred} Does not meet the threshold (synthetic).")
    await say(world, f"close {deferred} Refused move.", POLICE_CONTACT)

    assert await world.transitions(deferred) == [
        StateChange(None, "referred", COORDINATOR, datetime(2027, 1, 4, 10, tzinfo=UTC), None),
        StateChange("referred", "deferred", COORDINATOR, at_defer, REASON),
        StateChange(
            "deferred",
            "withdrawn",
            COORDINATOR,
            at_withdraw,
            "Does not meet the threshold (synthetic).",
        ),
    ]
    assert await audit_of(world, deferred) == [
        ("case.create", COORDINATOR, "coordinator", "ok", datetime(2027, 1, 4, 10, tzinfo=UTC)),
        ("case.defer", COORDINATOR, "coordinator", "ok", at_defer),
        ("case.withdraw", COORDINATOR, "coordinator", "ok", at_withdraw),
    ]
    async with world.harness.runtime.database.engine.connect() as connection:
        denied = (
            await connection.execute(
                select(AuditRow.actor, AuditRow.role, AuditRow.outcome).where(
                    AuditRow.action == "case.close"
                )
            )
        ).all()
    assert [tuple(r) for r in denied] == [(POLICE_CONTACT, "contact", "denied")]

    timeline = timeline_of(await case_card(world, deferred))
    assert timeline == [
        ("Mon 4 Jan 2027 10:00", "referred · Casey Coordinator (coordinator)"),
        ("Tue 12 Jan 2027 09:15", f"deferred: {REASON} · Casey Coordinator (coordinator)"),
        (
            "Wed 13 Jan 2027 16:40",
            "withdrawn: Does not meet the threshold (synthetic). · Casey Coordinator (coordinator)",
        ),
    ]


async def test_review_and_close_are_audited_too(world: Plans) -> None:
    reference = await world.agreed_case()
    at_review = datetime(2027, 1, 28, 10, 0, tzinfo=UTC)
    world.harness.clock.set(at_review)
    await say(world, f"review {reference} {NOT_REDUCED}")
    at_close = datetime(2027, 2, 2, 15, 0, tzinfo=UTC)
    world.harness.clock.set(at_close)
    await say(world, f"close {reference} Risk now managed by the IDVA (synthetic).")

    assert [(a, who, outcome) for a, who, _, outcome, _ in await audit_of(world, reference)] == [
        ("case.create", COORDINATOR, "ok"),
        ("plan.add_action", COORDINATOR, "ok"),
        ("plan.add_action", COORDINATOR, "ok"),
        ("plan.agree", COORDINATOR, "ok"),
        ("case.review", COORDINATOR, "ok"),
        ("case.close", COORDINATOR, "ok"),
    ]
    assert (await world.transitions(reference))[-2:] == [
        StateChange("monitoring", "review", COORDINATOR, at_review, NOT_REDUCED),
        StateChange(
            "review",
            "closed",
            COORDINATOR,
            at_close,
            "Risk now managed by the IDVA (synthetic).",
        ),
    ]


# -- repeat referrals ---------------------------------------------------------------------------


async def refer_again(world: Plans, on: datetime, conference: date, **overrides: str) -> str:
    """The same victim referred again on ``on`` (police and probation involved), with a
    conference for the new case."""
    world.harness.clock.set(on)
    await world.harness.add_meeting(conference)
    day = world.harness.deps.today().isoformat()
    values = {
        "victim_name": "TESTCASE,  jane",
        "received_date": day,
        "incident_date": day,
        "agencies": "police,probation",
        **overrides,
    }
    reference = await world.refer(**values)
    await world.deliver()
    return reference


async def test_a_second_referral_within_12_months_is_flagged_and_the_earlier_agencies_told(
    world: Plans,
) -> None:
    first = await world.refer()  # 4 Jan 2027: police, IDVA service, housing
    await world.deliver()
    second = await refer_again(world, datetime(2027, 6, 7, 9, 0, tzinfo=UTC), date(2027, 6, 17))

    rows = await agenda(world, date(2027, 6, 17))
    assert "REPEAT" in rows[second][1].split(" · ")
    assert facts_of(await case_card(world, second))["Repeat"] == f"yes, of {first}"
    # An agency contact sees the flag, not the earlier reference (it may not be theirs).
    assert facts_of(await case_card(world, second, POLICE_CONTACT))["Repeat"] == "yes"
    assert "REPEAT" in (await agenda(world, date(2027, 6, 17), POLICE_CONTACT))[second][1]

    news = f"{second} is a repeat of {first}, which your agency was involved in."
    for aad in (POLICE_CONTACT, HOUSING_CONTACT, COORDINATOR):
        [notice] = told(world, aad, REPEAT_NOTICE)
        assert news in notice, aad
    # Probation is in the new case only: it gets its information request, not the notice.
    assert told(world, PROBATION_CONTACT, REPEAT_NOTICE) == []
    assert world.sent_to(PROBATION_CONTACT), "probation got its information request"
    # The earlier case is not itself a repeat.
    assert facts_of(await case_card(world, first))["Repeat"] == "no"


async def test_the_repeat_flag_is_on_the_referral_summary_and_the_open_cases_list(
    world: Plans,
) -> None:
    """ "Flagged as a repeat on every view": the coordinator's first sight of the new case is
    the referral summary, and `/cases` is their working list."""
    first = await world.refer()
    world.harness.clock.set(datetime(2027, 6, 7, 9, 0, tzinfo=UTC))
    await world.harness.add_meeting(date(2027, 6, 17))
    chat = world.chat()
    form = await chat.card("refer")
    token = form["actions"][0]["data"]["token"]
    body = await chat.execute(
        "refer.submit",
        {
            "token": token,
            **referral_inputs(
                victim_name="Jane Testcase", received_date="2027-06-07", incident_date="2027-06-05"
            ),
        },
    )
    summary = card_text(body.value)
    second = summary.split("Referral recorded: ")[1].split()[0]
    assert "repeat" in summary.lower(), summary
    assert first in summary

    cases = texts_in_order(await chat.card("cases"))
    [line] = [t for t in cases if t.startswith(f"**{second}**")]
    assert "repeat" in line.lower(), line


async def test_the_agencies_information_request_says_it_is_a_repeat(world: Plans) -> None:
    await world.refer()
    second = await refer_again(world, datetime(2027, 6, 7, 9, 0, tzinfo=UTC), date(2027, 6, 17))

    [request] = [
        d
        for d in world.sent_to(POLICE_CONTACT)
        if d.message.card is not None and facts_of(d.card).get("Case") == second
    ]
    assert "repeat" in card_text(request.card).lower(), card_text(request.card)


async def test_over_12_months_later_it_is_not_a_repeat_but_is_listed_under_12_months(
    world: Plans,
) -> None:
    first = await world.refer()  # received Mon 4 Jan 2027
    await world.deliver()
    second = await refer_again(world, datetime(2028, 1, 5, 10, 0, tzinfo=UTC), date(2028, 1, 13))

    rows = await agenda(world, date(2028, 1, 13))
    section, flags = rows[second]
    assert section == "12 months since the last MARAC (1)"
    assert "REPEAT" not in flags
    assert "previous MARAC over 12 months ago" in flags
    assert facts_of(await case_card(world, second))["Repeat"] == (
        f"no; previous MARAC {first} over 12 months ago"
    )
    assert facts_of(await case_card(world, second, POLICE_CONTACT))["Repeat"] == (
        "no; previous MARAC over 12 months ago"
    )
    for aad in (POLICE_CONTACT, HOUSING_CONTACT, COORDINATOR):
        assert told(world, aad, REPEAT_NOTICE) == [], aad


async def test_exactly_12_months_later_it_is_still_a_repeat(world: Plans) -> None:
    first = await world.refer()  # received Mon 4 Jan 2027
    second = await refer_again(world, datetime(2028, 1, 4, 10, 0, tzinfo=UTC), date(2028, 1, 13))

    assert facts_of(await case_card(world, second))["Repeat"] == f"yes, of {first}"


async def test_a_different_date_of_birth_is_not_a_repeat_under_the_default_rule(
    world: Plans,
) -> None:
    await world.refer()
    second = await refer_again(
        world, datetime(2027, 6, 7, 9, 0, tzinfo=UTC), date(2027, 6, 17), victim_dob="1991-05-17"
    )

    section, flags = (await agenda(world, date(2027, 6, 17)))[second]
    assert "REPEAT" not in flags and not section.startswith("12 months")
    assert facts_of(await case_card(world, second))["Repeat"] == "no"
    assert told(world, POLICE_CONTACT, REPEAT_NOTICE) == []


async def test_a_missing_date_of_birth_is_not_a_repeat_under_the_default_rule(
    world: Plans,
) -> None:
    await world.refer()
    second = await refer_again(
        world, datetime(2027, 6, 7, 9, 0, tzinfo=UTC), date(2027, 6, 17), victim_dob=""
    )

    assert facts_of(await case_card(world, second))["Repeat"] == "no"
    assert told(world, POLICE_CONTACT, REPEAT_NOTICE) == []


async def test_the_name_or_dob_missing_rule_matches_when_a_date_of_birth_is_missing(
    sqlite_engine: AsyncEngine, clock: FixedClock
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        allowed_tenants=[TENANT], repeat_rule="name_or_dob_missing"
    )
    harness = TurnHarness(sqlite_engine, clock, settings)
    assert harness.deps.context.options.repeat_rule is RepeatRule.NAME_OR_DOB_MISSING
    await seed_directory(harness.deps)
    world = await plans_world(harness)
    first = await world.refer()
    second = await refer_again(
        world, datetime(2027, 6, 7, 9, 0, tzinfo=UTC), date(2027, 6, 17), victim_dob=""
    )

    assert facts_of(await case_card(world, second))["Repeat"] == f"yes, of {first}"
    assert "REPEAT" in (await agenda(world, date(2027, 6, 17)))[second][1]
    assert len(told(world, HOUSING_CONTACT, REPEAT_NOTICE)) == 1


async def test_plans_and_repeats_use_the_actions_on_the_case(world: Plans) -> None:
    """A repeat's new plan is independent of the earlier case's actions."""
    first = await world.agreed_case(POLICE_ACTION)
    second = await refer_again(world, datetime(2027, 6, 7, 9, 0, tzinfo=UTC), date(2027, 6, 17))

    card = await world.plan(second)
    assert "New actions (0)" in card_text(card)
    assert ORDER not in card_text(card) and "Agreed actions" not in card_text(card)
    await world.add(card, **{**HOUSING_ACTION, "due_date": "2027-06-24"})
    assert set(await world.actions(second)) == {"housing"}
    assert set(await world.actions(first)) == {"police"}
    assert LOCKS not in card_text(await world.plan(first))
