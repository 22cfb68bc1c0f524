"""`/report` and the serial-perpetrator flag, as coordinators and contacts meet them in Teams.

Two referrals in January 2027, both with day 0 on Monday 4 January: Jane's (received that day,
heard at the conference of Thursday 14 January) and Mary's (received on New Year's Day, a bank
holiday, never heard). The same fictional person causing harm is named in both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.services.plans import PlanAgreed, PlanView
from storage.models import AuditRow, OutboxRow
from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT, referral_inputs
from tests.support.turns import TurnHarness, card_text

JANE = referral_inputs()
MARY = referral_inputs(
    victim_name="Mary Example",
    victim_dob="1985-03-03",
    victim_gender="male",
    victim_ethnicity="asian",
    children_count="0",
    referring_agency="housing",
    criteria="professional_judgement",
    dash_score="9",
    received_date="2027-01-01",
    incident_date="2026-12-30",
    consent="no",
    consent_reason="Sharing is needed to prevent serious harm (synthetic).",
)
Q1 = "report 2027-01-01 2027-03-31"


async def refer(harness: TurnHarness, inputs: dict[str, str]) -> str:
    chat = harness.chat()
    card = await chat.card("refer")
    token = card["actions"][0]["data"]["token"]
    body = await chat.execute("refer.submit", {"token": token, **inputs})
    shown = card_text(body.value)
    assert "Referral recorded: " in shown, shown
    return shown.split("Referral recorded: ")[1].split()[0]


@pytest.fixture
async def quarter(harness: TurnHarness) -> tuple[str, str]:
    """Jane's case heard on 14 January with one perpetrator-focused action; Mary's waiting."""
    for day in (date(2027, 1, 14), date(2027, 1, 21)):
        await harness.add_meeting(day)
    jane = await refer(harness, JANE)
    mary = await refer(harness, MARY)
    harness.clock.set(datetime(2027, 1, 14, 10, 0, tzinfo=UTC))
    plans = harness.deps.plans
    view = await plans.open_plan(COORDINATOR, jane)
    action = {
        "agency": "police",
        "description": "Police to serve the non-molestation order on the person causing harm",
        "due_date": "2027-01-20",
        "perpetrator_focused": "yes",
    }
    added = await plans.add_action(COORDINATOR, view.token, action)
    assert isinstance(added, PlanView)
    assert isinstance(await plans.agree_plan(COORDINATOR, added.token, False), PlanAgreed)
    harness.clock.set(datetime(2027, 4, 12, 10, 0, tzinfo=UTC))  # Monday, after the quarter
    return jane, mary


def facts(card: dict[str, object]) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in card["body"]:  # type: ignore[attr-defined]
        if element.get("type") == "FactSet":
            found.update({f["title"]: f["value"] for f in element["facts"]})
    return found


async def test_a_coordinator_reads_the_quarter_headline_first(
    harness: TurnHarness, quarter: tuple[str, str]
) -> None:
    card = await harness.chat().card(Q1)
    shown = card_text(card)
    assert shown.startswith("Partnership figures: Fri 1 Jan 2027 to Wed 31 Mar 2027")
    headline = card["body"][2]["text"]
    # Jane's day 0 (4 Jan) to the conference (14 Jan): 8 working days, within target.
    assert headline == "Heard within 14 working days: 1 of 1 (100%)"
    shown_facts = facts(card)
    assert shown_facts["Working days from day 0 to the plan"] == "median 8, 90th percentile 8"
    # Mary's target (Fri 22 Jan) has passed with no plan.
    assert shown_facts["Waiting past the target"] == "1"
    assert shown_facts["Referrals"] == "2"
    assert shown_facts["By referring agency"] == "Police 1 · Housing 1"
    assert shown_facts["Shared without consent"] == "1 of 2 (50%)"
    assert shown_facts["Children in households"] == "2"
    assert shown_facts["Male victims"] == "1 of 2 (50%)"
    assert shown_facts["Black, Asian or racially minoritised"] == "1 of 2 (50%)"
    # Neither day-3 discussion was recorded: both count as missed.
    assert shown_facts["Case discussions held on working day 3"] == "0 of 2 (0%)"
    assert shown_facts["Plans with a perpetrator-focused action"] == "1 of 1 (100%)"
    assert shown_facts["Serial perpetrators (coordinators only)"] == "1"
    # The per-agency table: the police action was due 20 January and is not done.
    assert "Police\n0 of 2 (0%) · 2 missing\n0 of 1 (0%) · 1 agreed, 1 overdue" in shown
    assert "Jane" not in shown and "Mary" not in shown and "MARAT-" not in shown


async def test_without_dates_the_report_is_the_last_complete_quarter(
    harness: TurnHarness, quarter: tuple[str, str]
) -> None:
    card = await harness.chat().card("report")
    assert card_text(card).startswith("Partnership figures: Fri 1 Jan 2027 to Wed 31 Mar 2027")


async def test_contacts_and_strangers_get_a_polite_refusal(
    harness: TurnHarness, quarter: tuple[str, str]
) -> None:
    replies = await harness.chat(aad=POLICE_CONTACT).say(Q1)
    assert [r.text for r in replies] == [
        "That is for MARAT coordinators. Type help to see what you can do."
    ]
    assert not replies[0].attachments


async def test_bad_periods_get_the_usage_line(harness: TurnHarness) -> None:
    for args in ("report 2027-01-01", "report 2027-03-31 2027-01-01", "report Q1 2027"):
        text = (await harness.chat().say(args))[0].text
        assert "report [YYYY-MM-DD YYYY-MM-DD]" in text or "ends before it starts" in text, text


async def test_in_a_channel_the_card_goes_to_the_askers_1_1_chat(
    harness: TurnHarness, quarter: tuple[str, str]
) -> None:
    channel = harness.chat(conversation_type="channel")
    replies = await channel.say(Q1, mention_bot=True)
    assert len(replies) == 1 and not replies[0].attachments
    assert "The partnership figures for Fri 1 Jan 2027 to Wed 31 Mar 2027 are ready." in (
        replies[0].text
    )
    async with harness.runtime.database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(OutboxRow.recipient, OutboxRow.payload).where(
                    OutboxRow.key.like("private:%")
                )
            )
        ).all()
    assert [r for r, _ in rows] == [COORDINATOR]
    assert "Heard within 14 working days: 1 of 1 (100%)" in rows[0][1]


async def test_reading_the_report_is_audited_without_any_case(
    harness: TurnHarness, quarter: tuple[str, str]
) -> None:
    await harness.chat().card(Q1)
    await harness.chat(aad=POLICE_CONTACT).say(Q1)
    async with harness.runtime.database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(AuditRow.actor, AuditRow.outcome, AuditRow.case_id).where(
                    AuditRow.action == "report.view"
                )
            )
        ).all()
    assert sorted(rows) == sorted([(COORDINATOR, "ok", None), (POLICE_CONTACT, "denied", None)])


async def test_the_serial_perpetrator_is_flagged_to_the_coordinator_only(
    harness: TurnHarness, quarter: tuple[str, str]
) -> None:
    jane, mary = quarter
    coordinator_view = card_text(await harness.chat().card(f"case {mary}"))
    assert (
        "**Serial perpetrator:** the person causing harm is also named in referrals about "
        f"1 other victim ({jane}). Coordinators only." in coordinator_view
    )
    # Housing is involved in Mary's case (it referred): its contact sees the case, not the flag.
    contact_view = card_text(await harness.chat(aad=HOUSING_CONTACT).card(f"case {mary}"))
    assert "Serial perpetrator" not in contact_view and jane not in contact_view
