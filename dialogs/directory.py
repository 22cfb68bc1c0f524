"""Directory administration in Teams: `agency …`, `contact …`, `coordinator …` (coordinators).

Arguments are parsed strictly (a usage line, never a guess). A person is named by exactly one
@mention or one e-mail address. Teams leaves other people's mentions in the text as
`<at>Name</at>` (only the bot's own mention is stripped before a dialog sees it) and may turn a
typed address into a `mailto:` link, so both are normalised before the words are checked.
"""

from __future__ import annotations

import html
import re

from bot.domain.directory import agency_key
from bot.domain.errors import UsageError
from bot.services.directory import AgencyChange, Change, DirectoryAdmin, PersonChange
from bot.services.people import Asker, ByEmail, ByMention, PersonRef
from cards.directory import agencies_card
from dialogs.base import Dependencies, Reply, TurnInfo

AGENCY_USAGE = "Usage: agency add NAME | agency remove KEY | agency list"
CONTACT_USAGE = (
    "Usage: contact add AGENCY-KEY @person|e-mail | contact remove AGENCY-KEY @person|e-mail"
)
COORDINATOR_USAGE = "Usage: coordinator add @person|e-mail | coordinator remove @person|e-mail"

_MENTION = "\x00mention\x00"
_AT_TAG = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_MAILTO = re.compile(
    r"<a\b[^>]*\bhref=[\"']mailto:([^\"'?]+)[^\"']*[\"'][^>]*>.*?</a>", re.I | re.S
)
_EMAIL = re.compile(r"^[^@\s<>\"'()]+@[^@\s<>\"'()]+\.[^@\s<>\"'()]+$")
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MAX_NAME = 120  # agencies.name
_MAX_KEY = 80  # agencies.key
_MAX_EMAIL = 254  # people.email
_UNREACHABLE = (
    " I cannot message them yet: they need to open the MARAT app in Teams before I can send "
    "them requests."
)
_UNREGISTERED = " They have no other MARAT role, so they are no longer registered."


def _asker(turn: TurnInfo) -> Asker:
    return Asker(turn.aad_object_id, turn.correlation_id, turn.roster, turn.tenant_id)


def _words(args: str) -> tuple[list[str], int]:
    """The argument words, each @mention as one placeholder word, and how many there were."""
    normalised = _MAILTO.sub(lambda match: f" {match.group(1)} ", args)
    normalised, mentions = _AT_TAG.subn(f" {_MENTION} ", normalised)
    return html.unescape(normalised).split(), mentions


def _person(word: str, mentions: int, turn: TurnInfo) -> PersonRef | None:
    """Exactly one person: the one @mention, or an e-mail address with no mention at all."""
    if word == _MENTION:
        if mentions != 1 or len(turn.mentions) != 1:
            return None
        mentioned = turn.mentions[0]
        return ByMention(mentioned.user_id, mentioned.name)
    if mentions or turn.mentions or len(word) > _MAX_EMAIL or not _EMAIL.match(word):
        return None
    return ByEmail(word)


def _key(word: str) -> str | None:
    key = word.lower()
    return key if len(key) <= _MAX_KEY and _KEY.match(key) else None


def _agency_name(words: list[str], mentions: int) -> str | None:
    name = " ".join(words)
    key = agency_key(name)
    if mentions or not key or len(name) > _MAX_NAME or len(key) > _MAX_KEY or "<" in name:
        return None
    return name


def _action(command: str, sub: str, known: tuple[str, ...]) -> str:
    return f"{command}.{sub}" if sub in known else command


async def _usage(admin: DirectoryAdmin, turn: TurnInfo, action: str, usage: str) -> UsageError:
    """Only coordinators are shown the syntax; anyone else gets (and is audited for) the
    refusal every coordinator command gives."""
    await admin.require_coordinator(_asker(turn), action)
    return UsageError(usage)


