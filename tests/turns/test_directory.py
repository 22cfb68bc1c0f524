"""`agency`, `contact` and `coordinator`: directory administration by coordinators in Teams.

People are looked up through a fake Messenger (a roster per conversation or team, as Teams
would answer); everything else is the real bot, use cases and SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.schema import Activity, ChannelAccount, Mention
from sqlalchemy import select

from bot.domain.delivery import ConnectorAnswer
from bot.ports import Address, Member, OutgoingMessage, TeamAddress
from storage.models import AuditRow
from tests.support.builders import COORDINATOR, HOUSING_CONTACT, POLICE_CONTACT, STRANGER
from tests.support.turns import BOT, TENANT, Chat, TurnHarness, card_text, inputs_of

SAM = Member("29:sam", "44444444-4444-4444-8444-444444444444", "Sam Sample", "sam@example.org")
ROBIN = Member(
    "29:robin", "55555555-5555-4555-8555-555555555555", "Robin Roster", "robin@example.org"
)
HARPER = Member("29:harper", HOUSING_CONTACT, "Harper Housing", None)
CASEY = Member("29:casey", COORDINATOR, "Casey Coordinator", "casey@example.org")
CHANNEL = "conv-channel"  # the roster of a channel turn in tests/turns/conftest.py
PERSONAL = "conv-personal"
OTHER_TEAM = TeamAddress("19:other-team@thread.tacv2", TENANT, "https://smba.example.test/", "28:x")
NOT_FOUND = "must be a member of a team (or of this chat) where the MARAT app is installed"


@dataclass
class FakeTeams:
    """The Messenger port: member lookups answered from rosters; nothing is ever sent."""

    rosters: dict[str, list[Member]] = field(default_factory=dict)
    lookups: list[tuple[str, str]] = field(default_factory=list)

    async def member(self, team: TeamAddress, who: str) -> Member | None:
        self.lookups.append((team.team_id, who))
        for member in self.rosters.get(team.team_id, []):
            if who in (member.user_id, member.aad_object_id) or (
                member.email and member.email.lower() == who.lower()
            ):
                return member
        return None

    async def send(self, address: Address, message: OutgoingMessage) -> ConnectorAnswer:
        raise NotImplementedError

    async def update(
        self, address: Address, activity_id: str, message: OutgoingMessage
    ) -> ConnectorAnswer:
        raise NotImplementedError

    async def open_personal_chat(self, team: TeamAddress, member: Member) -> Address | None:
        raise NotImplementedError


@pytest.fixture(autouse=True)
def nobody_in_teams(harness: TurnHarness) -> FakeTeams:
    """No test here may reach a real Bot Connector: start with empty rosters."""
    return install(harness)


def install(harness: TurnHarness, **rosters: list[Member]) -> FakeTeams:
    fake = FakeTeams(dict(rosters))
    harness.runtime.bot.deps.memberships.finder.messenger = fake
    return fake


def with_teams(harness: TurnHarness) -> FakeTeams:
    """Sam, Harper and Casey are in the channel's team; Robin only in another installed team."""
    return install(
        harness,
        **{CHANNEL: [SAM, HARPER, CASEY], PERSONAL: [], OTHER_TEAM.team_id: [ROBIN]},
    )


def channel(harness: TurnHarness, aad: str = COORDINATOR) -> Chat:
    return harness.chat(conversation_type="channel", aad=aad)


async def say_mentioning(chat: Chat, text: str, *people: Member) -> list[Activity]:
    """A channel message as Teams sends it: the bot's mention, then `<at>Name</at>` for each
    person mentioned in ``text`` (which must contain those tags), with their mention entities."""
    entities = [Mention(mentioned=BOT, text="<at>MARAT</at>", type="mention")]
    entities += [
        Mention(
            mentioned=ChannelAccount(id=p.user_id, name=p.name),
            text=f"<at>{p.name}</at>",
            type="mention",
        )
        for p in people
    ]
    activity = chat._activity(type="message", text=f"<at>MARAT</at> {text}", entities=entities)
    return await chat._receive(activity)


def texts(replies: list[Activity]) -> str:
    return "\n".join(a.text or "" for a in replies)


async def referral_agencies(harness: TurnHarness) -> list[str]:
    card = await harness.chat().card("refer")
    return [c["value"] for c in inputs_of(card)["agencies"]["choices"]]


async def help_text(harness: TurnHarness, aad: str) -> str:
    replies = await harness.chat(aad=aad).say("help")
    return texts(replies) + "".join(
        card_text(a.attachments[0].content) for a in replies if a.attachments
    )


