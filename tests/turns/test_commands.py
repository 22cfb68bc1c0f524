"""Who may do what, how text becomes a command, and what strangers see."""

from __future__ import annotations

import pytest

from tests.support.builders import COORDINATOR, HOUSING_CONTACT, STRANGER
from tests.support.turns import Chat, TurnHarness, card_of, card_text


def texts(replies: list) -> str:
    return "\n".join(a.text or "" for a in replies)


async def test_coordinator_help_lists_the_coordinator_commands(harness: TurnHarness) -> None:
    card = await harness.chat().card("help")
    shown = card_text(card)
    for command in ("refer", "agenda", "case REF", "cases", "meeting add"):
        assert command in shown
    assert "MARAT coordinator" in shown


async def test_contact_help_lists_only_what_a_contact_may_do(harness: TurnHarness) -> None:
    card = await harness.chat(aad=HOUSING_CONTACT).card("/help")
    shown = card_text(card)
    assert "contact for Housing" in shown
    assert "refer" not in shown.split("registered as")[1]
    assert "meeting add" not in shown


async def test_a_stranger_is_told_who_to_ask_and_nothing_else(harness: TurnHarness) -> None:
    for text in ("help", "refer", "agenda", "case MARAT-2027-0001", "hello"):
        replies = await harness.chat(aad=STRANGER).say(text)
        assert len(replies) == 1
        assert not replies[0].attachments
        assert "not registered with the MARAT" in replies[0].text
        assert "your MARAT coordinator" in replies[0].text


async def test_unknown_text_gets_the_help_card(harness: TurnHarness) -> None:
    card = await harness.chat().card("what can you do?")
    assert "did not recognise" in card_text(card)


@pytest.mark.parametrize("text", ["refer", "/refer", "REFER", "  /Refer  "])
async def test_the_leading_slash_is_optional(harness: TurnHarness, text: str) -> None:
    card = await harness.chat().card(text)
    assert "New MARAC referral" in card_text(card)


@pytest.mark.parametrize("text", ["please refer this", "referral", "/refer2", "agendas"])
async def test_commands_match_exactly_not_by_substring(harness: TurnHarness, text: str) -> None:
    card = await harness.chat().card(text)
    assert "did not recognise" in card_text(card)


async def test_in_a_channel_the_bot_mention_is_stripped(harness: TurnHarness) -> None:
    replies = await harness.chat(conversation_type="channel").say("agenda", mention_bot=True)
    assert "No MARAC conference" in texts(replies)


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("agenda tomorrow", "Usage: agenda"),
        ("agenda 2027-02-30", "not a real date"),
        ("agenda 12/01/2027", "Usage: agenda"),
        ("case", "Usage: case REF"),
        ("case 42", "Usage: case REF"),
        ("cases all", "Usage: cases"),
        ("meeting", "Usage: meeting"),
        ("meeting add next-week", "Usage: meeting"),
        ("meeting add 2027-01-14 lots", "Usage: meeting"),
    ],
)
async def test_bad_arguments_get_a_usage_line_not_a_guess(
    harness: TurnHarness, text: str, usage: str
) -> None:
    replies = await harness.chat().say(text)
    assert usage in texts(replies)


@pytest.mark.parametrize("text", ["refer", "cases", "meeting list", "meeting add 2027-01-14"])
async def test_coordinator_commands_are_refused_to_contacts(
    harness: TurnHarness, text: str
) -> None:
    replies = await harness.chat(aad=HOUSING_CONTACT).say(text)
    assert "for MARAT coordinators" in texts(replies)
    assert not any(a.attachments for a in replies)


async def test_activities_from_another_tenant_get_no_answer(harness: TurnHarness) -> None:
    other = harness.chat(tenant="bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
    assert await other.say("help") == []


async def test_activities_without_a_tenant_get_no_answer(harness: TurnHarness) -> None:
    assert await harness.chat(tenant=None).say("help") == []


async def test_installation_greets_a_registered_user_with_what_they_may_do(
    harness: TurnHarness,
) -> None:
    from botbuilder.schema import ChannelAccount

    chat: Chat = harness.chat()
    activity = chat._activity(
        type="conversationUpdate",
        members_added=[
            ChannelAccount(id="29:user", aad_object_id=COORDINATOR),
            ChannelAccount(id="28:marat-bot"),
        ],
    )
    replies = await chat._receive(activity)
    assert len(replies) == 1
    assert "Hello!" in card_text(card_of(replies[0]))


async def test_meeting_add_and_list(harness: TurnHarness) -> None:
    chat = harness.chat()
    replies = await chat.say("meeting add 2027-01-14 12")
    assert "Conference Thu 14 Jan 2027 saved with 12 places (0 taken)" in texts(replies)
    card = await chat.card("meeting list")
    assert "Thu 14 Jan 2027 · 0 of 12 places taken" in card_text(card)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("meeting add 2027-05-03", "not a working day (May Day)"),
        ("meeting add 2027-01-09", "not a working day"),
        ("meeting add 2026-12-01", "in the past"),
        ("meeting add 2027-01-14 0", "from 1 to 100"),
    ],
)
async def test_meeting_add_refuses_impossible_dates(
    harness: TurnHarness, text: str, message: str
) -> None:
    replies = await harness.chat().say(text)
    assert message in texts(replies)
    assert await harness.deps.conferences.meeting_on(harness.deps.today()) is None