async def agency(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`agency add NAME | agency remove KEY | agency list`."""
    admin, asker = deps.directory, _asker(turn)
    words, mentions = _words(args)
    sub, rest = (words[0].lower(), words[1:]) if words else ("", [])
    if sub == "list" and not rest:
        return Reply(card=agencies_card(await admin.directory(asker)))
    if sub == "add" and (name := _agency_name(rest, mentions)):
        return Reply(text=_agency_text(await admin.add_agency(asker, name)))
    if sub == "remove" and len(rest) == 1 and (key := _key(rest[0])):
        return Reply(text=_removed_agency_text(await admin.remove_agency(asker, key)))
    action = _action("agency", sub, ("add", "remove", "list"))
    raise await _usage(admin, turn, action, AGENCY_USAGE)


async def contact(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`contact add|remove AGENCY-KEY @person|e-mail`."""
    admin, asker = deps.memberships, _asker(turn)
    words, mentions = _words(args)
    sub = words[0].lower() if words else ""
    key = _key(words[1]) if len(words) == 3 else None
    who = _person(words[2], mentions, turn) if len(words) == 3 else None
    if sub == "add" and key and who:
        return Reply(text=_contact_text(await admin.add_contact(asker, key, who)))
    if sub == "remove" and key and who:
        return Reply(text=_not_contact_text(await admin.remove_contact(asker, key, who)))
    raise await _usage(
        deps.directory, turn, _action("contact", sub, ("add", "remove")), CONTACT_USAGE
    )


async def coordinator(deps: Dependencies, turn: TurnInfo, args: str) -> Reply:
    """`coordinator add|remove @person|e-mail`."""
    admin, asker = deps.memberships, _asker(turn)
    words, mentions = _words(args)
    sub = words[0].lower() if words else ""
    who = _person(words[1], mentions, turn) if len(words) == 2 else None
    if sub == "add" and who:
        return Reply(text=_coordinator_text(await admin.add_coordinator(asker, who)))
    if sub == "remove" and who:
        return Reply(text=_not_coordinator_text(await admin.remove_coordinator(asker, who)))
    action = _action("coordinator", sub, ("add", "remove"))
    raise await _usage(deps.directory, turn, action, COORDINATOR_USAGE)


def _agency_text(result: AgencyChange) -> str:
    named = f"{result.agency.name} (key: {result.agency.key})"
    match result.change:
        case Change.CREATED:
            return f"Agency {named} added. It is offered on new referral cards from now on."
        case Change.RESTORED:
            return f"{named} is restored: it is offered on new referral cards again."
        case Change.REMOVED:
            return (
                f"{named} removed: it is no longer offered on referral cards or in the agency "
                "list. Cases that involve it keep their history."
            )
    return f"{named} already exists; nothing changed."


def _removed_agency_text(result: AgencyChange) -> str:
    if result.change is Change.UNCHANGED:
        return (
            f"{result.agency.name} (key: {result.agency.key}) was already removed; nothing changed."
        )
    return _agency_text(result)


def _contact_text(result: PersonChange) -> str:
    agency = result.agency.name if result.agency else "that agency"
    match result.change:
        case Change.ADDED:
            return f"{result.name} is now a contact of {agency}." + (
                "" if result.reachable else _UNREACHABLE
            )
        case Change.REMOVED:
            return f"{result.name} is no longer a contact of {agency}." + (
                _UNREGISTERED if result.unregistered else ""
            )
    return f"{result.name} is already a contact of {agency}; nothing changed."


def _not_contact_text(result: PersonChange) -> str:
    if result.change is Change.UNCHANGED:
        agency = result.agency.name if result.agency else "that agency"
        return f"{result.name} is not a contact of {agency}; nothing changed."
    return _contact_text(result)


def _coordinator_text(result: PersonChange) -> str:
    match result.change:
        case Change.ADDED:
            return f"{result.name} is now a MARAT coordinator." + (
                "" if result.reachable else _UNREACHABLE
            )
        case Change.REMOVED:
            return f"{result.name} is no longer a MARAT coordinator." + (
                _UNREGISTERED if result.unregistered else ""
            )
    return f"{result.name} is already a MARAT coordinator; nothing changed."


def _not_coordinator_text(result: PersonChange) -> str:
    if result.change is Change.UNCHANGED:
        return f"{result.name} is not a MARAT coordinator; nothing changed."
    return _coordinator_text(result)