async def audit(harness: TurnHarness) -> list[tuple[str, str, str, str]]:
    async with harness.runtime.database.engine.connect() as connection:
        rows = await connection.execute(
            select(AuditRow.actor, AuditRow.role, AuditRow.action, AuditRow.outcome).order_by(
                AuditRow.id
            )
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def directory_audit(harness: TurnHarness) -> list[tuple[str, str, str, str]]:
    prefixes = ("agency.", "contact.", "coordinator.", "agency", "contact", "coordinator")
    return [row for row in await audit(harness) if row[2].startswith(prefixes)]


async def save_chat(harness: TurnHarness, aad: str, user_id: str) -> None:
    """Record a 1:1 chat with the bot, as happens when the person talks to it."""
    async with harness.deps.context.units() as uow:
        await uow.addresses.save_personal(
            Address(aad, TENANT, user_id, f"a:{user_id}", "https://smba.example.test/", "28:x"),
            datetime(2027, 1, 4, 9, tzinfo=UTC),
        )
        await uow.commit()


def facts_of(card: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "FactSet":
                found.extend((f["title"], f["value"]) for f in node["facts"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card["body"])
    return found


# -- agency add / remove / list ---------------------------------------------------------------


async def test_agency_add_creates_an_agency_that_new_referral_cards_offer(
    harness: TurnHarness,
) -> None:
    replies = await harness.chat().say("agency add Youth Offending Service")
    assert texts(replies) == (
        "Agency Youth Offending Service (key: youth-offending-service) added. "
        "It is offered on new referral cards from now on."
    )
    assert "youth-offending-service" in await referral_agencies(harness)


async def test_agency_add_of_an_existing_agency_says_so_and_changes_nothing(
    harness: TurnHarness,
) -> None:
    before = await referral_agencies(harness)
    replies = await harness.chat().say("agency add POLICE")
    assert texts(replies) == "Police (key: police) already exists; nothing changed."
    assert await referral_agencies(harness) == before
    assert (await directory_audit(harness))[-1] == (
        COORDINATOR,
        "coordinator",
        "agency.add",
        "unchanged",
    )


async def test_agency_remove_takes_it_off_referral_cards_and_agency_add_restores_it(
    harness: TurnHarness,
) -> None:
    chat = harness.chat()
    replies = await chat.say("agency remove housing")
    assert "Housing (key: housing) removed" in texts(replies)
    assert "keep their history" in texts(replies)
    assert "housing" not in await referral_agencies(harness)
    assert "Housing" not in card_text(await chat.card("agency list"))

    again = await chat.say("agency remove housing")
    assert texts(again) == "Housing (key: housing) was already removed; nothing changed."

    restored = await chat.say("agency add Housing")
    assert "Housing (key: housing) is restored" in texts(restored)
    assert "housing" in await referral_agencies(harness)
    assert ("Harper Housing", "not reachable yet") in facts_of(await chat.card("agency list"))


async def test_a_removed_agency_leaves_existing_cases_viewable(harness: TurnHarness) -> None:
    from tests.turns.test_agenda_and_cases import refer

    reference = await refer(harness)  # involves police, idva-service and housing
    await harness.chat().say("agency remove housing")
    card = await harness.chat().card(f"case {reference}")
    shown = card_text(card)
    assert reference in shown
    assert "housing" in shown.lower()  # its information return is still part of the case


async def test_agency_remove_of_an_unknown_key_is_refused_and_audited(
    harness: TurnHarness,
) -> None:
    replies = await harness.chat().say("agency remove fire-service")
    assert texts(replies) == "There is no agency fire-service. Type agency list to see the keys."
    assert (await directory_audit(harness))[-1] == (
        COORDINATOR,
        "coordinator",
        "agency.remove",
        "not_found",
    )


async def test_agency_list_shows_keys_contacts_and_who_can_be_reached(
    harness: TurnHarness,
) -> None:
    await save_chat(harness, POLICE_CONTACT, "29:pat")
    card = await harness.chat().card("agency list")
    shown = card_text(card)
    assert "**Police** · key: police" in shown
    assert "**Children's Social Care** · key: children-s-social-care" in shown
    facts = facts_of(card)
    assert ("Pat Police", "reachable") in facts
    assert ("Harper Housing", "not reachable yet") in facts
    assert "cannot send them requests or reminders" in shown
    assert card["fallbackText"] == "A MARAT agency list is ready."
    assert (await directory_audit(harness))[-1] == (COORDINATOR, "coordinator", "agency.list", "ok")


# -- contact add / remove ----------------------------------------------------------------------


async def test_contact_add_by_mention_makes_the_person_a_contact_at_once(
    harness: TurnHarness,
) -> None:
    teams = with_teams(harness)
    replies = await say_mentioning(channel(harness), "contact add police <at>Sam Sample</at>", SAM)
    assert texts(replies).startswith("Sam Sample is now a contact of Police.")
    assert "cannot message them yet" in texts(replies)  # no 1:1 chat with Sam yet
    assert teams.lookups == [(CHANNEL, "29:sam")]
    assert "contact for Police" in await help_text(harness, SAM.aad_object_id)


async def test_contact_add_twice_says_so_and_audits_both(harness: TurnHarness) -> None:
    with_teams(harness)
    await save_chat(harness, SAM.aad_object_id, SAM.user_id)
    chat = channel(harness)
    first = await say_mentioning(chat, "contact add police <at>Sam Sample</at>", SAM)
    assert texts(first) == "Sam Sample is now a contact of Police."  # reachable: no warning
    second = await say_mentioning(chat, "contact add police <at>Sam Sample</at>", SAM)
    assert texts(second) == "Sam Sample is already a contact of Police; nothing changed."
    assert [row[2:] for row in await directory_audit(harness)] == [
        ("contact.add", "ok"),
        ("contact.add", "unchanged"),
    ]


async def test_contact_add_by_email_uses_the_directory_even_without_teams(
    harness: TurnHarness,
) -> None:
    with_teams(harness)
    await say_mentioning(channel(harness), "contact add police <at>Sam Sample</at>", SAM)
    harness.runtime.bot.deps.memberships.finder.messenger = None
    replies = await harness.chat().say("contact add housing SAM@Example.org")
    assert texts(replies).startswith("Sam Sample is now a contact of Housing.")
    assert "contact for Housing, Police" in await help_text(harness, SAM.aad_object_id)


async def test_contact_add_by_email_finds_people_in_other_installed_teams(
    harness: TurnHarness,
) -> None:
    teams = with_teams(harness)
    async with harness.deps.context.units() as uow:
        await uow.addresses.save_team(OTHER_TEAM, datetime(2027, 1, 1, tzinfo=UTC))
        await uow.commit()
    replies = await harness.chat().say("contact add police robin@example.org")
    assert texts(replies).startswith("Robin Roster is now a contact of Police.")
    assert teams.lookups == [
        (PERSONAL, "robin@example.org"),
        (OTHER_TEAM.team_id, "robin@example.org"),
    ]
    assert "contact for Police" in await help_text(harness, ROBIN.aad_object_id)


async def test_an_email_that_teams_sent_as_a_mailto_link_is_understood(
    harness: TurnHarness,
) -> None:
    with_teams(harness)
    replies = await channel(harness).say(
        'contact add police <a href="mailto:sam@example.org">sam@example.org</a>',
        mention_bot=True,
    )
    assert texts(replies).startswith("Sam Sample is now a contact of Police.")


async def test_someone_nobody_can_find_is_not_added(harness: TurnHarness) -> None:
    with_teams(harness)
    replies = await harness.chat().say("contact add police nobody@example.org")
    assert NOT_FOUND in texts(replies)
    assert "CSV import" in texts(replies) and "Entra object id" in texts(replies)
    assert (await directory_audit(harness))[-1][2:] == ("contact.add", "not_found")
    facts = facts_of(await harness.chat().card("agency list"))
    assert [name for name, _ in facts].count("Pat Police") == 1
    assert len(facts) == 11 + 2 + 1  # Casey in every agency, Pat, Harper, Casey as coordinator


async def test_without_teams_a_mention_cannot_be_resolved_and_the_user_is_told_why(
    harness: TurnHarness,
) -> None:
    harness.runtime.bot.deps.memberships.finder.messenger = None
    replies = await say_mentioning(channel(harness), "contact add police <at>Sam Sample</at>", SAM)
    assert "cannot look people up in Teams at the moment" in texts(replies)
    assert "e-mail address" in texts(replies)
    assert "not registered" in await help_text(harness, SAM.aad_object_id)


async def test_contact_add_to_an_unknown_or_removed_agency_is_refused(
    harness: TurnHarness,
) -> None:
    teams = with_teams(harness)
    chat = channel(harness)
    unknown = await say_mentioning(chat, "contact add fire <at>Sam Sample</at>", SAM)
    assert texts(unknown) == "There is no agency fire. Type agency list to see the keys."
    await chat.say("agency remove housing", mention_bot=True)
    removed = await say_mentioning(chat, "contact add housing <at>Sam Sample</at>", SAM)
    assert "Housing has been removed. Restore it first with: agency add Housing" in texts(removed)
    assert teams.lookups == []  # refused before anyone was looked up
    assert "not registered" in await help_text(harness, SAM.aad_object_id)


async def test_removing_a_contacts_only_role_unregisters_them(harness: TurnHarness) -> None:
    with_teams(harness)
    replies = await say_mentioning(
        channel(harness), "contact remove housing <at>Harper Housing</at>", HARPER
    )
    assert texts(replies) == (
        "Harper Housing is no longer a contact of Housing. "
        "They have no other MARAT role, so they are no longer registered."
    )
    assert "not registered with the MARAT" in await help_text(harness, HOUSING_CONTACT)
    again = await say_mentioning(
        channel(harness), "contact remove housing <at>Harper Housing</at>", HARPER
    )
    assert texts(again) == "Harper Housing is not a contact of Housing; nothing changed."


async def test_removing_one_agency_keeps_a_persons_other_roles(harness: TurnHarness) -> None:
    replies = await harness.chat().say("contact remove police casey@example.org")
    assert texts(replies) == "Casey Coordinator is no longer a contact of Police."
    shown = await help_text(harness, COORDINATOR)
    assert "MARAT coordinator" in shown
    assert "Housing" in shown and "Police" not in shown.split("registered as")[1].split(".")[0]


# -- coordinator add / remove ------------------------------------------------------------------


async def test_coordinator_add_gives_the_role_at_once_and_is_idempotent(
    harness: TurnHarness,
) -> None:
    with_teams(harness)
    chat = channel(harness)
    replies = await say_mentioning(chat, "coordinator add <at>Sam Sample</at>", SAM)
    assert texts(replies).startswith("Sam Sample is now a MARAT coordinator.")
    assert "MARAT coordinator" in await help_text(harness, SAM.aad_object_id)
    assert "MARAT agencies and contacts" in card_text(
        await harness.chat(aad=SAM.aad_object_id).card("agency list")
    )
    again = await say_mentioning(chat, "coordinator add <at>Sam Sample</at>", SAM)
    assert texts(again) == "Sam Sample is already a MARAT coordinator; nothing changed."


async def test_the_last_coordinator_cannot_remove_their_own_role(harness: TurnHarness) -> None:
    replies = await harness.chat().say("coordinator remove casey@example.org")
    assert texts(replies) == (
        "You are the only MARAT coordinator, so you cannot remove your own role. "
        "Add another coordinator first."
    )
    assert (await directory_audit(harness))[-1] == (
        COORDINATOR,
        "coordinator",
        "coordinator.remove",
        "denied",
    )
    assert "MARAT coordinator" in await help_text(harness, COORDINATOR)


async def test_with_a_second_coordinator_the_role_can_be_handed_over(
    harness: TurnHarness,
) -> None:
    with_teams(harness)
    await say_mentioning(channel(harness), "coordinator add <at>Sam Sample</at>", SAM)
    replies = await harness.chat().say("coordinator remove casey@example.org")
    assert texts(replies) == "Casey Coordinator is no longer a MARAT coordinator."
    refused = await harness.chat().say("refer")
    assert "for MARAT coordinators" in texts(refused)  # still a contact, no longer coordinator

    sam = harness.chat(aad=SAM.aad_object_id)
    assert texts(await sam.say("coordinator remove casey@example.org")) == (
        "Casey Coordinator is not a MARAT coordinator; nothing changed."
    )
    assert "only MARAT coordinator" in texts(await sam.say("coordinator remove sam@example.org"))


async def test_removing_the_coordinator_role_from_someone_with_no_other_role_unregisters_them(
    harness: TurnHarness,
) -> None:
    with_teams(harness)
    chat = channel(harness)
    await say_mentioning(chat, "coordinator add <at>Sam Sample</at>", SAM)
    replies = await say_mentioning(chat, "coordinator remove <at>Sam Sample</at>", SAM)
    assert texts(replies) == (
        "Sam Sample is no longer a MARAT coordinator. "
        "They have no other MARAT role, so they are no longer registered."
    )
    assert "not registered with the MARAT" in await help_text(harness, SAM.aad_object_id)


# -- strict arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("agency", "Usage: agency add NAME"),
        ("agency add", "Usage: agency add NAME"),
        ("agency add !!!", "Usage: agency add NAME"),
        ("agency remove", "Usage: agency add NAME"),
        ("agency remove Children's Social Care", "Usage: agency add NAME"),
        ("agency list all", "Usage: agency add NAME"),
        ("agency rename police", "Usage: agency add NAME"),
        ("contact", "Usage: contact add AGENCY-KEY"),
        ("contact add police", "Usage: contact add AGENCY-KEY"),
        ("contact add police sam", "Usage: contact add AGENCY-KEY"),
        ("contact add police @Sam", "Usage: contact add AGENCY-KEY"),
        ("contact police sam@example.org", "Usage: contact add AGENCY-KEY"),
        ("contact add police a@example.org b@example.org", "Usage: contact add AGENCY-KEY"),
        ("contact add sam@example.org police", "Usage: contact add AGENCY-KEY"),
        ("coordinator", "Usage: coordinator add"),
        ("coordinator add", "Usage: coordinator add"),
        ("coordinator promote sam@example.org", "Usage: coordinator add"),
        ("coordinator add sam@example.org now", "Usage: coordinator add"),
    ],
)
async def test_bad_arguments_get_the_usage_line(
    harness: TurnHarness, text: str, usage: str
) -> None:
    replies = await harness.chat().say(text)
    assert texts(replies).startswith(usage)
    assert not [row for row in await directory_audit(harness) if row[3] == "ok"]


async def test_two_people_in_one_command_get_the_usage_line(harness: TurnHarness) -> None:
    teams = with_teams(harness)
    replies = await say_mentioning(
        channel(harness),
        "contact add police <at>Sam Sample</at> <at>Robin Roster</at>",
        SAM,
        ROBIN,
    )
    assert texts(replies).startswith("Usage: contact add AGENCY-KEY")
    mixed = await say_mentioning(
        channel(harness), "coordinator add <at>Sam Sample</at> robin@example.org", SAM
    )
    assert texts(mixed).startswith("Usage: coordinator add")
    assert teams.lookups == []


# -- who may ----------------------------------------------------------------------------------


COMMANDS = [
    "agency add Fire Service",
    "agency remove police",
    "agency list",
    "agency",
    "contact add police sam@example.org",
    "contact remove housing casey@example.org",
    "coordinator add sam@example.org",
    "coordinator remove casey@example.org",
    "coordinator",
]


@pytest.mark.parametrize("text", COMMANDS)
async def test_contacts_are_refused_like_every_coordinator_command(
    harness: TurnHarness, text: str
) -> None:
    teams = with_teams(harness)
    replies = await harness.chat(aad=HOUSING_CONTACT).say(text)
    assert texts(replies) == "That is for MARAT coordinators. Type help to see what you can do."
    assert not any(a.attachments for a in replies)
    assert teams.lookups == []
    rows = await directory_audit(harness)
    assert rows and rows[-1][:2] == (HOUSING_CONTACT, "contact") and rows[-1][3] == "denied"
    assert "police" in await referral_agencies(harness)


@pytest.mark.parametrize("text", COMMANDS)
async def test_strangers_are_told_they_are_not_registered(harness: TurnHarness, text: str) -> None:
    replies = await harness.chat(aad=STRANGER).say(text)
    assert "not registered with the MARAT" in texts(replies)
    rows = await directory_audit(harness)
    assert rows[-1][:2] == (STRANGER, "unregistered") and rows[-1][3] == "denied"


async def test_audit_records_name_the_actor_by_id_and_hold_no_personal_data(
    harness: TurnHarness,
) -> None:
    with_teams(harness)
    chat = channel(harness)
    await say_mentioning(chat, "contact add police <at>Sam Sample</at>", SAM)
    await say_mentioning(chat, "coordinator add <at>Sam Sample</at>", SAM)
    await chat.say("agency add Fire Service", mention_bot=True)
    await chat.say("agency remove fire-service", mention_bot=True)
    rows = await directory_audit(harness)
    assert [row[2:] for row in rows] == [
        ("contact.add", "ok"),
        ("coordinator.add", "ok"),
        ("agency.add", "ok"),
        ("agency.remove", "ok"),
    ]
    flat = " ".join(" ".join(row) for row in rows).lower()
    assert all(row[:2] == (COORDINATOR, "coordinator") for row in rows)
    for personal in ("sam", "example.org", "fire", "police"):
        assert personal not in flat
