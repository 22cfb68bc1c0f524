"""`/agenda`, `/case` and `/cases`: order, need to know, and nothing personal in channels."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT, referral_inputs
from tests.support.turns import TurnHarness, card_text

CONFERENCE = date(2027, 1, 14)


async def refer(harness: TurnHarness, **overrides: Any) -> str:
    chat = harness.chat()
    card = await chat.card("refer")
    token = card["actions"][0]["data"]["token"]
    body = await chat.execute("refer.submit", {"token": token, **referral_inputs(**overrides)})
    shown = card_text(body.value)
    assert "Referral recorded: " in shown, shown
    return shown.split("Referral recorded: ")[1].split()[0]


async def test_agenda_lists_cases_with_children_first_then_adult_only(
    harness: TurnHarness,
) -> None:
    await harness.add_meeting(CONFERENCE)
    adult = await refer(harness, victim_name="Ada Adult", children_count="0")
    with_children = await refer(
        harness, victim_name="Carla Child", children_count="3", received_date="2027-01-04"
    )
    card = await harness.chat().card("agenda")
    shown = card_text(card)
    assert "MARAC conference Thu 14 Jan 2027" in shown
    assert shown.index("Cases with children (1)") < shown.index(with_children)
    assert shown.index(with_children) < shown.index("Adult-only cases (1)") < shown.index(adult)
    assert "CC · 3 children" in shown and "AA · 0 children" in shown
    assert "returns 0/3" in shown
    assert "Ada" not in shown and "Carla" not in shown  # initials only on agendas


async def test_agenda_shows_working_days_since_day_zero_and_the_target(
    harness: TurnHarness,
) -> None:
    await harness.add_meeting(CONFERENCE)
    reference = await refer(harness, received_date="2026-12-24", incident_date="2026-12-23")
    harness.clock.set(datetime(2027, 1, 6, 9, 0, tzinfo=UTC))
    shown = card_text(await harness.chat().card("agenda next"))
    # Day 0 Thu 24 Dec; 25, 28 Dec and 1 Jan are bank holidays: 6 Jan is working day 6.
    assert f"**{reference}** · JT · 2 children · working day 6 · target Mon 18 Jan 2027" in shown


async def test_agenda_today_lists_the_day_3_case_discussions(harness: TurnHarness) -> None:
    reference = await refer(harness)  # received Mon 4 Jan: day 3 is Thu 7 Jan
    harness.clock.set(datetime(2027, 1, 7, 9, 0, tzinfo=UTC))
    shown = card_text(await harness.chat().card("agenda today"))
    assert "No MARAC conference on that date" in shown
    assert "Case discussions due Thu 7 Jan 2027 (1)" in shown
    assert reference in shown


async def test_agenda_for_a_date(harness: TurnHarness) -> None:
    await harness.add_meeting(CONFERENCE)
    await harness.add_meeting(date(2027, 1, 21))
    reference = await refer(harness)
    assert reference in card_text(await harness.chat().card("agenda 2027-01-14"))
    assert reference not in card_text(await harness.chat().card("agenda 2027-01-21"))


async def test_a_contact_sees_only_cases_their_agency_is_involved_in(
    harness: TurnHarness,
) -> None:
    await harness.add_meeting(CONFERENCE)
    police_case = await refer(harness, agencies="police,idva-service")
    housing_case = await refer(harness, agencies="housing")
    police_view = card_text(await harness.chat(aad=POLICE_CONTACT).card("agenda"))
    assert police_case in police_view and housing_case not in police_view
    housing_view = card_text(await harness.chat(aad=HOUSING_CONTACT).card("agenda"))
    assert housing_case in housing_view and police_case not in housing_view


async def test_case_shows_summary_returns_and_timeline_to_the_coordinator(
    harness: TurnHarness,
) -> None:
    await harness.add_meeting(CONFERENCE)
    reference = await refer(harness, consent="no", consent_reason="Risk of alerting him.")
    shown = card_text(await harness.chat().card(f"case {reference.lower()}"))
    assert f"{reference} · referred" in shown
    assert "Jane Testcase" in shown
    assert "Information returns\n0/3" in shown
    assert "Police\nawaited" in shown
    assert "shared because: Risk of alerting him." in shown
    assert "referred: shared without consent" in shown  # the timeline records why


async def test_case_is_need_to_know_for_contacts(harness: TurnHarness) -> None:
    reference = await refer(harness, agencies="police")
    police = card_text(await harness.chat(aad=POLICE_CONTACT).card(f"case {reference}"))
    assert reference in police
    assert "Synthetic test summary." not in police  # the referral narrative is not theirs
    replies = await harness.chat(aad=HOUSING_CONTACT).say(f"case {reference}")
    assert replies[0].text == f"No case {reference} that you can see."


async def test_case_reports_an_unknown_reference(harness: TurnHarness) -> None:
    replies = await harness.chat().say("case MARAT-2027-0099")
    assert replies[0].text == "No case MARAT-2027-0099 that you can see."


async def test_cases_lists_breaches_first(harness: TurnHarness) -> None:
    on_time = await refer(harness)  # no conference yet: unlisted, so breached...
    await harness.add_meeting(CONFERENCE, capacity=1)  # ...until this one lists it
    late = await refer(harness)  # the only conference is full: breach
    shown = card_text(await harness.chat().card("cases"))
    assert "Open cases (2)" in shown
    assert shown.index(late) < shown.index(on_time)
    assert f"**{late}** · referred" in shown and "target missed" in shown


async def test_a_new_conference_lists_the_cases_that_were_waiting(harness: TurnHarness) -> None:
    reference = await refer(harness)
    replies = await harness.chat().say("meeting add 2027-01-14")
    assert f"1 waiting case is now listed on it: {reference}" in replies[0].text
    shown = card_text(await harness.chat().card("agenda"))
    assert reference in shown


async def test_in_a_channel_only_counts_and_references_are_shown(harness: TurnHarness) -> None:
    await harness.add_meeting(CONFERENCE)
    reference = await refer(harness)
    channel = harness.chat(conversation_type="channel")
    for command in ("agenda", f"case {reference}", "cases"):
        replies = await channel.say(command, mention_bot=True)
        assert len(replies) == 1 and not replies[0].attachments
        text = replies[0].text
        assert "1:1 chat" in text
        assert "Jane" not in text and "JT" not in text and "Testcase" not in text
    agenda = (await channel.say("agenda", mention_bot=True))[0].text
    assert f"1 case (1 with children). References: {reference}." in agenda


async def test_every_read_of_case_data_is_audited(harness: TurnHarness) -> None:
    from sqlalchemy import select

    from storage.models import AuditRow

    await harness.add_meeting(CONFERENCE)
    reference = await refer(harness, agencies="police")
    await harness.chat().card(f"case {reference}")
    await harness.chat(aad=HOUSING_CONTACT).say(f"case {reference}")
    await harness.chat().card("agenda")
    async with harness.runtime.database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(AuditRow.actor, AuditRow.action, AuditRow.outcome, AuditRow.case_id)
            )
        ).all()
    events = {(actor, action, outcome) for actor, action, outcome, _ in rows}
    assert (COORDINATOR, "case.create", "ok") in events
    assert (COORDINATOR, "case.view", "ok") in events
    assert (HOUSING_CONTACT, "case.view", "denied") in events
    assert (COORDINATOR, "agenda.view", "ok") in events


async def test_detail_asked_for_in_a_channel_goes_to_the_askers_1_1_chat(
    harness: TurnHarness,
) -> None:
    from sqlalchemy import select

    from storage.models import OutboxRow

    await harness.add_meeting(CONFERENCE)
    reference = await refer(harness)
    channel = harness.chat(conversation_type="channel")
    replies = await channel.say("agenda", mention_bot=True)
    assert "sending the details to your 1:1 chat" in replies[0].text
    async with harness.runtime.database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(OutboxRow.recipient, OutboxRow.payload).where(
                    OutboxRow.key.like("private:%")
                )
            )
        ).all()
    assert [recipient for recipient, _ in rows] == [COORDINATOR]
    assert reference in rows[0][1] and "MARAC conference Thu 14 Jan 2027" in rows[0][1]


async def test_a_card_button_pressed_in_a_channel_also_sends_its_detail_privately(
    harness: TurnHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verb's reply honours ``Reply.private`` like a typed command: in a channel the card
    of detail goes to the asker's 1:1 chat (here through a verb whose dialog answers as
    `/agenda` does), whether the button was Action.Execute or Action.Submit."""
    from sqlalchemy import func, select

    from bot.teams import handler
    from dialogs.base import Dependencies, Reply, TurnInfo, detail_reply
    from storage.models import OutboxRow

    async def detail(deps: Dependencies, turn: TurnInfo, _data: object) -> Reply:
        card = {"type": "AdaptiveCard", "fallbackText": "A MARAT card."}
        return detail_reply(turn, card, "1 case.")

    async def queued_privately() -> int:
        async with harness.runtime.database.engine.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.key.like("private:%"))
            )
        return int(count or 0)

    monkeypatch.setitem(handler.VERBS, "test.detail", detail)
    channel = harness.chat(conversation_type="channel")
    body = await channel.execute("test.detail", {"token": "unused"})
    assert "sending the details to your 1:1 chat" in card_text(body.value)
    assert await queued_privately() == 1
    replies = await channel.submit({"verb": "test.detail", "token": "unused"})
    assert "sending the details" in replies[0].text and not any(r.attachments for r in replies)
    assert await queued_privately() == 2
